"""One op's, or one fused block's, forward and adjoint step on one group of LANES samples
(numba_drivers walks the program with these): the per-lane coefficients of its matrix, the
lane kernel that applies or undoes it, and the chain rule from the lane sums to the angles.
``p`` the program, ``batch`` the call's inputs, ``s`` the group's Scratch (numba_drivers).
Everything here reads and writes arrays it is given: compiled without reference counting
(numba_jit.jit_borrowing).
"""
from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from ..program import INPUT, OP_CXU1, OP_CZ, OP_U1, OP_U2, OP_UK
from . import numba_block_kernels as bk
from . import numba_lane_kernels as lk
from .numba_jit import jit_borrowing, jit_inline
from .numba_lane_kernels import HAVE_FUSED_UNDO, LANES
from .numba_matrices import angle, chain_grads, op_matrix
from .numba_matrices_1q import (cached_factor_1q, pauli_contract, pauli_weights, ry_chain, u1_all_ry, u1_chain,
                                 u1_depends_on_inputs, u1_matrix, u1_pauli_chain)


# ---------------------------------------------------------------- lane coefficients of one op
@jit_inline
def _sample(batch, b0, l):
    return batch.x[min(b0 + l, batch.x.shape[0] - 1)]  # padding lanes repeat the last sample


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

@jit_borrowing
def fill_1q(p, batch, i, b0, dagger, c):
    """c = the 2x2 matrix of U1/CXU1 op i per lane: real parts only for an all-RY op."""
    if u1_all_ry(p.factors, p.ops[i, 3], p.ops[i, 4]):
        _fill_ry(p, batch, i, b0, dagger, c)
    else:
        _fill_u1(p, batch, i, b0, dagger, c)


# ---------------------------------------------------------------- forward
@jit_inline
def _bit(p, q):
    return 1 << (p.num_qubits - 1 - q)


@jit_borrowing
def apply_op(p, batch, s, i, b0, re, im, dagger, p_lo, p_hi, parts):
    """Op i (not PERM), or its inverse with ``dagger``, on one group's state (re, im). A U1 /
    CXU1 op runs parts p_lo .. p_hi - 1 of ``parts`` of its pass (numba_lane_kernels.pair_span);
    any other op runs whole and must be given (0, 1, 1)."""
    n = 1 << p.num_qubits
    kind = p.ops[i, 0]
    if kind == OP_U1 or kind == OP_CXU1:
        real = u1_all_ry(p.factors, p.ops[i, 3], p.ops[i, 4])
        fill_1q(p, batch, i, b0, dagger, s.c)
        for part in range(p_lo, p_hi):
            if kind == OP_U1:
                lk.apply_1q(re, im, n, _bit(p, p.ops[i, 1]), s.c, real, part, parts)
            else:  # CXU1: the inverse (dagger) is U^dagger, then the CNOT
                lk.apply_1q_cx(re, im, n, _bit(p, p.ops[i, 1]), _bit(p, p.ops[i, 2]), s.c, dagger, real,
                               part, parts)
    elif kind == OP_U2:
        _fill_u2(p, batch, i, b0, dagger, s)
        lk.apply_2q(re, im, n, _bit(p, p.ops[i, 1]), _bit(p, p.ops[i, 2]), s.c, s.tre, s.tim)
    elif kind == OP_CZ:
        lk.apply_cz(re, im, n, _bit(p, p.ops[i, 1]), _bit(p, p.ops[i, 2]))
    elif kind == OP_UK:
        _fill_uk(p, i, dagger, s)
        lk.apply_uk(re, im, n, p.wires, p.ops[i, 3], p.ops[i, 4], p.num_qubits, s.ur, s.ui, s.offs,
                    s.tre, s.tim)


@jit_borrowing
def apply_op_gathered(p, batch, s, i, b0, re, im, rows, ore, oim):
    """U1 / CXU1 op i into (ore, oim), reading its input rows through ``rows`` (the permutation
    before it, composed with the op's CNOT; numba_cpu.fold_permutations)."""
    fill_1q(p, batch, i, b0, False, s.c)
    lk.gather_apply_1q(re, im, 1 << p.num_qubits, _bit(p, p.ops[i, 1]), rows, s.c,
                       u1_all_ry(p.factors, p.ops[i, 3], p.ops[i, 4]), ore, oim)


@jit_borrowing
def _apply_block(p, batch, s, b, b0, re, im):
    """Block b of the program's blocks (numba_block_kernels) in one pass."""
    first, nm, k, o, bo = p.blocks[b, 0], p.blocks[b, 1], p.blocks[b, 2], p.blocks[b, 3], p.blocks[b, 4]
    for m in range(nm):
        if p.member_kind[first + m] == bk.MEMBER_PAIRS:
            fill_1q(p, batch, first + m, b0, False, s.cblock[m * 8 * LANES:(m + 1) * 8 * LANES])
    dim = 1 << k
    bk.apply_block(re, im, 1 << p.num_qubits, p.block_bits[bo:bo + k], p.block_offs[o:o + dim],
                   p.member_kind[first:first + nm], p.member_pstart[first:first + nm], p.member_pairs,
                   s.cblock, p.member_real[first:first + nm], p.block_final[o:o + dim],
                   p.block_ident[:dim], p.blocks[b, 5] != 0, s.tre, s.tim)


# ---------------------------------------------------------------- adjoint
@jit_inline
def _lane_m(macc, mo, l, e):
    """Entry e of lane l's matrix gradient from the lane sums at offset mo."""
    return macc[mo + 2 * e * LANES + l] + 1j * macc[mo + (2 * e + 1) * LANES + l]


@jit_borrowing
def _ry_grads(p, i, b0, valid, gacc, go, dw, dx, need_x):
    """Angle gradients of all-RY op i from its lane sums gacc[go + l] = dL/dtheta."""
    fs, fc = p.ops[i, 3], p.ops[i, 4]
    if u1_depends_on_inputs(p.factors, fs, fc):
        for l in range(valid):
            ry_chain(p, fs, fc, gacc[go + l], dw, dx[b0 + l], need_x)
    else:  # the same factors for every sample: sum the lanes first
        gsum = 0.0
        for l in range(valid):
            gsum += gacc[go + l]
        ry_chain(p, fs, fc, gsum, dw, dx[b0], need_x)


@jit_borrowing
def _u1_grads(p, batch, s, i, b0, valid, macc, mo, dw, dx, need_x):
    """Angle gradients of U1/CXU1 op i from its lane sums of M (2x2 per lane) at offset mo."""
    fs, fc = p.ops[i, 3], p.ops[i, 4]
    if u1_depends_on_inputs(p.factors, fs, fc):
        for l in range(valid):
            u1_chain(p, batch.fcache, fs, fc, batch.x[b0 + l], batch.w, _lane_m(macc, mo, l, 0),
                     _lane_m(macc, mo, l, 1), _lane_m(macc, mo, l, 2), _lane_m(macc, mo, l, 3), s.f1,
                     s.p1, dw, dx[b0 + l], need_x)
    else:  # the same factors for every sample: the chain rule is linear in M, sum first
        m00, m01, m10, m11 = 0j, 0j, 0j, 0j
        for l in range(valid):
            m00 += _lane_m(macc, mo, l, 0)
            m01 += _lane_m(macc, mo, l, 1)
            m10 += _lane_m(macc, mo, l, 2)
            m11 += _lane_m(macc, mo, l, 3)
        u1_chain(p, batch.fcache, fs, fc, batch.x[b0], batch.w, m00, m01, m10, m11, s.f1, s.p1, dw,
                 dx[b0], need_x)


@jit_borrowing
def u1_pauli_grads(p, batch, i, b0, valid, gacc, go, dw, dx, need_x):
    """Angle gradients of U1/CXU1 op i from its Pauli sums per lane at offset go of gacc
    (numba_lane_kernels.undo_1q). Factor k's weights H_k (numba_matrices_1q.pauli_weights)
    depend only on the factors after k. Above the last factor that reads the inputs, kin, they
    are the same for every lane: one walk on the lane-summed sums. Factor kin's own H is too:
    its input gradients are one contraction per lane. Below kin each lane walks alone (W1's ops
    read their input in their first factor: no lane walks)."""
    L = LANES
    fs, fc = p.ops[i, 3], p.ops[i, 4]
    kin = fc - 1
    while kin >= 0 and p.factors[fs + kin, 1] != INPUT:
        kin -= 1
    sz, sx, sy = 0.0, 0.0, 0.0
    for l in range(valid):
        sz += gacc[go + l]
        sx += gacc[go + L + l]
        sy += gacc[go + 2 * L + l]
    a0, a1, a2, a3 = u1_pauli_chain(p, batch.fcache, fs, fc - 1, kin + 1, batch.x[b0], batch.w, 1 + 0j, 0j, 0j,
                                    1 + 0j, sz, sx, sy, dw, dx[b0], need_x)
    if kin < 0:
        return
    f = fs + kin
    if need_x:
        hz, hr, hi = pauli_weights(a0, a1, a2, a3, p.factors[f, 0])
        c = p.fcoef[f, 0]
        for l in range(valid):
            dx[b0 + l, p.factors[f, 2]] += c * pauli_contract(hz, hr, hi, gacc[go + l], gacc[go + L + l],
                                                              gacc[go + 2 * L + l])
    if kin == 0:
        return
    for l in range(valid):
        xb = batch.x[b0 + l]
        e0, e1, e2, e3 = cached_factor_1q(p, batch.fcache, f, xb, batch.w)
        u1_pauli_chain(p, batch.fcache, fs, kin - 1, 0, xb, batch.w, a0 * e0 + a1 * e2, a0 * e1 + a1 * e3,
                       a2 * e0 + a3 * e2, a2 * e1 + a3 * e3, gacc[go + l], gacc[go + L + l],
                       gacc[go + 2 * L + l], dw, dx[b0 + l], need_x)


@jit_borrowing
def undo_1q_op(p, batch, s, i, b0, valid, re, im, lre, lim, dws, dxs, need_x, p_lo, p_hi, parts):
    """Adjoint step of a U1/CXU1 op: undo psi and lambda in one pass with the lane sums of its
    gradient (one number per lane for an all-RY op, numba_lane_kernels.undo_ry; else the three
    Pauli sums, numba_lane_kernels.undo_1q), for
    parts p_lo .. p_hi - 1 of ``parts``: each part's pass, then the angle gradients of its
    partial sums into dws[part], dxs[part] (the chain rule is linear in the sums: the parts'
    gradients add up to the whole op's)."""
    n, bit = 1 << p.num_qubits, _bit(p, p.ops[i, 1])
    cbit = 0 if p.ops[i, 0] == OP_U1 else _bit(p, p.ops[i, 2])
    fill_1q(p, batch, i, b0, True, s.c)
    ry = u1_all_ry(p.factors, p.ops[i, 3], p.ops[i, 4])
    for part in range(p_lo, p_hi):
        if ry:
            s.gacc[:] = 0
            lk.undo_ry(re, im, lre, lim, n, bit, cbit, s.c, s.gacc, part, parts)
            _ry_grads(p, i, b0, valid, s.gacc, 0, dws[part], dxs[part], need_x)
            continue
        s.macc[:lk.PAULI_SUMS * LANES] = 0
        if HAVE_FUSED_UNDO:  # a compile-time constant: one pass over psi and lam
            lk.undo_1q(re, im, lre, lim, n, bit, cbit, s.c, s.macc, part, parts)
        else:
            lk.undo_1q_three_pass(re, im, lre, lim, n, bit, cbit, s.c, s.macc, part, parts)
        u1_pauli_grads(p, batch, i, b0, valid, s.macc, 0, dws[part], dxs[part], need_x)


@jit_borrowing
def undo_u2_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x):
    """Adjoint step of a U2 op: three passes (undo psi, 4x4 M per lane, undo lambda)."""
    n, bit0, bit1 = 1 << p.num_qubits, _bit(p, p.ops[i, 1]), _bit(p, p.ops[i, 2])
    _fill_u2(p, batch, i, b0, True, s)
    lk.apply_2q(re, im, n, bit0, bit1, s.c, s.tre, s.tim)
    s.macc[:] = 0
    lk.accumulate_outer_2q(re, im, lre, lim, n, bit0, bit1, s.macc)
    lk.apply_2q(lre, lim, n, bit0, bit1, s.c, s.tre, s.tim)
    for l in range(valid):
        for e in range(16):
            s.m[e >> 2, e & 3] = _lane_m(s.macc, 0, l, e)
        chain_grads(p, i, batch.x[b0 + l], batch.w, 4, s.m, s, dw, dx[b0 + l], need_x)


@jit_borrowing
def _undo_block(p, batch, s, b, b0, valid, re, im, lre, lim, dw, dx, need_x):
    """Adjoint step of block b: one pass over psi and lambda through its members backwards,
    then each member's chain rule."""
    first, nm, k, o, bo = p.blocks[b, 0], p.blocks[b, 1], p.blocks[b, 2], p.blocks[b, 3], p.blocks[b, 4]
    for m in range(nm):
        if p.member_kind[first + m] == bk.MEMBER_PAIRS:
            fill_1q(p, batch, first + m, b0, True, s.cblock[m * 8 * LANES:(m + 1) * 8 * LANES])
    s.mblock[:nm * 8 * LANES] = 0
    s.gblock[:nm * LANES] = 0
    dim = 1 << k
    bk.undo_block(re, im, lre, lim, 1 << p.num_qubits, p.block_bits[bo:bo + k], p.block_offs[o:o + dim],
                  p.member_kind[first:first + nm], p.member_pstart[first:first + nm], p.member_pairs,
                  s.cblock, p.member_real[first:first + nm], p.block_final[o:o + dim],
                  p.block_ident[:dim], p.blocks[b, 5] != 0, s.tre, s.tim, s.mblock, s.gblock)
    for m in range(nm):
        i = first + m
        if p.member_kind[i] != bk.MEMBER_PAIRS:
            continue
        if p.member_real[i]:
            _ry_grads(p, i, b0, valid, s.gblock, m * LANES, dw, dx, need_x)
        else:
            _u1_grads(p, batch, s, i, b0, valid, s.mblock, m * 8 * LANES, dw, dx, need_x)


# ---------------------------------------------------------------- blocks, compiled only when used
# The walks call apply_block / undo_block for a program's fused blocks. A program without
# blocks carries ``blocks`` as a 1-d array (numba_cpu.numba_program), and for that type these
# resolve to nothing at compile time: the block kernels (numba_block_kernels) are compiled only
# for a program that has blocks, not on every first use of the backend (a cold compile of them
# took minutes on a loaded 2-core machine, and fusion is off by default: hqsim.compile.fuse).
def _has_blocks(p):
    return isinstance(p, types.BaseNamedTuple) and p[p.fields.index("blocks")].ndim == 2


def apply_block(p, batch, s, b, b0, re, im):
    """Block b in one pass (jitted callers only; see _apply_block)."""
    raise NotImplementedError("apply_block runs only inside jitted code")


def undo_block(p, batch, s, b, b0, valid, re, im, lre, lim, dw, dx, need_x):
    """Block b's adjoint step (jitted callers only; see _undo_block)."""
    raise NotImplementedError("undo_block runs only inside jitted code")


@overload(apply_block, inline="always")
def _apply_block_typed(p, batch, s, b, b0, re, im):
    if _has_blocks(p):
        return lambda p, batch, s, b, b0, re, im: _apply_block(p, batch, s, b, b0, re, im)
    return lambda p, batch, s, b, b0, re, im: None


@overload(undo_block, inline="always")
def _undo_block_typed(p, batch, s, b, b0, valid, re, im, lre, lim, dw, dx, need_x):
    if _has_blocks(p):
        return lambda p, batch, s, b, b0, valid, re, im, lre, lim, dw, dx, need_x: _undo_block(
            p, batch, s, b, b0, valid, re, im, lre, lim, dw, dx, need_x)
    return lambda p, batch, s, b, b0, valid, re, im, lre, lim, dw, dx, need_x: None
