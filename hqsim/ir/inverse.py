"""Inverse of a single gate, keeping parametric gates parametric where possible."""
from __future__ import annotations

import numpy as np

from .gates import GATES, Gate
from .params import const


def inverse_gate(g: Gate) -> Gate:
    """The exact inverse: the gate's InverseRule when it names a circuit gate, else (a
    constant gate) the conjugate transpose as a ``Unitary``."""
    rule = g.spec.inverse if g.spec is not None else None
    if rule is not None and rule.exact and rule.name in GATES:
        return Gate(rule.name, g.qubits, rule.apply(g.params, const))
    if g.is_constant:
        m = g.unitary()
        return Gate("Unitary", g.qubits, (), np.ascontiguousarray(m.conj().T))
    raise ValueError(f"no inverse for gate {g!r}")
