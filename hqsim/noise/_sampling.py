"""Kernels that turn final states into Pauli-string estimates: exact or from S shots.

For every output row i (one circuit setting), the probabilities of its ``traj`` trajectory
states are averaged (sampling S shots from that mixture is sampling S shots of the noisy
circuit), readout error is applied to the distribution (flipping bits of a sampled bitstring
independently per shot is the same as sampling the convolved distribution), then either the
exact parities are returned (shots = 0) or S bitstrings are drawn by Walker's alias method and
their parities averaged. Random numbers come from SplitMix64 streams seeded per row, so
results do not depend on how rows are split over threads.

Ctrl-C: a compiled kernel cannot be interrupted (Python handles a signal only between
bytecodes), so when a call would draw more than ``CHUNK_DRAWS`` bitstrings in all, rows and
shots are drawn in pieces of at most that many (~0.1 s), each piece continuing its rows'
SplitMix64 streams and counts: the same estimates as one piece, and a KeyboardInterrupt
between pieces. Shots per call are bounded by ``options.MAX_SHOTS``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

_GOLDEN = 0x9E3779B97F4A7C15

_JIT = dict(cache=True, nogil=True)


@njit(**_JIT)
def _splitmix(s):
    s = s + np.uint64(_GOLDEN)
    z = s
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return s, np.int64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(**_JIT)
def _alias_table(p):
    """Walker's alias table (prob, alias) of distribution ``p`` (sums to 1)."""
    k = p.shape[0]
    prob = p * k
    alias = np.zeros(k, np.int64)
    small = np.empty(k, np.int64)
    large = np.empty(k, np.int64)
    ns = nl = 0
    for j in range(k):
        if prob[j] < 1.0:
            small[ns] = j
            ns += 1
        else:
            large[nl] = j
            nl += 1
    while ns > 0 and nl > 0:
        lo, hi = small[ns - 1], large[nl - 1]
        ns -= 1
        nl -= 1
        alias[lo] = hi
        prob[hi] = prob[hi] + prob[lo] - 1.0
        if prob[hi] < 1.0:
            small[ns] = hi
            ns += 1
        else:
            large[nl] = hi
            nl += 1
    for j in range(nl):
        prob[large[j]] = 1.0
    for j in range(ns):
        prob[small[j]] = 1.0
    return prob, alias


@njit(**_JIT)
def _alias_draws(prob, alias, shots, s, counts):
    """Add ``shots`` draws into ``counts``, continuing SplitMix64 state ``s``; returns the
    state after them (so draws made in pieces equal draws made at once)."""
    k = prob.shape[0]
    for _ in range(shots):
        s, u = _splitmix(s)
        x = u * k
        j = min(int(x), k - 1)
        pick = j if x - j < prob[j] else alias[j]  # branch-free select
        counts[pick] += 1.0
    return s


@njit(**_JIT)
def _apply_readout(p, p01, p10):
    k = p.shape[0]
    for m in range(p01.shape[0]):
        a, b = p01[m], p10[m]
        if a == 0.0 and b == 0.0:
            continue
        bit = 1 << m
        for j in range(k):
            if j & bit == 0:
                x0, x1 = p[j], p[j | bit]
                p[j] = x0 * (1.0 - a) + x1 * b
                p[j | bit] = x0 * a + x1 * (1.0 - b)


@njit(fastmath=True, **_JIT)
def _distribution(states, i, traj, p01, p10):
    """Outcome distribution of setting ``i``: its trajectories' |amplitude|^2 averaged,
    normalised, readout error applied."""
    k = states.shape[1]
    p = np.zeros(k)
    for t in range(traj):
        for j in range(k):
            v = states[i * traj + t, j]
            p[j] += v.real * v.real + v.imag * v.imag
    total = p.sum()
    for j in range(k):
        p[j] /= total
    _apply_readout(p, p01, p10)
    return p


@njit(parallel=True, fastmath=True, **_JIT)
def _estimate_kernel(states, traj, shots, seeds, signs, p01, p10, out):
    n, nt = out.shape
    k = states.shape[1]
    for i in prange(n):
        p = _distribution(states, i, traj, p01, p10)
        if shots > 0:
            w = np.zeros(k)
            prob, alias = _alias_table(p)
            _alias_draws(prob, alias, shots, np.uint64(seeds[i]), w)
            for j in range(k):
                w[j] /= shots
        else:
            w = p
        for t in range(nt):
            acc = 0.0
            for j in range(k):
                acc += w[j] * signs[t, j]
            out[i, t] = acc


@njit(parallel=True, **_JIT)
def _draw_piece(states, traj, p01, p10, first, shots, streams, counts):
    """``shots`` more draws for settings first .. first + len(streams) - 1, continuing
    their ``streams`` (updated) and ``counts`` (rows of the piece)."""
    for r in prange(streams.shape[0]):
        p = _distribution(states, first + r, traj, p01, p10)
        prob, alias = _alias_table(p)
        streams[r] = _alias_draws(prob, alias, shots, streams[r], counts[r])


def sign_table(masks: np.ndarray, dim: int) -> np.ndarray:
    """(n_terms, dim) float64: (-1)^popcount(i & mask) for every basis index i."""
    idx = np.arange(dim, dtype=np.int64)
    parity = np.zeros((len(masks), dim), dtype=np.int64)
    for t, mask in enumerate(masks):
        v = idx & int(mask)
        for shift in (32, 16, 8, 4, 2, 1):
            v ^= v >> shift
        parity[t] = v & 1
    return 1.0 - 2.0 * parity


def estimate_parities(states: np.ndarray, traj: int, shots: int | None, seeds: np.ndarray,
                      masks: np.ndarray, p01: np.ndarray, p10: np.ndarray) -> np.ndarray:
    """Mean parities (n, n_terms) float64 of the ``masks`` bits for n = rows / traj settings.

    states: (n * traj, 2^Q) complex, rows of one setting adjacent, already rotated to the Z
    basis; shots: None (exact) or S; seeds: (n,) uint64, one stream per setting; p01, p10: (Q,)
    readout flip probabilities per bit position (bit m = 1 << m). Nothing is mutated."""
    n = states.shape[0] // traj
    out = np.zeros((n, len(masks)))
    args = (np.ascontiguousarray(states), int(traj), int(shots or 0),
            np.ascontiguousarray(seeds, np.uint64), sign_table(np.asarray(masks), states.shape[1]),
            np.ascontiguousarray(p01, np.float64), np.ascontiguousarray(p10, np.float64), out)
    if (shots or 0) * n <= CHUNK_DRAWS:
        _estimate_kernel(*args)
    else:
        _estimate_in_pieces(*args)
    return out


CHUNK_DRAWS = 1 << 24  # bitstrings per compiled call: ~0.05-0.2 s, so Ctrl-C is seen within a second


def _estimate_in_pieces(states, traj, shots, seeds, signs, p01, p10, out):
    """``_estimate_kernel``'s shot estimates, drawn in pieces of at most CHUNK_DRAWS bitstrings
    (one Python-level step each, so a KeyboardInterrupt gets through between them)."""
    n, k = out.shape[0], states.shape[1]
    rows = max(1, min(n, CHUNK_DRAWS // shots))
    for first in range(0, n, rows):
        streams = seeds[first:first + rows].copy()
        counts = np.zeros((len(streams), k))
        for done in range(0, shots, CHUNK_DRAWS):
            _draw_piece(states, traj, p01, p10, first, min(CHUNK_DRAWS, shots - done), streams, counts)
        out[first:first + rows] = (counts / shots) @ signs.T
