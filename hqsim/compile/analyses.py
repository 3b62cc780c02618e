"""Circuit analyses: facts computed from a circuit (frozen results), never a changed circuit.

The passes (hqsim/compile/passes.py) and the noise expansion (hqsim/noise/expand.py) read
the same light cone from here.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir.observables import as_observable


def observable_qubits(observables) -> frozenset[int]:
    """The qubits any of ``observables`` reads."""
    return frozenset(q for o in observables for q in as_observable(o).qubits)


@dataclass(frozen=True)
class LightCone:
    """``keep[i]``: gate i can influence the observables; ``qubits``: the cone's qubits before
    the first gate."""

    keep: tuple[bool, ...]
    qubits: frozenset[int]


def compute_light_cone(gates, observables) -> LightCone:
    """The backward light cone of the observables' qubits.

    Walking backwards, a gate is in the cone iff it touches a qubit already in it; then all
    its qubits join. A gate outside acts only on qubits that are traced out.
    """
    cone = set(observable_qubits(observables))
    keep = [False] * len(gates)
    for i in range(len(gates) - 1, -1, -1):
        if cone.intersection(gates[i].qubits):
            keep[i] = True
            cone.update(gates[i].qubits)
    return LightCone(tuple(keep), frozenset(cone))
