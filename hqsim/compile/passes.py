"""Circuit-level passes: pure functions ``f(circuit, ...) -> circuit`` that keep expectation values.

- ``fold_constants``: merge consecutive gates of one additive kind on the same qubits (the
  GateSpec's ``additive`` and ``symmetric`` facts) when their angles add into one affine
  expression, and drop additive gates whose angle is the constant 0.
- ``drop_outside_light_cone``: drop gates that cannot influence the observables (the light
  cone of hqsim/compile/analyses.py).
"""
from __future__ import annotations

from ..ir import Circuit, Gate
from ..ir.gates import merges
from .analyses import compute_light_cone


def _try_merge(a: Gate, b: Gate) -> Gate | None:
    if not merges(a.name, a.qubits, b.name, b.qubits):
        return None
    try:
        merged = a.params[0] + b.params[0]
    except ValueError:  # two different symbols: not representable as one angle
        return None
    return a.with_params([merged])


def _is_identity(g: Gate) -> bool:
    spec = g.spec
    return (spec is not None and spec.additive and g.params[0].is_constant
            and g.params[0].offset == 0.0)


def fold_constants(circuit: Circuit) -> Circuit:
    """Merge adjacent (on their qubits) gates of one additive kind; drop zero-angle ones."""
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


def drop_outside_light_cone(circuit: Circuit, observables) -> Circuit:
    """Keep only the gates in the backward light cone of the observables' qubits."""
    cone = compute_light_cone(circuit.gates, observables)
    return circuit.replace_gates(g for g, keep in zip(circuit.gates, cone.keep) if keep)


def compile_for_expectation(circuit: Circuit, observables) -> Circuit:
    """The default pipeline before lowering, iterated to a fixed point."""
    current = circuit
    while True:
        nxt = drop_outside_light_cone(fold_constants(current), observables)
        if len(nxt.gates) == len(current.gates):
            return nxt
        current = nxt
