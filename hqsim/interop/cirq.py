"""Conversion between hqsim circuits and ``cirq.Circuit`` (the only bridge to Cirq's types).

Qubit q of an hqsim circuit is ``cirq.LineQubit(q)``; both use qubit 0 as the most significant
bit. Unbound weights become ``sympy.Symbol('w<i>')`` and unbound inputs ``sympy.Symbol('x<j>')``
(``to_cirq``), and ``from_cirq`` maps those names back by default.

    c = hqsim.ansatz.rpqc(4, reuploads=2)
    cc = to_cirq(c, weights=theta)                 # inputs left as symbols x0..x3
    back = from_cirq(cc)                           # x<j> -> input(j), w<i> -> weight(i)
    circuit, sweep = export_sweep(c, theta, x)     # one circuit + a sweep of B resolvers
"""
from __future__ import annotations

import math
import re

import numpy as np

from .. import api
from ..ir import (
    GATES,
    INPUT,
    Gate,
    WEIGHT,
    Circuit,
    Observable,
    Param,
    PauliString,
    as_observable,
    input,
    weight,
)
from ..ir.gates import decomposition_steps
from ..ir.validate import unit_amplitudes
from ._deps import cirq, sympy
from ._from_ops import Builder, UnsupportedOperation, affine, translate_operation

INPUT_PREFIX, WEIGHT_PREFIX = "x", "w"
_PAULI = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}


# -- hqsim -> Cirq -------------------------------------------------------------------------
def _values(arr, n: int, what: str):
    """None (symbolic) or a (n,) float vector; (1, n) is accepted for one sample."""
    if arr is None:
        return None
    if hasattr(arr, "detach"):  # torch tensors (a trained layer's weights)
        arr = arr.detach().cpu().numpy()
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 1 or a.size != n:
        hint = " (for a batch use export_resolved or export_sweep)" if a.ndim == 2 else ""
        raise ValueError(f"{what} must have shape ({n},), got {a.shape}{hint}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} contain NaN or inf")
    return a


def _angle(p: Param, weights, inputs):
    if p.is_constant:
        return p.offset
    table, prefix = (weights, WEIGHT_PREFIX) if p.source == WEIGHT else (inputs, INPUT_PREFIX)
    if table is not None:
        return p.scale * float(table[p.index]) + p.offset
    sym = sympy.Symbol(f"{prefix}{p.index}")
    expr = sym if p.scale == 1.0 else p.scale * sym
    return expr if p.offset == 0.0 else expr + p.offset


def _gate_ops(g, a, qs):
    """Cirq operations for one hqsim gate with angles ``a`` (numbers or sympy expressions).
    A gate with a Cirq name (GateSpec.names.cirq) is that gate, rotation builder or parity
    PowGate; a controlled rotation is its base rotation under ControlledGate; the rest are
    written as their exact products here (Rot and U3 as their decomposition)."""
    spec = GATES.get(g.name)
    spelled = spec.names.first("cirq") if spec is not None else None
    if spelled is not None and not spec.num_params:
        return [getattr(cirq, spelled).on(*qs)]
    if spelled is not None and spec.symmetric:  # exp(-i a PP/2) = PP**(a/pi) with global shift -1/2
        return [getattr(cirq, spelled)(exponent=a[0] / _pi(a[0]), global_shift=-0.5).on(*qs)]
    if spelled is not None:
        return [getattr(cirq, spelled)(a[0]).on(*qs)]
    base = GATES.get(spec.control_of[1]) if spec is not None and spec.control_of else None
    if base is not None and base.names.cirq and base.num_params:
        return [cirq.ControlledGate(getattr(cirq, base.names.first("cirq"))(a[0])).on(*qs)]
    if g.name == "SX":
        return [(cirq.X ** 0.5).on(*qs)]
    if g.name == "PhaseShift":
        return [cirq.ZPowGate(exponent=a[0] / _pi(a[0])).on(*qs)]
    if spec is not None and spec.decomposition:  # Rot, U3: their GateSpec decomposition
        return [op for step, angles in decomposition_steps(g.name, tuple(a))
                for op in _gate_ops(Gate(step, g.qubits), angles, qs)]
    if g.name == "Unitary":
        return [cirq.MatrixGate(g.matrix).on(*qs)]
    raise UnsupportedOperation(f"gate {g.name} has no Cirq form")


def _pi(v):
    return sympy.pi if isinstance(v, sympy.Basic) else math.pi


def _state_prep_unitary(amplitudes: np.ndarray) -> np.ndarray:
    """A real orthogonal (Householder) matrix whose first column is the unit vector given."""
    v = amplitudes.astype(np.float64)
    e0 = np.zeros_like(v)
    e0[0] = 1.0
    u = e0 - v
    if np.linalg.norm(u) < 1e-14:
        return np.eye(v.size)
    u /= np.linalg.norm(u)
    return np.eye(v.size) - 2.0 * np.outer(u, u)


def to_cirq(circuit: Circuit, weights=None, inputs=None) -> cirq.Circuit:
    """The hqsim circuit as a ``cirq.Circuit`` on ``cirq.LineQubit.range(num_qubits)``.

    weights: (num_weights,) or None (left as symbols ``w<i>``); inputs: (num_inputs,) or (1,
    num_inputs) for one sample, or None (symbols ``x<j>``). An amplitude encoding needs bound
    inputs and becomes a ``cirq.MatrixGate`` preparing the normalised, zero-padded state.
    Nothing is mutated. Every gate maps exactly (same unitary, global phase included).
    """
    w = _values(weights, circuit.num_weights, "weights")
    x = _values(inputs, circuit.num_inputs, "inputs")
    qubits = cirq.LineQubit.range(circuit.num_qubits)
    ops = []
    enc = circuit.amplitude_encoding
    if enc is not None:
        if x is None:
            raise ValueError("an amplitude-encoded circuit needs bound inputs: amplitudes cannot "
                             "be Cirq symbols (use export_resolved for a batch)")
        state = np.zeros(2 ** circuit.num_qubits)
        state[:enc.size] = unit_amplitudes(x[None, enc.start:enc.start + enc.size])[0][0]
        ops.append(cirq.MatrixGate(_state_prep_unitary(state), name="StatePrep").on(*qubits))
    for g in circuit.gates:
        angles = [_angle(p, w, x) for p in g.params]
        ops.extend(_gate_ops(g, angles, [qubits[q] for q in g.qubits]))
    return cirq.Circuit(ops)


def observables_to_cirq(observables, num_qubits: int | None = None) -> list[cirq.PauliSum]:
    """hqsim observables (PauliString / Observable, or a list) as ``cirq.PauliSum``s."""
    obs = [observables] if isinstance(observables, (PauliString, Observable)) else observables
    out = []
    for o in obs:
        total = cirq.PauliSum()
        for term in as_observable(o).terms:
            if num_qubits is not None and any(q >= num_qubits for q in term.qubits):
                raise ValueError(f"observable {o!r} acts outside qubits 0..{num_qubits - 1}")
            total += cirq.PauliString({cirq.LineQubit(q): _PAULI[p] for q, p in term.paulis},
                                      coefficient=term.coeff)
        out.append(total)
    return out


# -- Cirq -> hqsim -------------------------------------------------------------------------
def _symbol_table(inputs, weights) -> dict:
    table = {}
    for src, syms, ctor in ((INPUT, inputs, input), (WEIGHT, weights, weight)):
        for i, s in enumerate(syms or ()):
            sym = sympy.Symbol(s) if isinstance(s, str) else s
            if sym in table:
                raise ValueError(f"symbol {sym} is listed twice in inputs/weights")
            table[sym] = ctor(i)
    return table


def _default_param(sym) -> Param | None:
    m = re.fullmatch(rf"({INPUT_PREFIX}|{WEIGHT_PREFIX})(\d+)", sym.name)
    if not m:
        return None
    return (input if m.group(1) == INPUT_PREFIX else weight)(int(m.group(2)))


def qubit_order(circuit: cirq.AbstractCircuit, qubits=None) -> list:
    """hqsim qubit q -> ``order[q]``: the qubits given, else LineQubit(0..max) for LineQubits
    (so LineQubit(q) stays qubit q), else ``sorted(circuit.all_qubits())``."""
    if qubits is not None:
        order = list(qubits)
        missing = set(circuit.all_qubits()) - set(order)
        if missing:
            raise ValueError(f"qubits {sorted(missing)} of the circuit are not in qubits=")
        return order
    found = sorted(circuit.all_qubits())
    if found and all(isinstance(q, cirq.LineQubit) and q.x >= 0 for q in found):
        return cirq.LineQubit.range(found[-1].x + 1)
    return found


def translate(circuit, order, param_for):
    """(Builder with gates and phases, terminal measurements [(key, [qubit idx], invert)])."""
    circuit = cirq.unroll_circuit_op(circuit, deep=True, tags_to_check=None)
    if not circuit.are_all_measurements_terminal():
        raise UnsupportedOperation("mid-circuit measurements are not supported: hqsim "
                                   "simulates unitary circuits with terminal measurements")
    index = {q: i for i, q in enumerate(order)}
    b, measurements = Builder(param_for), []
    for op in circuit.all_operations():
        qs = [index[q] for q in op.qubits]
        if isinstance(op.gate, cirq.MeasurementGate):
            g = op.gate
            if g.confusion_map:
                raise UnsupportedOperation(f"{op!r}: measurement confusion maps are not supported")
            measurements.append((g.key, qs, tuple(g.full_invert_mask())))
        else:
            translate_operation(b, op, qs)
    return b, measurements


def from_cirq(circuit: cirq.AbstractCircuit, inputs=None, weights=None, qubits=None) -> Circuit:
    """An hqsim circuit from a (parameterised) ``cirq.Circuit``.

    inputs / weights: sequences of ``sympy.Symbol`` (or names) that become ``input(j)`` /
    ``weight(i)`` in that order; when both are None, symbols named ``x<j>`` / ``w<i>`` (what
    ``to_cirq`` writes) map back to ``input(j)`` / ``weight(i)``. Each angle must be affine in
    one symbol (``a*s + b``), as hqsim's parameters are. qubits: the order of Cirq qubits (see
    ``qubit_order``). Terminal measurements are dropped (hqsim computes exact expectations);
    the global phase is dropped too. Raises ValueError naming the operation or symbol that
    cannot be represented.
    """
    explicit = inputs is not None or weights is not None
    table = _symbol_table(inputs, weights)

    def param_for(expr):
        sym, scale, offset = affine(expr)
        p = table.get(sym) if explicit else _default_param(sym)
        if p is None:
            hint = ("pass it in inputs= or weights=" if explicit else
                    f"name it {INPUT_PREFIX}<j> / {WEIGHT_PREFIX}<i>, or pass inputs=/weights=")
            raise ValueError(f"symbol {sym} is not bound: {hint}, or resolve it with "
                             "cirq.resolve_parameters")
        return Param(p.source, p.index, scale, offset)

    order = qubit_order(circuit, qubits)
    b, _ = translate(circuit, order, param_for)
    out = Circuit(len(order), num_inputs=len(inputs or ()) if explicit else None,
                  num_weights=len(weights or ()) if explicit else None)
    for name, qs, params, matrix in b.gates:
        out.append(name, qs, params, matrix)
    return out


def pauli_strings(observable) -> list:
    """The ``cirq.PauliString`` terms of a PauliSum-like (without Cirq's slow re-wrapping)."""
    if isinstance(observable, cirq.PauliString):
        return [observable]
    if isinstance(observable, cirq.PauliSum):
        return list(observable)
    return list(cirq.PauliSum.wrap(observable))


def observables_from_cirq(observables, qubits) -> list[tuple[Observable | None, float]]:
    """Cirq PauliSum-likes -> [(hqsim Observable or None, constant term)] on ``qubits`` order.

    Coefficients must be real (Hermitian observables)."""
    if isinstance(observables, (cirq.PauliString, cirq.PauliSum)) or not isinstance(observables, (list, tuple)):
        observables = [observables]
    index = {q: i for i, q in enumerate(qubits)}
    out = []
    for o in observables:
        terms, constant = [], 0.0
        for ps in pauli_strings(o):
            c = complex(ps.coefficient)
            if abs(c.imag) > 1e-12:
                raise ValueError(f"observable term {ps} has a complex coefficient; only "
                                 "Hermitian (real-coefficient) observables are supported")
            if len(ps) == 0:
                constant += c.real
                continue
            missing = [q for q in ps.qubits if q not in index]
            if missing:
                raise ValueError(f"observable term {ps} acts on {missing}, not in the circuit's qubits")
            terms.append(PauliString(tuple(sorted((index[q], str(p)) for q, p in ps.items())), c.real))
        out.append((Observable(tuple(terms)) if terms else None, constant))
    return out


# -- whole models ----------------------------------------------------------------------------
def _batch(circuit: Circuit, inputs) -> np.ndarray:
    x = np.asarray(inputs.detach().cpu().numpy() if hasattr(inputs, "detach") else inputs, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != circuit.num_inputs:
        raise ValueError(f"inputs must have shape (batch, {circuit.num_inputs}), got {x.shape}")
    return x


def export_resolved(circuit: Circuit, weights, inputs) -> list[cirq.Circuit]:
    """One fully resolved ``cirq.Circuit`` per sample: inputs (B, num_inputs)."""
    return [to_cirq(circuit, weights, row) for row in _batch(circuit, inputs)]


def export_sweep(circuit: Circuit, weights, inputs) -> tuple[cirq.Circuit, cirq.Sweep]:
    """One circuit (weights bound, inputs as symbols ``x<j>``) and a ``cirq.ListSweep`` of B
    resolvers (inputs (B, num_inputs)); not available for amplitude-encoded circuits."""
    if circuit.amplitude_encoding is not None:
        raise ValueError("amplitude-encoded inputs cannot be swept as symbols; use export_resolved")
    x = _batch(circuit, inputs)
    names = [f"{INPUT_PREFIX}{j}" for j in range(circuit.num_inputs)]
    sweep = cirq.ListSweep([dict(zip(names, map(float, row))) for row in x])
    return to_cirq(circuit, weights, None), sweep


def export_model(model, inputs, weights=None, sweep: bool = True):
    """Export a trained model for a batch of samples.

    model: an hqsim ``Circuit`` (then ``weights`` is required) or any object with ``.circuit``
    and ``.weights`` (array or torch tensor), such as a ``QuantumLayer`` or the QLLM QPU module.
    Returns ``export_sweep(...)`` when ``sweep`` else ``export_resolved(...)``.
    """
    circuit = model if isinstance(model, Circuit) else getattr(model, "circuit", None)
    if not isinstance(circuit, Circuit):
        raise TypeError(f"model must be an hqsim Circuit or have a .circuit, got {type(model).__name__}")
    if weights is None:
        weights = getattr(model, "weights", None)
        if weights is None and circuit.num_weights:
            raise ValueError("weights are required: the model has no .weights")
    return (export_sweep if sweep else export_resolved)(circuit, weights, inputs)


def resolved_batch(circuits, weights=None, inputs=None) -> list[cirq.Circuit]:
    """Resolved Cirq circuits for submission: an hqsim Circuit (with weights and, when it has
    inputs, inputs (B, num_inputs) -> B circuits), a ``cirq.Circuit``, or a list of those.
    Raises ValueError naming unbound symbols."""
    items = circuits if isinstance(circuits, (list, tuple)) else [circuits]
    if not items:
        raise ValueError("no circuits to submit")
    out = []
    for c in items:
        if isinstance(c, Circuit):
            if c.num_inputs and inputs is None:
                raise ValueError(f"the circuit has {c.num_inputs} inputs: pass inputs=(B, {c.num_inputs})")
            if c.num_weights and weights is None:
                raise ValueError(f"the circuit has {c.num_weights} weights: pass weights=")
            rows = _batch(c, inputs) if c.num_inputs else [None]
            out.extend(to_cirq(c, weights, row) for row in rows)
        elif isinstance(c, cirq.AbstractCircuit):
            if cirq.is_parameterized(c):
                raise ValueError(f"unbound symbols {sorted(cirq.parameter_names(c))}: resolve the "
                                 "circuit first (cirq.resolve_parameters)")
            out.append(c.unfreeze(copy=False) if isinstance(c, cirq.FrozenCircuit) else c)
        else:
            raise TypeError(f"expected an hqsim Circuit or cirq.Circuit, got {type(c).__name__}")
    return out


def export_qllm(model, embeddings, sweep: bool = True) -> dict:
    """Export a trained QLLM classifier (``hqsim.models.qllm.QLLMClassifier``) for a batch.

    embeddings: (B, D). Returns ``{"encoders": [B resolved circuits per encoder],
    "encoder_outputs": (B, E·Q) exact <Z_q>, "qpu": export_model(model.qpu, angles, sweep)}``
    where the QPU module's input angles are ``angle_scale * encoder_outputs`` (shot sampling
    is not applied: exact encoder expectations feed the QPU circuits).
    """
    x = np.asarray(embeddings.detach().cpu().numpy() if hasattr(embeddings, "detach") else embeddings,
                   dtype=np.float64)
    encoders, outputs = [], []
    for layer in model.encoders:
        w = layer.weights.detach().cpu().numpy().astype(np.float64)
        encoders.append(export_resolved(layer.circuit, w, x))
        outputs.append(np.asarray(api.expectation(layer.circuit, x, w, layer.compiled.observables)))
    z = np.concatenate(outputs, axis=1)
    angles = float(model.config.angle_scale) * z
    return {"encoders": encoders, "encoder_outputs": z, "qpu": export_model(model.qpu, angles, sweep=sweep)}
