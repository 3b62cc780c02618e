"""OpenQASM 3 gate names and the ``inv`` / ``ctrl`` / ``pow`` modifiers on lists of gate calls.

A gate call expands to a list of ``Op`` (IR gate name, qubits, angle expressions); ``GPHASE``
(no qubits) carries a global phase that matters only once it is controlled.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..gateset import controlled, inverse
from ..ir import Const, Expr

# qasm name -> (IR name, number of angles, number of qubits, needs stdgates.inc)
QASM_GATES = {
    "U": ("U3", 3, 1, False), "gphase": ("GPHASE", 1, 0, False),
    "id": ("I", 0, 1, True), "x": ("X", 0, 1, True), "y": ("Y", 0, 1, True),
    "z": ("Z", 0, 1, True), "h": ("H", 0, 1, True), "s": ("S", 0, 1, True),
    "sdg": ("Sdg", 0, 1, True), "t": ("T", 0, 1, True), "tdg": ("Tdg", 0, 1, True),
    "sx": ("SX", 0, 1, True), "rx": ("RX", 1, 1, True), "ry": ("RY", 1, 1, True),
    "rz": ("RZ", 1, 1, True), "p": ("PhaseShift", 1, 1, True),
    "phase": ("PhaseShift", 1, 1, True), "u1": ("PhaseShift", 1, 1, True),
    "u2": ("U2", 2, 1, True), "u3": ("U3", 3, 1, True), "u": ("U3", 3, 1, True),
    "cx": ("CNOT", 0, 2, True), "CX": ("CNOT", 0, 2, True), "cy": ("CY", 0, 2, True),
    "cz": ("CZ", 0, 2, True), "cp": ("CPhase", 1, 2, True), "cphase": ("CPhase", 1, 2, True),
    "crx": ("CRX", 1, 2, True), "cry": ("CRY", 1, 2, True), "crz": ("CRZ", 1, 2, True),
    "swap": ("SWAP", 0, 2, True), "ccx": ("CCNOT", 0, 3, True), "cswap": ("CSWAP", 0, 3, True),
}
UNSUPPORTED_STD = {"ch", "cu", "cu1", "cu3", "sxdg"}

# IR name -> qasm spelling (printer)
QASM_NAMES = {"I": "id", "H": "h", "X": "x", "Y": "y", "Z": "z", "S": "s", "Sdg": "sdg",
              "T": "t", "Tdg": "tdg", "SX": "sx", "RX": "rx", "RY": "ry", "RZ": "rz",
              "PhaseShift": "p", "U3": "U", "CNOT": "cx", "CY": "cy", "CZ": "cz",
              "CPhase": "cp", "CRX": "crx", "CRY": "cry", "CRZ": "crz", "SWAP": "swap",
              "CCNOT": "ccx", "CSWAP": "cswap"}


@dataclass(frozen=True)
class Op:
    name: str
    qubits: tuple[int, ...]
    params: tuple[Expr, ...]
    exact: bool = True  # False: equal to the intended gate only up to a global phase


class ModifierError(ValueError):
    pass


def primitive(ir_name: str, qubits, params) -> list[Op]:
    """A builtin gate call as IR ops (``u2`` becomes ``U3(pi/2, phi, lam)``)."""
    if ir_name == "U2":
        return [Op("U3", tuple(qubits), (Const(math.pi / 2),) + tuple(params))]
    return [Op(ir_name, tuple(qubits), tuple(params))]


def invert(ops: list[Op]) -> list[Op]:
    out = []
    for op in reversed(ops):
        if op.name == "GPHASE":
            out.append(Op("GPHASE", (), (-op.params[0],), op.exact))
            continue
        inv = inverse(op.name, op.params)
        if inv is None:
            raise ModifierError(f"inv @ {op.name} is not supported")
        name, params, exact = inv
        out.append(Op(name, op.qubits, tuple(params), op.exact and exact))
    return out


def control(ops: list[Op], ctrl: int) -> list[Op]:
    out = []
    for op in ops:
        if not op.exact:
            raise ModifierError(f"ctrl @ {op.name}: the gate is only known up to a global phase")
        if ctrl in op.qubits:
            raise ModifierError(f"ctrl @ {op.name}: control qubit {ctrl} is also a target")
        if op.name == "GPHASE":
            out.append(Op("PhaseShift", (ctrl,), op.params))
            continue
        name = controlled(op.name)
        if name is None:
            raise ModifierError(f"ctrl @ {op.name} is not supported (controllable gates: "
                                "x, y, z, rx, ry, rz, p, cx, swap)")
        out.append(Op(name, (ctrl,) + op.qubits, op.params))
    return out


def power(ops: list[Op], k: int) -> list[Op]:
    if k < 0:
        return invert(ops) * (-k)
    return ops * k

