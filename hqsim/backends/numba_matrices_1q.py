"""Scalar fast paths for fused single-qubit ops (U1, CXU1: the most common ops): the 2x2
matrix of a product of factors, and the chain rules to the factors' angles, from the matrix
gradient M (u1_chain: the members of fused blocks; numba_matrices' docstring) or from the
three Pauli sums of an op's output states (pauli_weights, u1_pauli_chain: every other U1 / CXU1
op, the product prefix's too; numba_lane_kernels.undo_1q). Pure complex128 scalars, no arrays:
these run once per sample (or once per group) per op. ``p`` is the program as the drivers see
it (numba_cpu.NumbaProgram)."""
from __future__ import annotations

import numpy as np

from ..program import F_CONST, F_PHASE, F_RX, F_RY, F_RZ, INPUT, WEIGHT
from .numba_jit import jit, jit_borrowing, jit_inline
from .numba_matrices import angle



@jit_inline
def factor_1q(p, f, xb, w):
    """Factor f's 2x2 matrix (a, b, c, d), row-major, for one sample."""
    code = p.factors[f, 0]
    if code == F_CONST:
        off = p.factors[f, 4]
        cm = p.const_mats
        return cm[off], cm[off + 1], cm[off + 2], cm[off + 3]
    th = angle(p, f, xb, w)
    if code == F_PHASE:
        return 1 + 0j, 0j, 0j, np.cos(th) + 1j * np.sin(th)
    c, s = np.cos(0.5 * th), np.sin(0.5 * th)
    if code == F_RX:
        return c + 0j, -1j * s, -1j * s, c + 0j
    if code == F_RY:
        return c + 0j, -s + 0j, s + 0j, c + 0j
    return c - 1j * s, 0j, 0j, c + 1j * s  # F_RZ


@jit
def precompute_factors(p, w, x0, fcache):
    """fcache[f] = the 2x2 matrix of every single-qubit factor that does not depend on the
    inputs (the same for the whole batch): computed once per call, not once per sample."""
    for f in range(p.factors.shape[0]):
        if p.factors[f, 0] <= F_PHASE and p.factors[f, 1] != INPUT:
            a, b, c, d = factor_1q(p, f, x0, w)
            fcache[f, 0], fcache[f, 1], fcache[f, 2], fcache[f, 3] = a, b, c, d


@jit_inline
def cached_factor_1q(p, fcache, f, xb, w):
    if p.factors[f, 1] != INPUT:
        return fcache[f, 0], fcache[f, 1], fcache[f, 2], fcache[f, 3]
    return factor_1q(p, f, xb, w)


@jit_inline
def generator_1q(code):
    if code == F_RX:
        return 0j, 1 + 0j, 1 + 0j, 0j
    if code == F_RY:
        return 0j, -1j, 1j, 0j
    if code == F_RZ:
        return 1 + 0j, 0j, 0j, -1 + 0j
    return 0j, 0j, 0j, -2 + 0j  # F_PHASE: dP/da = i |1><1| P = -i/2 diag(0, -2) P


@jit_inline
def u1_matrix(p, fcache, fs, fc, xb, w):
    """The 2x2 product of factors fs .. fs+fc-1 for one sample."""
    a, b, c, d = 1 + 0j, 0j, 0j, 1 + 0j
    for f in range(fs, fs + fc):
        e0, e1, e2, e3 = cached_factor_1q(p, fcache, f, xb, w)
        a, b, c, d = e0 * a + e1 * c, e0 * b + e1 * d, e2 * a + e3 * c, e2 * b + e3 * d
    return a, b, c, d


@jit_inline
def u1_depends_on_inputs(factors, fs, fc):
    for f in range(fs, fs + fc):
        if factors[f, 1] == INPUT:
            return True
    return False


@jit_borrowing
def u1_chain(p, fcache, fs, fc, xb, w, m00, m01, m10, m11, fm, pre, dw, dxb, need_x):
    """grad_k = Im tr(C_k M^T A_k G_k) for every parametric factor k of a U1 op.

    fm, pre: scratch complex128 arrays of shape (>= fc, 4)."""
    for k in range(fc):
        e0, e1, e2, e3 = cached_factor_1q(p, fcache, fs + k, xb, w)
        fm[k, 0], fm[k, 1], fm[k, 2], fm[k, 3] = e0, e1, e2, e3
        if k == 0:
            pre[0, 0], pre[0, 1], pre[0, 2], pre[0, 3] = e0, e1, e2, e3
        else:
            a, b, c, d = pre[k - 1, 0], pre[k - 1, 1], pre[k - 1, 2], pre[k - 1, 3]
            pre[k, 0], pre[k, 1] = e0 * a + e1 * c, e0 * b + e1 * d
            pre[k, 2], pre[k, 3] = e2 * a + e3 * c, e2 * b + e3 * d
    # walk k downwards carrying the suffix A_k = F_{n-1} ... F_{k+1}
    a0, a1, a2, a3 = 1 + 0j, 0j, 0j, 1 + 0j
    for k in range(fc - 1, -1, -1):
        f = fs + k
        src = p.factors[f, 1]
        if src == WEIGHT or (src == INPUT and need_x):
            c0, c1, c2, c3 = pre[k, 0], pre[k, 1], pre[k, 2], pre[k, 3]
            # T = C M^T A
            t0 = c0 * m00 + c1 * m01
            t1 = c0 * m10 + c1 * m11
            t2 = c2 * m00 + c3 * m01
            t3 = c2 * m10 + c3 * m11
            u0, u1 = t0 * a0 + t1 * a2, t0 * a1 + t1 * a3
            u2, u3 = t2 * a0 + t3 * a2, t2 * a1 + t3 * a3
            g0, g1, g2, g3 = generator_1q(p.factors[f, 0])
            tr = u0 * g0 + u1 * g2 + u2 * g1 + u3 * g3
            grad = tr.imag * p.fcoef[f, 0]
            if src == WEIGHT:
                dw[p.factors[f, 2]] += grad
            else:
                dxb[p.factors[f, 2]] += grad
        e0, e1, e2, e3 = fm[k, 0], fm[k, 1], fm[k, 2], fm[k, 3]
        a0, a1, a2, a3 = a0 * e0 + a1 * e2, a0 * e1 + a1 * e3, a2 * e0 + a3 * e2, a2 * e1 + a3 * e3


@jit_inline
def pauli_weights(a0, a1, a2, a3, code):
    """((H00 - H11)/2, Re H10, Im H10) of H = A G A^dagger, G the generator of a factor of type
    ``code`` and A = (a0, a1; a2, a3) the product of the factors after it: the weights of an
    op's three Pauli sums (numba_lane_kernels.PAULI_SUMS) in that factor's dL/dtheta."""
    g0, g1, g2, g3 = generator_1q(code)
    b0, b1 = a0 * g0 + a1 * g2, a0 * g1 + a1 * g3
    b2, b3 = a2 * g0 + a3 * g2, a2 * g1 + a3 * g3
    h00 = b0 * a0.conjugate() + b1 * a1.conjugate()
    h11 = b2 * a2.conjugate() + b3 * a3.conjugate()
    h10 = b2 * a0.conjugate() + b3 * a1.conjugate()
    return 0.5 * (h00.real - h11.real), h10.real, h10.imag


@jit_inline
def pauli_contract(hz, hr, hi, tz, gx, gy):
    """Im <lam|H|psi> from H's weights (pauli_weights) and the three Pauli sums."""
    return hz * tz + hr * gx + hi * gy


@jit_borrowing
def u1_pauli_chain(p, fcache, fs, k_hi, k_lo, xb, w, a0, a1, a2, a3, tz, gx, gy, dw, dxb, need_x):
    """The angle gradients of factors k_hi down to k_lo of the U1 op whose factors start at fs,
    for one sample (or for lane-summed sums, when no factor in the range reads the inputs) with
    Pauli sums (tz, gx, gy), (a0 .. a3) the product of the factors after k_hi:
    dL/dtheta_k = Im <lam|H_k|psi> (pauli_weights, pauli_contract) times fcoef. Returns the
    product of the factors after k_lo - 1, i.e. (a0 .. a3) times factors k_hi .. k_lo."""
    for k in range(k_hi, k_lo - 1, -1):
        f = fs + k
        src = p.factors[f, 1]
        if src == WEIGHT or (src == INPUT and need_x):
            hz, hr, hi = pauli_weights(a0, a1, a2, a3, p.factors[f, 0])
            grad = pauli_contract(hz, hr, hi, tz, gx, gy) * p.fcoef[f, 0]
            if src == WEIGHT:
                dw[p.factors[f, 2]] += grad
            else:
                dxb[p.factors[f, 2]] += grad
        e0, e1, e2, e3 = cached_factor_1q(p, fcache, f, xb, w)
        a0, a1, a2, a3 = a0 * e0 + a1 * e2, a0 * e1 + a1 * e3, a2 * e0 + a3 * e2, a2 * e1 + a3 * e3
    return a0, a1, a2, a3


@jit_inline
def u1_all_ry(factors, fs, fc):
    """Every factor of the U1 op is an RY: its matrix is real and Y generates every angle."""
    for f in range(fs, fs + fc):
        if factors[f, 0] != F_RY:
            return False
    return True


@jit_borrowing
def ry_chain(p, fs, fc, g, dw, dxb, need_x):
    """The chain rule of an all-RY op: its matrix is RY(sum of the factors' angles), so every
    angle gets the same dL/dtheta = g, and theta_f = fcoef[f, 0] * value + fcoef[f, 1]."""
    for f in range(fs, fs + fc):
        src = p.factors[f, 1]
        if src == WEIGHT:
            dw[p.factors[f, 2]] += g * p.fcoef[f, 0]
        elif src == INPUT and need_x:
            dxb[p.factors[f, 2]] += g * p.fcoef[f, 0]
