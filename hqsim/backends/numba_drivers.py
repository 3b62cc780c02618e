"""The Numba backend's drivers: one forward walk and one adjoint walk over the op program
(hqsim/program.py) for each group of LANES samples, and one driver per pass that runs the
groups, in parallel over the cores or, for a single group, without a parallel region.

Arguments travel as three structures (namedtuples, which Numba passes as one typed value):
``p`` the program (numba_cpu.NumbaProgram), ``batch`` the call's inputs (numba_cpu.Batch:
x, w, the batch-shared factor cache, a zero-length array of the state precision) and the
pass's outputs (ForwardOut / AdjointOut in numba_cpu). Each group allocates its own Scratch.

Adjoint, for one sample, with f = sum_k g_k <psi_n| O_k |psi_n> and O_g = sum_k g_k O_k:
lambda_n = O_g psi_n; walking the ops backwards, for op i with (per-sample) matrix U,
psi_{i-1} = U^dagger psi_i and lambda_{i-1} = U^dagger lambda_i, while
M_ab = sum_pairs conj(lambda_i[a]) psi_{i-1}[b] gives df = 2 Re sum_ab M_ab dU_ab, which the
chain rule of numba_matrices turns into the factors' angle gradients. Only psi and lambda are
stored: O(1) states per sample; the forward's final state is reused when it was kept. For an
amplitude-encoded start psi_0 = x / |x|, df/dpsi_0 = 2 Re lambda_0, projected through the
normalisation.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import prange

from ..program import OP_CXU1, OP_CZ, OP_PERM, OP_U1, OP_U2, OP_UK
from . import numba_lane_kernels as lk
from .numba_jit import jit, jit_borrowing, jit_inline
from .numba_lane_kernels import HAVE_FUSED_UNDO, LANES
from .numba_matrices import angle, chain_grads, op_matrix
from .numba_matrices_1q import ry_chain, u1_all_ry, u1_chain, u1_depends_on_inputs, u1_matrix


# Per-group work arrays: lane coefficients (c), gradient sums (macc, gacc), gather scratch
# (tre, tim), small complex128 matrices for matrices and chain rules, dense-op scratch.
Scratch = namedtuple("Scratch", "tre tim c macc gacc u fm tmp g m m2 fs_m cs as_ f1 p1 ur ui offs")


@jit
def _scratch(p, proto):
    kdim = 1 << p.max_k
    maxf = p.max_factors
    return Scratch(
        np.empty(max(4, kdim) * LANES, proto.dtype), np.empty(max(4, kdim) * LANES, proto.dtype),
        np.empty(32 * LANES, proto.dtype), np.empty(32 * LANES, proto.dtype),
        np.empty(LANES, proto.dtype),
        np.zeros((4, 4), np.complex128), np.zeros((4, 4), np.complex128),
        np.zeros((4, 4), np.complex128), np.zeros((4, 4), np.complex128),
        np.zeros((4, 4), np.complex128), np.zeros((2, 2), np.complex128),
        np.zeros((maxf, 4, 4), np.complex128), np.zeros((maxf, 4, 4), np.complex128),
        np.zeros((maxf, 4, 4), np.complex128), np.zeros((maxf, 4), np.complex128),
        np.zeros((maxf, 4), np.complex128),
        np.empty(max(16, kdim * kdim), np.float64), np.empty(max(16, kdim * kdim), np.float64),
        np.empty(kdim, np.int64))


@jit_inline
def _sample(batch, b0, l):
    return batch.x[min(b0 + l, batch.x.shape[0] - 1)]  # padding lanes repeat the last sample


# ---------------------------------------------------------------- lane coefficients of one op
@jit_borrowing
def _fill_u1(p, batch, i, b0, dagger, c):
    """c = op i's 2x2 matrix (or its adjoint) per lane (numba_lane_kernels' layout)."""
    fs, fc = p.ops[i, 3], p.ops[i, 4]
    per_sample = u1_depends_on_inputs(p.factors, fs, fc)
    a, b, cc, d = 1 + 0j, 0j, 0j, 1 + 0j
    for l in range(LANES):
        if per_sample or l == 0:
            a, b, cc, d = u1_matrix(p, batch.fcache, fs, fc, _sample(batch, b0, l), batch.w)
            if dagger:
                a, b, cc, d = a.conjugate(), cc.conjugate(), b.conjugate(), d.conjugate()
        c[l], c[LANES + l] = a.real, a.imag
        c[2 * LANES + l], c[3 * LANES + l] = b.real, b.imag
        c[4 * LANES + l], c[5 * LANES + l] = cc.real, cc.imag
        c[6 * LANES + l], c[7 * LANES + l] = d.real, d.imag


@jit_borrowing
def _fill_ry(p, batch, i, b0, dagger, c):
    """c's real parts for an all-RY U1 op: RY(theta) with theta the sum of its factors' angles
    (RY^dagger = RY(-theta)). Imaginary parts are left as they are: the real kernels skip them."""
    fs, fc = p.ops[i, 3], p.ops[i, 4]
    per_sample = u1_depends_on_inputs(p.factors, fs, fc)
    cs, sn = 1.0, 0.0
    for l in range(LANES):
        if per_sample or l == 0:
            xb = _sample(batch, b0, l)
            th = 0.0
            for f in range(fs, fs + fc):
                th += angle(p, f, xb, batch.w)
            cs, sn = np.cos(0.5 * th), np.sin(0.5 * th)
            if dagger:
                sn = -sn
        c[l], c[2 * LANES + l], c[4 * LANES + l], c[6 * LANES + l] = cs, -sn, sn, cs


@jit_borrowing
def _fill_u2(p, batch, i, b0, dagger, s):
    """s.c = op i's 4x4 matrix (or its adjoint) per lane."""
    c, u = s.c, s.u
    for l in range(LANES):
        op_matrix(p, i, _sample(batch, b0, l), batch.w, 4, u, s.fm, s.tmp, s.m2)
        for a in range(4):
            for b in range(4):
                v = u[b, a].conjugate() if dagger else u[a, b]
                e = 4 * a + b
                c[2 * e * LANES + l] = v.real
                c[(2 * e + 1) * LANES + l] = v.imag


@jit_borrowing
def _fill_uk(p, i, dagger, s):
    """s.ur + i s.ui = op i's constant dense matrix (or its adjoint), row-major."""
    dim = 1 << p.ops[i, 4]
    off = p.ops[i, 5]
    for a in range(dim):
        for b in range(dim):
            v = p.const_mats[off + b * dim + a].conjugate() if dagger else p.const_mats[off + a * dim + b]
            s.ur[a * dim + b] = v.real
            s.ui[a * dim + b] = v.imag


# ---------------------------------------------------------------- forward
@jit_inline
def _bit(p, q):
    return 1 << (p.num_qubits - 1 - q)


@jit_borrowing
def apply_op(p, batch, s, i, b0, re, im, dagger):
    """Op i (not PERM), or its inverse with ``dagger``, on one group's state (re, im)."""
    n = 1 << p.num_qubits
    kind = p.ops[i, 0]
    if kind == OP_U1 or kind == OP_CXU1:
        real = u1_all_ry(p.factors, p.ops[i, 3], p.ops[i, 4])
        if real:
            _fill_ry(p, batch, i, b0, dagger, s.c)
        else:
            _fill_u1(p, batch, i, b0, dagger, s.c)
        if kind == OP_U1:
            lk.apply_1q(re, im, n, _bit(p, p.ops[i, 1]), s.c, real)
        else:  # CXU1: the inverse (dagger) is U^dagger, then the CNOT
            lk.apply_1q_cx(re, im, n, _bit(p, p.ops[i, 1]), _bit(p, p.ops[i, 2]), s.c, dagger, real)
    elif kind == OP_U2:
        _fill_u2(p, batch, i, b0, dagger, s)
        lk.apply_2q(re, im, n, _bit(p, p.ops[i, 1]), _bit(p, p.ops[i, 2]), s.c, s.tre, s.tim)
    elif kind == OP_CZ:
        lk.apply_cz(re, im, n, _bit(p, p.ops[i, 1]), _bit(p, p.ops[i, 2]))
    elif kind == OP_UK:
        _fill_uk(p, i, dagger, s)
        lk.apply_uk(re, im, n, p.wires, p.ops[i, 3], p.ops[i, 4], p.num_qubits, s.ur, s.ui, s.offs,
                    s.tre, s.tim)


@jit_inline
def _amp_scale(xb, amp_start, amp_size):
    """(m, |x / m|) of the amplitude block, m its largest magnitude: x / m has entries in
    [-1, 1], so the squares neither overflow (|x| ~ 1e200) nor underflow (|x| ~ 1e-200);
    unit amplitudes are (x / m) / |x / m| and |x| = m |x / m|. (hqsim.ir.validate.unit_amplitudes)"""
    m = 0.0
    for j in range(amp_size):
        m = max(m, abs(xb[amp_start + j]))
    s = 0.0
    for j in range(amp_size):
        v = xb[amp_start + j] / m
        s += v * v
    return m, np.sqrt(s)


@jit_borrowing
def _initial_state(p, batch, b0, re, im):
    """|0...0> or the lanes' normalised amplitude-encoded inputs."""
    re[:] = 0
    im[:] = 0
    for l in range(LANES):
        xb = _sample(batch, b0, l)
        if p.amp_size == 0:
            re[l] = 1
            continue
        m, nrm = _amp_scale(xb, p.amp_start, p.amp_size)
        for j in range(p.amp_size):
            re[j * LANES + l] = xb[p.amp_start + j] / m / nrm


@jit
def _run_forward(p, batch, s, b0, re, im, sre, sim):
    """The whole program on one group's state; returns the arrays now holding it (a
    permutation gathers into the spare pair (sre, sim), which then swaps in)."""
    n = 1 << p.num_qubits
    _initial_state(p, batch, b0, re, im)
    for i in range(p.ops.shape[0]):
        if p.ops[i, 0] == OP_PERM:
            lk.gather_rows(re, im, n, p.perms[p.ops[i, 3]], sre, sim)
            re, sre = sre, re
            im, sim = sim, im
        else:
            apply_op(p, batch, s, i, b0, re, im, False)
    return re, im, sre, sim


@jit
def _forward_group(gi, p, batch, fo):
    n = 1 << p.num_qubits
    b0 = gi * LANES
    s = _scratch(p, batch.proto)
    dt = batch.proto.dtype
    re, im, _, _ = _run_forward(p, batch, s, b0, np.empty(n * LANES, dt), np.empty(n * LANES, dt),
                                np.empty(n * LANES, dt), np.empty(n * LANES, dt))
    og = np.zeros((LANES, fo.out.shape[1]), np.float64)
    lk.pauli_expectations(re, im, n, p.terms, p.term_coeff, og,
                          np.zeros(LANES, np.float64), np.zeros(LANES, np.float64))
    for l in range(min(LANES, batch.x.shape[0] - b0)):
        fo.out[b0 + l] = og[l]
        if fo.want_states:
            for j in range(n):
                fo.states[b0 + l, j] = re[j * LANES + l] + 1j * im[j * LANES + l]


@jit(parallel=True)
def forward_groups(p, batch, fo):
    """Expectations (and final states if fo.want_states) of every sample into fo."""
    groups = (batch.x.shape[0] + LANES - 1) // LANES
    if groups == 1:  # no parallel region: its thread wake-ups cost milliseconds on a busy machine
        _forward_group(0, p, batch, fo)
    else:
        for gi in prange(groups):
            _forward_group(gi, p, batch, fo)


# ---------------------------------------------------------------- adjoint
@jit_inline
def _lane_m(macc, l, e):
    """Entry e of lane l's 2x2 matrix gradient from the lane sums."""
    return macc[2 * e * LANES + l] + 1j * macc[(2 * e + 1) * LANES + l]


@jit_borrowing
def _undo_ry_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x):
    """Adjoint step of an all-RY U1/CXU1 op: one number per lane (numba_lane_kernels.undo_ry)."""
    kind, fs, fc = p.ops[i, 0], p.ops[i, 3], p.ops[i, 4]
    _fill_ry(p, batch, i, b0, True, s.c)
    s.gacc[:] = 0
    cbit = 0 if kind == OP_U1 else _bit(p, p.ops[i, 2])
    lk.undo_ry(re, im, lre, lim, 1 << p.num_qubits, _bit(p, p.ops[i, 1]), cbit, s.c, s.gacc)
    if u1_depends_on_inputs(p.factors, fs, fc):
        for l in range(valid):
            ry_chain(p, fs, fc, s.gacc[l], dw, dx[b0 + l], need_x)
    else:  # the same factors for every sample: sum the lanes first
        gsum = 0.0
        for l in range(valid):
            gsum += s.gacc[l]
        ry_chain(p, fs, fc, gsum, dw, dx[b0], need_x)


@jit_borrowing
def _undo_u1_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x):
    """Adjoint step of a U1/CXU1 op: undo psi and lambda, 2x2 M per lane, chain rule."""
    kind, fs, fc = p.ops[i, 0], p.ops[i, 3], p.ops[i, 4]
    _fill_u1(p, batch, i, b0, True, s.c)
    macc = s.macc
    macc[:8 * LANES] = 0
    n, bit = 1 << p.num_qubits, _bit(p, p.ops[i, 1])
    cbit = 0 if kind == OP_U1 else _bit(p, p.ops[i, 2])
    if HAVE_FUSED_UNDO:  # a compile-time constant: one pass over psi and lam
        lk.undo_1q_fused(re, im, lre, lim, n, bit, cbit, s.c, macc)
    else:
        lk.undo_1q_three_pass(re, im, lre, lim, n, bit, cbit, s.c, macc)
    if u1_depends_on_inputs(p.factors, fs, fc):
        for l in range(valid):
            u1_chain(p, batch.fcache, fs, fc, batch.x[b0 + l], batch.w, _lane_m(macc, l, 0),
                     _lane_m(macc, l, 1), _lane_m(macc, l, 2), _lane_m(macc, l, 3), s.f1, s.p1, dw,
                     dx[b0 + l], need_x)
    else:  # the same factors for every sample: the chain rule is linear in M, sum first
        m00, m01, m10, m11 = 0j, 0j, 0j, 0j
        for l in range(valid):
            m00 += _lane_m(macc, l, 0)
            m01 += _lane_m(macc, l, 1)
            m10 += _lane_m(macc, l, 2)
            m11 += _lane_m(macc, l, 3)
        u1_chain(p, batch.fcache, fs, fc, batch.x[b0], batch.w, m00, m01, m10, m11, s.f1, s.p1, dw,
                 dx[b0], need_x)


@jit_borrowing
def _undo_u2_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x):
    """Adjoint step of a U2 op: three passes (undo psi, 4x4 M per lane, undo lambda)."""
    n, bit0, bit1 = 1 << p.num_qubits, _bit(p, p.ops[i, 1]), _bit(p, p.ops[i, 2])
    _fill_u2(p, batch, i, b0, True, s)
    lk.apply_2q(re, im, n, bit0, bit1, s.c, s.tre, s.tim)
    s.macc[:] = 0
    lk.accumulate_outer_2q(re, im, lre, lim, n, bit0, bit1, s.macc)
    lk.apply_2q(lre, lim, n, bit0, bit1, s.c, s.tre, s.tim)
    for l in range(valid):
        for e in range(16):
            s.m[e >> 2, e & 3] = _lane_m(s.macc, l, e)
        chain_grads(p, i, batch.x[b0 + l], batch.w, 4, s.m, s, dw, dx[b0 + l], need_x)


@jit_borrowing
def _amplitude_gradient(p, batch, b0, valid, lre, dx):
    """dx of the amplitude-encoded inputs: 2 Re lambda_0 through x -> x / |x|."""
    for l in range(valid):
        xb = batch.x[b0 + l]
        m, nrm = _amp_scale(xb, p.amp_start, p.amp_size)
        proj = 0.0
        for j in range(p.amp_size):
            proj += 2.0 * lre[j * LANES + l] * (xb[p.amp_start + j] / m / nrm)
        full = m * nrm  # |x|; inf only past float64's range, where the gradient is ~0
        for j in range(p.amp_size):
            unit = xb[p.amp_start + j] / m / nrm
            dx[b0 + l, p.amp_start + j] += (2.0 * lre[j * LANES + l] - unit * proj) / full


@jit
def _final_state(p, batch, ao, s, b0, re, im, sre, sim):
    """The group's final forward state: the forward's kept states, or recomputed."""
    if not ao.have_states:
        return _run_forward(p, batch, s, b0, re, im, sre, sim)
    n = 1 << p.num_qubits
    for l in range(LANES):
        src = ao.states[min(b0 + l, batch.x.shape[0] - 1)]
        for j in range(n):
            re[j * LANES + l] = src[j].real
            im[j * LANES + l] = src[j].imag
    return re, im, sre, sim


@jit
def _adjoint_group(gi, p, batch, ao):
    n = 1 << p.num_qubits
    b0 = gi * LANES
    valid = min(LANES, batch.x.shape[0] - b0)
    s = _scratch(p, batch.proto)
    dt = batch.proto.dtype
    re, im, sre, sim = _final_state(p, batch, ao, s, b0, np.empty(n * LANES, dt), np.empty(n * LANES, dt),
                                    np.empty(n * LANES, dt), np.empty(n * LANES, dt))
    lre, lim = np.empty(n * LANES, dt), np.empty(n * LANES, dt)
    cotg = np.zeros((LANES, ao.cotangent.shape[1]), np.float64)
    for l in range(valid):
        cotg[l] = ao.cotangent[b0 + l]  # padding lanes carry a zero cotangent
    lk.apply_weighted_observable(re, im, n, p.terms, p.term_coeff, cotg, lre, lim)
    dw, dx, need_x = ao.dw_groups[gi], ao.dx, ao.need_x
    for i in range(p.ops.shape[0] - 1, -1, -1):
        kind = p.ops[i, 0]
        if kind == OP_U1 or kind == OP_CXU1:
            if u1_all_ry(p.factors, p.ops[i, 3], p.ops[i, 4]):
                _undo_ry_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x)
            else:
                _undo_u1_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x)
        elif kind == OP_U2:
            _undo_u2_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x)
        elif kind == OP_PERM:
            inv = p.inv_perms[p.ops[i, 3]]
            lk.gather_rows(re, im, n, inv, sre, sim)
            re, sre, im, sim = sre, re, sim, im
            lk.gather_rows(lre, lim, n, inv, sre, sim)
            lre, sre, lim, sim = sre, lre, sim, lim
        else:  # constant ops: undo both states
            apply_op(p, batch, s, i, b0, re, im, True)
            apply_op(p, batch, s, i, b0, lre, lim, True)
    if p.amp_size > 0 and need_x:
        _amplitude_gradient(p, batch, b0, valid, lre, dx)


@jit(parallel=True)
def adjoint_groups(p, batch, ao):
    """Gradients of sum(cotangent * expectations): weights per group into ao.dw_groups[group],
    inputs into ao.dx (only with ao.need_x)."""
    groups = (batch.x.shape[0] + LANES - 1) // LANES
    if groups == 1:  # no parallel region: its thread wake-ups cost milliseconds on a busy machine
        _adjoint_group(0, p, batch, ao)
    else:
        for gi in prange(groups):
            _adjoint_group(gi, p, batch, ao)
