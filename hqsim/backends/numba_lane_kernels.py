"""State loops over a group of LANES samples stored lane-interleaved: amplitude i of lane l sits
at ``i * L + l`` (separate real and imaginary arrays). Every gate, on any qubit, is then a
loop over contiguous lanes, which LLVM vectorises; indices are unsigned so Numba emits no
negative-index wraparound (that alone blocks vectorisation). Coefficient arrays hold one
value per lane (per-sample matrices) in the state's precision.

Qubit q's bit is ``1 << (Q-1-q)``. 1q coefficients: c[(2*e + part)*L + l] for matrix entry
e = 0..3 (row-major) and part 0 = real, 1 = imaginary; 2q likewise with e = 0..15.
"""
from __future__ import annotations

import numpy as np
from numba import carray, uint32, uint64
from numba.core import cgutils, types
from numba.extending import intrinsic

from .numba_jit import HAVE_FLAG_HOOK, jit, jit_inline, jit_noalias

# Samples per group. A compile-time constant on purpose: with a constant trip count LLVM
# vectorises the lane loops (measured 24 vs 3.7 GFLOP/s with a run-time count); 16 float32
# lanes fill one AVX-512 register (two AVX2 registers). Batches are padded up to a multiple
# of LANES.
LANES = 16
Z = uint64(0)  # the offset of a coefficient or sum array used whole


# Where the state arrays sit. A row of 16 float32 lanes is one 64-byte cache line and one zmm
# register when the array starts on a line: Numba aligns arrays to 32 bytes only, and once
# malloc serves a state from its heap instead of fresh pages, a state at 32 past a line puts
# every row across two lines (W1 Q=14 B=64, one process: forward 20.0 / 18.3 / 16.7 ms as its
# arrays sat at 32 / 32 / 0 past a line; bench/RESULTS.md, issue 18, session 10). And a pass
# reads and writes the same rows of several state arrays (re, im; lambda's too in the adjoint),
# so where the arrays sit relative to each other matters as much:
# with two arrays 64 bytes apart modulo 4 KiB, the next row's load in one matches the address
# bits of the last row's store in the other ("4K aliasing": the load waits for the store), and
# arrays at the same offset modulo the L2's way size share its sets. W1 Q=14, per qubit, the
# same walk: 28-30 us per pass with the arrays page-aligned 1 MiB + 4 KiB apart, 33-70 us (a
# whole forward 3,101 vs 4,077 us per group) at 0 or 64 bytes past that (bench/RESULTS.md,
# issue 18, session 11). Separate allocations land wherever malloc puts them, which differed
# from process to process; state_block places them.
PAGE = 4096


@jit_inline
def _state_stride(rows, item):
    """Elements from one array's start to the next in a state_block: its size rounded up to a
    page, plus a page."""
    size = rows * LANES * item
    return ((size + PAGE - 1) // PAGE + 1) * PAGE // item


@jit_inline
def state_block(count, rows, proto):
    """One allocation holding ``count`` state arrays of ``rows`` rows (state_in_block cuts them):
    each starts on a page, one page more apart than its size."""
    item = proto.itemsize
    buf = np.empty(count * _state_stride(rows, item) + PAGE // item, proto.dtype)
    off = (-(buf.ctypes.data // item)) % (PAGE // item)
    return buf[off:]


@jit_inline
def state_in_block(block, i, rows):
    """State array i of a state_block of arrays of ``rows`` rows."""
    start = i * _state_stride(rows, block.itemsize)
    return block[start:start + rows * LANES]


@intrinsic
def _stack_buffer(typingctx, count, dtype):
    """A pointer to ``count`` (a compile-time constant) uninitialised elements of ``dtype`` in
    the calling function's stack frame (an alloca in its entry block)."""
    if not isinstance(count, types.IntegerLiteral) or not isinstance(dtype, types.DType):
        return None
    size = count.literal_value

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_data_type(dtype.dtype), size=size)
    return types.CPointer(dtype.dtype)(count, dtype), codegen


@jit_inline
def lane_sums(count, dtype):
    """A zeroed array of ``count`` (a compile-time constant) elements on the stack, for the
    per-lane sums a pass accumulates. LLVM keeps such sums in registers for the whole pass; in a
    heap array (np.zeros) it cannot prove the pass's stores to the states miss them, so it
    loads and stores every sum, and reloads the matrix, per row pair: the one-pass adjoint
    (undo_1q) ran at 11.9 instead of 9.5 ns per row pair of 16 lanes (Q=14, Zen 4)."""
    a = carray(_stack_buffer(count, dtype), (count,))
    for i in range(count):
        a[i] = 0
    return a


# Pair passes split over two threads (numba_drivers' split path): ``parts`` 1 is the whole
# pass; with ``parts`` 2, ``part`` t takes half the pairs, those whose top bit other than the
# pass's own is t: rows [t n/2, (t+1) n/2) for a pass on any qubit but 0 (bit < n/2), the
# rows whose qubit-1 bit is t for a pass on qubit 0. numba_drivers.pass_split names which.
@jit_inline
def pair_span(n, bit, part, parts):
    """(first block, end of blocks, first j0, end of j0) of ``for blk in range(.., .., 2 bit):
    for j0 in range(.., ..)``, the pair loop of a pass on ``bit``, for part ``part`` of ``parts``
    (1 or 2; with 2, n >= 4)."""
    if parts == 1:
        return 0, n, 0, bit
    if 2 * bit < n:
        h = n >> 1
        return part * h, (part + 1) * h, 0, bit
    q = bit >> 1
    return 0, n, part * q, (part + 1) * q


@jit_inline
def small_index(i):
    """i as a uint64 that LLVM knows is below 2^32. Offsets into the state and the coefficient
    arrays go through this: from an int64, ``uint64(i) + l`` may wrap as far as LLVM can tell, so
    a lane loop at that offset is not a contiguous vector load and stays scalar (a block member
    ran at 12 instead of 3.7 ns per row of 16 lanes, Q=10, float32)."""
    return uint64(uint32(i))


# A complex 2x2 matrix times a vector in 12 multiply-adds instead of 16 (Gauss's three-multiply
# complex product): with u = ur + i ui and x = xr + i xi,
#     Re(u x) = ur (xr + xi) - (ur + ui) xi,    Im(u x) = ur (xr + xi) + (ui - ur) xr,
# and for a row u x + v y the two ur (xr + xi) + vr (yr + yi) are one sum. The sums xr + xi,
# yr + yi are shared by both rows; they and the matrix's ur + ui, ui - ur (loop-invariant, but
# LLVM recomputes them per row where it does not hoist the matrix) run on the adder ports,
# which a pass leaves idle. The passes are bound by the multiply-add ports (W1 Q=14: 95 % of
# that ceiling, bench/RESULTS.md), so they run in ~3/4 of the time: W1 Q=14, 16 lanes, Zen 4,
# 29.0 vs 37.3 us per pass in the walk (bench/walk_profile_cpu.py). Rounding: each output is a
# sum of four products of bounded terms (|ur| <= |u|, |ur + ui| <= sqrt(2) |u|), as before, so
# float32 keeps its accuracy.
@jit_inline
def _matvec(ar, ai, br, bi, cr, ci, dr, di, xr, xi, yr, yi):
    """(a b; c d) (x; y) for one lane: the real and imaginary parts of both rows."""
    sx = xr + xi
    sy = yr + yi
    k0 = ar * sx + br * sy
    k1 = cr * sx + dr * sy
    return (k0 - (ar + ai) * xi - (br + bi) * yi, k0 + (ai - ar) * xr + (bi - br) * yr,
            k1 - (cr + ci) * xi - (dr + di) * yi, k1 + (ci - cr) * xr + (di - dr) * yr)


@jit_inline
def _pair_1q(re, im, ore, oim, c, co, jr, kr, jw, kw):
    """One row pair of all lanes: (jw, kw) of (ore, oim) <- c (jr, kr) of (re, im), the matrix
    at offset co of c. In place when (ore, oim) are (re, im): every lane's inputs are read
    before its outputs are written."""
    L = uint64(LANES)
    for l0 in range(LANES):
        l = uint64(l0)
        xr, xi, yr, yi = re[jr + l], im[jr + l], re[kr + l], im[kr + l]
        ar, ai, br, bi = c[co + l], c[co + L + l], c[co + 2 * L + l], c[co + 3 * L + l]
        cr, ci, dr, di = c[co + 4 * L + l], c[co + 5 * L + l], c[co + 6 * L + l], c[co + 7 * L + l]
        ore[jw + l], oim[jw + l], ore[kw + l], oim[kw + l] = _matvec(ar, ai, br, bi, cr, ci, dr, di,
                                                                     xr, xi, yr, yi)


@jit_inline
def _pair_1q_real(re, im, ore, oim, c, co, jr, kr, jw, kw):
    """_pair_1q for a real matrix (c's real parts): half the multiplies."""
    L = uint64(LANES)
    for l0 in range(LANES):
        l = uint64(l0)
        xr, xi, yr, yi = re[jr + l], im[jr + l], re[kr + l], im[kr + l]
        a, b, cc, d = c[co + l], c[co + 2 * L + l], c[co + 4 * L + l], c[co + 6 * L + l]
        ore[jw + l] = a * xr + b * yr
        oim[jw + l] = a * xi + b * yi
        ore[kw + l] = cc * xr + d * yr
        oim[kw + l] = cc * xi + d * yi


@jit_inline
def pair_into(re, im, ore, oim, c, co, jr, kr, jw, kw, real):
    """_pair_1q_real or _pair_1q. ``real`` is fixed for a whole pass: each call site becomes
    two vectorised lane loops behind one branch (as fast as separate kernels, measured)."""
    if real:
        _pair_1q_real(re, im, ore, oim, c, co, jr, kr, jw, kw)
    else:
        _pair_1q(re, im, ore, oim, c, co, jr, kr, jw, kw)


@jit_inline
def pair(re, im, c, co, jr, kr, jw, kw, real):
    """pair_into in place."""
    pair_into(re, im, re, im, c, co, jr, kr, jw, kw, real)


@jit_noalias
def apply_1q(re, im, n, bit, c, real, part, parts):
    """(row, row | bit) <- c (row, row | bit) for every pair, all lanes; ``real``: c is real."""
    L = uint64(LANES)
    b_lo, b_hi, j_lo, j_hi = pair_span(n, bit, part, parts)
    for blk in range(b_lo, b_hi, 2 * bit):
        for j0 in range(j_lo, j_hi):
            j = (uint64(blk) + uint64(j0)) * L
            k = j + uint64(bit) * L
            pair(re, im, c, Z, j, k, j, k, real)


@jit_noalias
def gather_apply_1q(re, im, n, bit, rows, c, real, ore, oim):
    """(ore, oim) rows (j, j | bit) <- c ((re, im) rows rows[j], rows[j | bit]) for every pair:
    a basis permutation (``rows``: psi'[i] = psi[rows[i]]) and the single-qubit pass after it
    in one pass instead of two (the state moves through the cache once)."""
    L = uint64(LANES)
    for blk in range(0, n, 2 * bit):
        for j0 in range(bit):
            j = blk + j0
            jr, kr = small_index(rows[j]) * L, small_index(rows[j + bit]) * L
            jw = small_index(j) * L
            kw = jw + uint64(bit) * L
            pair_into(re, im, ore, oim, c, Z, jr, kr, jw, kw, real)


@jit_noalias
def apply_1q_cx(re, im, n, bit, cbit, c, swap_out, real, part, parts):
    """The CXU1 op: rows whose control bit ``cbit`` is set swap the pair (the CNOT) on the
    way in (forward: U after the CNOT) or, with ``swap_out``, on the way out (the inverse:
    the CNOT after U^dagger). Each case is its own call site with fixed row roles: a
    run-time choice of rows inside one loop defeated vectorisation (49 vs 12 us)."""
    L = uint64(LANES)
    cb = uint64(cbit)
    b_lo, b_hi, j_lo, j_hi = pair_span(n, bit, part, parts)
    for blk in range(b_lo, b_hi, 2 * bit):
        for j0 in range(j_lo, j_hi):
            row = uint64(blk) + uint64(j0)
            j = row * L
            k = j + uint64(bit) * L
            if (row & cb) == 0:
                pair(re, im, c, Z, j, k, j, k, real)
            elif swap_out:
                pair(re, im, c, Z, j, k, k, j, real)
            else:
                pair(re, im, c, Z, k, j, j, k, real)


@jit_inline
def _times_vector(c, co, l, xr, xi, yr, yi):
    """Lane l's complex 2x2 matrix at offset co of c times the vector (x, y): the real and
    imaginary parts of both results."""
    L = uint64(LANES)
    ar, ai, br, bi = c[co + l], c[co + L + l], c[co + 2 * L + l], c[co + 3 * L + l]
    cr, ci, dr, di = c[co + 4 * L + l], c[co + 5 * L + l], c[co + 6 * L + l], c[co + 7 * L + l]
    return _matvec(ar, ai, br, bi, cr, ci, dr, di, xr, xi, yr, yi)


@jit_inline
def _add_outer(a, ao, l, lxr, lxi, lyr, lyi, pr, pi, qr, qi):
    """a[ao + (2e+part)*L + l] += conj(lam_a) psi_b for one pair of one lane, e = 2a + b."""
    L = uint64(LANES)
    a[ao + l] += lxr * pr + lxi * pi
    a[ao + L + l] += lxr * pi - lxi * pr
    a[ao + 2 * L + l] += lxr * qr + lxi * qi
    a[ao + 3 * L + l] += lxr * qi - lxi * qr
    a[ao + 4 * L + l] += lyr * pr + lyi * pi
    a[ao + 5 * L + l] += lyr * pi - lyi * pr
    a[ao + 6 * L + l] += lyr * qr + lyi * qi
    a[ao + 7 * L + l] += lyr * qi - lyi * qr


@jit_inline
def undo_pair_1q(re, im, lre, lim, c, co, a, ao, j, k, jw, kw):
    """One row pair of all lanes: psi' = V psi, a += conj(lam) psi', lam' = V lam, both
    written to rows (jw, kw); V at offset co of c, the sums at offset ao of a. The fused
    blocks' members (numba_block_kernels) undo with this: their gradient is the matrix M."""
    for l0 in range(LANES):
        l = uint64(l0)
        pr, pi, qr, qi = _times_vector(c, co, l, re[j + l], im[j + l], re[k + l], im[k + l])
        lxr, lxi, lyr, lyi = lre[j + l], lim[j + l], lre[k + l], lim[k + l]
        _add_outer(a, ao, l, lxr, lxi, lyr, lyi, pr, pi, qr, qi)
        re[jw + l], im[jw + l], re[kw + l], im[kw + l] = pr, pi, qr, qi
        lre[jw + l], lim[jw + l], lre[kw + l], lim[kw + l] = _times_vector(c, co, l, lxr, lxi, lyr, lyi)


# The adjoint step of a U1 / CXU1 op reads its gradient off the op's OUTPUT states: a factor's
# angle theta enters as dU/dtheta = -i/2 H U with H = A G A^dagger (G the factor's generator, A
# the factors after it), so dL/dtheta = Im <lam|H|psi> on the output states. For Hermitian H
# that is (H00 + H11)/2 Im <lam|psi> + (H00 - H11)/2 tz + Re H10 gx + Im H10 gy, and the first
# term is zero: <lam|psi> is the cotangent-weighted sum of the expectations (real: Hermitian
# observables, real cotangents), the same at every step of the walk (only the G with a trace,
# F_PHASE, would weigh it). So three "Pauli sums", summed over every pair of the pass:
#     tz = Im <lam|Z|psi>,  gx = Im <lam|X|psi>,  gy = Im <lam|Y|psi>
# (numba_op_steps.u1_pauli_grads weights them), 10 multiply-adds per pair and lane: gx and gy
# share lxr (yr + yi) - lyr (xr - xi) (the three-multiply form of _matvec). The matrix
# gradient M would take 16, the four sums with Im <lam|psi> 12. The weights H depend on the
# factors after theta only, which for most ops are the same for every sample.
# Layout: gacc[s*L + l], s = 0 (tz), 1 (gx), 2 (gy).
PAULI_SUMS = 3
PAULI_LEN = PAULI_SUMS * LANES  # the sums of one op: a compile-time constant (lane_sums)


@jit_inline
def add_pauli(g, go, l, lxr, lxi, lyr, lyi, xr, xi, yr, yi):
    """g[go + s*L + l] += the Pauli sums of one row pair of one lane (lam, psi the op's output;
    l a uint64). The product prefix's adjoint (numba_product) sums its ops' with this too."""
    L = uint64(LANES)
    k = lxr * (yr + yi) - lyr * (xr - xi)
    g[go + l] += lxr * xi - lxi * xr - lyr * yi + lyi * yr
    g[go + L + l] += k - (lxi + lxr) * yr - (lyi - lyr) * xr
    g[go + 2 * L + l] -= k - (lxr - lxi) * yi - (lyr + lyi) * xi


@jit_noalias
def accumulate_pauli_1q(re, im, lre, lim, n, bit, gacc, part, parts):
    """gacc += the Pauli sums of every pair (see above), read-only on the states, with the sums
    in a fresh local array: fused into an undo loop written the naive way the accumulator stores
    defeated vectorisation (11 vs 2 us)."""
    L = uint64(LANES)
    a = lane_sums(PAULI_LEN, re.dtype)
    b_lo, b_hi, j_lo, j_hi = pair_span(n, bit, part, parts)
    for blk in range(b_lo, b_hi, 2 * bit):
        for j0 in range(j_lo, j_hi):
            j = (uint64(blk) + uint64(j0)) * L
            k = j + uint64(bit) * L
            for l0 in range(LANES):
                l = uint64(l0)
                add_pauli(a, Z, l, lre[j + l], lim[j + l], lre[k + l], lim[k + l],
                           re[j + l], im[j + l], re[k + l], im[k + l])
    for i in range(PAULI_SUMS * LANES):
        gacc[i] += a[i]


@jit
def undo_1q_three_pass(re, im, lre, lim, n, bit, cbit, c, gacc, part, parts):
    """gacc += the Pauli sums of the op's output states, then psi <- V psi, lam <- V lam with
    V = U^dagger given in c, in three vectorised passes: the fallback of undo_1q. cbit = 0 for a
    U1 op; a CXU1 op's control bit also sends both states back through the CNOT."""
    accumulate_pauli_1q(re, im, lre, lim, n, bit, gacc, part, parts)
    apply_1q_cx(re, im, n, bit, cbit, c, True, False, part, parts)
    apply_1q_cx(lre, lim, n, bit, cbit, c, True, False, part, parts)


@jit_inline
def undo_pair_pauli(re, im, lre, lim, c, co, g, go, j, k, jw, kw):
    """One row pair of all lanes: g += the Pauli sums of (lam, psi), then psi' = V psi and
    lam' = V lam written to rows (jw, kw); V at offset co of c, the sums at offset go of g."""
    for l0 in range(LANES):
        l = uint64(l0)
        xr, xi, yr, yi = re[j + l], im[j + l], re[k + l], im[k + l]
        lxr, lxi, lyr, lyi = lre[j + l], lim[j + l], lre[k + l], lim[k + l]
        add_pauli(g, go, l, lxr, lxi, lyr, lyi, xr, xi, yr, yi)
        re[jw + l], im[jw + l], re[kw + l], im[kw + l] = _times_vector(c, co, l, xr, xi, yr, yi)
        lre[jw + l], lim[jw + l], lre[kw + l], lim[kw + l] = _times_vector(c, co, l, lxr, lxi, lyr, lyi)


@jit_noalias
def undo_1q(re, im, lre, lim, n, bit, cbit, c, gacc, part, parts):
    """undo_1q_three_pass in ONE pass over psi and lam (the M-matrix version of this pass
    measured 14 vs 28 us per op at Q=10, 16 lanes; the Pauli sums took 5 % (Q=10) and 2 % (Q=14)
    off that, summed over every qubit). re, im, lre, lim, c, gacc must be distinct arrays
    (declared non-aliasing)."""
    L = uint64(LANES)
    cb = uint64(cbit)
    a = lane_sums(PAULI_LEN, re.dtype)
    b_lo, b_hi, j_lo, j_hi = pair_span(n, bit, part, parts)
    for blk in range(b_lo, b_hi, 2 * bit):
        for j0 in range(j_lo, j_hi):
            row = uint64(blk) + uint64(j0)
            j = row * L
            k = j + uint64(bit) * L
            if (row & cb) == 0:
                undo_pair_pauli(re, im, lre, lim, c, Z, a, Z, j, k, j, k)
            else:
                undo_pair_pauli(re, im, lre, lim, c, Z, a, Z, j, k, k, j)
    for i in range(PAULI_SUMS * LANES):
        gacc[i] += a[i]


HAVE_FUSED_UNDO = HAVE_FLAG_HOOK  # without noalias the one-pass undo is slower than three passes


# Real rotations. An op whose factors are all RY (the ring ansatz's every gate, with the CNOT
# folded in) has a real matrix (``real`` in apply_1q / apply_1q_cx: half the multiplies); and
# since every factor's generator is Y on the target, which commutes with the op, the gradient
# of all its angles is one number per lane, Im <lam|Y|psi> on the op's output states, instead
# of the 2x2 matrix M (4 multiply-adds per amplitude pair instead of 16). The adjoint step goes
# 48 -> 20 multiply-adds per pair and lane. The matrix is read from c's real parts.
@jit_inline
def undo_pair_ry(re, im, lre, lim, c, co, g, go, j, k, jw, kw):
    """One row pair of all lanes: g[go + l] += Im <lam|Y|psi> of the pair, then psi' = V psi
    and lam' = V lam (V real, at offset co of c) written to rows (jw, kw)."""
    L = uint64(LANES)
    for l0 in range(LANES):
        l = uint64(l0)
        a, b, cc, d = c[co + l], c[co + 2 * L + l], c[co + 4 * L + l], c[co + 6 * L + l]
        xr, xi, yr, yi = re[j + l], im[j + l], re[k + l], im[k + l]
        lxr, lxi, lyr, lyi = lre[j + l], lim[j + l], lre[k + l], lim[k + l]
        g[go + l] += lyr * xr + lyi * xi - lxr * yr - lxi * yi
        re[jw + l] = a * xr + b * yr
        im[jw + l] = a * xi + b * yi
        re[kw + l] = cc * xr + d * yr
        im[kw + l] = cc * xi + d * yi
        lre[jw + l] = a * lxr + b * lyr
        lim[jw + l] = a * lxi + b * lyi
        lre[kw + l] = cc * lxr + d * lyr
        lim[kw + l] = cc * lxi + d * lyi


@jit_noalias
def undo_ry(re, im, lre, lim, n, bit, cbit, c, gacc, part, parts):
    """The adjoint step of an op made of RY factors (a U1 op, or with ``cbit`` a CXU1 op):
    gacc[l] += Im <lam|Y_target|psi> on the op's output states (dL/dtheta of each factor's
    angle theta), then psi <- V psi and lam <- V lam with V = U^dagger = U^T in c, rows sent
    back through the CNOT where the control bit is set. One pass over psi and lam."""
    L = uint64(LANES)
    cb = uint64(cbit)
    g = lane_sums(LANES, re.dtype)
    b_lo, b_hi, j_lo, j_hi = pair_span(n, bit, part, parts)
    for blk in range(b_lo, b_hi, 2 * bit):
        for j0 in range(j_lo, j_hi):
            row = uint64(blk) + uint64(j0)
            j = row * L
            k = j + uint64(bit) * L
            if (row & cb) == 0:
                undo_pair_ry(re, im, lre, lim, c, Z, g, Z, j, k, j, k)
            else:
                undo_pair_ry(re, im, lre, lim, c, Z, g, Z, j, k, k, j)
    for l in range(LANES):
        gacc[l] += g[l]


@jit
def _group_rows(t, bit0, bit1):
    lo, hi = min(bit0, bit1), max(bit0, bit1)
    base = t
    low = base & (lo - 1)
    base = ((base - low) << 1) | low
    low = base & (hi - 1)
    base = ((base - low) << 1) | low
    return base, base + bit1, base + bit0, base + bit0 + bit1


@jit_noalias
def apply_2q(re, im, n, bit0, bit1, c, xr, xi):
    """4x4 per-lane matrices in the frame (q0 high, q1 low); xr, xi scratch of 4*L."""
    L = uint64(LANES)
    for t in range(n >> 2):
        rows = _group_rows(t, bit0, bit1)
        for a in range(4):
            ra = uint64(rows[a]) * L
            for l0 in range(LANES):
                l = uint64(l0)
                xr[uint64(a) * L + l] = re[ra + l]
                xi[uint64(a) * L + l] = im[ra + l]
        for a in range(4):
            ra = uint64(rows[a]) * L
            for l0 in range(LANES):
                l = uint64(l0)
                sr = xr[l] * 0
                si = xr[l] * 0
                for b in range(4):
                    e = uint64(4 * a + b)
                    mr, mi = c[2 * e * L + l], c[(2 * e + 1) * L + l]
                    vr, vi = xr[uint64(b) * L + l], xi[uint64(b) * L + l]
                    sr += mr * vr - mi * vi
                    si += mr * vi + mi * vr
                re[ra + l] = sr
                im[ra + l] = si


@jit_noalias
def accumulate_outer_2q(re, im, lre, lim, n, bit0, bit1, macc):
    """macc[(2e+part)*L + l] += conj(lam_a) psi_b, e = 4a + b."""
    L = uint64(LANES)
    for t in range(n >> 2):
        rows = _group_rows(t, bit0, bit1)
        for a in range(4):
            ra = uint64(rows[a]) * L
            for b in range(4):
                rb = uint64(rows[b]) * L
                e = uint64(4 * a + b)
                for l0 in range(LANES):
                    l = uint64(l0)
                    lr, li = lre[ra + l], lim[ra + l]
                    pr, pi = re[rb + l], im[rb + l]
                    macc[2 * e * L + l] += lr * pr + li * pi
                    macc[(2 * e + 1) * L + l] += lr * pi - li * pr


@jit_noalias
def gather_rows(re, im, n, perm, ore, oim, lo, hi):
    """(ore, oim)[i] = (re, im)[perm[i]] for rows i in [lo, hi) (0, n: all): a basis
    permutation into other arrays (the caller swaps them in; copying back cost as much as the
    gather). One lane loop per array: with both in one loop LLVM did not vectorise (27 vs 11
    us at Q=10)."""
    L = uint64(LANES)
    for i in range(lo, hi):
        src = uint64(perm[i]) * L
        dst = uint64(i) * L
        for l0 in range(LANES):
            ore[dst + uint64(l0)] = re[src + uint64(l0)]
        for l0 in range(LANES):
            oim[dst + uint64(l0)] = im[src + uint64(l0)]


@jit_noalias
def apply_cz(re, im, n, bit0, bit1):
    both = bit0 | bit1
    L = uint64(LANES)
    for i in range(n):
        if (i & both) == both:
            r = uint64(i) * L
            for l0 in range(LANES):
                l = uint64(l0)
                re[r + l] = -re[r + l]
                im[r + l] = -im[r + l]


@jit_noalias
def apply_uk(re, im, n, wires, ws, k, nq, ur, ui, offs, xr, xi):
    """A constant dense 2^k matrix (ur + i ui, row-major) on wires[ws:ws+k], all lanes."""
    dim = 1 << k
    L = uint64(LANES)
    for a in range(dim):
        o = 0
        for j in range(k):
            if a & (1 << (k - 1 - j)):
                o += 1 << (nq - 1 - wires[ws + j])
        offs[a] = o
    for t in range(n >> k):
        base = t
        for bpos in range(nq):
            bit = 1 << bpos
            for j in range(k):
                if (1 << (nq - 1 - wires[ws + j])) == bit:
                    low = base & (bit - 1)
                    base = ((base - low) << 1) | low
        for a in range(dim):
            r = uint64(base + offs[a]) * L
            for l0 in range(LANES):
                l = uint64(l0)
                xr[uint64(a) * L + l] = re[r + l]
                xi[uint64(a) * L + l] = im[r + l]
        for a in range(dim):
            r = uint64(base + offs[a]) * L
            for l0 in range(LANES):
                l = uint64(l0)
                sr = xr[l] * 0
                si = xr[l] * 0
                for b in range(dim):
                    vr, vi = xr[uint64(b) * L + l], xi[uint64(b) * L + l]
                    sr += ur[a * dim + b] * vr - ui[a * dim + b] * vi
                    si += ur[a * dim + b] * vi + ui[a * dim + b] * vr
                re[r + l] = sr
                im[r + l] = si


@intrinsic
def _ctpop(typingctx, x):
    """The number of set bits of an integer: LLVM's ctpop, one POPCNT instruction."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])
    return x(x), codegen


@jit_inline
def parity(x):
    """The parity (0 or 1) of x's set bits. One POPCNT: the shift-and-xor ladder it replaces,
    called per row by the observables' passes, took 7 % of W1's forward at Q=14 (Zen 4)."""
    return _ctpop(x) & 1


@jit_noalias
def pauli_expectations(re, im, n, terms, coeff, out, accr, acci, lo, hi):
    """out[l, obs] += coeff <psi_l|P|psi_l> (float64 accumulation per lane); with (lo, hi) other
    than (0, n), only the terms of rows [lo, hi) of the sum over rows (two threads' parts)."""
    L = uint64(LANES)
    for t in range(terms.shape[0]):
        flip, sign, ny = terms[t, 1], terms[t, 2], terms[t, 3]
        for blk in range(lo, hi, 64):  # partial sums in the state precision, 64 rows at a time
            pr = lane_sums(LANES, re.dtype)
            pim = lane_sums(LANES, re.dtype)
            for i in range(blk, min(hi, blk + 64)):
                r = uint64(i) * L
                s = uint64(i ^ flip) * L
                sgn = re.dtype.type(1 - 2 * parity(i & sign))
                for l0 in range(LANES):
                    l = uint64(l0)
                    pr[l] += sgn * (re[s + l] * re[r + l] + im[s + l] * im[r + l])
                    pim[l] += sgn * (re[s + l] * im[r + l] - im[s + l] * re[r + l])
            for l in range(LANES):
                accr[l] += pr[l]
                acci[l] += pim[l]
        for l in range(LANES):
            val = accr[l] if ny == 0 else (-acci[l] if ny == 1 else (-accr[l] if ny == 2 else acci[l]))
            out[l, terms[t, 0]] += coeff[t] * val
            accr[l] = 0.0
            acci[l] = 0.0


@jit_noalias
def apply_weighted_observable(re, im, n, terms, coeff, g, lre, lim, lo, hi):
    """lam_l = sum_t g[l, obs_t] coeff_t P_t psi_l, on rows [lo, hi) of lam (0, n: all; psi is
    read anywhere). Walks the rows of lam: P_t maps row i to s = i ^ flip."""
    L = uint64(LANES)
    lre[lo * LANES:hi * LANES] = 0
    lim[lo * LANES:hi * LANES] = 0
    cvec = np.empty(LANES, re.dtype)
    for t in range(terms.shape[0]):
        flip, sign, ny = terms[t, 1], terms[t, 2], terms[t, 3]
        for l in range(LANES):
            cvec[l] = g[l, terms[t, 0]] * coeff[t]
        # i^ny: multiply (vr + i vi) by 1, i, -1, -i
        rr = 1 if ny == 0 else (-1 if ny == 2 else 0)
        ri = -1 if ny == 1 else (1 if ny == 3 else 0)
        for si in range(lo, hi):
            i = si ^ flip
            r = uint64(i) * L
            s = uint64(si) * L
            sgn = re.dtype.type(1 - 2 * parity(i & sign))
            for l0 in range(LANES):
                l = uint64(l0)
                cl = sgn * cvec[l]
                vr, vi = cl * re[r + l], cl * im[r + l]
                lre[s + l] += rr * vr + ri * vi
                lim[s + l] += rr * vi - ri * vr
