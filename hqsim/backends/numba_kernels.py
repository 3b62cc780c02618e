"""Numba CPU kernels interpreting the op program (hqsim/program.py), forward and adjoint.

States are kept per sample as separate real and imaginary arrays (structure of arrays: the
gate loops then vectorise), in the caller's precision (float32 for complex64, float64 for
complex128). Per-sample gate matrices are built on the fly from the angles (complex128 small
matrix arithmetic), never materialised for the batch.

Adjoint, for one sample, with f = sum_k g_k <psi_n| O_k |psi_n> and O_g = sum_k g_k O_k:
lambda_n = O_g psi_n; walking the ops backwards, for op i with (per-sample) matrix U,
psi_{i-1} = U^dagger psi_i and lambda_{i-1} = U^dagger lambda_i, while
M_ab = sum_pairs conj(lambda_i[a]) psi_{i-1}[b] gives df = 2 Re sum_ab M_ab dU_ab. With
U = F_{n-1} ... F_0 and dF_k/da = -i/2 G_k F_k this is df/da_k = Im tr(C_k M^T A_k G_k),
C_k = F_k ... F_0, A_k = F_{n-1} ... F_{k+1}. Only psi and lambda are stored: O(1) states.
For an amplitude-encoded start psi_0 = x / |x|, df/dpsi_0 = 2 Re lambda_0, projected through
the normalisation.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..program import (F_CONST, F_CRX, F_CRY, F_CRZ, F_PHASE, F_RX, F_RXX, F_RY, F_RYY, F_RZ,
                       F_RZZ, INPUT, OP_CZ, OP_PERM, OP_U1, OP_U2, OP_UK, WEIGHT)

_JIT = dict(cache=True, nogil=True, fastmath=True)


# ---------------------------------------------------------------- small-matrix helpers
@njit(**_JIT)
def _angle(factors, fcoef, f, xb, w):
    src = factors[f, 1]
    v = 0.0
    if src == WEIGHT:
        v = w[factors[f, 2]]
    elif src == INPUT:
        v = xb[factors[f, 2]]
    return fcoef[f, 0] * v + fcoef[f, 1]


@njit(**_JIT)
def _pauli(p, out):
    """Fill out[:2,:2] with Pauli X (1), Y (2) or Z (3)."""
    out[:2, :2] = 0
    if p == 1:
        out[0, 1] = 1
        out[1, 0] = 1
    elif p == 2:
        out[0, 1] = -1j
        out[1, 0] = 1j
    else:
        out[0, 0] = 1
        out[1, 1] = -1


@njit(**_JIT)
def _axis(code):
    if code == F_RX or code == F_CRX or code == F_RXX:
        return 1
    if code == F_RY or code == F_CRY or code == F_RYY:
        return 2
    return 3


@njit(**_JIT)
def _embed(m2, wire, out, controlled, generator):
    """Embed a 2x2 block into out (4x4, frame q0 high / q1 low)."""
    out[:, :] = 0
    if controlled:
        # control bit = q0 (wire 2) or q1 (wire 3); |0> block: identity (matrix) or 0 (generator)
        for c in range(2):
            for t in range(2):
                for u in range(2):
                    v = m2[t, u] if c == 1 else (0.0 if generator else (1.0 if t == u else 0.0))
                    if wire == 2:
                        out[2 * c + t, 2 * c + u] = v
                    else:
                        out[2 * t + c, 2 * u + c] = v
    else:
        for a in range(2):
            for b in range(2):
                for t in range(2):
                    if wire == 0:
                        out[2 * a + t, 2 * b + t] = m2[a, b]
                    else:
                        out[2 * t + a, 2 * t + b] = m2[a, b]


@njit(**_JIT)
def factor_matrix(factors, fcoef, const_mats, f, xb, w, dim, out, m2):
    """out[:dim,:dim] = the factor's matrix for one sample (complex128)."""
    code = factors[f, 0]
    if code == F_CONST:
        off = factors[f, 4]
        for a in range(dim):
            for b in range(dim):
                out[a, b] = const_mats[off + a * dim + b]
        return
    th = _angle(factors, fcoef, f, xb, w)
    c, s = np.cos(th / 2), np.sin(th / 2)
    if code == F_RXX or code == F_RYY or code == F_RZZ:
        _pauli(_axis(code), m2)
        for a in range(4):
            for b in range(4):
                pp = m2[a >> 1, b >> 1] * m2[a & 1, b & 1]
                out[a, b] = (c if a == b else 0.0) - 1j * s * pp
        return
    if code == F_PHASE:
        m2[0, 0] = 1
        m2[0, 1] = 0
        m2[1, 0] = 0
        m2[1, 1] = np.cos(th) + 1j * np.sin(th)
    else:
        _pauli(_axis(code), m2)
        for a in range(2):
            for b in range(2):
                m2[a, b] = (c if a == b else 0.0) - 1j * s * m2[a, b]
    if dim == 2:
        out[:2, :2] = m2[:2, :2]
    else:
        _embed(m2, factors[f, 3], out, code >= F_CRX, False)


@njit(**_JIT)
def factor_generator(factors, f, dim, out, m2):
    """out[:dim,:dim] = G with dF/da = -i/2 G F (zero for constant factors)."""
    code = factors[f, 0]
    out[:, :] = 0
    if code == F_CONST:
        return
    if code == F_RXX or code == F_RYY or code == F_RZZ:
        _pauli(_axis(code), m2)
        for a in range(4):
            for b in range(4):
                out[a, b] = m2[a >> 1, b >> 1] * m2[a & 1, b & 1]
        return
    if code == F_PHASE:
        m2[:, :] = 0
        m2[1, 1] = -2
    else:
        _pauli(_axis(code), m2)
    if dim == 2:
        out[:2, :2] = m2[:2, :2]
    else:
        _embed(m2, factors[f, 3], out, code >= F_CRX, True)


@njit(**_JIT)
def _matmul(a, b, out, dim):
    for i in range(dim):
        for j in range(dim):
            acc = 0j
            for k in range(dim):
                acc += a[i, k] * b[k, j]
            out[i, j] = acc


@njit(**_JIT)
def op_matrix(ops, factors, fcoef, const_mats, i, xb, w, dim, u, fm, tmp, m2):
    """u = F[n-1] ... F[0] for op i (complex128)."""
    fs, fc = ops[i, 3], ops[i, 4]
    u[:, :] = 0
    for a in range(dim):
        u[a, a] = 1
    for f in range(fs, fs + fc):
        factor_matrix(factors, fcoef, const_mats, f, xb, w, dim, fm, m2)
        _matmul(fm, u, tmp, dim)
        u[:dim, :dim] = tmp[:dim, :dim]


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
