"""Diagonal observables (Pauli strings of Z and I only) in one pass over a group's state, for
any number of them: the expectations of the forward and the adjoint's first lambda.

Term t's value on row i is its sign (-1)^popcount(i & S_t). Rows go in blocks of 2^k: split
S_t into its low k bits (inside a block) and the rest (fixed for a block), so

    <Z_S_t> = sum over blocks b of s_t(b) * inner[u_t](b),
    inner[u](b) = sum over the block's rows r of (-1)^popcount(r & m_u) |psi_(b, r)|^2,

with m_u the distinct low masks of the terms (k + 1 of them for <Z_q> on every qubit). A pass
costs a handful of multiply-adds per row whatever the number of terms; one pass per term, as
numba_lane_kernels' general Pauli loops do, cost 14 passes for W1's 14 <Z_q> (at Q = 14 the
observables took a tenth of a forward). The adjoint's lambda = sum_t g_t c_t P_t psi is
w(i) psi_i with w(i) = sum_u (-1)^popcount(r & m_u) coef[u](b), coef[u](b) = the sum over
the terms with low mask u of g_t c_t s_t(b).

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

# Rows per block: 2^DIAG_BLOCK_BITS (fewer when the state is smaller). The block's squared
# amplitudes (or lambda weights) sit in a 2^k x LANES scratch in L1; 16 rows keep the inner
# sums short (k + 1 of them for single-qubit Z) and the per-block work per term small.
DIAG_BLOCK_BITS = 4


@dataclass(frozen=True)
class DiagonalTerms:
    k: int                 # rows per block 2^k
    signs: np.ndarray      # float64 (U, 2^k): (-1)^popcount(r & m_u)
    terms: np.ndarray      # int64 (T, 3): observable, u (its low mask's row of signs), high mask
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
    masks: list[int] = []
    rows = []
    for obs, _, sign, ny in terms[diag]:
        if ny % 4:  # a term without X or Y has no Y either
            raise ValueError(f"diagonal term with {ny} Y factors")
        m = int(sign) & low
        if m not in masks:
            masks.append(m)
        rows.append((int(obs), masks.index(m), int(sign) & ~low))
    r = np.arange(1 << k)
    signs = np.array([[1.0 - 2.0 * (bin(int(v) & m).count("1") & 1) for v in r] for m in masks or [0]])
    return DiagonalTerms(
        k=k, signs=signs.reshape(-1, 1 << k),
        terms=np.asarray(rows, np.int64).reshape(-1, 3), coeff=coeff[diag].copy(),
        others=np.ascontiguousarray(terms[~diag]), others_coeff=coeff[~diag].copy())


@jit
def diagonal_expectations(re, im, k, signs, terms, coeff, out, lo, hi):
    """out[l, obs_t] += coeff_t <psi_l| Z_S_t |psi_l> over rows [lo, hi) (multiples of 2^k),
    every diagonal term at once; sums in the state precision per block, float64 across."""
    acc = np.zeros(terms.shape[0] * LANES, np.float64)
    _diagonal_sums(re, im, k, signs.astype(re.dtype), terms, np.empty((1 << k) * LANES, re.dtype),
                   np.empty(signs.shape[0] * LANES, re.dtype), acc, lo, hi)
    for t in range(terms.shape[0]):
        for l in range(LANES):
            out[l, terms[t, 0]] += coeff[t] * acc[t * LANES + l]


# The kernels take their scratch as arguments: declared non-aliasing (jit_noalias) they
# vectorise; allocated inside, LLVM must check each short lane loop for overlap (45 vs 5 ns/row).
@jit_noalias
def _diagonal_sums(re, im, k, sg, terms, prob, inner, acc, lo, hi):
    """acc[t, l] += the sum over rows [lo, hi) of sign_t |psi_l|^2."""
    L = uint64(LANES)
    nb = 1 << k
    n_u, n_t = sg.shape[0], terms.shape[0]
    dt = re.dtype.type
    for blk in range(lo, hi, nb):
        b0 = _small(blk) * L  # the block's rows are contiguous: one flat loop (per-row lane
        for i0 in range(nb * LANES):  # loops this short are unrolled and then stay scalar, 3x slower)
            i = uint64(i0)
            prob[i] = re[b0 + i] * re[b0 + i] + im[b0 + i] * im[b0 + i]
        for u in range(n_u):
            uo = _small(u) * L
            for l0 in range(LANES):
                inner[uo + uint64(l0)] = dt(0)
            for r in range(nb):
                s = sg[u, r]
                po = _small(r) * L
                for l0 in range(LANES):
                    l = uint64(l0)
                    inner[uo + l] += s * prob[po + l]
        for t in range(n_t):
            s = 1.0 - 2.0 * parity(blk & terms[t, 2])
            uo = _small(terms[t, 1]) * L
            to = _small(t) * L
            for l0 in range(LANES):
                l = uint64(l0)
                acc[to + l] += s * inner[uo + l]


@jit
def add_diagonal_weighted(re, im, k, signs, terms, coeff, g, lre, lim, lo, hi):
    """lam_l += sum_t g[l, obs_t] coeff_t Z_S_t psi_l on rows [lo, hi) (multiples of 2^k), every
    diagonal term at once: per row one weight per lane, w = sum_u sign_u(r) coef[u]."""
    gt = np.empty(terms.shape[0] * LANES, re.dtype)
    for t in range(terms.shape[0]):
        for l in range(LANES):
            gt[t * LANES + l] = g[l, terms[t, 0]] * coeff[t]
    _add_diagonal(re, im, k, signs.astype(re.dtype), terms, gt, np.empty(signs.shape[0] * LANES, re.dtype),
                  np.empty((1 << k) * LANES, re.dtype), lre, lim, lo, hi)


@jit_noalias
def _add_diagonal(re, im, k, sg, terms, gt, coef, wrow, lre, lim, lo, hi):
    L = uint64(LANES)
    nb = 1 << k
    n_u, n_t = sg.shape[0], terms.shape[0]
    dt = re.dtype.type
    for blk in range(lo, hi, nb):
        coef[:] = 0
        for t in range(n_t):
            s = dt(1.0 - 2.0 * parity(blk & terms[t, 2]))
            uo = _small(terms[t, 1]) * L
            to = _small(t) * L
            for l0 in range(LANES):
                l = uint64(l0)
                coef[uo + l] += s * gt[to + l]
        wrow[:] = 0
        for u in range(n_u):
            uo = _small(u) * L
            for r in range(nb):
                s = sg[u, r]
                wo = _small(r) * L
                for l0 in range(LANES):
                    l = uint64(l0)
                    wrow[wo + l] += s * coef[uo + l]
        b0 = _small(blk) * L
        for i0 in range(nb * LANES):
            i = uint64(i0)
            lre[b0 + i] += wrow[i] * re[b0 + i]
            lim[b0 + i] += wrow[i] * im[b0 + i]
