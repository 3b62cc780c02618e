"""Per-sample small matrices of the op program's ops (complex128), and the chain rule from an
op's matrix gradient to its factors' angles. ``p`` is the program as the drivers see it
(numba_cpu.NumbaProgram); these run once per sample and op, never per amplitude.

Chain rule: with U = F_{n-1} ... F_0, dF_k/da = -i/2 G_k F_k and the matrix gradient
M_ab = sum_pairs conj(lambda[a]) psi_in[b] (df = 2 Re sum_ab M_ab dU_ab), the gradient of
factor k's angle is df/da_k = Im tr(C_k M^T A_k G_k) with C_k = F_k ... F_0 and
A_k = F_{n-1} ... F_{k+1}.
"""
from __future__ import annotations

import numpy as np

from ..program import (F_CONST, F_CRX, F_CRY, F_CRZ, F_PHASE, F_RX, F_RXX, F_RY, F_RYY, F_RZ,
                       F_RZZ, INPUT, WEIGHT)
from .numba_jit import jit_borrowing, jit_inline


# ---------------------------------------------------------------- small-matrix helpers
@jit_inline
def angle(p, f, xb, w):
    """Factor f's angle for one sample: scale * value + offset (hqsim/program.py)."""
    src = p.factors[f, 1]
    v = 0.0
    if src == WEIGHT:
        v = w[p.factors[f, 2]]
    elif src == INPUT:
        v = xb[p.factors[f, 2]]
    return p.fcoef[f, 0] * v + p.fcoef[f, 1]


@jit_borrowing
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


@jit_inline
def _axis(code):
    if code == F_RX or code == F_CRX or code == F_RXX:
        return 1
    if code == F_RY or code == F_CRY or code == F_RYY:
        return 2
    return 3


@jit_borrowing
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


@jit_borrowing
def factor_matrix(p, f, xb, w, dim, out, m2):
    """out[:dim,:dim] = factor f's matrix for one sample (complex128)."""
    code = p.factors[f, 0]
    if code == F_CONST:
        off = p.factors[f, 4]
        for a in range(dim):
            for b in range(dim):
                out[a, b] = p.const_mats[off + a * dim + b]
        return
    th = angle(p, f, xb, w)
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
        _copy(m2, out, 2)
    else:
        _embed(m2, p.factors[f, 3], out, code >= F_CRX, False)


@jit_borrowing
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
        _copy(m2, out, 2)
    else:
        _embed(m2, factors[f, 3], out, code >= F_CRX, True)


@jit_borrowing
def _copy(src, dst, dim):
    """dst[:dim, :dim] = src[:dim, :dim] (an array slice assignment needs reference counting)."""
    for a in range(dim):
        for b in range(dim):
            dst[a, b] = src[a, b]


@jit_borrowing
def _matmul(a, b, out, dim):
    for i in range(dim):
        for j in range(dim):
            acc = 0j
            for k in range(dim):
                acc += a[i, k] * b[k, j]
            out[i, j] = acc


@jit_borrowing
def op_matrix(p, i, xb, w, dim, u, fm, tmp, m2):
    """u = F[n-1] ... F[0] for op i (complex128); fm, tmp (4, 4) and m2 (2, 2) scratch."""
    fs, fc = p.ops[i, 3], p.ops[i, 4]
    u[:, :] = 0
    for a in range(dim):
        u[a, a] = 1
    for f in range(fs, fs + fc):
        factor_matrix(p, f, xb, w, dim, fm, m2)
        _matmul(fm, u, tmp, dim)
        _copy(tmp, u, dim)


@jit_borrowing
def _prefix_suffix(p, fs, fc, xb, w, dim, fs_m, cs, as_, m2):
    """fs_m[k] = F_k, cs[k] = C_k = F_k ... F_0 and as_[k] = A_k = F_{n-1} ... F_{k+1}."""
    for k in range(fc):
        factor_matrix(p, fs + k, xb, w, dim, fs_m[k], m2)
        if k == 0:
            _copy(fs_m[0], cs[0], dim)
        else:
            _matmul(fs_m[k], cs[k - 1], cs[k], dim)
    for k in range(fc - 1, -1, -1):
        if k == fc - 1:
            as_[k, :, :] = 0
            for a in range(dim):
                as_[k, a, a] = 1
        else:
            _matmul(as_[k + 1], fs_m[k + 1], as_[k], dim)


@jit_borrowing
def chain_grads(p, i, xb, w, dim, m, s, dw, dxb, need_x):
    """Add the gradients of op i's factors' angles, from its matrix gradient m (dim x dim), to
    dw (weights) and dxb (this sample's inputs; only with need_x). s: the drivers' scratch
    (fs_m, cs, as_, g, tmp, m2)."""
    fs, fc = p.ops[i, 3], p.ops[i, 4]
    _prefix_suffix(p, fs, fc, xb, w, dim, s.fs_m, s.cs, s.as_, s.m2)
    tmp, g = s.tmp, s.g
    for k in range(fc):
        f = fs + k
        src = p.factors[f, 1]
        if src != WEIGHT and not (src == INPUT and need_x):
            continue
        # T = C_k M^T A_k ; grad = Im tr(T G)
        for a in range(dim):
            for b in range(dim):
                acc = 0j
                for c in range(dim):
                    acc += s.cs[k, a, c] * m[b, c]  # (C M^T)[a, b]
                tmp[a, b] = acc
        factor_generator(p.factors, f, dim, g, s.m2)
        tr = 0j
        for a in range(dim):
            for b in range(dim):
                ta = 0j
                for c in range(dim):
                    ta += tmp[a, c] * s.as_[k, c, b]
                tr += ta * g[b, a]
        grad = tr.imag * p.fcoef[f, 0]
        if src == WEIGHT:
            dw[p.factors[f, 2]] += grad
        else:
            dxb[p.factors[f, 2]] += grad
