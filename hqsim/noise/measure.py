"""Measurement settings for Pauli-string observables, basis rotation, and readout error as an
effective observable.

Grouping: the Pauli strings of all observables are split greedily into qubit-wise commuting
groups (on every shared qubit the same Pauli). One group is one measurement setting: rotate
each measured qubit into the Z basis (X: H; Y: H S^dagger), sample bitstrings, and every
string of the group is the parity of its qubits' bits. All outputs that share a group are
computed from the same bitstrings, so their sampling covariance is the physical one; strings
in different groups come from independent executions (as on hardware).

Readout error with flip probabilities p01 = P(1|0), p10 = P(0|1) turns the reported sign of a
qubit into a + b s (s = the true sign), a = p10 - p01, b = 1 - p01 - p10, so the expectation
of a reported Pauli string P on qubits Q is that of prod_{q in Q} (a I + b P_q): a sum of
Pauli strings that the adjoint can differentiate exactly.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..ir.observables import Observable, PauliString, as_observable

_H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / np.sqrt(2)
_SDG = np.diag([1, -1j]).astype(np.complex128)
TO_Z = {"X": _H, "Y": _H @ _SDG}  # U with U P U^dagger = Z
MAX_READOUT_WEIGHT = 16  # 2^k effective terms for a weight-k string


@dataclass(frozen=True, eq=False)
class MeasurementGroup:
    """One setting: ``basis`` ((qubit, 'X'|'Y'|'Z'), ...); per term: bit ``masks`` (qubit q is bit
    1 << (Q-1-q)), ``obs_index`` and ``coeffs``."""

    basis: tuple[tuple[int, str], ...]
    masks: np.ndarray
    obs_index: np.ndarray
    coeffs: np.ndarray

    @property
    def rotated_qubits(self) -> tuple[tuple[int, str], ...]:
        return tuple((q, p) for q, p in self.basis if p != "Z")


@dataclass(frozen=True, eq=False)
class MeasurementPlan:
    groups: tuple[MeasurementGroup, ...]
    constant: np.ndarray  # (n_obs,) sum of the identity terms' coefficients
    num_observables: int
    num_qubits: int


def _compatible(basis: dict, term: PauliString) -> bool:
    return all(basis.get(q, p) == p for q, p in term.paulis)


def plan_measurements(observables, num_qubits: int) -> MeasurementPlan:
    """Greedy qubit-wise commuting grouping of every observable's Pauli strings."""
    obs = [as_observable(o) for o in observables]
    constant = np.zeros(len(obs))
    bases: list[dict] = []
    members: list[list[tuple[int, PauliString]]] = []
    for k, o in enumerate(obs):
        for t in o.terms:
            if not t.paulis:
                constant[k] += t.coeff
                continue
            for basis, mem in zip(bases, members):
                if _compatible(basis, t):
                    basis.update(t.paulis)
                    mem.append((k, t))
                    break
            else:
                bases.append(dict(t.paulis))
                members.append([(k, t)])
    groups = []
    for basis, mem in zip(bases, members):
        masks = [sum(1 << (num_qubits - 1 - q) for q in t.qubits) for _, t in mem]
        groups.append(MeasurementGroup(tuple(sorted(basis.items())), np.asarray(masks, np.int64),
                                       np.asarray([k for k, _ in mem], np.int64),
                                       np.asarray([t.coeff for _, t in mem], np.float64)))
    return MeasurementPlan(tuple(groups), constant, len(obs), num_qubits)


def rotate_to_z(states: np.ndarray, group: MeasurementGroup, num_qubits: int) -> np.ndarray:
    """A rotated copy of ``states`` (R, 2^Q) so that Z measurements read the group's Paulis
    (the input is returned unchanged, not copied, when every measured Pauli is Z)."""
    rot = group.rotated_qubits
    if not rot:
        return states
    rows = states.shape[0]
    out = np.array(states, copy=True)
    for q, p in rot:
        m = TO_Z[p].astype(out.dtype)
        t = out.reshape(rows, 2 ** q, 2, 2 ** (num_qubits - q - 1))
        a, b = t[:, :, 0, :].copy(), t[:, :, 1, :].copy()
        t[:, :, 0, :] = m[0, 0] * a + m[0, 1] * b
        t[:, :, 1, :] = m[1, 0] * a + m[1, 1] * b
    return out


def effective_observables(observables, readout) -> list[Observable]:
    """Observables whose exact expectation equals the readout-noisy expectation of ``observables``."""
    if readout is None or readout.is_trivial:
        return [as_observable(o) for o in observables]
    a, b = readout.p10 - readout.p01, 1.0 - readout.p01 - readout.p10
    out = []
    for o in observables:
        terms = []
        for t in as_observable(o).terms:
            k = len(t.paulis)
            if k > MAX_READOUT_WEIGHT:
                raise ValueError(f"readout error on a weight-{k} Pauli string expands to 2^{k} terms; "
                                 f"at most weight {MAX_READOUT_WEIGHT} is supported")
            for keep in itertools.product((False, True), repeat=k):
                n_keep = sum(keep)
                c = t.coeff * b ** n_keep * a ** (k - n_keep)
                if c != 0.0 or k == 0:
                    sub = tuple(pq for pq, kept in zip(t.paulis, keep) if kept)
                    terms.append(PauliString(sub, c))
        out.append(Observable(tuple(terms) if terms else (PauliString((), 0.0),)))
    return out
