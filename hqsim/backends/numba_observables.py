"""Diagonal observables (Pauli strings of Z and I only) in one pass over a group's state, for
any number of them: the expectations of the forward and the adjoint's first lambda.

Term t's value on row i is its sign (-1)^popcount(i & S_t). Rows go in blocks of 2^k (k = 4):
split S_t into its low k bits L_t (the row r inside a block) and its high bits H_t (fixed for
a block b), so with p = |psi|^2

    <Z_S_t> = sum_r (-1)^popcount(r & L_t) * sum_b (-1)^popcount(b & H_t) p(b, r)
            = sum_r (-1)^popcount(r & L_t) * (A(r) - 2 A_h(r)),

A(r) = sum over all blocks of p(b, r), A_h(r) = the same over the blocks where b & H_h has odd
parity, for each distinct high mask H_h. The pass adds each block's 2^k x LANES squares into A
and into the A_h of its odd masks (half of them on average: Q - k masks for <Z_q> on every
qubit): a few flat, vectorised adds per row whatever the number of terms, and the signs of
the low bits are applied once at the end. One pass per term, as numba_lane_kernels' general
Pauli loops do, cost 14 passes for W1's 14 <Z_q>. The adjoint's lambda = sum_t g_t c_t P_t psi
is w(i) psi_i with, the same way, w(b, r) = W(r) - 2 sum over b's odd masks of W_h(r), where
W_h(r) = sum over the terms with high mask H_h of g_t c_t (-1)^popcount(r & L_t) and W the sum
over all terms.

Layout and lanes as in numba_lane_kernels. ``plan_diagonal_terms`` (plain NumPy, once per
program) builds the tables.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import uint64

from .numba_jit import jit, jit_noalias
from .numba_lane_kernels import LANES, parity
from .numba_lane_kernels import small_index as _small

# Rows per block: 2^DIAG_BLOCK_BITS (fewer when the state is smaller). A block's squares and
# the accumulators (1 + number of high masks) x 2^k x LANES stay in L1.
DIAG_BLOCK_BITS = 4
# Blocks summed in the state precision before the sums move to float64 (float32 adds 64
# blocks with a relative error ~1e-6 at most; the general loops summed 64 rows).
FLUSH_BLOCKS = 64


@dataclass(frozen=True)
class DiagonalTerms:
    k: int                 # rows per block 2^k
    signs: np.ndarray      # float64 (T, 2^k): term t's (-1)^popcount(r & L_t)
    terms: np.ndarray      # int64 (T, 2): observable, high mask index h (-1: no high bits)
    hmasks: np.ndarray     # int64 (NH,): the distinct non-zero high masks H_h
    coeff: np.ndarray      # float64 (T,)
    others: np.ndarray     # int64 (T', 4): the terms that flip bits (program.terms' layout)
    others_coeff: np.ndarray


def plan_diagonal_terms(terms: np.ndarray, coeff: np.ndarray, num_qubits: int) -> DiagonalTerms:
    """Split a program's terms (hqsim/program.py) into the diagonal ones (flip mask 0) and the
    others, and tabulate the diagonal ones for the one-pass kernels."""
    terms = np.asarray(terms, np.int64).reshape(-1, 4)
    coeff = np.asarray(coeff, np.float64).reshape(-1)
    k = min(DIAG_BLOCK_BITS, max(num_qubits - 1, 0))
    low = (1 << k) - 1
    diag = terms[:, 1] == 0
    hmasks: list[int] = []
    rows, signs = [], []
    r = np.arange(1 << k)
    for obs, _, sign, ny in terms[diag]:
        if ny % 4:  # a term without X or Y has no Y either
            raise ValueError(f"diagonal term with {ny} Y factors")
        high = int(sign) & ~low
        if high and high not in hmasks:
            hmasks.append(high)
        rows.append((int(obs), hmasks.index(high) if high else -1))
        signs.append([1.0 - 2.0 * (bin(int(v) & int(sign) & low).count("1") & 1) for v in r])
    return DiagonalTerms(
        k=k, signs=np.asarray(signs, np.float64).reshape(-1, 1 << k),
        terms=np.asarray(rows, np.int64).reshape(-1, 2), hmasks=np.asarray(hmasks, np.int64),
        coeff=coeff[diag].copy(), others=np.ascontiguousarray(terms[~diag]), others_coeff=coeff[~diag].copy())


@jit
def diagonal_expectations(re, im, k, signs, terms, hmasks, coeff, out, lo, hi):
    """out[l, obs_t] += coeff_t <psi_l| Z_S_t |psi_l> over rows [lo, hi) (multiples of 2^k),
    every diagonal term at once."""
    if terms.shape[0] == 0:
        return
    nbl = (1 << k) * LANES
    slots = hmasks.shape[0] + 1
    acc = np.zeros(slots * nbl, np.float64)
    _diagonal_sums(re, im, k, hmasks, np.empty(nbl, re.dtype), np.zeros(slots * nbl, re.dtype), acc, lo, hi)
    for t in range(terms.shape[0]):
        h = terms[t, 1]
        for r in range(1 << k):
            s = coeff[t] * signs[t, r]
            for l in range(LANES):
                v = acc[r * LANES + l]
                if h >= 0:
                    v -= 2.0 * acc[(1 + h) * nbl + r * LANES + l]
                out[l, terms[t, 0]] += s * v


# The kernels take their scratch as arguments and walk a block's rows as one flat loop: lane
# loops of 16 inside a loop over rows are unrolled by LLVM and then stay scalar (3-8x slower).
@jit_noalias
def _diagonal_sums(re, im, k, hmasks, prob, part, acc, lo, hi):
    """acc[0] += sum over the blocks of [lo, hi) of |psi|^2, acc[1 + h] the same over the blocks
    whose index has odd parity under hmasks[h]; each (2^k x LANES), via part (state precision)."""
    nbl = uint64((1 << k) * LANES)
    n_h = hmasks.shape[0]
    size = uint64(n_h + 1) * nbl
    count = 0
    for blk in range(lo, hi, 1 << k):
        b0 = _small(blk) * uint64(LANES)
        for i0 in range(nbl):
            i = uint64(i0)
            v = re[b0 + i] * re[b0 + i] + im[b0 + i] * im[b0 + i]
            prob[i] = v
            part[i] += v
        for h in range(n_h):
            if parity(blk & hmasks[h]):
                o = _small(1 + h) * nbl
                for i0 in range(nbl):
                    i = uint64(i0)
                    part[o + i] += prob[i]
        count += 1
        if count == FLUSH_BLOCKS or blk + (1 << k) >= hi:
            for i0 in range(size):
                i = uint64(i0)
                acc[i] += part[i]
                part[i] = 0
            count = 0


@jit
def add_diagonal_weighted(re, im, k, signs, terms, hmasks, coeff, g, lre, lim, lo, hi):
    """lam_l += sum_t g[l, obs_t] coeff_t Z_S_t psi_l on rows [lo, hi) (multiples of 2^k), every
    diagonal term at once."""
    if terms.shape[0] == 0:
        return
    nbl = (1 << k) * LANES
    slots = hmasks.shape[0] + 1
    w = np.zeros(slots * nbl, re.dtype)  # w[0] = W, w[1 + h] = 2 W_h
    for t in range(terms.shape[0]):
        h = terms[t, 1]
        for r in range(1 << k):
            for l in range(LANES):
                v = g[l, terms[t, 0]] * coeff[t] * signs[t, r]
                w[r * LANES + l] += v
                if h >= 0:
                    w[(1 + h) * nbl + r * LANES + l] += 2.0 * v
    _add_diagonal(re, im, k, hmasks, w, np.empty(nbl, re.dtype), lre, lim, lo, hi)


@jit_noalias
def _add_diagonal(re, im, k, hmasks, w, wrow, lre, lim, lo, hi):
    nbl = uint64((1 << k) * LANES)
    n_h = hmasks.shape[0]
    for blk in range(lo, hi, 1 << k):
        for i0 in range(nbl):
            wrow[uint64(i0)] = w[uint64(i0)]
        for h in range(n_h):
            if parity(blk & hmasks[h]):
                o = _small(1 + h) * nbl
                for i0 in range(nbl):
                    i = uint64(i0)
                    wrow[i] -= w[o + i]
        b0 = _small(blk) * uint64(LANES)
        for i0 in range(nbl):
            i = uint64(i0)
            lre[b0 + i] += wrow[i] * re[b0 + i]
            lim[b0 + i] += wrow[i] * im[b0 + i]
