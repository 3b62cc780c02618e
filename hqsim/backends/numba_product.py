"""The program's leading single-qubit ops on |0...0>: a product state, written in one pass
(forward) and differentiated from one read of lambda (adjoint), instead of one pass per op.

A program that starts from |0...0> (no amplitude encoding) with P lone U1 ops (a circuit's
first layer: W1 at Q=14 starts with 14; any U1 on a qubit that no multi-qubit op touched
before it counts, as it commutes with those) is, after them, the product of per-qubit columns
v_q = U_q,last ... U_q,first |0> (prefix_columns). Split the row index j = h 2^k + r into its
high and low bits (k = Q // 2, low_bits): psi(j) = H(h) T(r) with H the product of the high qubits'
columns and T of the low ones, both tables of 2^(Q/2) rows x LANES built by doubling. The
forward writes the state as H(h) T(r): one write instead of zeroing it and P read-write passes
(12 % of W1's forward at Q=14).

Adjoint. With lambda = lambda_P (undone through every op after the prefix; the walk runs the
prefix's ops first, so lambda_i is lambda_P undone through the prefix's ops after i), an op i
of the prefix on qubit q sees sum over the other qubits' bits of conj(lambda_i[a, rest])
psi_i[b, rest] = conj(l_q[a]) w[b], w = qubit q's column after op i and l_q(c) = sum over rows
with q's bit c of lambda(j) conj(prod over the other qubits of their columns) -- the reduced
lambda of q, which ops on the other qubits leave unchanged (they act on lambda and on those
columns alike). So one read of lambda gives S(h) = sum_r lambda(h, r) conj(T(r)) and
R(r) = sum_h lambda(h, r) conj(H(h)); l_q follows by contracting S (q high) or R (q low) with
the other columns (2^(Q/2) rows: small); then the prefix's ops, last first, each give the same
three Pauli sums as any U1 op's undo pass (numba_lane_kernels.add_pauli) from (w, l_q) and take
the 2x2 adjoint step on them. The P fused undo passes over psi and lambda (each reading and
writing both) become one read of lambda.

Layout and lanes as in numba_lane_kernels. ``product_prefix`` (plain Python, once per program)
finds the P units; the walks skip them (NumbaProgram.in_prefix).
"""
from __future__ import annotations

import numpy as np
from numba import uint64

from ..program import OP_PERM, OP_U1, OP_UK
from .numba_jit import jit_borrowing, jit_inline, jit_noalias
from .numba_lane_kernels import LANES, PAULI_SUMS, Z, add_pauli, small_index
from .numba_matrices_1q import u1_depends_on_inputs, u1_matrix
from .numba_op_steps import u1_pauli_grads


def product_prefix(ops: np.ndarray, wires: np.ndarray, perms: np.ndarray, units: np.ndarray, num_qubits: int,
                   amp_size: int) -> np.ndarray:
    """The walk's units that numba_product runs as one product state, in walk order: the lone
    U1 ops on a qubit no earlier multi-qubit op touched (they commute with every op before
    them, which acts on other qubits), from |0...0> only (none for an amplitude-encoded start).
    A permutation touches the qubits it does not commute with; a fused block ends the search."""
    chosen = []
    if amp_size:
        return np.zeros(0, np.int64)
    touched = np.zeros(num_qubits, bool)
    rows = np.arange(1 << num_qubits)
    for u, (i, b) in enumerate(units):
        kind = ops[i, 0]
        if b >= 0:
            break
        if kind == OP_U1:
            if not touched[ops[i, 1]]:
                chosen.append(u)
        elif kind == OP_PERM:
            perm = perms[ops[i, 3]]
            for q in range(num_qubits):  # it commutes with any U on q iff it keeps q's bit
                bit = 1 << (num_qubits - 1 - q)  # and maps rows differing in it alike
                touched[q] |= bool(np.any((perm ^ rows) & bit) or np.any(perm[rows ^ bit] != (perm ^ bit)))
        elif kind == OP_UK:
            touched[wires[ops[i, 3]:ops[i, 3] + ops[i, 4]]] = True
        else:  # U2, CZ, CXU1
            touched[[ops[i, 1], ops[i, 2]]] = True
        if touched.all():
            break
    return np.asarray(chosen, np.int64)


def prefix_mask(prefix_units: np.ndarray, num_units: int) -> np.ndarray:
    """in_prefix[u]: unit u runs in the product state, not in the walk."""
    mask = np.zeros(num_units, np.bool_)
    mask[prefix_units] = True
    return mask


@jit_inline
def low_bits(num_qubits):
    """How many of the row index's bits the low table T covers (the high table H: the rest)."""
    return num_qubits // 2


# ---------------------------------------------------------------- the columns and tables
@jit_borrowing
def _lane_matrices(p, batch, b0, i, u):
    """u[l] = (a, b, c, d), U1 op i's 2x2 matrix [[a, b], [c, d]] for lane l (complex128)."""
    fs, fc = p.ops[i, 3], p.ops[i, 4]
    per_sample = u1_depends_on_inputs(p.factors, fs, fc)
    for l in range(LANES):
        if per_sample or l == 0:
            a, b, c, d = u1_matrix(p, batch.fcache, fs, fc, batch.x[min(b0 + l, batch.x.shape[0] - 1)], batch.w)
            u[l, 0], u[l, 1], u[l, 2], u[l, 3] = a, b, c, d
        else:
            u[l, 0], u[l, 1], u[l, 2], u[l, 3] = u[0, 0], u[0, 1], u[0, 2], u[0, 3]


@jit_borrowing
def prefix_columns(p, batch, b0, v, u):
    """v[q, c, l] (complex128) = component c of qubit q's column after the prefix, lane l;
    u: scratch (LANES, 4) complex128."""
    v[:, 0, :] = 1
    v[:, 1, :] = 0
    for m in range(p.prefix_units.shape[0]):
        i = p.units[p.prefix_units[m], 0]
        q = p.ops[i, 1]
        _lane_matrices(p, batch, b0, i, u)
        for l in range(LANES):
            x, y = v[q, 0, l], v[q, 1, l]
            v[q, 0, l], v[q, 1, l] = u[l, 0] * x + u[l, 1] * y, u[l, 2] * x + u[l, 3] * y


@jit_borrowing
def _table(v, nq, first_bit, bits, tre, tim):
    """(tre, tim)[t L + l] = prod over the ``bits`` bits of t of v[qubit, bit value, l], where bit
    b of t is the row index's bit first_bit + b, i.e. qubit nq - 1 - first_bit - b. Doubling:
    rows [0, 2^b) hold the product of bits below b; bit b's rows 1 are those times v[., 1]."""
    for l in range(LANES):
        tre[l], tim[l] = 1.0, 0.0
    for b in range(bits):
        q = nq - 1 - first_bit - b
        size = 1 << b
        for t in range(size):
            for l in range(LANES):
                x = tre[t * LANES + l] + 1j * tim[t * LANES + l]
                one, zero = x * v[q, 1, l], x * v[q, 0, l]
                tre[(t + size) * LANES + l], tim[(t + size) * LANES + l] = one.real, one.imag
                tre[t * LANES + l], tim[t * LANES + l] = zero.real, zero.imag


@jit_borrowing
def _tables(p, s):
    """The low table T (s.ptre, s.ptim) and the high table H (s.phre, s.phim) from s.pv."""
    nq = p.num_qubits
    k = low_bits(nq)
    _table(s.pv, nq, 0, k, s.ptre, s.ptim)
    _table(s.pv, nq, k, nq - k, s.phre, s.phim)


# ---------------------------------------------------------------- forward
@jit_noalias
def write_product(re, im, hre, him, tre, tim, k, nh):
    """(re, im) row h 2^k + r <- H(h) T(r), all lanes. Two rows (r, r + 2^k / 2) per lane loop:
    with one, LLVM unrolls the small loop fully and leaves it scalar (210 vs 70 us at Q=14,
    float32; a loop that only writes the state, unlike the passes that read it too)."""
    L = uint64(LANES)
    if k == 0:  # one qubit: T is the number 1
        for h in range(nh):
            for l in range(LANES):
                re[h * LANES + l], im[h * LANES + l] = hre[h * LANES + l], him[h * LANES + l]
        return
    nt = uint64(1) << uint64(k)
    half = nt >> uint64(1)
    for h0 in range(nh):
        h = uint64(h0)
        ho, base = h * L, h * nt * L
        for r0 in range((1 << k) >> 1):
            r = uint64(r0)
            to, to2 = r * L, (r + half) * L
            for l0 in range(LANES):
                l = uint64(l0)
                a, b = hre[ho + l], him[ho + l]
                c, d, e, f = tre[to + l], tim[to + l], tre[to2 + l], tim[to2 + l]
                re[base + to + l] = a * c - b * d
                im[base + to + l] = a * d + b * c
                re[base + to2 + l] = a * e - b * f
                im[base + to2 + l] = a * f + b * e


@jit_borrowing
def product_forward(p, batch, s, b0, re, im):
    """The state after the program's prefix (product_prefix) into (re, im), all rows."""
    prefix_columns(p, batch, b0, s.pv, s.pm)
    _tables(p, s)
    k = low_bits(p.num_qubits)
    write_product(re, im, s.phre, s.phim, s.ptre, s.ptim, k, 1 << (p.num_qubits - k))


# ---------------------------------------------------------------- adjoint
@jit_noalias
def contract_rows(lre, lim, hre, him, tre, tim, k, nh, sre, sim, rre, rim):
    """S(h) += sum_r lambda(h, r) conj(T(r)) into (sre, sim), R(r) += sum_h lambda(h, r)
    conj(H(h)) into (rre, rim): one read of lambda."""
    L = uint64(LANES)
    nt = 1 << k
    for h in range(nh):
        ho = small_index(h) * L
        for r in range(nt):
            j = small_index(h * nt + r) * L
            to = small_index(r) * L
            for l0 in range(LANES):
                l = uint64(l0)
                xr, xi = lre[j + l], lim[j + l]
                tr, ti, hr, hi = tre[to + l], tim[to + l], hre[ho + l], him[ho + l]
                sre[ho + l] += xr * tr + xi * ti
                sim[ho + l] += xi * tr - xr * ti
                rre[to + l] += xr * hr + xi * hi
                rim[to + l] += xi * hr - xr * hi


@jit_borrowing
def _reduce(a, work, v, nq, first_bit, bits, red):
    """red[q, c, l] = sum over t with q's bit c of a[t, l] conj(prod over q's companions of
    v[., bit, l]) for every qubit q of the table (rows t as in _table). For each q the other
    bits are contracted away from the top down (a bit's position is unchanged by removing the
    ones above it); 2 * 2^bits rows per qubit."""
    for target in range(bits):
        size = 1 << bits
        for t in range(size):
            for l in range(LANES):
                work[t, l] = a[t, l]
        for b in range(bits - 1, -1, -1):
            if b == target:
                continue
            q = nq - 1 - first_bit - b
            size >>= 1
            low = (1 << b) - 1
            for t in range(size):
                t0 = ((t >> b) << (b + 1)) | (t & low)
                for l in range(LANES):
                    work[t, l] = (work[t0, l] * v[q, 0, l].conjugate()
                                  + work[t0 | (1 << b), l] * v[q, 1, l].conjugate())
        q = nq - 1 - first_bit - target
        for c in range(2):
            for l in range(LANES):
                red[q, c, l] = work[c, l]


@jit_borrowing
def product_adjoint(p, batch, s, b0, valid, lre, lim, dw, dx, need_x):
    """The prefix's angle gradients from lambda after it (lambda_P), through the chain rule
    of any U1 op: its three Pauli sums (numba_lane_kernels' layout) on its output, the column
    (x, y) and the reduced lambda (g0, g1) before its 2x2 adjoint step, then
    numba_op_steps.u1_pauli_grads."""
    nq = p.num_qubits
    k = low_bits(nq)
    nh = 1 << (nq - k)
    v, red = s.pv, s.pred
    prefix_columns(p, batch, b0, v, s.pm)
    _tables(p, s)
    s.psre[:] = 0
    s.psim[:] = 0
    s.prre[:] = 0
    s.prim[:] = 0
    contract_rows(lre, lim, s.phre, s.phim, s.ptre, s.ptim, k, nh, s.psre, s.psim, s.prre, s.prim)
    for t in range(nh):
        for l in range(LANES):
            s.pa[t, l] = s.psre[t * LANES + l] + 1j * s.psim[t * LANES + l]
    _reduce(s.pa, s.pwork, v, nq, k, nq - k, red)
    for t in range(1 << k):
        for l in range(LANES):
            s.pa[t, l] = s.prre[t * LANES + l] + 1j * s.prim[t * LANES + l]
    _reduce(s.pa, s.pwork, v, nq, 0, k, red)
    # the 2x2 adjoint walk over the prefix, last op first, on (column, reduced lambda) per qubit
    for m in range(p.prefix_units.shape[0] - 1, -1, -1):
        i = p.units[p.prefix_units[m], 0]
        q = p.ops[i, 1]
        _lane_matrices(p, batch, b0, i, s.pm)
        s.macc[:PAULI_SUMS * LANES] = 0
        for l in range(LANES):
            a, b, c, d = s.pm[l, 0], s.pm[l, 1], s.pm[l, 2], s.pm[l, 3]  # U^dagger = [[a*, c*], [b*, d*]]
            x, y = v[q, 0, l], v[q, 1, l]
            g0, g1 = red[q, 0, l], red[q, 1, l]
            add_pauli(s.macc, Z, uint64(l), g0.real, g0.imag, g1.real, g1.imag, x.real, x.imag, y.real, y.imag)
            v[q, 0, l] = a.conjugate() * x + c.conjugate() * y
            v[q, 1, l] = b.conjugate() * x + d.conjugate() * y
            red[q, 0, l] = a.conjugate() * g0 + c.conjugate() * g1
            red[q, 1, l] = b.conjugate() * g0 + d.conjugate() * g1
        u1_pauli_grads(p, batch, i, b0, valid, s.macc, 0, dw, dx, need_x)
