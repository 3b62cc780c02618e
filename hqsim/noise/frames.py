"""Pauli frames: sampled Pauli errors pushed through runs of Clifford permutation gates.

A Pauli error P that strikes after gate k of a run of CNOT / SWAP / CZ gates equals, up to a
global phase, the error C P C^dagger after the whole run (C = the rest of the run), and
conjugating a Pauli by these gates only permutes and XORs its x / z bits:

    CNOT(c -> t): x_t ^= x_c, z_c ^= z_t;   CZ(a, b): z_a ^= x_b, z_b ^= x_a;   SWAP: exchange.

So all errors of a run collapse into one frame per row: the XOR of every site's sampled and
propagated bits, applied once after the run as RZ(pi z_q) RX(pi x_q) on the touched qubits.
This keeps a CNOT ring one basis permutation in the lowered program (errors between its CNOTs
would otherwise split it into one pass per CNOT). Sites after any other gate form a frame of
their own at once. Rows stay unitary circuits equal to the unpropagated ones up to a phase,
so expectations, shots and per-row adjoint gradients are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLIFFORD_RUN = ("CNOT", "SWAP", "CZ")
_BITS = {"I": (0, 0), "X": (1, 0), "Y": (1, 1), "Z": (0, 1)}


@dataclass(frozen=True, eq=False)
class PauliFrame:
    """One frame: ``qubits`` (qubit i uses columns column + 2i for x, column + 2i + 1 for z) and
    its ``members``: (cumulative outcome probabilities (n_out,), bits (n_out, 2 len(qubits)))
    per noise site, outcome 0 = no error."""

    qubits: tuple[int, ...]
    column: int
    members: tuple


def _outcomes(channel):
    words = channel.pauli_probs()
    probs = np.array([max(0.0, 1.0 - sum(p for _, p in words))] + [p for _, p in words])
    return np.cumsum(probs), ["I" * channel.num_qubits] + [w for w, _ in words]


class FrameBuilder:
    """Collects the sites of a Clifford run (``add``), propagates them through each further gate
    of the run (``propagate``) and turns them into one PauliFrame (``flush``)."""

    def __init__(self, num_qubits: int):
        self.nq = num_qubits
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []  # (cum probs, bits (n_out, 2, Q))

    def add(self, channel, qubits) -> None:
        cum, words = _outcomes(channel)
        bits = np.zeros((len(words), 2, self.nq), dtype=np.uint8)
        for i, w in enumerate(words):
            for q, letter in zip(qubits, w):
                bits[i, :, q] = _BITS[letter]
        self.pending.append((cum, bits))

    def propagate(self, gate) -> None:
        a, b = gate.qubits
        for _, bits in self.pending:
            x, z = bits[:, 0], bits[:, 1]
            if gate.name == "CNOT":
                x[:, b] ^= x[:, a]
                z[:, a] ^= z[:, b]
            elif gate.name == "CZ":
                z[:, a] ^= x[:, b]
                z[:, b] ^= x[:, a]
            else:  # SWAP
                x[:, [a, b]] = x[:, [b, a]]
                z[:, [a, b]] = z[:, [b, a]]

    def flush(self, column: int) -> PauliFrame | None:
        if not self.pending:
            return None
        touched = sorted({int(q) for _, bits in self.pending for q in np.flatnonzero(bits.any(axis=(0, 1)))})
        members = []
        for cum, bits in self.pending:
            sel = bits[:, :, touched]                       # (n_out, 2, n)
            members.append((cum, np.ascontiguousarray(sel.transpose(0, 2, 1).reshape(len(cum), -1))))
        self.pending = []
        return PauliFrame(tuple(touched), column, tuple(members)) if touched else None


def sample_frames(frames, rows: int, rng: np.random.Generator, out: np.ndarray) -> None:
    """Fill the frame columns of ``out`` (rows, n_cols) with each row's x / z bits: per frame the
    XOR over its members of one sampled outcome each."""
    for f in frames:
        acc = np.zeros((rows, 2 * len(f.qubits)), dtype=np.uint8)
        for cum, bits in f.members:
            idx = np.searchsorted(cum, rng.random(rows) * cum[-1], side="right")
            acc ^= bits[np.minimum(idx, len(cum) - 1)]
        out[:, f.column:f.column + acc.shape[1]] = acc
