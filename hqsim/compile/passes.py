"""Circuit-level passes: pure functions ``f(circuit, ...) -> circuit`` that keep expectation values.

- ``fold_constants``: merge consecutive gates of one additive kind on the same qubits (the
  GateSpec's ``additive`` and ``symmetric`` facts) when their angles add into one affine
  expression, and drop additive gates whose angle is the constant 0.
- ``drop_outside_light_cone``: drop gates that cannot influence the observables (the light
  cone of hqsim/compile/analyses.py).

``FoldConstants`` and ``DropOutsideLightCone`` are the same passes as objects for the pass
manager (hqsim/compile/pass_manager.py), which owns the loop to a fixed point; the hybrid
optimizer runs its passes on the same manager.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..ir import Circuit, Gate
from ..ir.gates import merges
from .analyses import compute_light_cone
from .pass_manager import FixedPoint, run_passes


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


@dataclass(frozen=True)
class FoldConstants:
    """``fold_constants`` as a pass object (no options)."""

    name: ClassVar[str] = "fold"

    def __call__(self, circuit: Circuit) -> Circuit:
        return fold_constants(circuit)


@dataclass(frozen=True)
class DropOutsideLightCone:
    """``drop_outside_light_cone`` for fixed ``observables``."""

    observables: tuple
    name: ClassVar[str] = "light-cone"

    def __call__(self, circuit: Circuit) -> Circuit:
        return drop_outside_light_cone(circuit, self.observables)


def gates_changed(old: Circuit, new: Circuit) -> bool:
    return old.gates != new.gates


def expectation_schedule(circuit: Circuit, observables) -> list:
    """The default schedule before lowering: fold and light cone to a fixed point. Every
    change removes a gate, so len(gates) + 1 rounds always reach it."""
    return [FixedPoint((FoldConstants(), DropOutsideLightCone(tuple(observables))),
                       max_rounds=len(circuit.gates) + 1)]


def compile_for_expectation(circuit: Circuit, observables) -> Circuit:
    """The default pipeline before lowering (``expectation_schedule``)."""
    schedule = expectation_schedule(circuit, observables)
    return run_passes(circuit, schedule, changed=gates_changed).program
