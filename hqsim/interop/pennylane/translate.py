"""PennyLane operations, observables and tapes as hqsim IR.

A tape becomes a ``TapeLayout``: its hqsim gates with every numeric angle written as
``Param(INPUT, slot, scale, offset)``, where ``slot`` is the position of the PennyLane parameter
in ``tape.get_parameters(trainable_only=False)`` (a placeholder: ``batching`` decides per batch
whether a slot becomes a weight or an input column); the angles of ``GlobalPhase`` kept aside
(they multiply the state and change no expectation); and how the tape is measured. Tapes whose
layouts share a ``key`` differ only in parameter values and run as one batched hqsim call.

Qubit q of the hqsim circuit is ``tape.wires[q]`` (qubit 0 the most significant bit, as in
PennyLane). Gates hqsim has are kept; ``supports_operation`` is the device's stopping condition
for PennyLane's ``decompose`` (everything else is decomposed before it gets here).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...ir import GATES, INPUT, Gate, Observable, Param, PauliString, const, make_gate
from ...ir.gates import by_spelling
from ...ir.inverse import inverse_gate
from ._deps import qml

# PennyLane name -> hqsim name (the GateSpecs' PennyLane names); the PennyLane parameters are
# the hqsim angles, in order.
PARAMETRIC = {n: spec.name for n, spec in by_spelling("pennylane", GATES).items() if spec.num_params}
FIXED = {n: spec.name for n, spec in by_spelling("pennylane", GATES).items() if not spec.num_params}
# Written as a few hqsim gates sharing the PennyLane parameters (see _composed).
COMPOSED = ("U2", "ControlledPhaseShift")
NO_GATE = ("Identity", "GlobalPhase")
# Other constant operations become one dense hqsim Unitary on at most this many wires.
MAX_UNITARY_WIRES = 3
# Observables without a Pauli representation are Pauli-decomposed up to this many wires.
MAX_DECOMPOSED_OBS_WIRES = 4

EXPVAL, STATE = "expval", "state"


class UnsupportedOperation(ValueError):
    """A PennyLane operation hqsim cannot run (the device's preprocess decomposes these)."""


def _is_constant_matrix(op) -> bool:
    fixed = op.num_params == 0 or op.name in ("QubitUnitary", "Adjoint(QubitUnitary)")
    return fixed and op.batch_size is None and len(op.wires) <= MAX_UNITARY_WIRES and op.has_matrix


def _base_supported(op) -> bool:
    name = op.name
    return name in PARAMETRIC or name in FIXED or name in COMPOSED or name in NO_GATE


def supports_operation(op) -> bool:
    """True for operations hqsim runs as they are (the device's decomposition stopping condition)."""
    if _base_supported(op) or _is_constant_matrix(op):
        return True
    return isinstance(op, qml.ops.Adjoint) and _base_supported(op.base)


def supports_trainable_operation(op) -> bool:
    """Operations hqsim's adjoint can differentiate: parametric gates (a dense Unitary cannot be)."""
    if op.num_params == 0 or not any(qml.math.requires_grad(d) for d in op.data):
        return supports_operation(op)
    base = op.base if isinstance(op, qml.ops.Adjoint) else op
    return _base_supported(base)


def _slot(first: int, k: int, scale: float = 1.0) -> Param:
    return Param(INPUT, first + k, scale, 0.0)


def _composed(name: str, qs: tuple, first: int) -> list[Gate]:
    if name == "U2":  # U2(phi, delta) = U3(pi/2, phi, delta)
        return [make_gate("U3", qs, [const(math.pi / 2), _slot(first, 0), _slot(first, 1)])]
    # ControlledPhaseShift(phi) = PhaseShift(phi/2) on the control, then CRZ(phi)
    return [make_gate("PhaseShift", qs[:1], [_slot(first, 0, 0.5)]), make_gate("CRZ", qs, [_slot(first, 0)])]


def op_gates(op, qubit_of: dict, first: int) -> tuple[list[Gate], list[Param]]:
    """(hqsim gates, global-phase angles) of one operation whose parameters start at slot ``first``."""
    name = op.name
    qs = tuple(qubit_of[w] for w in op.wires)
    if name in PARAMETRIC:
        return [make_gate(PARAMETRIC[name], qs, [_slot(first, k) for k in range(op.num_params)])], []
    if name in FIXED:
        return [make_gate(FIXED[name], qs)], []
    if name in COMPOSED:
        return _composed(name, qs, first), []
    if name == "GlobalPhase":  # GlobalPhase(phi) = exp(-i phi) I
        return [], [_slot(first, 0)]
    if name == "Identity":
        return [], []
    if isinstance(op, qml.ops.Adjoint) and _base_supported(op.base):
        gates, phases = op_gates(op.base, qubit_of, first)
        return [inverse_gate(g) for g in reversed(gates)], [-p for p in phases]
    if _is_constant_matrix(op):
        return [make_gate("Unitary", qs, matrix=qml.matrix(op, wire_order=op.wires))], []
    raise UnsupportedOperation(f"operation {op.name} is not supported by hqsim.qubit")


def _pauli_sentence(obs):
    ps = obs.pauli_rep
    if ps is None and obs.has_matrix and len(obs.wires) <= MAX_DECOMPOSED_OBS_WIRES:
        ps = qml.pauli_decompose(qml.matrix(obs, wire_order=obs.wires), wire_order=obs.wires, pauli=True)
    return ps


def observable(obs, qubit_of: dict) -> Observable | None:
    """``obs`` as a real Pauli sum on hqsim qubits, or None when it has none (non-Hermitian,
    too many wires for a dense decomposition, or no matrix)."""
    if obs is None:
        return None
    try:
        ps = _pauli_sentence(obs)
    except (qml.operation.MatrixUndefinedError, ValueError, TypeError):
        return None
    if ps is None:
        return None
    terms = []
    for word, coeff in ps.items():
        c = complex(qml.math.toarray(coeff))
        if abs(c.imag) > 1e-10 * max(1.0, abs(c.real)):
            return None
        paulis = tuple(sorted((qubit_of[w], p) for w, p in word.items() if p != "I"))
        terms.append(PauliString(paulis, c.real))
    return Observable(tuple(terms) if terms else (PauliString((), 0.0),))


@dataclass(frozen=True, eq=False)
class TapeLayout:
    """One tape in hqsim's terms. ``values[s]``: parameter s as a float, a (batch,) float array
    (broadcast), or None (a matrix, not an angle)."""

    key: tuple
    num_qubits: int
    wires: tuple
    gates: tuple[Gate, ...]
    phases: tuple[Param, ...]
    observables: tuple[Observable, ...] | None  # EXPVAL layouts: one per measurement
    mode: str
    values: tuple
    batch: int | None

    @property
    def rows(self) -> int:
        return self.batch or 1


def _value(v):
    arr = np.asarray(qml.math.toarray(v) if not isinstance(v, (int, float)) else v)
    if arr.dtype.kind not in "fiub" or arr.ndim > 1:
        return None
    arr = arr.astype(np.float64)
    return float(arr) if arr.ndim == 0 else arr


def _gate_key(g: Gate):
    return (g.name, g.qubits, g.params, None if g.matrix is None else g.matrix.tobytes())


def expval_observables(tape, qubit_of: dict):
    """hqsim observables for an analytic tape of expectation values only, else None."""
    if tape.shots or not all(isinstance(m, qml.measurements.ExpectationMP) and m.obs is not None
                             for m in tape.measurements):
        return None
    obs = [observable(m.obs, qubit_of) for m in tape.measurements]
    return None if any(o is None for o in obs) else tuple(obs)


def layout(tape) -> TapeLayout:
    """Translate ``tape`` (already preprocessed by the device)."""
    wires = tuple(tape.wires)
    qubit_of = {w: q for q, w in enumerate(wires)}
    gates, phases, first = [], [], 0
    for op in tape.operations:
        g, p = op_gates(op, qubit_of, first)
        gates.extend(g)
        phases.extend(p)
        first += op.num_params
    obs = expval_observables(tape, qubit_of)
    mode = EXPVAL if obs is not None else STATE
    num_qubits = max(1, len(wires))
    key = (num_qubits, tuple(_gate_key(g) for g in gates), tuple(phases), mode, obs)
    values = tuple(_value(v) for v in tape.get_parameters(trainable_only=False))
    return TapeLayout(key, num_qubits, wires, tuple(gates), tuple(phases), obs, mode, values,
                      _broadcast_size(tape.operations, values))


def _broadcast_size(operations, values) -> int | None:
    """The tape's broadcast size, read off the operations' parameters: one with one more
    dimension than the operation declares (``ndim_params``) is broadcast. Observable
    parameters (a Projector's basis state) come after the operations' in ``values`` and never
    count. (``tape.batch_size`` asks every operation to re-check its batching: ~0.1 s per W1
    tape at 10 qubits.)"""
    k = 0
    for op in operations:
        try:
            ndims = op.ndim_params
        except AttributeError:  # an arithmetic operator (Prod, ...) kept whole: ask it
            if op.batch_size is not None:
                return op.batch_size
            k += op.num_params
            continue
        for nd in ndims:
            v = values[k]
            if isinstance(v, np.ndarray) and v.ndim == nd + 1:
                return v.shape[0]
            k += 1
    return None

