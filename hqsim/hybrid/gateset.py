"""The gates a hybrid program may use: hqsim's gate table plus a few the front ends need.

Names and matrices of gates hqsim already knows come from ``hqsim.ir.gates.GATES`` (qubit 0 of
a gate is the most significant bit); this module adds ``I``, ``Sdg``, ``Tdg``, ``CY``,
``CPhase``, ``CCNOT`` and ``CSWAP``, and the rules for the ``inv``/``ctrl`` modifiers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..ir.gates import GATES, PAULI
from .ir import Const


@dataclass(frozen=True)
class HybridGate:
    name: str
    num_qubits: int
    num_params: int
    matrix: Callable  # (*angles) -> complex128 matrix


def _controlled(u: np.ndarray) -> np.ndarray:
    k = u.shape[0]
    out = np.eye(2 * k, dtype=np.complex128)
    out[k:, k:] = u
    return out


def _const(m):
    m = np.asarray(m, dtype=np.complex128)
    return lambda: m


_USED_FROM_IR = ("H", "X", "Y", "Z", "S", "T", "SX", "RX", "RY", "RZ", "PhaseShift", "U3",
                 "CNOT", "CZ", "SWAP", "CRX", "CRY", "CRZ")
_EXTRA = [
    HybridGate("I", 1, 0, _const(np.eye(2))),
    HybridGate("Sdg", 1, 0, _const(np.diag([1, -1j]))),
    HybridGate("Tdg", 1, 0, _const(np.diag([1, np.exp(-1j * np.pi / 4)]))),
    HybridGate("CY", 2, 0, _const(_controlled(PAULI["Y"]))),
    HybridGate("CPhase", 2, 1, lambda a: np.diag([1, 1, 1, np.exp(1j * a)]).astype(np.complex128)),
    HybridGate("CCNOT", 3, 0, _const(_controlled(_controlled(PAULI["X"])))),
    HybridGate("CSWAP", 3, 0, _const(_controlled(np.eye(4)[[0, 2, 1, 3]]))),
]

GATESET: dict[str, HybridGate] = {
    **{n: HybridGate(n, GATES[n].num_qubits, GATES[n].num_params, GATES[n].matrix) for n in _USED_FROM_IR},
    **{g.name: g for g in _EXTRA},
}

SELF_INVERSE = frozenset({"I", "H", "X", "Y", "Z", "CNOT", "CY", "CZ", "SWAP", "CCNOT", "CSWAP"})
_INVERSE_NAME = {"S": "Sdg", "Sdg": "S", "T": "Tdg", "Tdg": "T"}
NEGATE_ANGLE = frozenset({"RX", "RY", "RZ", "PhaseShift", "CRX", "CRY", "CRZ", "CPhase"})
CONTROLLED = {"X": "CNOT", "Y": "CY", "Z": "CZ", "RX": "CRX", "RY": "CRY", "RZ": "CRZ",
              "PhaseShift": "CPhase", "CNOT": "CCNOT", "SWAP": "CSWAP"}
# controlled gates: name -> (number of controls, the gate applied to the targets)
CONTROL_OF = {v: (1, k) for k, v in CONTROLLED.items()}
CONTROL_OF["CCNOT"] = (2, "X")
CONTROL_OF["CSWAP"] = (1, "SWAP")
# single-qubit gates diagonal in a Pauli basis, for any angle: name -> axis
ROTATION_AXIS = {"RX": "X", "RY": "Y", "RZ": "Z", "PhaseShift": "Z"}


def known(name: str) -> bool:
    return name in GATESET


def gate_matrix(name: str, angles) -> np.ndarray:
    """The complex128 matrix of gate ``name`` at float ``angles``."""
    return GATESET[name].matrix(*angles)


def inverse(name: str, params: tuple) -> tuple[str, tuple, bool] | None:
    """(name, params, exact) of the inverse gate; ``exact`` is False when equal only up to a
    global phase; ``None`` when it cannot be expressed. ``params`` are expressions."""
    if name in SELF_INVERSE:
        return name, params, True
    if name in _INVERSE_NAME:
        return _INVERSE_NAME[name], params, True
    if name in NEGATE_ANGLE:
        return name, tuple(-p for p in params), True
    if name == "U3":
        theta, phi, lam = params
        return "U3", (-theta, -lam, -phi), True
    if name == "SX":
        return "RX", (Const(-np.pi / 2),), False
    return None


def controlled(name: str) -> str | None:
    """The name of the singly-controlled gate (control first), or ``None``."""
    return CONTROLLED.get(name)
