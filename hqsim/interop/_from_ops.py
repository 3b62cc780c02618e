"""Translate Cirq operations into hqsim gates, exactly (global phase included).

Every Cirq gate hqsim can represent maps onto hqsim's gate set with angles that stay affine in
one symbol, so a parameterised Cirq circuit becomes a parameterised hqsim circuit:

- ``X**e`` / ``Y**e`` (global shift s) = e^{iπe(s+1/2)} RX(πe) / RY(πe); ``cirq.rx`` is s = -1/2.
- ``Z**e`` = e^{iπes} PhaseShift(πe); with s = -1/2 (``cirq.rz``) it is RZ(πe).
- ``CZ**e`` = CRZ(πe) · PhaseShift(πe/2) on the control (exact, no phase); ``CX**e`` likewise
  with CRX; a singly-controlled X/Y/Z power C(U) = C-R(πe) · PhaseShift(πe(s+1/2)) on control.
- ``XX**e``, ``YY**e``, ``ZZ**e`` (and ``cirq.MSGate``) = e^{iπe(s+1/2)} RXX/RYY/RZZ(πe).
- ``PhasedXPowGate(p, e)`` = RZ(πp) · X**e · RZ(-πp); ``PhasedXZGate(x, z, a)`` likewise.
- any other gate with a constant unitary (``MatrixGate``, H**t, native IonQ gates, ...) becomes
  an hqsim ``Unitary``; a parameterised gate outside this list is an error.

The global phases are collected as a list of angles (``Builder.phase``): hqsim's IR has no
global-phase gate, and only final state vectors need them.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real

import numpy as np

from ..ir import GATES, Param, const
from ._deps import cirq, sympy

ParamFor = Callable[[object], Param]  # float or sympy expression (radians) -> hqsim Param


class UnsupportedOperation(ValueError):
    """A Cirq operation hqsim's IR cannot represent."""


def is_symbolic(v) -> bool:
    return isinstance(v, sympy.Basic) and bool(v.free_symbols)


def pi_times(v, m: float):
    """π·m·v in radians, ``v`` a float or sympy expression (π kept exact: (x/π)·π = x)."""
    if is_symbolic(v):
        return (sympy.pi if m == 1.0 else m * sympy.pi) * v
    return math.pi * m * float(v)


class Builder:
    """Accumulates hqsim gates ``(name, qubits, params, matrix)`` and global-phase angles."""

    def __init__(self, param_for: ParamFor):
        self.param_for = param_for
        self.gates: list[tuple] = []
        self.phase: list[Param] = []

    def add(self, name, qubits, *angles):
        self.gates.append((name, tuple(qubits), tuple(self.param(a) for a in angles), None))

    def add_unitary(self, matrix, qubits):
        self.gates.append(("Unitary", tuple(qubits), (), np.asarray(matrix, dtype=np.complex128)))

    def add_phase(self, angle):
        if is_symbolic(angle) or float(angle) != 0.0:
            self.phase.append(self.param(angle))

    def param(self, v) -> Param:
        if is_symbolic(v):
            return self.param_for(v)
        return const(float(v))


def _const(v, value: float) -> bool:
    return not is_symbolic(v) and math.isclose(float(v), value, abs_tol=1e-12)


def _pow_1q(b: Builder, axis: str, e, s, q):
    """X**e, Y**e or Z**e with global shift s on qubit q."""
    if _const(s, 0.0):
        fixed = {("X", 1.0): "X", ("Y", 1.0): "Y", ("X", 0.5): "SX", ("Z", 1.0): "Z",
                 ("Z", 0.5): "S", ("Z", 0.25): "T"}
        for (ax, val), name in fixed.items():
            if ax == axis and _const(e, val):
                return b.add(name, [q])
    if axis == "Z" and not _const(s, -0.5):
        b.add("PhaseShift", [q], pi_times(e, 1.0))
        return b.add_phase(pi_times(e, float(s)))
    b.add("R" + axis, [q], pi_times(e, 1.0))
    b.add_phase(pi_times(e, float(s) + 0.5))


def _controlled_pow(b: Builder, axis: str, e, s, control, target):
    """Singly-controlled (X|Y|Z)**e with the sub-gate's global shift s."""
    if _const(s, 0.0) and _const(e, 1.0) and axis in ("X", "Z"):
        return b.add("CNOT" if axis == "X" else "CZ", [control, target])
    b.add("CR" + axis, [control, target], pi_times(e, 1.0))
    if not _const(s, -0.5):  # controlled(e^{iψ} R) = C-R then PhaseShift(ψ) on the control
        b.add("PhaseShift", [control], pi_times(e, float(s) + 0.5))


# Cirq's parity PowGate classes -> the hqsim gate (the GateSpecs' Cirq names)
PARITY_GATES = {getattr(cirq, s.names.first("cirq")): s.name for s in GATES.values()
                if s.names.cirq and s.symmetric and s.num_params}
_AXIS = {cirq.XPowGate: "X", cirq.YPowGate: "Y", cirq.ZPowGate: "Z"}


def _axis_of(gate) -> str | None:
    for cls, axis in _AXIS.items():
        if isinstance(gate, cls):
            return axis
    return None


def _shift(gate) -> float:
    s = getattr(gate, "global_shift", 0.0)
    if is_symbolic(s):
        raise UnsupportedOperation(f"{gate!r} has a symbolic global shift")
    return float(s)


def _phased(b: Builder, gate, q) -> bool:
    if isinstance(gate, cirq.PhasedXZGate):
        x, z, a = gate.x_exponent, gate.z_exponent, gate.axis_phase_exponent
        b.add("RZ", [q], pi_times(a, -1.0))
        _pow_1q(b, "X", x, 0.0, q)
        b.add("RZ", [q], pi_times(a, 1.0))
        _pow_1q(b, "Z", z, -0.5, q)
        b.add_phase(pi_times(z, 0.5))
        return True
    if isinstance(gate, cirq.PhasedXPowGate):
        p = gate.phase_exponent
        b.add("RZ", [q], pi_times(p, -1.0))
        _pow_1q(b, "X", gate.exponent, _shift(gate), q)
        b.add("RZ", [q], pi_times(p, 1.0))
        return True
    return False


def _exact(b: Builder, gate, qs) -> bool:
    """Gates with a parametric hqsim form; False when ``gate`` is not one of them."""
    axis = _axis_of(gate)
    if axis is not None:
        _pow_1q(b, axis, gate.exponent, _shift(gate), qs[0])
        return True
    if len(qs) == 1 and _phased(b, gate, qs[0]):
        return True
    if isinstance(gate, (cirq.CZPowGate, cirq.CXPowGate)):
        ax = "Z" if isinstance(gate, cirq.CZPowGate) else "X"
        _controlled_pow(b, ax, gate.exponent, 0.0, qs[0], qs[1])
        b.add_phase(pi_times(gate.exponent, _shift(gate)))
        return True
    for cls, name in PARITY_GATES.items():
        if isinstance(gate, cls):
            b.add(name, qs, pi_times(gate.exponent, 1.0))
            b.add_phase(pi_times(gate.exponent, _shift(gate) + 0.5))
            return True
    if isinstance(gate, cirq.ControlledGate) and gate.num_controls() == 1 \
            and list(gate.control_values.expand()) == [(1,)]:
        sub_axis = _axis_of(gate.sub_gate)
        if sub_axis is not None:
            _controlled_pow(b, sub_axis, gate.sub_gate.exponent, _shift(gate.sub_gate), qs[0], qs[1])
            return True
    fixed = {cirq.HPowGate: "H", cirq.SwapPowGate: "SWAP"}
    for cls, name in fixed.items():
        if isinstance(gate, cls) and _const(gate.exponent, 1.0) and not is_symbolic(gate.global_shift):
            b.add(name, qs)
            b.add_phase(math.pi * float(gate.global_shift))
            return True
    return False


def translate_operation(b: Builder, op, qs: list[int]) -> None:
    """Append the hqsim form of one Cirq operation acting on hqsim qubits ``qs``."""
    gate = op.gate
    if gate is None:
        raise UnsupportedOperation(
            f"operation {op!r} has no gate (classically controlled or otherwise); hqsim "
            "supports unitary gates with terminal measurements only")
    if isinstance(gate, (cirq.IdentityGate, cirq.WaitGate)):
        return
    if isinstance(gate, cirq.GlobalPhaseGate):
        if cirq.is_parameterized(gate):
            raise UnsupportedOperation(f"{gate!r}: a symbolic global phase is not supported")
        b.add_phase(float(np.angle(complex(gate.coefficient))))
        return
    if any(d != 2 for d in cirq.qid_shape(op)):
        raise UnsupportedOperation(f"{op!r} acts on qudits of shape {cirq.qid_shape(op)}; "
                                   "hqsim simulates qubits only")
    if _exact(b, gate, qs):
        return
    if cirq.is_parameterized(gate):
        raise UnsupportedOperation(
            f"cannot represent the parameterised gate {gate!r} in hqsim: parameters are "
            "supported on X/Y/Z/CX/CZ/XX/YY/ZZ powers, rx/ry/rz, PhasedXPowGate, PhasedXZGate "
            "and singly-controlled X/Y/Z powers; resolve its parameters first "
            "(cirq.resolve_parameters) or rewrite it")
    if not cirq.has_unitary(op):
        raise UnsupportedOperation(f"{op!r} is not unitary (channel, reset or measurement "
                                   "inside the circuit); hqsim runs unitary circuits")
    b.add_unitary(cirq.unitary(op), qs)


def affine(expr) -> tuple[object, float, float]:
    """(symbol or None, scale, offset) with expr == scale*symbol + offset, else ValueError."""
    if isinstance(expr, Real):
        return None, 0.0, float(expr)
    expr = sympy.sympify(expr)
    free = expr.free_symbols
    if not free:
        return None, 0.0, float(expr)
    if len(free) == 1:
        offset, rest = expr.as_coeff_Add()
        scale, sym = rest.as_coeff_Mul()
        if isinstance(sym, sympy.Symbol):
            return sym, float(scale), float(offset)
        (sym,) = free
        slope = sympy.diff(expr, sym)
        if not slope.free_symbols:
            return sym, float(slope), float(expr.subs(sym, 0))
    raise ValueError(
        f"angle {expr} is not affine in one symbol: hqsim angles are scale*symbol + offset "
        f"(symbols {sorted(map(str, free))}); resolve the parameters first")
