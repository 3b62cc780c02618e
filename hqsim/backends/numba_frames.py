"""Frames: the Numba backend never moves amplitudes for CNOT / SWAP runs.

Every PERM op of the program comes from CNOT and SWAP gates, so it is a linear map over
GF(2) on basis indices. Instead of permuting, the backend keeps the state in a *frame* F:
the stored array phi holds phi[p] = psi[F p] (F linear, invertible; F = I at the start). A
PERM (psi'[i] = psi[P i]) only updates F <- P^-1 F. An op on logical qubit q then acts on
the pairs (p, p ^ v) with v = F^-1 e_q, and p holds logical bit q = parity(r & p) with
r = row q of F; observables transform as flip -> F^-1 flip, sign -> F^T sign; the final
state is read back through F^-1. Frames are static per op, so the adjoint uses them too.

``frame_program`` turns an OpProgram into (ops without PERM, per-op masks, observable
terms, read-back table); programs with k-qubit UK ops or a non-linear PERM keep explicit
PERM ops and the identity frame.
"""
from __future__ import annotations

import weakref

import numpy as np

from ..program import OP_CZ, OP_PERM, OP_U1, OP_U2, OP_UK, OpProgram

_CACHE: "weakref.WeakKeyDictionary[OpProgram, tuple]" = weakref.WeakKeyDictionary()
# per-op masks: v0, r0, pivot0, v1, r1, pivot1 (pivots are bit values for insert_zero)
FRAME_FIELDS = 6


def _apply(cols, x):
    out = 0
    b = 0
    while x:
        if x & 1:
            out ^= cols[b]
        x >>= 1
        b += 1
    return out


def _linear_columns(perm, nq):
    """Columns of the GF(2) matrix of ``perm`` (i -> perm[i]) or None if it is not linear."""
    if perm[0] != 0:
        return None
    cols = [int(perm[1 << b]) for b in range(nq)]
    idx = np.arange(perm.size, dtype=np.int64)
    img = np.zeros_like(idx)
    for b in range(nq):
        img ^= np.where((idx >> b) & 1, cols[b], 0)
    return cols if np.array_equal(img, perm.astype(np.int64)) else None


def _row(cols, bit):
    """Mask r with parity(r & p) = bit ``bit`` of F p."""
    return sum(((c >> bit) & 1) << b for b, c in enumerate(cols))


def _highest(v):
    return 1 << (int(v).bit_length() - 1)


def _masks(cols, inv_cols, q, nq):
    e = 1 << (nq - 1 - q)
    return _apply(inv_cols, e), _row(cols, nq - 1 - q)


def frame_program(program: OpProgram):
    """(ops int32, frames int64 (n_ops, 6), terms int64, readback int64 (2^Q,) or empty)."""
    if program in _CACHE:
        return _CACHE[program]
    nq = program.num_qubits
    ident = [1 << b for b in range(nq)]
    use_frames = not np.any(program.ops[:, 0] == OP_UK)
    linear = []
    if use_frames:
        for row in program.perms:
            cols = _linear_columns(row, nq)
            if cols is None:
                use_frames = False
                break
            linear.append(cols)
    cols, inv_cols = list(ident), list(ident)
    ops, frames = [], []
    for op in program.ops:
        kind = int(op[0])
        if kind == OP_PERM and use_frames:
            p_cols = linear[int(op[3])]
            p_inv = _inverse_cols(p_cols, nq)
            cols = [_apply(p_inv, c) for c in cols]            # F <- P^-1 F
            inv_cols = [_apply(inv_cols, c) for c in p_cols]   # F^-1 <- F^-1 P
            continue
        f = [0] * FRAME_FIELDS
        if kind in (OP_U1, OP_U2, OP_CZ):
            v0, r0 = _masks(cols, inv_cols, int(op[1]), nq)
            f[0:3] = [v0, r0, _highest(v0)]
        if kind in (OP_U2, OP_CZ):
            v1, r1 = _masks(cols, inv_cols, int(op[2]), nq)
            v1p = v1 ^ v0 if v1 & f[2] else v1
            f[3:6] = [v1, r1, _highest(v1p)]
        ops.append(op)
        frames.append(f)
    terms = program.terms.copy()
    for t in terms:
        t[1] = _apply(inv_cols, int(t[1]))
        t[2] = sum((bin(int(t[2]) & c).count("1") & 1) << b for b, c in enumerate(cols))
    if cols == ident:
        readback = np.zeros(0, dtype=np.int64)
    else:
        idx = np.arange(2 ** nq, dtype=np.int64)
        readback = np.zeros_like(idx)
        for b in range(nq):
            readback ^= np.where((idx >> b) & 1, inv_cols[b], 0)
    out = (np.asarray(ops, dtype=np.int32).reshape(-1, program.ops.shape[1]),
           np.asarray(frames, dtype=np.int64).reshape(-1, FRAME_FIELDS), terms, readback)
    _CACHE[program] = out
    return out


def _inverse_cols(cols, nq):
    """Columns of the inverse of the GF(2) matrix with columns ``cols`` (Gauss-Jordan)."""
    rows = [(_row(cols, i), 1 << i) for i in range(nq)]  # augmented [F | I] as row masks
    for c in range(nq):
        piv = next(i for i in range(c, nq) if (rows[i][0] >> c) & 1)
        rows[c], rows[piv] = rows[piv], rows[c]
        for i in range(nq):
            if i != c and (rows[i][0] >> c) & 1:
                rows[i] = (rows[i][0] ^ rows[c][0], rows[i][1] ^ rows[c][1])
    inv_rows = [r[1] for r in rows]  # row i of F^-1
    return [sum(((inv_rows[i] >> b) & 1) << i for i in range(nq)) for b in range(nq)]
