"""OpenQASM 3 (and 2) export of hqsim circuits and of compiled Cirq circuits.

hqsim circuits are written by hqsim itself: unbound weights and inputs become OpenQASM 3
``input float[64] w<i>;`` / ``x<j>;`` parameters (OpenQASM 2 has none: bind them first); every
gate uses ``stdgates.inc`` (QASM 3) or the original ``qelib1.inc`` (QASM 2) or is written out
inline (RXX/RYY/RZZ, SWAP and the controlled rotations in QASM 2), so no gate is redefined.
Gates match hqsim's up to a global phase. Resolved ``cirq.Circuit``s (e.g. compiled for
IonQ or Google) go through Cirq's own exporter (``cirq.qasm``).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..ir import GATES, WEIGHT, Circuit, Param
from ..ir.gates import decomposition_steps
from ._deps import cirq
from .cirq import INPUT_PREFIX, WEIGHT_PREFIX, from_cirq, to_cirq

VERSIONS = ("2.0", "3.0")


def _check_version(version: str) -> str:
    version = str(version)
    if version in ("2", "3"):
        version += ".0"
    if version not in VERSIONS:
        raise ValueError(f"OpenQASM version must be 2.0 or 3.0, got {version!r}")
    return version


def _expr(p: Param, weights, inputs) -> str:
    if p.is_constant:
        return repr(float(p.offset))
    table, prefix = (weights, WEIGHT_PREFIX) if p.source == WEIGHT else (inputs, INPUT_PREFIX)
    if table is not None:
        return repr(p.scale * float(table[p.index]) + p.offset)
    term = f"{prefix}{p.index}" if p.scale == 1.0 else f"{p.scale!r}*{prefix}{p.index}"
    return term if p.offset == 0.0 else f"({term} + {p.offset!r})"


def _zyz(m: np.ndarray) -> tuple[float, float, float]:
    """(θ, φ, λ) with U3(θ, φ, λ) equal to the 2x2 unitary ``m`` up to a global phase."""
    m = m / np.sqrt(np.linalg.det(m))
    theta = 2 * math.atan2(abs(m[1, 0]), abs(m[0, 0]))
    phi_plus = 2 * np.angle(m[1, 1]) if abs(m[1, 1]) > 1e-12 else 0.0
    phi_minus = 2 * np.angle(m[1, 0]) if abs(m[1, 0]) > 1e-12 else 0.0
    return theta, (phi_plus + phi_minus) / 2, (phi_plus - phi_minus) / 2


def _lines(name: str, q: list[str], a: list[str], v3: bool) -> list[str]:
    """OpenQASM statements for one hqsim gate (angles already formatted)."""
    spelled = GATES[name].names.first("qasm" if v3 else "qasm2") if name in GATES else None
    if spelled is not None:
        args = f"({', '.join(a)})" if a else ""
        return [f"{spelled}{args} {', '.join(q)};"]
    # what qelib1.inc (OpenQASM 2) or stdgates.inc lacks, in gates they have
    if name == "SX":
        return [f"u3(pi/2, -pi/2, pi/2) {q[0]};"]
    if name == "SWAP":
        return [f"cx {q[0]}, {q[1]};", f"cx {q[1]}, {q[0]};", f"cx {q[0]}, {q[1]};"]
    if name in ("CRX", "CRY"):  # cu3(θ, -π/2, π/2) = CRX(θ), cu3(θ, 0, 0) = CRY(θ) exactly
        rest = "-pi/2, pi/2" if name == "CRX" else "0, 0"
        return [f"cu3({a[0]}, {rest}) {q[0]}, {q[1]};"]
    if name in GATES and GATES[name].decomposition:  # Rot: its GateSpec decomposition
        return [line for step, angles in decomposition_steps(name, tuple(a))
                for line in _lines(step, q, list(angles), v3)]
    if name in ("RXX", "RYY", "RZZ"):  # basis change V on both qubits, then CX·RZ·CX
        rzz = [f"cx {q[0]}, {q[1]};", f"rz({a[0]}) {q[1]};", f"cx {q[0]}, {q[1]};"]
        pre = {"RXX": ["h"], "RYY": ["sdg", "h"], "RZZ": []}[name]
        post = {"RXX": ["h"], "RYY": ["h", "s"], "RZZ": []}[name]
        return ([f"{g} {x};" for g in pre for x in q] + rzz + [f"{g} {x};" for g in post for x in q])
    raise ValueError(f"gate {name} has no OpenQASM form here")


def hqsim_to_qasm(circuit: Circuit, version: str = "3.0", weights=None, inputs=None,
                  measure: bool = True) -> str:
    """OpenQASM text of an hqsim circuit. weights (num_weights,) / inputs (num_inputs,) bind
    values; unbound ones become QASM 3 ``input float[64]`` parameters (QASM 2: an error).
    Multi-qubit ``Unitary`` gates and amplitude encodings need bound values and are exported
    through Cirq's decomposition."""
    v3 = _check_version(version) == "3.0"
    w = None if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    x = None if inputs is None else np.asarray(inputs, dtype=np.float64).reshape(-1)
    if w is not None and w.size != circuit.num_weights:
        raise ValueError(f"weights must hold {circuit.num_weights} values, got {w.size}")
    if x is not None and x.size != circuit.num_inputs:
        raise ValueError(f"inputs must hold {circuit.num_inputs} values, got {x.size}")
    for what, vals in (("weights", w), ("inputs", x)):
        if vals is not None and not np.all(np.isfinite(vals)):
            raise ValueError(f"{what} contain NaN or inf (first at index "
                             f"{int(np.flatnonzero(~np.isfinite(vals))[0])}); OpenQASM angles must be finite")
    if circuit.amplitude_encoding is not None or any(
            g.name == "Unitary" and len(g.qubits) > 1 for g in circuit.gates):
        return cirq_to_qasm(to_cirq(circuit, w, x) + _measure_all(circuit.num_qubits, measure), version)
    params = [(WEIGHT_PREFIX, circuit.num_weights, w), (INPUT_PREFIX, circuit.num_inputs, x)]
    free = [f"{prefix}{i}" for prefix, n, vals in params if vals is None for i in range(n)]
    if free and not v3:
        raise ValueError(f"OpenQASM 2 has no runtime parameters: bind {', '.join(free[:4])}"
                         f"{'...' if len(free) > 4 else ''} (pass weights= and inputs=) or use 3.0")
    n = circuit.num_qubits
    out = ["OPENQASM 3.0;", 'include "stdgates.inc";'] if v3 else ["OPENQASM 2.0;", 'include "qelib1.inc";']
    out += [f"input float[64] {name};" for name in free]
    out += [f"qubit[{n}] q;"] if v3 else [f"qreg q[{n}];"]
    if measure:
        out += [f"bit[{n}] c;"] if v3 else [f"creg c[{n}];"]
    for g in circuit.gates:
        qs = [f"q[{i}]" for i in g.qubits]
        if g.name == "Unitary":
            out.append("u3({!r}, {!r}, {!r}) {};".format(*map(float, _zyz(g.matrix)), qs[0]))
            continue
        out += _lines(g.name, qs, [_expr(p, w, x) for p in g.params], v3)
    if measure:
        out.append("c = measure q;" if v3 else "measure q -> c;")
    return "\n".join(out) + "\n"


def _measure_all(n: int, measure: bool):
    if not measure:
        return cirq.Circuit()
    return cirq.Circuit(cirq.measure(*cirq.LineQubit.range(n), key="c"))


def cirq_to_qasm(circuit: cirq.AbstractCircuit, version: str = "3.0") -> str:
    """OpenQASM text of a Cirq circuit. A parameterised circuit (symbols ``x<j>`` / ``w<i>``)
    is written by ``hqsim_to_qasm`` with QASM 3 inputs; a resolved one by ``cirq.qasm``."""
    version = _check_version(version)
    if cirq.is_parameterized(circuit):
        measured = circuit.has_measurements()
        body = cirq.drop_terminal_measurements(circuit) if measured else circuit
        return hqsim_to_qasm(from_cirq(body), version, measure=measured)
    with warnings.catch_warnings():  # Cirq drops global phases (from decompositions) noisily
        warnings.filterwarnings("ignore", message="OpenQASM 2.0 does not support global phase")
        return cirq.qasm(circuit, args=cirq.QasmArgs(version=version))


def to_qasm(circuit, version: str = "3.0", weights=None, inputs=None, measure: bool = True) -> str:
    """OpenQASM 3.0 (default) or 2.0 text of an hqsim Circuit or a ``cirq.Circuit``."""
    if isinstance(circuit, Circuit):
        return hqsim_to_qasm(circuit, version, weights, inputs, measure)
    if isinstance(circuit, cirq.AbstractCircuit):
        return cirq_to_qasm(circuit, version)
    raise TypeError(f"expected an hqsim Circuit or cirq.Circuit, got {type(circuit).__name__}")
