"""The gates a hybrid program may use, and the ``inv`` / ``ctrl`` rules the front ends apply.

Every fact about a gate (arity, matrix, inverse, controlled form, axes) is its GateSpec in
hqsim/ir/gates.py; this module only picks the gates hybrid programs accept: the circuit gates
except Rot, RXX, RYY and RZZ (no OpenQASM 3 stdgates or Quil spelling; a circuit's Rot is
decomposed on export, hqsim/hybrid/frontends/circuits.py) plus the front-end gates ``I``,
``Sdg``, ``Tdg``, ``CY``, ``CPhase``, ``CCNOT`` and ``CSWAP``.
"""
from __future__ import annotations

import numpy as np

from ..ir.gates import ALL_GATES, GateSpec, controlled_name
from .ir import Const

_NOT_IN_HYBRID = ("Rot", "RXX", "RYY", "RZZ")
GATESET: dict[str, GateSpec] = {n: s for n, s in ALL_GATES.items() if n not in _NOT_IN_HYBRID}


def known(name: str) -> bool:
    return name in GATESET


def gate_matrix(name: str, angles) -> np.ndarray:
    """The complex128 matrix of gate ``name`` at float ``angles``."""
    return GATESET[name].matrix(*angles)


def inverse(name: str, params: tuple) -> tuple[str, tuple, bool] | None:
    """(name, params, exact) of the inverse gate; ``exact`` is False when equal only up to a
    global phase; ``None`` when it cannot be expressed. ``params`` are expressions."""
    spec = GATESET.get(name)
    rule = spec.inverse if spec is not None else None
    if rule is None or rule.name not in GATESET:
        return None
    return rule.name, rule.apply(tuple(params), Const), rule.exact


def controlled(name: str) -> str | None:
    """The name of the singly-controlled gate (control first), or ``None``."""
    return controlled_name(name, GATESET)
