"""The Numba CPU backend: groups of L samples run lane-interleaved (see numba_lanes), groups
in parallel over the cores; forward and adjoint interpret the op program.

The adjoint recomputes the forward state and keeps only psi and lambda per sample (the
mathematics is in numba_kernels' docstring).
"""
from __future__ import annotations

import weakref

import numpy as np

from .numba_cache import invalidate_stale_cache

invalidate_stale_cache()  # before the Numba modules below load their cached machine code

from numba import njit, prange  # noqa: E402

from ..program import OP_CXU1, OP_CZ, OP_PERM, OP_U1, OP_U2, OP_UK, OpProgram  # noqa: E402
from . import numba_lanes as lanes_ops  # noqa: E402
from .numba_lanes import HAVE_FUSED_UNDO, LANES  # noqa: E402
from .numba_kernels import _angle, _chain_grads, op_matrix  # noqa: E402
from .numba_u1 import (precompute_factors, ry_chain, u1_all_ry, u1_chain,  # noqa: E402
                       u1_depends_on_inputs, u1_matrix)

_JIT = dict(cache=True, nogil=True, fastmath=True)


@njit(**_JIT)
def _lane_sample(b0, l, batch):
    return min(b0 + l, batch - 1)  # padding lanes repeat the last sample


@njit(**_JIT)
def _fill_u1(ops, factors, fcoef, cm, fcache, i, x, w, b0, batch, lanes, dagger, c):
    fs, fc = ops[i, 3], ops[i, 4]
    per_sample = u1_depends_on_inputs(factors, fs, fc)
    a, b, cc, d = 1 + 0j, 0j, 0j, 1 + 0j
    for l in range(lanes):
        if per_sample or l == 0:
            a, b, cc, d = u1_matrix(factors, fcoef, cm, fcache, fs, fc, x[_lane_sample(b0, l, batch)], w)
            if dagger:
                a, b, cc, d = a.conjugate(), cc.conjugate(), b.conjugate(), d.conjugate()
        c[l], c[lanes + l] = a.real, a.imag
        c[2 * lanes + l], c[3 * lanes + l] = b.real, b.imag
        c[4 * lanes + l], c[5 * lanes + l] = cc.real, cc.imag
        c[6 * lanes + l], c[7 * lanes + l] = d.real, d.imag


@njit(**_JIT)
def _fill_ry(ops, factors, fcoef, i, x, w, b0, batch, lanes, dagger, c):
    """c's real parts for an all-RY U1 op: RY(theta) with theta the sum of its factors' angles
    (RY^dagger = RY(-theta)). Imaginary parts are left as they are: the real kernels skip them."""
    fs, fc = ops[i, 3], ops[i, 4]
    per_sample = u1_depends_on_inputs(factors, fs, fc)
    cs, sn = 1.0, 0.0
    for l in range(lanes):
        if per_sample or l == 0:
            xb = x[_lane_sample(b0, l, batch)]
            th = 0.0
            for f in range(fs, fs + fc):
                th += _angle(factors, fcoef, f, xb, w)
            cs, sn = np.cos(0.5 * th), np.sin(0.5 * th)
            if dagger:
                sn = -sn
        c[l], c[2 * lanes + l], c[4 * lanes + l], c[6 * lanes + l] = cs, -sn, sn, cs


@njit(**_JIT)
def _fill_u2(ops, factors, fcoef, cm, i, x, w, b0, batch, lanes, dagger, c, u, fm, tmp, m2):
    for l in range(lanes):
        op_matrix(ops, factors, fcoef, cm, i, x[_lane_sample(b0, l, batch)], w, 4, u, fm, tmp, m2)
        for a in range(4):
            for b in range(4):
                v = u[b, a].conjugate() if dagger else u[a, b]
                e = 4 * a + b
                c[2 * e * lanes + l] = v.real
                c[(2 * e + 1) * lanes + l] = v.imag


@njit(**_JIT)
def _apply_op(ops, factors, fcoef, cm, fcache, perms, wires, nq, i, x, w, b0, batch, lanes, re, im,
              tre, tim, c, u, fm, tmp, m2, ur, ui, offs, dagger):
    n = 1 << nq
    kind = ops[i, 0]
    if kind == OP_U1 or kind == OP_CXU1:
        bit = 1 << (nq - 1 - ops[i, 1])
        real = u1_all_ry(factors, ops[i, 3], ops[i, 4])
        if real:
            _fill_ry(ops, factors, fcoef, i, x, w, b0, batch, lanes, dagger, c)
        else:
            _fill_u1(ops, factors, fcoef, cm, fcache, i, x, w, b0, batch, lanes, dagger, c)
        if kind == OP_U1:
            lanes_ops.apply_1q(re, im, n, bit, c, real)
        else:  # CXU1: the inverse (dagger) is U^dagger, then the CNOT
            lanes_ops.apply_1q_cx(re, im, n, bit, 1 << (nq - 1 - ops[i, 2]), c, dagger, real)
    elif kind == OP_U2:
        _fill_u2(ops, factors, fcoef, cm, i, x, w, b0, batch, lanes, dagger, c, u, fm, tmp, m2)
        lanes_ops.apply_2q(re, im, n, 1 << (nq - 1 - ops[i, 1]), 1 << (nq - 1 - ops[i, 2]),
                           c, tre, tim)
    elif kind == OP_CZ:
        lanes_ops.apply_cz(re, im, n, 1 << (nq - 1 - ops[i, 1]), 1 << (nq - 1 - ops[i, 2]))
    elif kind == OP_UK:
        k = ops[i, 4]
        dim = 1 << k
        off = ops[i, 5]
        for a in range(dim):
            for b in range(dim):
                v = cm[off + b * dim + a].conjugate() if dagger else cm[off + a * dim + b]
                ur[a * dim + b] = v.real
                ui[a * dim + b] = v.imag
        lanes_ops.apply_uk(re, im, n, wires, ops[i, 3], k, nq, ur, ui, offs, tre, tim)


@njit(**_JIT)
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


@njit(**_JIT)
def _init_group(re, im, x, b0, batch, lanes, n, amp_start, amp_size):
    re[:] = 0
    im[:] = 0
    for l in range(lanes):
        xb = x[_lane_sample(b0, l, batch)]
        if amp_size == 0:
            re[l] = 1
            continue
        m, nrm = _amp_scale(xb, amp_start, amp_size)
        for j in range(amp_size):
            re[j * lanes + l] = xb[amp_start + j] / m / nrm


@njit(**_JIT)
def _forward_batch_group(gi, ops, factors, fcoef, cm, fcache, perms, wires, nq, amp_start, amp_size, terms, coeff, x, w,
        proto, out, states, want_states, lanes, maxk):
    batch = x.shape[0]
    n = 1 << nq
    kdim = 1 << maxk
    n_obs = out.shape[1]
    b0 = gi * lanes
    re = np.empty(n * lanes, proto.dtype)
    im = np.empty(n * lanes, proto.dtype)
    sre = np.empty(n * lanes, proto.dtype)  # a permutation writes here, then the two swap
    sim = np.empty(n * lanes, proto.dtype)
    tre = np.empty(max(4, kdim) * lanes, proto.dtype)
    tim = np.empty(max(4, kdim) * lanes, proto.dtype)
    c = np.empty(32 * lanes, proto.dtype)
    u = np.zeros((4, 4), np.complex128)
    fm = np.zeros((4, 4), np.complex128)
    tmp = np.zeros((4, 4), np.complex128)
    m2 = np.zeros((2, 2), np.complex128)
    ur = np.empty(max(16, kdim * kdim), np.float64)
    ui = np.empty(max(16, kdim * kdim), np.float64)
    offs = np.empty(kdim, np.int64)
    _init_group(re, im, x, b0, batch, lanes, n, amp_start, amp_size)
    for i in range(ops.shape[0]):
        if ops[i, 0] == OP_PERM:
            lanes_ops.gather_rows(re, im, n, perms[ops[i, 3]], sre, sim)
            re, sre = sre, re
            im, sim = sim, im
        else:
            _apply_op(ops, factors, fcoef, cm, fcache, perms, wires, nq, i, x, w, b0, batch, lanes, re,
                      im, tre, tim, c, u, fm, tmp, m2, ur, ui, offs, False)
    og = np.zeros((lanes, n_obs), np.float64)
    lanes_ops.pauli_expectations(re, im, n, terms, coeff, og,
                                 np.zeros(lanes, np.float64), np.zeros(lanes, np.float64))
    for l in range(min(lanes, batch - b0)):
        out[b0 + l] = og[l]
        if want_states:
            for j in range(n):
                states[b0 + l, j] = re[j * lanes + l] + 1j * im[j * lanes + l]


@njit(parallel=True, **_JIT)
def forward_batch(ops, factors, fcoef, cm, fcache, perms, wires, nq, amp_start, amp_size, terms, coeff, x, w,
        proto, out, states, want_states, lanes, maxk):
    for gi in prange((x.shape[0] + lanes - 1) // lanes):
        _forward_batch_group(gi, ops, factors, fcoef, cm, fcache, perms, wires, nq, amp_start,
            amp_size, terms, coeff, x, w, proto, out, states, want_states, lanes, maxk)


@njit(**_JIT)
def forward_batch_serial(ops, factors, fcoef, cm, fcache, perms, wires, nq, amp_start, amp_size, terms, coeff, x, w,
        proto, out, states, want_states, lanes, maxk):
    # one group: no parallel region, whose thread wake-ups cost milliseconds on a busy machine
    for gi in range((x.shape[0] + lanes - 1) // lanes):
        _forward_batch_group(gi, ops, factors, fcoef, cm, fcache, perms, wires, nq, amp_start,
            amp_size, terms, coeff, x, w, proto, out, states, want_states, lanes, maxk)


@njit(**_JIT)
def _vjp_batch_group(gi, ops, factors, fcoef, cm, fcache, perms, inv_perms, wires, nq, amp_start, amp_size, terms,
        coeff, x, w, cot, proto, dw_groups, dx, need_x, lanes, maxf, maxk, states,
        have_states):
    batch = x.shape[0]
    n = 1 << nq
    kdim = 1 << maxk
    b0 = gi * lanes
    valid = min(lanes, batch - b0)
    re = np.empty(n * lanes, proto.dtype)
    im = np.empty(n * lanes, proto.dtype)
    lre = np.empty(n * lanes, proto.dtype)
    lim = np.empty(n * lanes, proto.dtype)
    sre = np.empty(n * lanes, proto.dtype)  # a permutation writes here, then the two swap
    sim = np.empty(n * lanes, proto.dtype)
    tre = np.empty(max(4, kdim) * lanes, proto.dtype)
    tim = np.empty(max(4, kdim) * lanes, proto.dtype)
    c = np.empty(32 * lanes, proto.dtype)
    macc = np.empty(32 * lanes, proto.dtype)
    gacc = np.empty(lanes, proto.dtype)
    u = np.zeros((4, 4), np.complex128)
    fm = np.zeros((4, 4), np.complex128)
    tmp = np.zeros((4, 4), np.complex128)
    g = np.zeros((4, 4), np.complex128)
    m = np.zeros((4, 4), np.complex128)
    m2 = np.zeros((2, 2), np.complex128)
    fs_m = np.zeros((maxf, 4, 4), np.complex128)
    cs = np.zeros((maxf, 4, 4), np.complex128)
    as_ = np.zeros((maxf, 4, 4), np.complex128)
    f1 = np.zeros((maxf, 4), np.complex128)
    p1 = np.zeros((maxf, 4), np.complex128)
    ur = np.empty(max(16, kdim * kdim), np.float64)
    ui = np.empty(max(16, kdim * kdim), np.float64)
    offs = np.empty(kdim, np.int64)
    cotg = np.zeros((lanes, cot.shape[1]), np.float64)
    for l in range(valid):
        cotg[l] = cot[b0 + l]  # padding lanes carry a zero cotangent
    dw = dw_groups[gi]
    if have_states:  # the forward pass kept the final states: no recomputation
        for l in range(lanes):
            src = states[_lane_sample(b0, l, batch)]
            for j in range(n):
                re[j * lanes + l] = src[j].real
                im[j * lanes + l] = src[j].imag
    else:
        _init_group(re, im, x, b0, batch, lanes, n, amp_start, amp_size)
        for i in range(ops.shape[0]):
            if ops[i, 0] == OP_PERM:
                lanes_ops.gather_rows(re, im, n, perms[ops[i, 3]], sre, sim)
                re, sre = sre, re
                im, sim = sim, im
            else:
                _apply_op(ops, factors, fcoef, cm, fcache, perms, wires, nq, i, x, w, b0, batch, lanes,
                          re, im, tre, tim, c, u, fm, tmp, m2, ur, ui, offs, False)
    lanes_ops.apply_weighted_observable(re, im, n, terms, coeff, cotg, lre, lim)
    for i in range(ops.shape[0] - 1, -1, -1):
        kind = ops[i, 0]
        if (kind == OP_U1 or kind == OP_CXU1) and u1_all_ry(factors, ops[i, 3], ops[i, 4]):
            _fill_ry(ops, factors, fcoef, i, x, w, b0, batch, lanes, True, c)
            gacc[:] = 0
            cbit = 0 if kind == OP_U1 else 1 << (nq - 1 - ops[i, 2])
            lanes_ops.undo_ry(re, im, lre, lim, n, 1 << (nq - 1 - ops[i, 1]), cbit, c, gacc)
            if u1_depends_on_inputs(factors, ops[i, 3], ops[i, 4]):
                for l in range(valid):
                    ry_chain(factors, fcoef, ops[i, 3], ops[i, 4], gacc[l], dw, dx[b0 + l], need_x)
            else:  # the same factors for every sample: sum the lanes first
                gsum = 0.0
                for l in range(valid):
                    gsum += gacc[l]
                ry_chain(factors, fcoef, ops[i, 3], ops[i, 4], gsum, dw, dx[b0], need_x)
        elif kind == OP_U1 or kind == OP_CXU1:
            _fill_u1(ops, factors, fcoef, cm, fcache, i, x, w, b0, batch, lanes, True, c)
            macc[:8 * lanes] = 0
            cbit = 0 if kind == OP_U1 else 1 << (nq - 1 - ops[i, 2])
            if HAVE_FUSED_UNDO:  # a compile-time constant: one pass over psi and lam
                lanes_ops.undo_1q_fused(re, im, lre, lim, n, 1 << (nq - 1 - ops[i, 1]), cbit, c, macc)
            else:
                lanes_ops.undo_1q_three_pass(re, im, lre, lim, n, 1 << (nq - 1 - ops[i, 1]), cbit, c, macc)
            if u1_depends_on_inputs(factors, ops[i, 3], ops[i, 4]):
                for l in range(valid):
                    m00 = macc[l] + 1j * macc[lanes + l]
                    m01 = macc[2 * lanes + l] + 1j * macc[3 * lanes + l]
                    m10 = macc[4 * lanes + l] + 1j * macc[5 * lanes + l]
                    m11 = macc[6 * lanes + l] + 1j * macc[7 * lanes + l]
                    u1_chain(factors, fcoef, cm, fcache, ops[i, 3], ops[i, 4], x[b0 + l], w,
                             m00, m01, m10, m11, f1, p1, dw, dx[b0 + l], need_x)
            else:  # the same factors for every sample: the chain rule is linear in M, sum first
                m00, m01, m10, m11 = 0j, 0j, 0j, 0j
                for l in range(valid):
                    m00 += macc[l] + 1j * macc[lanes + l]
                    m01 += macc[2 * lanes + l] + 1j * macc[3 * lanes + l]
                    m10 += macc[4 * lanes + l] + 1j * macc[5 * lanes + l]
                    m11 += macc[6 * lanes + l] + 1j * macc[7 * lanes + l]
                u1_chain(factors, fcoef, cm, fcache, ops[i, 3], ops[i, 4], x[b0], w,
                         m00, m01, m10, m11, f1, p1, dw, dx[b0], need_x)
        elif kind == OP_U2:
            b0_, b1_ = 1 << (nq - 1 - ops[i, 1]), 1 << (nq - 1 - ops[i, 2])
            _fill_u2(ops, factors, fcoef, cm, i, x, w, b0, batch, lanes, True, c, u, fm, tmp, m2)
            lanes_ops.apply_2q(re, im, n, b0_, b1_, c, tre, tim)
            macc[:] = 0
            lanes_ops.accumulate_outer_2q(re, im, lre, lim, n, b0_, b1_, macc)
            lanes_ops.apply_2q(lre, lim, n, b0_, b1_, c, tre, tim)
            for l in range(valid):
                for e in range(16):
                    m[e >> 2, e & 3] = macc[(2 * e) * lanes + l] + 1j * macc[(2 * e + 1) * lanes + l]
                _chain_grads(ops, factors, fcoef, cm, i, x[b0 + l], w, 4, m, fs_m, cs, as_, g,
                             tmp, m2, dw, dx[b0 + l], need_x)
        elif kind == OP_PERM:
            lanes_ops.gather_rows(re, im, n, inv_perms[ops[i, 3]], sre, sim)
            re, sre = sre, re
            im, sim = sim, im
            lanes_ops.gather_rows(lre, lim, n, inv_perms[ops[i, 3]], sre, sim)
            lre, sre = sre, lre
            lim, sim = sim, lim
        else:
            _apply_op(ops, factors, fcoef, cm, fcache, perms, wires, nq, i, x, w, b0, batch, lanes, re,
                      im, tre, tim, c, u, fm, tmp, m2, ur, ui, offs, True)
            _apply_op(ops, factors, fcoef, cm, fcache, perms, wires, nq, i, x, w, b0, batch, lanes, lre,
                      lim, tre, tim, c, u, fm, tmp, m2, ur, ui, offs, True)
    if amp_size > 0 and need_x:
        for l in range(valid):
            xb = x[b0 + l]
            m, nrm = _amp_scale(xb, amp_start, amp_size)
            proj = 0.0
            for j in range(amp_size):
                proj += 2.0 * lre[j * lanes + l] * (xb[amp_start + j] / m / nrm)
            full = m * nrm  # |x|; inf only past float64's range, where the gradient is ~0
            for j in range(amp_size):
                unit = xb[amp_start + j] / m / nrm
                dx[b0 + l, amp_start + j] += (2.0 * lre[j * lanes + l] - unit * proj) / full


@njit(parallel=True, **_JIT)
def vjp_batch(ops, factors, fcoef, cm, fcache, perms, inv_perms, wires, nq, amp_start, amp_size, terms,
        coeff, x, w, cot, proto, dw_groups, dx, need_x, lanes, maxf, maxk, states,
        have_states):
    for gi in prange((x.shape[0] + lanes - 1) // lanes):
        _vjp_batch_group(gi, ops, factors, fcoef, cm, fcache, perms, inv_perms, wires, nq,
            amp_start, amp_size, terms, coeff, x, w, cot, proto, dw_groups, dx, need_x,
            lanes, maxf, maxk, states, have_states)


@njit(**_JIT)
def vjp_batch_serial(ops, factors, fcoef, cm, fcache, perms, inv_perms, wires, nq, amp_start, amp_size, terms,
        coeff, x, w, cot, proto, dw_groups, dx, need_x, lanes, maxf, maxk, states,
        have_states):
    # one group: no parallel region, whose thread wake-ups cost milliseconds on a busy machine
    for gi in range((x.shape[0] + lanes - 1) // lanes):
        _vjp_batch_group(gi, ops, factors, fcoef, cm, fcache, perms, inv_perms, wires, nq,
            amp_start, amp_size, terms, coeff, x, w, cot, proto, dw_groups, dx, need_x,
            lanes, maxf, maxk, states, have_states)


_SIZES: "weakref.WeakKeyDictionary[OpProgram, tuple[int, int]]" = weakref.WeakKeyDictionary()


def _scratch_sizes(program: OpProgram) -> tuple[int, int]:
    """(most factors of one op, widest dense op's qubit count): the kernels' scratch sizes,
    computed once per program (a training step calls the backend four times)."""
    sizes = _SIZES.get(program)
    if sizes is None:
        ops = program.ops
        uk = ops[ops[:, 0] == OP_UK]
        sizes = (max(1, int(ops[:, 4].max()) if program.num_ops else 1),
                 int(uk[:, 4].max()) if len(uk) else 1)
        _SIZES[program] = sizes
    return sizes


def _factor_cache(program: OpProgram, w: np.ndarray) -> np.ndarray:
    fcache = np.zeros((max(1, program.factors.shape[0]), 4), dtype=np.complex128)
    precompute_factors(program.factors, program.fcoef, program.const_mats,
                       np.ascontiguousarray(w, np.float64), np.zeros(max(1, program.num_inputs)), fcache)
    return fcache


def forward(program: OpProgram, x: np.ndarray, w: np.ndarray, real_dtype=np.float32,
            want_states: bool = False):
    """Expectations (B, n_obs) float64 and, if asked, final states (B, 2^Q) complex."""
    batch = x.shape[0]
    out = np.zeros((batch, program.num_observables), dtype=np.float64)
    cdtype = np.complex64 if real_dtype == np.float32 else np.complex128
    states = np.zeros((batch, 2 ** program.num_qubits) if want_states else (1, 1), dtype=cdtype)
    fcache = _factor_cache(program, w)
    run = forward_batch if batch > LANES else forward_batch_serial
    run(program.ops, program.factors, program.fcoef, program.const_mats, fcache, program.perms,
                  program.wires, program.num_qubits, program.amp_start, program.amp_size,
                  program.terms, program.term_coeff, np.ascontiguousarray(x, np.float64),
                  np.ascontiguousarray(w, np.float64), np.zeros(0, real_dtype), out, states,
                  want_states, LANES, _scratch_sizes(program)[1])
    return out, (states if want_states else None)


def vjp(program: OpProgram, x: np.ndarray, w: np.ndarray, cotangent: np.ndarray,
        real_dtype=np.float32, need_inputs: bool = True, final_states: np.ndarray | None = None):
    """(dweights (n_w,), dinputs (B, n_in) or None) of sum(cotangent * expectations).

    ``final_states`` (B, 2^Q), if the forward pass kept them, spares recomputing the forward."""
    batch = x.shape[0]
    lanes = LANES
    cdtype = np.complex64 if real_dtype == np.float32 else np.complex128
    if final_states is not None:
        final_states = np.ascontiguousarray(final_states, cdtype)
    groups = (batch + lanes - 1) // lanes
    dw = np.zeros((groups, max(1, program.num_weights)), dtype=np.float64)
    dx = np.zeros((batch, max(1, x.shape[1])), dtype=np.float64)
    fcache = _factor_cache(program, w)
    run = vjp_batch if batch > LANES else vjp_batch_serial
    run(program.ops, program.factors, program.fcoef, program.const_mats, fcache, program.perms,
              program.inv_perms, program.wires, program.num_qubits, program.amp_start,
              program.amp_size, program.terms, program.term_coeff,
              np.ascontiguousarray(x, np.float64), np.ascontiguousarray(w, np.float64),
              np.ascontiguousarray(cotangent, np.float64), np.zeros(0, real_dtype), dw, dx,
              need_inputs, lanes, *_scratch_sizes(program),
              final_states if final_states is not None else np.zeros((1, 1), cdtype),
              final_states is not None)
    dweights = dw.sum(axis=0)[:program.num_weights]
    return dweights, (dx[:, :x.shape[1]] if need_inputs else None)
