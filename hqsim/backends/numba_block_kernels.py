"""A fused block (hqsim/compile/fuse.py; the program's ``blocks`` table) in one pass over one
group's lane-interleaved state (layout: numba_lane_kernels).

A block on k qubits runs tile by tile: a tile is the 2^k rows that differ only in the block's
bits, row ``base + offs[r]`` for local index r. Every member op is applied to the tile while it
sits in L1, so the state moves through the cache once per block instead of once per op; the
arithmetic is the members' own (2x2 per-lane matrices), not a dense 2^k x 2^k matrix, which
would cost 2^k / (2 * members) times more multiply-adds.

A member is given by its kind and a list of local slots (numba_cpu.numba_program builds them):

- PAIRS (U1, CXU1): its 2x2 matrix, at ``c[m * 8L ...]`` in numba_lane_kernels' layout, on the
  2^(k-1) slot pairs ``pairs[pstart[m] : pstart[m] + 2^k]`` (a, b interleaved);
- SIGN (CZ): the 2^(k-2) slots listed are negated;
- MAP (a CXU1 whose matrix is the identity: a bare CNOT): nothing.

A CNOT inside a block moves no data: it changes which slot holds which logical row (the
block's index map), and the slots listed for later members include it. After the last member,
slot ``final[r]`` holds logical row r; unless that is the identity, the tile is put back in
order (``fix``). The adjoint first undoes that, then walks the members backwards.
"""
from __future__ import annotations

import numpy as np
from numba import uint64

from .numba_jit import jit_inline, jit_noalias
from .numba_lane_kernels import LANES, pair, undo_pair_1q, undo_pair_ry
from .numba_lane_kernels import small_index as _small

MEMBER_PAIRS, MEMBER_SIGN, MEMBER_MAP = 0, 1, 2


@jit_inline
def tile_base(t, bits):
    """The t-th tile's row with every block bit 0: t's bits spread around the block's bits
    (``bits`` ascending)."""
    base = t
    for i in range(bits.shape[0]):
        low = base & (bits[i] - 1)
        base = ((base - low) << 1) | low
    return base


@jit_inline
def _row(base, offs, slot):
    return _small(base + offs[slot]) * uint64(LANES)


@jit_inline
def _negate(re, im, r):
    for l0 in range(LANES):
        l = uint64(l0)
        re[r + l] = -re[r + l]
        im[r + l] = -im[r + l]


@jit_inline
def _reorder(re, im, base, offs, src, dst, tr, ti):
    """Rows of the tile: slot dst[r] <- slot src[r] for every r (through tr, ti)."""
    L = uint64(LANES)
    for r in range(offs.shape[0]):
        a, t = _row(base, offs, src[r]), _small(r) * L
        for l0 in range(LANES):
            l = uint64(l0)
            tr[t + l] = re[a + l]
            ti[t + l] = im[a + l]
    for r in range(offs.shape[0]):
        a, t = _row(base, offs, dst[r]), _small(r) * L
        for l0 in range(LANES):
            l = uint64(l0)
            re[a + l] = tr[t + l]
            im[a + l] = ti[t + l]


@jit_noalias
def apply_block(re, im, n, bits, offs, kinds, pstart, pairs, c, real, final, ident, fix, tr, ti):
    """The block's members, in order, on every tile; ``ident`` is 0..2^k-1 (the in-order slots).
    tr, ti: scratch of 2^k * LANES."""
    k = bits.shape[0]
    half = offs.shape[0] >> 1
    L8 = uint64(8 * LANES)
    for t in range(n >> k):
        base = tile_base(t, bits)
        for m in range(kinds.shape[0]):
            ps = pstart[m]
            if kinds[m] == MEMBER_PAIRS:
                co, rl = _small(m) * L8, real[m]
                for q in range(half):
                    j, kk = _row(base, offs, pairs[ps + 2 * q]), _row(base, offs, pairs[ps + 2 * q + 1])
                    pair(re, im, c, co, j, kk, j, kk, rl)
            elif kinds[m] == MEMBER_SIGN:
                for q in range(half >> 1):
                    _negate(re, im, _row(base, offs, pairs[ps + q]))
        if fix:
            _reorder(re, im, base, offs, final, ident, tr, ti)


@jit_noalias
def undo_block(re, im, lre, lim, n, bits, offs, kinds, pstart, pairs, c, real, final, ident, fix, tr, ti,
               macc, gacc):
    """The adjoint of apply_block: psi <- V psi and lam <- V lam through the members
    backwards (V = each member's U^dagger in c), with each member's gradient sums: complex
    members macc[m * 8L ...] += conj(lam) psi (the 2x2 M per lane, numba_lane_kernels), all-RY
    members gacc[m * L ...] += Im <lam|Y|psi> (see undo_ry)."""
    k = bits.shape[0]
    half = offs.shape[0] >> 1
    nm = kinds.shape[0]
    L, L8 = uint64(LANES), uint64(8 * LANES)
    a = np.zeros(nm * 8 * LANES, re.dtype)  # local sums: stores into arguments defeat vectorisation
    g = np.zeros(nm * LANES, re.dtype)
    for t in range(n >> k):
        base = tile_base(t, bits)
        if fix:
            _reorder(re, im, base, offs, ident, final, tr, ti)
            _reorder(lre, lim, base, offs, ident, final, tr, ti)
        for m in range(nm - 1, -1, -1):
            ps = pstart[m]
            co = _small(m) * L8
            if kinds[m] == MEMBER_PAIRS and real[m]:
                for q in range(half):
                    j, kk = _row(base, offs, pairs[ps + 2 * q]), _row(base, offs, pairs[ps + 2 * q + 1])
                    undo_pair_ry(re, im, lre, lim, c, co, g, _small(m) * L, j, kk, j, kk)
            elif kinds[m] == MEMBER_PAIRS:
                for q in range(half):
                    j, kk = _row(base, offs, pairs[ps + 2 * q]), _row(base, offs, pairs[ps + 2 * q + 1])
                    undo_pair_1q(re, im, lre, lim, c, co, a, co, j, kk, j, kk)
            elif kinds[m] == MEMBER_SIGN:
                for q in range(half >> 1):
                    r = _row(base, offs, pairs[ps + q])
                    _negate(re, im, r)
                    _negate(lre, lim, r)
    for i in range(nm * 8 * LANES):
        macc[i] += a[i]
    for i in range(nm * LANES):
        gacc[i] += g[i]
