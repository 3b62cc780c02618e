"""Gate-level folding rules, kept in one module so that they can be swapped for hqsim.compile's.

- ``fold_gate``: quantum constant propagation. Each qubit is tracked as one of the six Pauli
  eigenstates (``"0"``, ``"1"``, ``"+"``, ``"-"``, ``"+i"``, ``"-i"``) or unknown (``None``);
  a known qubit is in a product state with the rest, so a gate that maps it to itself up to a
  phase is a global phase and can be dropped. Controlled gates with a control known ``|0>``
  vanish, with a control known ``|1>`` lose that control; a constant two-qubit gate that acts as
  ``|s><s| (x) V`` on a known qubit becomes ``V`` on the other qubit (e.g. CNOT with target
  ``|->`` is Z on the control).
- ``merge_rotations``: adjacent gates of one additive kind on the same qubits add their angles
  (the GateSpec facts ``additive`` and ``symmetric``, the rule hqsim.compile's fold uses).
- ``is_identity`` / ``cancels``: constant gates equal to the identity up to a global phase, and
  adjacent constant pairs whose product is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...ir.gates import merges, rotation_axis
from ..gateset import GATESET, gate_matrix
from ..ir import Binary, Const, GateOp

_S = 1 / np.sqrt(2)
STATES = {
    "0": np.array([1, 0], dtype=np.complex128), "1": np.array([0, 1], dtype=np.complex128),
    "+": np.array([_S, _S], dtype=np.complex128), "-": np.array([_S, -_S], dtype=np.complex128),
    "+i": np.array([_S, 1j * _S], dtype=np.complex128), "-i": np.array([_S, -1j * _S], dtype=np.complex128),
}
STATE_AXIS = {"0": "Z", "1": "Z", "+": "X", "-": "X", "+i": "Y", "-i": "Y"}
ATOL = 1e-9
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


def proportional(a: np.ndarray, b: np.ndarray) -> bool:
    """a = e^{i phi} b for some phase (vectors or matrices)."""
    i = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    if abs(b[i]) < ATOL:
        return bool(np.allclose(a, 0, atol=ATOL))
    phase = a[i] / b[i]
    return bool(abs(abs(phase) - 1) < 1e-7 and np.allclose(a, phase * b, atol=1e-7))


def pauli_state_of(vec: np.ndarray) -> str | None:
    for name, s in STATES.items():
        if proportional(vec, s):
            return name
    return None


def is_identity(gate: GateOp) -> bool:
    """A constant gate equal to the identity up to a global phase (e.g. RX(2*pi), RZ(0))."""
    angles = constant_angles(gate.params)
    if angles is None or gate.name not in GATESET:
        return False
    m = gate_matrix(gate.name, angles)
    return proportional(m, np.eye(m.shape[0], dtype=np.complex128))


def cancels(a: GateOp, b: GateOp) -> bool:
    """Constant gates on the same qubits (same order) whose product is a global phase."""
    if a.qubits != b.qubits:
        return False
    aa, ab = constant_angles(a.params), constant_angles(b.params)
    if aa is None or ab is None:
        return False
    m = gate_matrix(b.name, ab) @ gate_matrix(a.name, aa)
    return proportional(m, np.eye(m.shape[0], dtype=np.complex128))


def merge_rotations(a: GateOp, b: GateOp) -> GateOp | None:
    """``R(x) then R(y)`` on the same qubits -> ``R(x + y)`` (angles may be expressions)."""
    if not merges(a.name, a.qubits, b.name, b.qubits):
        return None
    return GateOp(a.name, a.qubits, (Binary("+", a.params[0], b.params[0]),))


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
