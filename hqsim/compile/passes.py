"""Circuit-level passes: pure functions ``f(circuit, ...) -> circuit`` that keep expectation values.

- ``fold_constants``: merge consecutive same-axis rotations on the same qubits when their
  angles add into one affine expression, and drop rotations whose angle is the constant 0.
- ``drop_outside_light_cone``: drop gates that cannot influence the observables.
"""
from __future__ import annotations

from ..ir import Circuit, Gate, Param
from ..ir.observables import as_observable

# Gates G(a) G(b) = G(a + b) exactly (not just up to a global phase).
_ADDITIVE = {"RX", "RY", "RZ", "PhaseShift", "CRX", "CRY", "CRZ", "RXX", "RYY", "RZZ"}
# Symmetric two-qubit gates: the qubit order does not matter.
_SYMMETRIC = {"RXX", "RYY", "RZZ", "CZ", "SWAP"}


def _key(g: Gate):
    qs = tuple(sorted(g.qubits)) if g.name in _SYMMETRIC else g.qubits
    return g.name, qs


def _try_merge(a: Gate, b: Gate) -> Gate | None:
    if a.name not in _ADDITIVE or _key(a) != _key(b):
        return None
    try:
        merged = a.params[0] + b.params[0]
    except ValueError:  # two different symbols: not representable as one angle
        return None
    return a.with_params([merged])


def _is_identity(g: Gate) -> bool:
    return g.name in _ADDITIVE and g.params[0].is_constant and g.params[0].offset == 0.0


def fold_constants(circuit: Circuit) -> Circuit:
    """Merge adjacent (on their qubits) same-axis rotations; drop zero-angle rotations."""
    out: list[Gate | None] = []
    last_on: dict[int, int] = {}  # qubit -> index in out of the last gate touching it
    for g in circuit.gates:
        prev = {last_on.get(q) for q in g.qubits}
        if len(prev) == 1 and None not in prev:
            i = prev.pop()
            p = out[i]
            if p is not None and set(p.qubits) == set(g.qubits):
                merged = _try_merge(p, g)
                if merged is not None:
                    out[i] = None if _is_identity(merged) else merged
                    if out[i] is None:
                        for q in g.qubits:
                            last_on.pop(q, None)
                    continue
        if _is_identity(g):
            continue
        out.append(g)
        for q in g.qubits:
            last_on[q] = len(out) - 1
    return circuit.replace_gates(g for g in out if g is not None)


def light_cone_qubits(observables) -> set[int]:
    return {q for o in observables for q in as_observable(o).qubits}


def drop_outside_light_cone(circuit: Circuit, observables) -> Circuit:
    """Keep only gates in the backward light cone of the observables' qubits.

    Walking backwards, a gate is kept iff it touches a qubit already in the cone; then all
    its qubits join the cone. A dropped gate acts only on qubits that are traced out.
    """
    cone = light_cone_qubits(observables)
    kept = []
    for g in reversed(circuit.gates):
        if cone.intersection(g.qubits):
            kept.append(g)
            cone.update(g.qubits)
    return circuit.replace_gates(reversed(kept))


def compile_for_expectation(circuit: Circuit, observables) -> Circuit:
    """The default pipeline before lowering, iterated to a fixed point."""
    current = circuit
    while True:
        nxt = drop_outside_light_cone(fold_constants(current), observables)
        if len(nxt.gates) == len(current.gates):
            return nxt
        current = nxt


def uses(params: tuple[Param, ...], source: int) -> bool:
    return any(p.source == source and not p.is_constant for p in params)
