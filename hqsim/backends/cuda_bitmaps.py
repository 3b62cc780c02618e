"""PERM ops as bit maps: affine maps of the basis-index bits over GF(2), for the CUDA kernels
(and for the Numba backend's observables read through a trailing permutation: numba_cpu).

A PERM op's table (hqsim/program.py) gathers psi'[i] = psi[perm[i]]. Every permutation the
lowering builds is a product of CNOTs and SWAPs, so perm[i] = A i (A a Q x Q matrix over GF(2)),
and with X gates it would be A i ^ c. The kernels evaluate that map instead of reading a 2^Q
table: bit r of the source index is parity(rows[r] & i) ^ (c >> r & 1). So no table is
uploaded, and — what matters on the blocked path — a map whose *moved* bits (rows other than
the identity's, and the bits of c) all lie inside a tile runs inside that tile (a control
outside the tile only fixes a constant for the tile, as for CZ and CXU1), and a map too wide for
one tile is split into factors that each fit one (``split``).

Bit r is 1 << r (qubit q is bit Q-1-q). A map is (rows (Q,) uint32, const); the kernels read
maps as int rows ``(n_maps, 2, Q + 1)`` uint32: forward rows and constant, then the inverse's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class BitMap:
    """src(i) = A i ^ const over GF(2); ``rows[r]`` is the mask of A's row r."""
    rows: tuple[int, ...]
    const: int = 0

    @property
    def num_bits(self) -> int:
        return len(self.rows)

    def moved(self) -> set[int]:
        """Bits whose source differs from the identity's: a tile must hold these to run the map."""
        return {r for r, m in enumerate(self.rows) if m != 1 << r} | {r for r in range(self.num_bits)
                                                                    if self.const >> r & 1}

    def is_identity(self) -> bool:
        return not self.moved()

    def apply(self, idx: np.ndarray) -> np.ndarray:
        """src(i) for an array of indices (NumPy, for tests and table checks)."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.full(idx.shape, self.const, dtype=np.int64)
        for r, m in enumerate(self.rows):
            out ^= (_parity(idx & m) << r)
        return out

    def table(self) -> np.ndarray:
        """src(i) for every i (the PERM table the map stands for), built by doubling: O(2^Q)."""
        out = np.array([self.const], dtype=np.int64)
        for c in range(self.num_bits):
            col = sum(((m >> c) & 1) << r for r, m in enumerate(self.rows))
            out = np.concatenate([out, out ^ col])
        return out

    def then(self, other: "BitMap") -> "BitMap":
        """The map of gathering by ``self`` and then by ``other``: psi''[i] = psi[self(other(i))]."""
        rows = tuple(_row_times(m, other.rows) for m in self.rows)
        return BitMap(rows, self.const ^ _apply_linear(self.rows, other.const))

    def inverse(self) -> "BitMap":
        inv = _inverse_rows(self.rows)
        if inv is None:
            raise ValueError("a PERM map is not invertible")
        return BitMap(inv, _apply_linear(inv, self.const))

    def split(self, first: set[int]) -> tuple["BitMap", "BitMap"] | None:
        """(B1, B2) with B1 then B2 equal to this map, B1 moving only bits in ``first`` and B2 only
        the other moved bits; None when that is impossible this way (the moved bits outside
        ``first`` must form an invertible block of A).

        B2 is A on the rows b = moved - first and the identity elsewhere; B1 = A B2^-1 then is the
        identity outside ``first``: a block LU step over GF(2). The constant: B2 takes c's bits in
        b, B1 the rest (c ^ A1 c2, which is zero outside ``first``)."""
        b = self.moved() - set(first)
        rows2 = tuple(self.rows[r] if r in b else 1 << r for r in range(self.num_bits))
        inv2 = _inverse_rows(rows2)
        if inv2 is None:
            return None
        rows1 = tuple(_row_times(m, inv2) for m in self.rows)
        c2 = self.const & sum(1 << r for r in b)
        b1 = BitMap(rows1, self.const ^ _apply_linear(rows1, c2))
        b2 = BitMap(rows2, c2)
        assert b1.moved() <= set(first) and b2.moved() <= b
        return b1, b2

    def pull_back(self, mask: int) -> tuple[int, int]:
        """(mask', flip) with parity(src(i) & mask) = parity(i & mask') ^ flip for every i: a Z
        string's signs on the gathered state read on the state before the gather (A^T mask)."""
        return _row_times(mask, self.rows), bin(mask & self.const).count("1") & 1

    def device_rows(self) -> np.ndarray:
        """(2, Q + 1) uint32: rows and constant of the map, then of its inverse."""
        inv = self.inverse()
        return np.array([[*self.rows, self.const], [*inv.rows, inv.const]], dtype=np.uint32)


def _parity(v: np.ndarray) -> np.ndarray:
    v = v.copy()
    shift = 32
    while shift:
        v ^= v >> shift
        shift >>= 1
    return v & 1


def _row_times(mask: int, rows) -> int:
    """Row ``mask`` of X times the matrix with rows ``rows``: the XOR of the rows it selects."""
    out, k = 0, 0
    while mask >> k:
        if mask >> k & 1:
            out ^= rows[k]
        k += 1
    return out


def _apply_linear(rows, v: int) -> int:
    return sum(((bin(m & v).count("1") & 1) << r) for r, m in enumerate(rows))


def _inverse_rows(rows) -> tuple[int, ...] | None:
    """Rows of the GF(2) inverse (Gauss-Jordan on [A | I]), or None if A is singular."""
    n = len(rows)
    a, inv = list(rows), [1 << r for r in range(n)]
    for col in range(n):
        pivot = next((r for r in range(col, n) if a[r] >> col & 1), None)
        if pivot is None:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        inv[col], inv[pivot] = inv[pivot], inv[col]
        for r in range(n):
            if r != col and a[r] >> col & 1:
                a[r] ^= a[col]
                inv[r] ^= inv[col]
    return tuple(inv)


def from_table(perm: np.ndarray, num_qubits: int) -> BitMap | None:
    """The bit map of a PERM table, or None if the table is no affine map of the index bits."""
    perm = np.asarray(perm, dtype=np.int64)
    if perm.shape != (1 << num_qubits,):
        raise ValueError(f"a PERM table of {num_qubits} qubits holds {1 << num_qubits} entries, got {perm.shape}")
    const = int(perm[0])
    cols = [int(perm[1 << c]) ^ const for c in range(num_qubits)]
    rows = tuple(sum(((cols[c] >> r) & 1) << c for c in range(num_qubits)) for r in range(num_qubits))
    m = BitMap(rows, const)
    if not np.array_equal(m.table(), perm):
        return None
    return m
