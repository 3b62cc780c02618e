"""Numba loops over one sample's state (separate real/imag arrays of length n = 2^Q).

Qubit q's bit is ``1 << (Q-1-q)`` (qubit 0 most significant). Matrices arrive as real and
imaginary arrays in the state's precision, so the loops stay in that precision.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, fastmath=True)


@njit(**_JIT)
def insert_zero(t, bit):
    """Insert a 0 at bit position ``bit`` (a power of two) into t."""
    low = t & (bit - 1)
    return ((t - low) << 1) | low


@njit(**_JIT)
def apply_1q(re, im, bit, ur, ui):
    """Apply the 2x2 matrix (ur + i ui), row-major (4,), to pairs (i, i|bit)."""
    n = re.shape[0]
    a_r, b_r, c_r, d_r = ur[0], ur[1], ur[2], ur[3]
    a_i, b_i, c_i, d_i = ui[0], ui[1], ui[2], ui[3]
    if bit >= 8:
        for blk in range(0, n, 2 * bit):
            for j in range(blk, blk + bit):
                k = j + bit
                xr, xi, yr, yi = re[j], im[j], re[k], im[k]
                re[j] = a_r * xr - a_i * xi + b_r * yr - b_i * yi
                im[j] = a_r * xi + a_i * xr + b_r * yi + b_i * yr
                re[k] = c_r * xr - c_i * xi + d_r * yr - d_i * yi
                im[k] = c_r * xi + c_i * xr + d_r * yi + d_i * yr
    else:
        for t in range(n >> 1):
            j = insert_zero(t, bit)
            k = j + bit
            xr, xi, yr, yi = re[j], im[j], re[k], im[k]
            re[j] = a_r * xr - a_i * xi + b_r * yr - b_i * yi
            im[j] = a_r * xi + a_i * xr + b_r * yi + b_i * yr
            re[k] = c_r * xr - c_i * xi + d_r * yr - d_i * yi
            im[k] = c_r * xi + c_i * xr + d_r * yi + d_i * yr


@njit(**_JIT)
def undo_1q_with_grad(re, im, lre, lim, bit, ur, ui, m):
    """psi <- U^dagger psi, lam <- U^dagger lam, and m (2x2 complex128) += conj(lam) psi_prev^T,
    with lam taken before and psi after the undo (see numba_kernels' docstring)."""
    n = re.shape[0]
    # U^dagger entries: (a b; c d)^dagger = (a* c*; b* d*)
    a_r, b_r, c_r, d_r = ur[0], ur[2], ur[1], ur[3]
    a_i, b_i, c_i, d_i = -ui[0], -ui[2], -ui[1], -ui[3]
    m00r = m00i = m01r = m01i = m10r = m10i = m11r = m11i = re[0] * 0
    for t in range(n >> 1):
        j = insert_zero(t, bit)
        k = j + bit
        xr, xi, yr, yi = re[j], im[j], re[k], im[k]
        pr = a_r * xr - a_i * xi + b_r * yr - b_i * yi
        pi = a_r * xi + a_i * xr + b_r * yi + b_i * yr
        qr = c_r * xr - c_i * xi + d_r * yr - d_i * yi
        qi = c_r * xi + c_i * xr + d_r * yi + d_i * yr
        re[j], im[j], re[k], im[k] = pr, pi, qr, qi
        lxr, lxi, lyr, lyi = lre[j], lim[j], lre[k], lim[k]
        # conj(l) * p = (lr p r + li pi) + i (lr pi - li pr)
        m00r += lxr * pr + lxi * pi
        m00i += lxr * pi - lxi * pr
        m01r += lxr * qr + lxi * qi
        m01i += lxr * qi - lxi * qr
        m10r += lyr * pr + lyi * pi
        m10i += lyr * pi - lyi * pr
        m11r += lyr * qr + lyi * qi
        m11i += lyr * qi - lyi * qr
        lre[j] = a_r * lxr - a_i * lxi + b_r * lyr - b_i * lyi
        lim[j] = a_r * lxi + a_i * lxr + b_r * lyi + b_i * lyr
        lre[k] = c_r * lxr - c_i * lxi + d_r * lyr - d_i * lyi
        lim[k] = c_r * lxi + c_i * lxr + d_r * lyi + d_i * lyr
    m[0, 0] += m00r + 1j * m00i
    m[0, 1] += m01r + 1j * m01i
    m[1, 0] += m10r + 1j * m10i
    m[1, 1] += m11r + 1j * m11i


@njit(**_JIT)
def apply_2q(re, im, bit0, bit1, ur, ui):
    """Apply a 4x4 matrix (row-major (16,)) in the frame (q0 high, q1 low)."""
    n = re.shape[0]
    lo, hi = min(bit0, bit1), max(bit0, bit1)
    xr = np.empty(4, re.dtype)
    xi = np.empty(4, re.dtype)
    for t in range(n >> 2):
        base = insert_zero(insert_zero(t, lo), hi)
        for a in range(4):
            idx = base + (bit0 if a & 2 else 0) + (bit1 if a & 1 else 0)
            xr[a], xi[a] = re[idx], im[idx]
        for a in range(4):
            sr = re[0] * 0
            si = re[0] * 0
            for b in range(4):
                sr += ur[4 * a + b] * xr[b] - ui[4 * a + b] * xi[b]
                si += ur[4 * a + b] * xi[b] + ui[4 * a + b] * xr[b]
            idx = base + (bit0 if a & 2 else 0) + (bit1 if a & 1 else 0)
            re[idx], im[idx] = sr, si


@njit(**_JIT)
def accumulate_outer_2q(re, im, lre, lim, bit0, bit1, m):
    """m (4x4 complex128) += sum over groups conj(lam_a) psi_b (frame q0 high, q1 low)."""
    n = re.shape[0]
    lo, hi = min(bit0, bit1), max(bit0, bit1)
    for t in range(n >> 2):
        base = insert_zero(insert_zero(t, lo), hi)
        for a in range(4):
            ia = base + (bit0 if a & 2 else 0) + (bit1 if a & 1 else 0)
            la = lre[ia] - 1j * lim[ia]
            for b in range(4):
                ib = base + (bit0 if b & 2 else 0) + (bit1 if b & 1 else 0)
                m[a, b] += la * (re[ib] + 1j * im[ib])


@njit(**_JIT)
def permute(re, im, perm, tre, tim):
    n = re.shape[0]
    for i in range(n):
        p = perm[i]
        tre[i] = re[p]
        tim[i] = im[p]
    re[:] = tre
    im[:] = tim


@njit(**_JIT)
def apply_cz(re, im, bit0, bit1):
    n = re.shape[0]
    both = bit0 | bit1
    for i in range(n):
        if (i & both) == both:
            re[i] = -re[i]
            im[i] = -im[i]


@njit(**_JIT)
def apply_uk(re, im, wires, ws, k, num_qubits, ur, ui, offs, xr, xi):
    """Apply a dense 2^k x 2^k matrix on the qubits wires[ws:ws+k] (first listed = high bit)."""
    n = re.shape[0]
    dim = 1 << k
    for a in range(dim):
        o = 0
        for j in range(k):
            if a & (1 << (k - 1 - j)):
                o += 1 << (num_qubits - 1 - wires[ws + j])
        offs[a] = o
    for t in range(n >> k):
        base = t
        for bpos in range(num_qubits):  # insert zeros at the wire bits, lowest first
            bit = 1 << bpos
            for j in range(k):
                if (1 << (num_qubits - 1 - wires[ws + j])) == bit:
                    base = insert_zero(base, bit)
        for a in range(dim):
            xr[a], xi[a] = re[base + offs[a]], im[base + offs[a]]
        for a in range(dim):
            sr = re[0] * 0
            si = re[0] * 0
            for b in range(dim):
                sr += ur[a * dim + b] * xr[b] - ui[a * dim + b] * xi[b]
                si += ur[a * dim + b] * xi[b] + ui[a * dim + b] * xr[b]
            re[base + offs[a]], im[base + offs[a]] = sr, si


@njit(**_JIT)
def parity(x):
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    x ^= x >> 4
    x ^= x >> 2
    x ^= x >> 1
    return x & 1


@njit(**_JIT)
def pauli_expectations(re, im, terms, coeff, out):
    """out[obs] += coeff <psi|P|psi> for each Pauli term (float64 accumulation)."""
    n = re.shape[0]
    for t in range(terms.shape[0]):
        flip, sign, ny = terms[t, 1], terms[t, 2], terms[t, 3]
        acc_r = 0.0
        acc_i = 0.0
        for i in range(n):
            j = i ^ flip
            # conj(psi[j]) psi[i]
            vr = float(re[j]) * re[i] + float(im[j]) * im[i]
            vi = float(re[j]) * im[i] - float(im[j]) * re[i]
            if parity(i & sign):
                vr, vi = -vr, -vi
            acc_r += vr
            acc_i += vi
        # multiply by i^ny and keep the real part
        val = acc_r if ny == 0 else (-acc_i if ny == 1 else (-acc_r if ny == 2 else acc_i))
        out[terms[t, 0]] += coeff[t] * val


@njit(**_JIT)
def apply_weighted_observable(re, im, terms, coeff, g, lre, lim):
    """lam = sum_t g[obs_t] coeff_t P_t psi."""
    n = re.shape[0]
    lre[:] = 0
    lim[:] = 0
    for t in range(terms.shape[0]):
        c = g[terms[t, 0]] * coeff[t]
        if c == 0.0:
            continue
        flip, sign, ny = terms[t, 1], terms[t, 2], terms[t, 3]
        for i in range(n):
            vr, vi = c * re[i], c * im[i]
            if parity(i & sign):
                vr, vi = -vr, -vi
            if ny == 1:
                vr, vi = -vi, vr
            elif ny == 2:
                vr, vi = -vr, -vi
            elif ny == 3:
                vr, vi = vi, -vr
            lre[i ^ flip] += vr
            lim[i ^ flip] += vi
