"""OpenQASM 3 gate names and the ``inv`` / ``ctrl`` / ``pow`` modifiers on lists of gate calls.

A gate call expands to a list of ``Op`` (IR gate name, qubits, angle expressions); ``GPHASE``
(no qubits) carries a global phase that matters only once it is controlled.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ...ir.gates import by_spelling
from ..gateset import GATESET, controlled, inverse
from ..ir import Const, Expr

# qasm name -> (IR name, number of angles, number of qubits, needs stdgates.inc): every
# OpenQASM spelling of a GateSpec (hqsim/ir/gates.py) of the hybrid gate set, plus the two
# builtins that are no gate of hqsim (gphase, and u2 = U3(pi/2, phi, lam): see ``primitive``).
QASM_GATES = {name: (spec.name, spec.num_params, spec.num_qubits, name != "U")
              for name, spec in by_spelling("qasm", GATESET).items()}
QASM_GATES.update({"gphase": ("GPHASE", 1, 0, False), "u2": ("U2", 2, 1, True)})
UNSUPPORTED_STD = {"ch", "cu", "cu1", "cu3", "sxdg"}

# IR name -> qasm spelling (printer)
QASM_NAMES = {name: spec.names.first("qasm") for name, spec in GATESET.items() if spec.names.qasm}


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

