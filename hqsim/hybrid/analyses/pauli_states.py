"""Quantum constant propagation: what a gate does to qubits in known Pauli eigenstates.

- ``fold_gate``: quantum constant propagation. Each qubit is tracked as one of the six Pauli
  eigenstates (``"0"``, ``"1"``, ``"+"``, ``"-"``, ``"+i"``, ``"-i"``) or unknown (``None``);
  a known qubit is in a product state with the rest, so a gate that maps it to itself up to a
  phase is a global phase and can be dropped. Controlled gates with a control known ``|0>``
  vanish, with a control known ``|1>`` lose that control; a constant two-qubit gate that acts as
  ``|s><s| (x) V`` on a known qubit becomes ``V`` on the other qubit (e.g. CNOT with target
  ``|->`` is Z on the control).

Merging rotations and dropping identities or cancelling pairs is hqsim.compile's fold pass,
which hqsim/hybrid/passes/fold.py runs on each block.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...ir.gate_matrices import proportional
from ...ir.gates import rotation_axis
from ..gateset import GATESET, gate_matrix
from ..ir import Const, GateOp

_S = 1 / np.sqrt(2)
STATES = {
    "0": np.array([1, 0], dtype=np.complex128), "1": np.array([0, 1], dtype=np.complex128),
    "+": np.array([_S, _S], dtype=np.complex128), "-": np.array([_S, -_S], dtype=np.complex128),
    "+i": np.array([_S, 1j * _S], dtype=np.complex128), "-i": np.array([_S, -1j * _S], dtype=np.complex128),
}
STATE_AXIS = {"0": "Z", "1": "Z", "+": "X", "-": "X", "+i": "Y", "-i": "Y"}
_NAMED_1Q = ("I", "X", "Y", "Z", "H", "S", "Sdg", "T", "Tdg")


@dataclass(frozen=True)
class GateFold:
    """What to do with a gate: keep it, drop it, or replace it by ``replacement`` gates; and
    the Pauli states of the gate's qubits afterwards (aligned with ``GateOp.qubits``)."""

    action: str  # "keep" | "remove" | "replace"
    states: tuple
    replacement: tuple[GateOp, ...] = ()


def constant_angles(params) -> tuple[float, ...] | None:
    if all(isinstance(p, Const) for p in params):
        return tuple(float(p.value) for p in params)
    return None


def pauli_state_of(vec: np.ndarray) -> str | None:
    for name, s in STATES.items():
        if proportional(vec, s):
            return name
    return None


# -- quantum constant propagation ----------------------------------------------------------
def fold_gate(gate: GateOp, states: tuple) -> GateFold:
    """Fold one gate given the Pauli states of its qubits (``None`` = unknown)."""
    if any(s is not None for s in states):
        out = _drop_controls(gate, states)
        if out is not None:
            return out
    angles = constant_angles(gate.params)
    if len(gate.qubits) == 1:
        return _fold_1q(gate, states[0], angles)
    if angles is not None and len(gate.qubits) == 2:
        out = _factor_2q(gate, states, angles)
        if out is not None:
            return out
    return GateFold("keep", _states_after(gate, states, angles))


def _fold_1q(gate: GateOp, state, angles) -> GateFold:
    if state is None:
        return GateFold("keep", (None,))
    if angles is None:
        if rotation_axis(gate.name) == STATE_AXIS[state]:
            return GateFold("remove", (state,))
        return GateFold("keep", (None,))
    new = pauli_state_of(gate_matrix(gate.name, angles) @ STATES[state])
    return GateFold("remove" if new == state else "keep", (new,))


def _drop_controls(gate: GateOp, states) -> GateFold | None:
    spec = GATESET.get(gate.name)
    if spec is None or spec.control_of is None:
        return None
    n_ctrl, base = spec.control_of
    controls = list(range(n_ctrl))
    if spec.symmetric and states[0] is None and states[1] is not None:
        gate, states = GateOp(gate.name, gate.qubits[::-1], gate.params), states[::-1]
        flipped = True
    else:
        flipped = False
    ctrl_states = [states[i] for i in controls]
    if "0" in ctrl_states:
        return GateFold("remove", tuple(states[::-1] if flipped else states))
    ones = [i for i in controls if states[i] == "1"]
    if not ones:
        return None
    keep_ctrl = [gate.qubits[i] for i in controls if i not in ones]
    targets = gate.qubits[n_ctrl:]
    if keep_ctrl:  # CCNOT with one control known |1>
        new_gate = GateOp("CNOT", (keep_ctrl[0],) + targets, gate.params)
    else:
        new_gate = GateOp(base, targets, gate.params)
    inner = fold_gate(new_gate, tuple(states[gate.qubits.index(q)] for q in new_gate.qubits))
    after = {q: states[i] for i, q in enumerate(gate.qubits)}
    after.update(zip(new_gate.qubits, inner.states))
    final = tuple(after[q] for q in (gate.qubits[::-1] if flipped else gate.qubits))
    if inner.action == "remove":
        return GateFold("remove", final)
    return GateFold("replace", final, inner.replacement if inner.action == "replace" else (new_gate,))


def _factor_2q(gate: GateOp, states, angles) -> GateFold | None:
    """U (|s>_k (x) I) = |s>_k (x) V: replace U by V on the other qubit."""
    u = gate_matrix(gate.name, angles).reshape(2, 2, 2, 2)  # out_a, out_b, in_a, in_b
    for k in (0, 1):
        s = states[k]
        if s is None:
            continue
        vec = STATES[s]
        m = np.einsum("abcd,c->abd", u, vec) if k == 0 else np.einsum("abcd,d->abc", u, vec)
        # m: (out_a, out_b, in_other)
        v = np.einsum("a,abj->bj", vec.conj(), m) if k == 0 else np.einsum("b,abj->aj", vec.conj(), m)
        expect = np.einsum("a,bj->abj", vec, v) if k == 0 else np.einsum("b,aj->abj", vec, v)
        if not np.allclose(m, expect, atol=1e-9):
            continue
        other = 1 - k
        named = _name_1q(v, gate)
        if named is None:
            continue
        new_states = list(states)
        if states[other] is not None:
            new_states[other] = pauli_state_of(v @ STATES[states[other]])
        if named == "I":
            return GateFold("remove", tuple(new_states))
        name, params = named
        return GateFold("replace", tuple(new_states), (GateOp(name, (gate.qubits[other],), params),))
    return None


def _name_1q(v: np.ndarray, gate: GateOp):
    if not np.allclose(v.conj().T @ v, np.eye(2), atol=1e-9):
        return None
    for name in _NAMED_1Q:
        if proportional(v, gate_matrix(name, ())):
            return "I" if name == "I" else (name, ())
    control_of = GATESET[gate.name].control_of if gate.name in GATESET else None
    base = control_of[1] if control_of else None
    if rotation_axis(base) is not None and gate.params and proportional(v, gate_matrix(base, (float(gate.params[0].value),))):
        return base, gate.params
    return None


def _states_after(gate: GateOp, states, angles) -> tuple:
    if gate.name in ("SWAP",):
        return (states[1], states[0])
    if angles is None or any(s is None for s in states) or len(states) != 2:
        return (None,) * len(states)
    full = gate_matrix(gate.name, angles) @ np.kron(STATES[states[0]], STATES[states[1]])
    for a, va in STATES.items():
        for b, vb in STATES.items():
            if proportional(full, np.kron(va, vb)):
                return (a, b)
    return (None, None)


def measured_value(state) -> int | None:
    """The deterministic outcome of measuring a qubit in ``state`` (Z eigenstates only)."""
    return {"0": 0, "1": 1}.get(state)
