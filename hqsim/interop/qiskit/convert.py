"""Qiskit circuits and Pauli observables as hqsim IR, converted once per circuit.

Qubits: Qiskit qubit k is hqsim qubit n-1-k, so both number basis states alike (Qiskit's
qubit 0 is the least significant bit, hqsim's qubit 0 the most significant) and a Pauli label
``"XZ"``'s character i acts on hqsim qubit i. Gate matrices keep Qiskit's little-endian qargs
order, so a dense unitary's hqsim qubits are its qargs reversed.

Angles: every distinct Parameter is one hqsim input column, and an angle affine in one
Parameter (``2*a + 1``) is ``Param(INPUT, column, scale, offset)``; any other expression gets
a column of its own, evaluated per parameter set (``Program.inputs``). Instructions hqsim lacks
are first decomposed by Qiskit's transpiler to ``BASIS``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...ir import GATES, INPUT, Circuit, Observable, Param, PauliString, const
from ...ir.gates import by_spelling
from ._deps import circuit_lib, qiskit

# Qiskit instruction name -> hqsim gate, from the GateSpecs' Qiskit names
_ANGLE = {n: spec.name for n, spec in by_spelling("qiskit", GATES).items() if spec.num_params}
_FIXED = {n: spec.name for n, spec in by_spelling("qiskit", GATES).items() if not spec.num_params}
# Qiskit gates hqsim has only as an inverse
_INVERSE = {"sdg": "S", "tdg": "T", "sxdg": "SX"}
_SKIP = {"barrier", "id", "delay", "global_phase"}
BASIS = sorted(set(_ANGLE) | set(_FIXED) | set(_INVERSE) | {"u2", "cp"})  # also: "unitary" (dense, constant)


@dataclass(frozen=True, eq=False)
class Program:
    """A Qiskit circuit in hqsim form: ``circuit`` (inputs = ``columns``), ``parameters`` (the
    circuit's Parameters, in ``QuantumCircuit.parameters`` order) and ``measurements``
    ((qiskit qubit, clbit) in circuit order, for the sampler)."""

    circuit: Circuit
    columns: tuple  # per input column: a Parameter or a ParameterExpression
    parameters: tuple
    measurements: tuple

    def inputs(self, values: np.ndarray) -> np.ndarray:
        """(R, len(columns)) float64 from parameter values (R, len(parameters))."""
        values = np.asarray(values, dtype=np.float64).reshape(-1, len(self.parameters))
        index = {p: i for i, p in enumerate(self.parameters)}
        out = np.empty((values.shape[0], len(self.columns)))
        for j, col in enumerate(self.columns):
            out[:, j] = values[:, index[col]] if col in index else _evaluate(col, self.parameters, values)
        return out

    def parameter_gradients(self, dcolumns: np.ndarray, values: np.ndarray, wanted) -> np.ndarray:
        """(R, len(wanted)) d/d(parameter) from dcolumns (R, len(columns)) = d/d(column), by the
        chain rule through each column's expression (a plain Parameter column contributes 1)."""
        values = np.asarray(values, dtype=np.float64).reshape(-1, len(self.parameters))
        where = {p: k for k, p in enumerate(wanted)}
        out = np.zeros((dcolumns.shape[0], len(wanted)))
        for j, col in enumerate(self.columns):
            if isinstance(col, circuit_lib.Parameter):
                if col in where:
                    out[:, where[col]] += dcolumns[:, j]
                continue
            for p in col.parameters:
                if p in where:
                    out[:, where[p]] += dcolumns[:, j] * _evaluate(col.gradient(p), self.parameters, values)
        return out


def _evaluate(expr, parameters, values: np.ndarray) -> np.ndarray:
    """``expr`` per row of ``values`` (R, len(parameters)), bound by Qiskit itself (one bind per
    row: expressions that are not affine in one Parameter are rare, and exact this way)."""
    if not isinstance(expr, circuit_lib.ParameterExpression):
        return np.full(values.shape[0], float(np.real(expr)))
    index = [parameters.index(p) for p in expr.parameters]
    used = list(expr.parameters)
    return np.array([float(np.real(complex(expr.bind(dict(zip(used, row[index]))))))
                     for row in values], dtype=np.float64)


class _Columns:
    def __init__(self):
        self.columns: dict = {}

    def param(self, value, scale: float = 1.0) -> Param:
        if not isinstance(value, circuit_lib.ParameterExpression) or not value.parameters:
            return const(scale * float(np.real(complex(value))))
        if len(value.parameters) == 1:
            (p,) = value.parameters
            slope = value.gradient(p)
            if not isinstance(slope, circuit_lib.ParameterExpression):
                offset = float(np.real(complex(value.bind({p: 0.0}))))
                col = self.columns.setdefault(p, len(self.columns))
                return Param(INPUT, col, scale * float(np.real(slope)), scale * offset)
        col = self.columns.setdefault(value, len(self.columns))
        return Param(INPUT, col, scale, 0.0)


def _needs_transpile(qc) -> bool:
    return any(inst.operation.name not in _SKIP and inst.operation.name not in BASIS
               and inst.operation.name not in ("measure", "unitary") for inst in qc.data)


def _append(circuit: Circuit, name: str, qs: tuple, params, cols: _Columns, op) -> None:
    if name in _ANGLE:
        circuit.append(_ANGLE[name], qs, [cols.param(v) for v in params])
    elif name in _FIXED:
        circuit.append(_FIXED[name], qs)
    elif name in _INVERSE:
        circuit.append("Unitary", qs, matrix=np.asarray(op.to_matrix(), dtype=np.complex128))
    elif name == "u2":  # U2(phi, lam) = U3(pi/2, phi, lam)
        circuit.append("U3", qs, [const(math.pi / 2), cols.param(params[0]), cols.param(params[1])])
    elif name == "cp":  # CPhase(t) = P(t/2) on the control, then CRZ(t)
        circuit.append("PhaseShift", qs[:1], [cols.param(params[0], 0.5)])
        circuit.append("CRZ", qs, [cols.param(params[0])])
    elif name == "unitary":  # qargs little-endian: hqsim qubits are the qargs reversed
        circuit.append("Unitary", qs[::-1], matrix=np.asarray(op.to_matrix(), dtype=np.complex128))
    else:
        raise ValueError(f"instruction {name!r} is not supported by hqsim (basis: {', '.join(BASIS)})")


def to_program(qc, *, allow_measurements: bool) -> Program:
    """Convert ``qc`` (a QuantumCircuit) once; measurements must be terminal."""
    if _needs_transpile(qc):
        qc = qiskit.transpile(qc, basis_gates=BASIS, optimization_level=0)
    n = qc.num_qubits
    circuit, cols = Circuit(max(n, 1)), _Columns()
    measured, measurements = set(), []
    for inst in qc.data:
        op, name = inst.operation, inst.operation.name
        qubits = tuple(qc.find_bit(q).index for q in inst.qubits)
        if getattr(op, "condition", None) is not None or name in ("if_else", "while_loop", "for_loop", "switch_case", "reset"):
            raise ValueError(f"instruction {name!r} (classical control or reset) is not supported by hqsim")
        if name == "measure":
            if not allow_measurements:
                raise ValueError("the estimator's circuits must not measure (they are removed by "
                                 "QuantumCircuit.remove_final_measurements)")
            measured.add(qubits[0])
            measurements.append((qubits[0], qc.find_bit(inst.clbits[0]).index))
            continue
        if name in _SKIP:
            continue
        if measured.intersection(qubits):
            raise ValueError(f"instruction {name!r} acts on qubit(s) {sorted(measured.intersection(qubits))} "
                             "after their measurement: only terminal measurements are supported")
        _append(circuit, name, tuple(n - 1 - q for q in qubits), op.params, cols, op)
    columns = tuple(cols.columns)
    circuit = Circuit(max(n, 1), num_inputs=len(columns), num_weights=0).extend(circuit.gates)
    return Program(circuit, columns, tuple(qc.parameters), tuple(measurements))


def pauli_term(label: str) -> PauliString:
    """A dense Pauli label (Qiskit order: the last character is qubit 0) as an hqsim string."""
    paulis = []
    for i, ch in enumerate(label):
        if ch not in "IXYZ":
            raise ValueError(f"observable term {label!r}: only Pauli labels (I, X, Y, Z) are supported")
        if ch != "I":
            paulis.append((i, ch))
    return PauliString(tuple(paulis))


def real_coefficient(label: str, coeff) -> float:
    c = complex(coeff)
    if abs(c.imag) > 1e-12:
        raise ValueError(f"observable term {label!r} has a complex coefficient {c}: not Hermitian")
    return c.real


def as_observable(terms: dict) -> Observable:
    """A {label: coefficient} dict (an ObservablesArray entry) as an hqsim Observable."""
    return Observable(tuple(real_coefficient(k, v) * pauli_term(k) for k, v in terms.items()))
