"""Inverse of a single gate, keeping parametric gates parametric where possible."""
from __future__ import annotations

import numpy as np

from .gates import Gate

_SELF_INVERSE = {"H", "X", "Y", "Z", "CNOT", "CZ", "SWAP"}
_NEGATE = {"RX", "RY", "RZ", "PhaseShift", "CRX", "CRY", "CRZ", "RXX", "RYY", "RZZ"}


def inverse_gate(g: Gate) -> Gate:
    if g.name in _SELF_INVERSE:
        return g
    if g.name in _NEGATE:
        return g.with_params([-p for p in g.params])
    if g.name == "Rot":  # (RZ(w) RY(t) RZ(p))^-1 = RZ(-p) RY(-t) RZ(-w) = Rot(-w, -t, -p)
        p, t, w = g.params
        return g.with_params([-w, -t, -p])
    if g.name == "U3":  # U3(t, p, l)^-1 = U3(-t, -l, -p)
        t, p, l = g.params
        return g.with_params([-t, -l, -p])
    if g.is_constant:
        m = g.unitary()
        return Gate("Unitary", g.qubits, (), np.ascontiguousarray(m.conj().T))
    raise ValueError(f"no inverse for gate {g!r}")
