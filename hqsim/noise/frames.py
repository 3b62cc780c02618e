"""Pauli frames: sampled Pauli errors carried forward through the circuit and applied only where
they stop commuting, as few input-controlled rotations as possible.

Every noise site (one Pauli channel after one gate) samples one outcome per trajectory row. Its
Pauli P is not applied where it strikes; it is *pending* and moves forward with the circuit:

- through the two-qubit Cliffords (CNOT / SWAP / CZ) it is conjugated, which only permutes
  and XORs its x / z bits (CNOT(c -> t): x_t ^= x_c, z_c ^= z_t; CZ(a, b): z_a ^= x_b,
  z_b ^= x_a; SWAP: exchange; the map is read off the gate's matrix); through the Pauli gates
  X, Y, Z it passes unchanged (they commute up to a sign);
- before any other gate, only the part on that gate's qubits that does not commute with it is
  applied ("flushed"). A gate that commutes with one axis A per qubit (its GateSpec's
  ``axes``: RY: Y; RX, SX: X; RZ, PhaseShift, S, T: Z; RXX / RYY / RZZ: their axis on both
  qubits; CRX / CRY / CRZ: Z on the control, the rotation's axis on the target) commutes with
  A, so the pending Pauli on qubit q
  is split as A^a B^b (B an axis anticommuting with A) and only B^b is applied, as ONE
  rotation R_B(pi b) on an input column b in {0, 1}; A^a stays pending. Other gates (H, U2
  constants, k-qubit unitaries) flush both parts: RZ(pi z) then RX(pi x);
- at the end of the circuit, the part that commutes with what is measured on each qubit
  (e.g. Z errors before a Z-basis measurement) is dropped, and so is everything pending on
  qubits no observable reads.

Every flushed column is a GF(2)-linear function of the sites' sampled outcomes (the maps above
are linear in the bits), so a FrameTable holds, per site and outcome, the XOR contribution of
that outcome to every column; sampling draws the outcomes and XORs the contributions of the
rows' non-identity outcomes. Rows stay unitary circuits equal to the uncarried trajectories up
to a global phase, so expectations, shots and per-row adjoint gradients are unchanged; the
lowered program keeps its op structure (a flushed rotation joins the fused single-qubit run of
its qubit) and a ring of CNOT + RY costs one input factor per RY instead of up to five.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..ir.gates import GATES, PAULI

_BITS = {"I": (0, 0), "X": (1, 0), "Y": (1, 1), "Z": (0, 1)}


@lru_cache(maxsize=None)
def carried_through(name: str) -> bool:
    """A pending Pauli moves through this gate instead of being flushed before it: the Pauli
    gates (they commute with every Pauli up to a sign) and the two-qubit Cliffords
    (conjugation maps a Pauli to a Pauli: only its bits change). One-qubit Cliffords are
    flushed like any gate with a commuting axis: one rotation either way."""
    spec = GATES.get(name)
    return spec is not None and (spec.is_pauli or (spec.clifford and spec.num_qubits == 2))


def commuting_axes(name: str) -> str | None:
    """Per qubit, the Pauli axis the gate commutes with at every angle (GateSpec.axes); None:
    flush both parts."""
    spec = GATES.get(name)
    return None if spec is None else spec.axes


@lru_cache(maxsize=None)
def _conjugation(name: str) -> np.ndarray:
    """(4, 4) uint8 over GF(2): column j is the image under U P U^dagger of the j-th of
    X_0, Z_0, X_1, Z_1 of a two-qubit Clifford, as bits (x_0, z_0, x_1, z_1); signs dropped."""
    u = GATES[name].matrix()
    out = np.zeros((4, 4), dtype=np.uint8)
    for j, (q, letter) in enumerate(((0, "X"), (0, "Z"), (1, "X"), (1, "Z"))):
        p = np.kron(PAULI[letter], PAULI["I"]) if q == 0 else np.kron(PAULI["I"], PAULI[letter])
        image = u @ p @ u.conj().T
        out[:, j] = _word_bits(image)
    return out


def _word_bits(m: np.ndarray) -> tuple[int, int, int, int]:
    for a, b in itertools.product("IXYZ", repeat=2):
        w = np.kron(PAULI[a], PAULI[b])
        k = np.vdot(w, m) / 4   # m = k w with |k| = 1 when m is that word up to a phase
        if abs(abs(k) - 1) < 1e-9 and np.allclose(m, k * w, atol=1e-9):
            return (*_BITS[a], *_BITS[b])
    raise ValueError("not a Clifford: a Pauli's image is not a Pauli word")


@dataclass(frozen=True, eq=False)
class FrameTable:
    """Sampling data of an expanded circuit's noise columns [column, column + num_columns).

    cums: per site, cumulative outcome probabilities (outcome 0 = no error); offsets: per site,
    its first row in ``table``; table: (total outcomes, num_columns) uint8, the XOR contribution
    of each (site, outcome) to every column."""

    column: int
    cums: tuple
    offsets: np.ndarray
    table: np.ndarray

    @property
    def num_columns(self) -> int:
        return int(self.table.shape[1])

    @property
    def num_sites(self) -> int:
        return len(self.cums)

    def __bool__(self) -> bool:
        return self.num_columns > 0


def _outcomes(channel):
    words = channel.pauli_probs()
    probs = np.array([max(0.0, 1.0 - sum(p for _, p in words))] + [p for _, p in words])
    return np.cumsum(probs), ["I" * channel.num_qubits] + [w for w, _ in words]


class FrameBuilder:
    """Pending Pauli errors of all sites: ``add`` a site, ``propagate`` through a Clifford-run
    gate, ``flush`` a qubit before a gate (returns the frame gates to insert), ``finish`` at the
    end. Rows of ``bits`` are (site, outcome) pairs; ``bits[r, 0 | 1, q]`` = x | z on qubit q."""

    def __init__(self, num_qubits: int, first_column: int):
        self.nq = num_qubits
        self.first = first_column
        self.cums: list[np.ndarray] = []
        self.offsets: list[int] = []
        self._blocks: list[np.ndarray] = []
        self._bits = np.zeros((0, 2, num_qubits), dtype=np.uint8)
        self.columns: list[np.ndarray] = []   # per column: values over the rows existing then

    @property
    def bits(self) -> np.ndarray:
        if self._blocks:
            self._bits = np.concatenate([self._bits, *self._blocks])
            self._blocks = []
        return self._bits

    @property
    def num_rows(self) -> int:
        return self._bits.shape[0] + sum(b.shape[0] for b in self._blocks)

    def add(self, channel, qubits) -> int:
        """A new site: ``channel`` on ``qubits``; returns its index."""
        cum, words = _outcomes(channel)
        block = np.zeros((len(words), 2, self.nq), dtype=np.uint8)
        for i, w in enumerate(words):
            for q, letter in zip(qubits, w):
                block[i, :, q] = _BITS[letter]
        self.offsets.append(self.num_rows)
        self.cums.append(cum)
        self._blocks.append(block)
        return len(self.cums) - 1

    def site_bits(self, site: int) -> np.ndarray:
        """(n_outcomes, 2, Q): the site's pending Pauli per outcome (x row 0, z row 1)."""
        start = self.offsets[site]
        return self.bits[start:start + len(self.cums[site])]

    def propagate(self, gate) -> None:
        """Conjugate every pending Pauli by a gate ``carried_through`` (a Pauli: no change; a
        two-qubit Clifford: its bits map linearly, e.g. CNOT(c -> t): x_t ^= x_c, z_c ^= z_t)."""
        if not carried_through(gate.name):
            raise ValueError(f"cannot propagate a Pauli frame through {gate.name}")
        bits = self.bits
        if GATES[gate.name].is_pauli or not bits.shape[0]:
            return
        a, b = gate.qubits
        old = (bits[:, 0, a].copy(), bits[:, 1, a].copy(), bits[:, 0, b].copy(), bits[:, 1, b].copy())
        m = _conjugation(gate.name)
        for row, (r, q) in enumerate(((0, a), (1, a), (0, b), (1, b))):
            new = np.zeros_like(old[0])
            for j in np.flatnonzero(m[row]):
                new ^= old[j]
            bits[:, r, q] = new

    def _column(self, values: np.ndarray) -> int | None:
        if not values.any():
            return None
        self.columns.append(values.astype(np.uint8))
        return self.first + len(self.columns) - 1

    def flush(self, qubit: int, axis: str | None) -> list[tuple[str, int]]:
        """Apply, before a gate, the part of the pending Pauli on ``qubit`` that does not commute
        with rotations about ``axis`` ("X", "Y", "Z"; None: everything). Returns the frame
        gates as (rotation name, input column) in application order; each is R(pi * column)."""
        bits = self.bits
        if not bits.shape[0]:
            return []
        x, z = bits[:, 0, qubit], bits[:, 1, qubit]
        out = []
        if axis == "Y":   # P = Y^z X^(x^z): apply X^(x^z), keep Y^z
            c = self._column(x ^ z)
            x[:] = z
            return [("RX", c)] if c is not None else []
        if axis == "Z":   # P = Z^z X^x: apply X^x, keep Z^z
            c = self._column(x.copy())
            x[:] = 0
            return [("RX", c)] if c is not None else []
        if axis == "X":   # P = X^x Z^z: apply Z^z, keep X^x
            c = self._column(z.copy())
            z[:] = 0
            return [("RZ", c)] if c is not None else []
        cz, cx = self._column(z.copy()), self._column(x.copy())
        x[:] = 0
        z[:] = 0
        if cz is not None:
            out.append(("RZ", cz))
        if cx is not None:
            out.append(("RX", cx))
        return out

    def finish(self, measured_axes: dict) -> list[tuple[int, str, int]]:
        """End of the circuit: flush what each measured qubit's observables can see
        (``measured_axes[q]``: "X" / "Y" / "Z" when every observable term reads q in that basis,
        None when they mix bases); drop the rest. Returns (qubit, rotation, column) triples."""
        out = []
        for q in sorted(measured_axes):
            out += [(q, name, col) for name, col in self.flush(q, measured_axes[q])]
        return out

    def table(self) -> FrameTable | None:
        if not self.cums:
            return None
        rows = self.num_rows
        tab = np.zeros((rows, len(self.columns)), dtype=np.uint8)
        for j, col in enumerate(self.columns):
            tab[:col.shape[0], j] = col
        return FrameTable(self.first, tuple(self.cums), np.asarray(self.offsets, dtype=np.int64), tab)


def sample_frames(frames: FrameTable, rows: int, rng: np.random.Generator, out: np.ndarray) -> None:
    """Fill the noise columns of ``out`` (rows, n_cols): per row, one outcome per site and the
    XOR of the non-identity outcomes' contributions."""
    n_sites = frames.num_sites
    u = rng.random((rows, n_sites))
    idx = np.zeros((rows, n_sites), dtype=np.int64)
    groups: dict = {}
    for s, cum in enumerate(frames.cums):
        groups.setdefault(cum.tobytes(), (cum, []))[1].append(s)
    for cum, sites in groups.values():
        sel = np.asarray(sites)
        idx[:, sel] = np.minimum(np.searchsorted(cum, u[:, sel] * cum[-1], side="right"), len(cum) - 1)
    r, s = np.nonzero(idx)
    acc = np.zeros((rows, frames.num_columns), dtype=np.uint8)
    if r.size:
        np.bitwise_xor.at(acc, r, frames.table[frames.offsets[s] + idx[r, s]])
    out[:, frames.column:frames.column + frames.num_columns] = acc
