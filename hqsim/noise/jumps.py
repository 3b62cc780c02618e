"""Quantum-jump trajectories for channels that are not mixed-unitary (amplitude damping), in
batched NumPy: all rows (samples x trajectories) advance together, gate by gate.

At a channel with Kraus operators K_i the row's state psi jumps to K_i psi / ||K_i psi|| with
probability ||K_i psi||^2, which unravels the channel exactly (the average of |psi><psi| over
the jumps is sum_i K_i |psi><psi| K_i^dagger). Mixed-unitary channels sample their Pauli word
with fixed probabilities. This engine is forward only: the fast backend cannot stop mid-circuit
to read the state-dependent jump probabilities, and the jump choice is not differentiable.
It runs whenever a noise model holds a non-Pauli channel; Pauli-only models never come here.
"""
from __future__ import annotations

import numpy as np

from ..backends.reference import apply_matrix, initial_states
from ..ir import WEIGHT
from .channels import pauli_word_matrix


def _angle(p, x: np.ndarray, w: np.ndarray):
    if p.is_constant:
        return p.offset
    if p.source == WEIGHT:
        return p.scale * float(w[p.index]) + p.offset
    return p.scale * x[:, p.index] + p.offset


def gate_matrices(g, x: np.ndarray, w: np.ndarray):
    """(d, d) when the gate is the same for every row, else (R, d, d) complex128."""
    if g.name == "Unitary" or g.is_constant:
        return g.unitary(w, x[0])
    angles = [_angle(p, x, w) for p in g.params]
    if all(np.ndim(a) == 0 for a in angles):
        return g.spec.matrix(*angles)
    a = np.broadcast_to(np.asarray(angles[0], dtype=np.float64), (x.shape[0],))
    gen = g.spec.generator
    if len(angles) == 1 and gen is not None:
        proj = gen @ gen
        if np.array_equal(proj @ proj, proj):  # exp(-i a G / 2) with G^2 = P a projector
            eye = np.eye(gen.shape[0])
            c, s = np.cos(a / 2)[:, None, None], np.sin(a / 2)[:, None, None]
            return (eye - proj)[None] + c * proj[None] - 1j * s * gen[None]
        if g.spec.diagonal:  # exp(-i a G / 2) entry by entry (PhaseShift: G = diag(0, -2))
            m = np.zeros((a.size,) + gen.shape, dtype=np.complex128)
            k = np.arange(gen.shape[0])
            m[:, k, k] = np.exp(-0.5j * np.outer(a, np.diag(gen).real))
            return m
    rows = [np.asarray(v if np.ndim(v) else np.full(x.shape[0], v)) for v in angles]
    return np.stack([g.spec.matrix(*vals) for vals in zip(*rows)])


def _pauli_jump(psi, ch, qubits, nq, rng):
    words = ch.pauli_probs()
    probs = np.array([max(0.0, 1.0 - sum(p for _, p in words))] + [p for _, p in words])
    mats = np.stack([np.eye(2 ** ch.num_qubits, dtype=np.complex128)]
                    + [pauli_word_matrix(wd) for wd, _ in words])
    idx = np.searchsorted(np.cumsum(probs), rng.random(psi.shape[0]) * probs.sum(), side="right")
    return apply_matrix(psi, mats[np.minimum(idx, len(probs) - 1)], qubits, nq)


def _kraus_jump(psi, ch, qubits, nq, rng):
    branches = [apply_matrix(psi, k, qubits, nq) for k in ch.kraus()]
    weights = np.stack([np.einsum("bi,bi->b", b.conj(), b).real for b in branches], axis=1)
    cum = np.cumsum(weights, axis=1)
    u = rng.random(psi.shape[0]) * cum[:, -1]
    pick = np.minimum((u[:, None] >= cum).sum(axis=1), len(branches) - 1)
    out = np.stack(branches, axis=0)[pick, np.arange(psi.shape[0])]
    norm = np.sqrt(weights[np.arange(psi.shape[0]), pick])
    return out / np.where(norm > 0, norm, 1.0)[:, None]


def run_jumps(expanded, x: np.ndarray, w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Final states (R, 2^Q) complex128 of one trajectory per row of ``x`` (R, n_cols)."""
    circ = expanded.circuit
    nq = circ.num_qubits
    psi = initial_states(circ, x)
    for step in expanded.steps:
        if step[0] == "gate":
            g = step[1]
            psi = apply_matrix(psi, gate_matrices(g, x, w), g.qubits, nq)
        else:
            _, ch, qubits = step
            psi = (_pauli_jump if ch.is_pauli else _kraus_jump)(psi, ch, qubits, nq, rng)
    return psi
