"""The Numba CPU backend: parallel over the batch, one sample's state in cache at a time.

Forward and adjoint interpret the op program; the adjoint recomputes the forward state and
keeps only psi and lambda per sample (see numba_kernels for the mathematics).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..program import OP_CZ, OP_PERM, OP_U1, OP_U2, OP_UK, OpProgram
from .numba_kernels import INPUT, WEIGHT, factor_generator, factor_matrix, op_matrix
from .numba_state import (accumulate_outer_2q, apply_1q, apply_2q, apply_cz, apply_uk,
                          apply_weighted_observable, pauli_expectations, permute,
                          undo_1q_with_grad)

_JIT = dict(cache=True, nogil=True, fastmath=True)


@njit(**_JIT)
def _split(u, dim, ur, ui, dagger):
    for a in range(dim):
        for b in range(dim):
            v = u[b, a].conjugate() if dagger else u[a, b]
            ur[a * dim + b] = v.real
            ui[a * dim + b] = v.imag


@njit(**_JIT)
def _init_state(re, im, xb, amp_start, amp_size):
    re[:] = 0
    im[:] = 0
    if amp_size == 0:
        re[0] = 1
        return
    nrm = 0.0
    for j in range(amp_size):
        nrm += xb[amp_start + j] * xb[amp_start + j]
    nrm = np.sqrt(nrm)
    for j in range(amp_size):
        re[j] = xb[amp_start + j] / nrm


@njit(**_JIT)
def _apply_op(ops, factors, fcoef, const_mats, perms, wires, nq, i, xb, w, re, im, tre, tim,
              u, fm, tmp, m2, ur, ui, offs, kxr, kxi, dagger):
    kind = ops[i, 0]
    if kind == OP_U1 or kind == OP_U2:
        dim = 2 if kind == OP_U1 else 4
        op_matrix(ops, factors, fcoef, const_mats, i, xb, w, dim, u, fm, tmp, m2)
        _split(u, dim, ur, ui, dagger)
        if kind == OP_U1:
            apply_1q(re, im, 1 << (nq - 1 - ops[i, 1]), ur, ui)
        else:
            apply_2q(re, im, 1 << (nq - 1 - ops[i, 1]), 1 << (nq - 1 - ops[i, 2]), ur, ui)
    elif kind == OP_PERM:
        permute(re, im, perms[ops[i, 3]], tre, tim)
    elif kind == OP_CZ:
        apply_cz(re, im, 1 << (nq - 1 - ops[i, 1]), 1 << (nq - 1 - ops[i, 2]))
    elif kind == OP_UK:
        k = ops[i, 4]
        dim = 1 << k
        off = ops[i, 5]
        for a in range(dim):
            for b in range(dim):
                v = const_mats[off + (b * dim + a if dagger else a * dim + b)]
                if dagger:
                    v = v.conjugate()
                ur[a * dim + b] = v.real
                ui[a * dim + b] = v.imag
        apply_uk(re, im, wires, ops[i, 3], k, nq, ur, ui, offs, kxr, kxi)


@njit(**_JIT)
def _chain_grads(ops, factors, fcoef, const_mats, i, xb, w, dim, m, fs_m, cs, as_, g, tmp, m2,
                 dw, dxb, need_x):
    """Turn the matrix gradient m of op i into gradients of its factors' angles."""
    fs, fc = ops[i, 3], ops[i, 4]
    for k in range(fc):
        factor_matrix(factors, fcoef, const_mats, fs + k, xb, w, dim, fs_m[k], m2)
    # prefix C_k = F_k ... F_0
    for k in range(fc):
        if k == 0:
            cs[0, :dim, :dim] = fs_m[0, :dim, :dim]
        else:
            for a in range(dim):
                for b in range(dim):
                    acc = 0j
                    for c in range(dim):
                        acc += fs_m[k, a, c] * cs[k - 1, c, b]
                    cs[k, a, b] = acc
    # suffix A_k = F_{n-1} ... F_{k+1}
    for k in range(fc - 1, -1, -1):
        if k == fc - 1:
            as_[k, :, :] = 0
            for a in range(dim):
                as_[k, a, a] = 1
        else:
            for a in range(dim):
                for b in range(dim):
                    acc = 0j
                    for c in range(dim):
                        acc += as_[k + 1, a, c] * fs_m[k + 1, c, b]
                    as_[k, a, b] = acc
    for k in range(fc):
        f = fs + k
        src = factors[f, 1]
        if src != WEIGHT and not (src == INPUT and need_x):
            continue
        # T = C_k M^T A_k ; grad = Im tr(T G)
        for a in range(dim):
            for b in range(dim):
                acc = 0j
                for c in range(dim):
                    acc += cs[k, a, c] * m[b, c]  # (C M^T)[a, b]
                tmp[a, b] = acc
        factor_generator(factors, f, dim, g, m2)
        tr = 0j
        for a in range(dim):
            for b in range(dim):
                ta = 0j
                for c in range(dim):
                    ta += tmp[a, c] * as_[k, c, b]
                tr += ta * g[b, a]
        grad = tr.imag * fcoef[f, 0]
        if src == WEIGHT:
            dw[factors[f, 2]] += grad
        else:
            dxb[factors[f, 2]] += grad


@njit(parallel=True, **_JIT)
def forward_batch(ops, factors, fcoef, const_mats, perms, wires, nq, amp_start, amp_size, terms,
                  coeff, x, w, proto, out, states, want_states, nchunks, maxk):
    """out (B, n_obs) float64 expectations; states (B, 2^Q) complex filled if want_states."""
    batch = x.shape[0]
    n = 1 << nq
    kdim = 1 << maxk
    for c in prange(nchunks):
        re = np.empty(n, proto.dtype)
        im = np.empty(n, proto.dtype)
        tre = np.empty(n, proto.dtype)
        tim = np.empty(n, proto.dtype)
        u = np.zeros((4, 4), np.complex128)
        fm = np.zeros((4, 4), np.complex128)
        tmp = np.zeros((4, 4), np.complex128)
        m2 = np.zeros((2, 2), np.complex128)
        ur = np.empty(max(16, kdim * kdim), proto.dtype)
        ui = np.empty(max(16, kdim * kdim), proto.dtype)
        offs = np.empty(kdim, np.int64)
        kxr = np.empty(kdim, proto.dtype)
        kxi = np.empty(kdim, proto.dtype)
        for b in range(c * batch // nchunks, (c + 1) * batch // nchunks):
            xb = x[b]
            _init_state(re, im, xb, amp_start, amp_size)
            for i in range(ops.shape[0]):
                _apply_op(ops, factors, fcoef, const_mats, perms, wires, nq, i, xb, w, re, im,
                          tre, tim, u, fm, tmp, m2, ur, ui, offs, kxr, kxi, False)
            pauli_expectations(re, im, terms, coeff, out[b])
            if want_states:
                for j in range(n):
                    states[b, j] = re[j] + 1j * im[j]


@njit(parallel=True, **_JIT)
def vjp_batch(ops, factors, fcoef, const_mats, perms, inv_perms, wires, nq, amp_start, amp_size,
              terms, coeff, x, w, cot, proto, dw_chunks, dx, need_x, nchunks, maxf, maxk):
    """dw_chunks (nchunks, n_w) partial weight gradients; dx (B, n_in) input gradients."""
    batch = x.shape[0]
    n = 1 << nq
    kdim = 1 << maxk
    for c in prange(nchunks):
        re = np.empty(n, proto.dtype)
        im = np.empty(n, proto.dtype)
        lre = np.empty(n, proto.dtype)
        lim = np.empty(n, proto.dtype)
        tre = np.empty(n, proto.dtype)
        tim = np.empty(n, proto.dtype)
        u = np.zeros((4, 4), np.complex128)
        fm = np.zeros((4, 4), np.complex128)
        tmp = np.zeros((4, 4), np.complex128)
        g = np.zeros((4, 4), np.complex128)
        m = np.zeros((4, 4), np.complex128)
        m2 = np.zeros((2, 2), np.complex128)
        fs_m = np.zeros((maxf, 4, 4), np.complex128)
        cs = np.zeros((maxf, 4, 4), np.complex128)
        as_ = np.zeros((maxf, 4, 4), np.complex128)
        ur = np.empty(max(16, kdim * kdim), proto.dtype)
        ui = np.empty(max(16, kdim * kdim), proto.dtype)
        offs = np.empty(kdim, np.int64)
        kxr = np.empty(kdim, proto.dtype)
        kxi = np.empty(kdim, proto.dtype)
        dw = dw_chunks[c]
        for b in range(c * batch // nchunks, (c + 1) * batch // nchunks):
            xb = x[b]
            dxb = dx[b]
            _init_state(re, im, xb, amp_start, amp_size)
            for i in range(ops.shape[0]):
                _apply_op(ops, factors, fcoef, const_mats, perms, wires, nq, i, xb, w, re, im,
                          tre, tim, u, fm, tmp, m2, ur, ui, offs, kxr, kxi, False)
            apply_weighted_observable(re, im, terms, coeff, cot[b], lre, lim)
            for i in range(ops.shape[0] - 1, -1, -1):
                kind = ops[i, 0]
                if kind == OP_U1:
                    op_matrix(ops, factors, fcoef, const_mats, i, xb, w, 2, u, fm, tmp, m2)
                    _split(u, 2, ur, ui, False)
                    m[:, :] = 0
                    undo_1q_with_grad(re, im, lre, lim, 1 << (nq - 1 - ops[i, 1]), ur, ui, m)
                    _chain_grads(ops, factors, fcoef, const_mats, i, xb, w, 2, m, fs_m, cs, as_,
                                 g, tmp, m2, dw, dxb, need_x)
                elif kind == OP_U2:
                    b0, b1 = 1 << (nq - 1 - ops[i, 1]), 1 << (nq - 1 - ops[i, 2])
                    op_matrix(ops, factors, fcoef, const_mats, i, xb, w, 4, u, fm, tmp, m2)
                    _split(u, 4, ur, ui, True)
                    apply_2q(re, im, b0, b1, ur, ui)
                    m[:, :] = 0
                    accumulate_outer_2q(re, im, lre, lim, b0, b1, m)
                    apply_2q(lre, lim, b0, b1, ur, ui)
                    _chain_grads(ops, factors, fcoef, const_mats, i, xb, w, 4, m, fs_m, cs, as_,
                                 g, tmp, m2, dw, dxb, need_x)
                elif kind == OP_PERM:
                    permute(re, im, inv_perms[ops[i, 3]], tre, tim)
                    permute(lre, lim, inv_perms[ops[i, 3]], tre, tim)
                else:
                    _apply_op(ops, factors, fcoef, const_mats, perms, wires, nq, i, xb, w, re, im,
                              tre, tim, u, fm, tmp, m2, ur, ui, offs, kxr, kxi, True)
                    _apply_op(ops, factors, fcoef, const_mats, perms, wires, nq, i, xb, w, lre, lim,
                              tre, tim, u, fm, tmp, m2, ur, ui, offs, kxr, kxi, True)
            if amp_size > 0 and need_x:
                nrm = 0.0
                for j in range(amp_size):
                    nrm += xb[amp_start + j] * xb[amp_start + j]
                nrm = np.sqrt(nrm)
                proj = 0.0
                for j in range(amp_size):
                    proj += 2.0 * lre[j] * (xb[amp_start + j] / nrm)
                for j in range(amp_size):
                    unit = xb[amp_start + j] / nrm
                    dxb[amp_start + j] += (2.0 * lre[j] - unit * proj) / nrm


def _max_k(program: OpProgram) -> int:
    uk = program.ops[program.ops[:, 0] == OP_UK]
    return int(uk[:, 4].max()) if len(uk) else 1


def _max_factors(program: OpProgram) -> int:
    return max(1, int(program.ops[:, 4].max()) if program.num_ops else 1)


def _chunks(batch: int) -> int:
    return max(1, min(batch, numba.get_num_threads() * 4))


def _proto(real_dtype):
    return np.zeros(0, dtype=real_dtype)


def forward(program: OpProgram, x: np.ndarray, w: np.ndarray, real_dtype=np.float32,
            want_states: bool = False):
    """Expectations (B, n_obs) float64 and, if asked, final states (B, 2^Q) complex."""
    batch = x.shape[0]
    out = np.zeros((batch, program.num_observables), dtype=np.float64)
    cdtype = np.complex64 if real_dtype == np.float32 else np.complex128
    states = np.zeros((batch, 2 ** program.num_qubits) if want_states else (1, 1), dtype=cdtype)
    forward_batch(program.ops, program.factors, program.fcoef, program.const_mats, program.perms,
                  program.wires, program.num_qubits, program.amp_start, program.amp_size,
                  program.terms, program.term_coeff, np.ascontiguousarray(x, np.float64),
                  np.ascontiguousarray(w, np.float64), _proto(real_dtype), out, states,
                  want_states, _chunks(batch), _max_k(program))
    return out, (states if want_states else None)


def vjp(program: OpProgram, x: np.ndarray, w: np.ndarray, cotangent: np.ndarray,
        real_dtype=np.float32, need_inputs: bool = True):
    """(dweights (n_w,), dinputs (B, n_in) or None) of sum(cotangent * expectations)."""
    batch = x.shape[0]
    nchunks = _chunks(batch)
    dw = np.zeros((nchunks, max(1, program.num_weights)), dtype=np.float64)
    dx = np.zeros((batch, max(1, x.shape[1])) if need_inputs else (batch, 1), dtype=np.float64)
    vjp_batch(program.ops, program.factors, program.fcoef, program.const_mats, program.perms,
              program.inv_perms, program.wires, program.num_qubits, program.amp_start,
              program.amp_size, program.terms, program.term_coeff,
              np.ascontiguousarray(x, np.float64), np.ascontiguousarray(w, np.float64),
              np.ascontiguousarray(cotangent, np.float64), _proto(real_dtype), dw, dx, need_inputs,
              nchunks, _max_factors(program), _max_k(program))
    dweights = dw.sum(axis=0)[:program.num_weights]
    return dweights, (dx[:, :x.shape[1]] if need_inputs else None)
