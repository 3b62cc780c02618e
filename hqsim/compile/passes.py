"""Circuit-level passes: pure functions ``f(circuit, ...) -> circuit`` that keep expectation values.

- ``fold_constants``: merge consecutive gates of one additive kind on the same qubits (the
  GateSpec's ``additive`` and ``symmetric`` facts) when their angles add into one angle, and
  drop gates that act as the identity.
- ``drop_outside_light_cone``: drop gates that cannot influence the observables (the light
  cone of hqsim/compile/analyses.py).

``FoldConstants`` and ``DropOutsideLightCone`` are the same passes as objects for the pass
manager (hqsim/compile/pass_manager.py), which owns the loop to a fixed point.

The hybrid optimizer runs ``FoldConstants`` on its quantum segments too
(hqsim/hybrid/passes/fold.py): a block's gates, lifted into a ``Segment`` whose angles are the
program's classical expressions and whose measurements, resets and assignments are ``Opaque``
operations kept in place. An angle only has to add (``a + b``; ValueError when the sum is not
one angle), say ``is_constant`` and give a constant's ``value()``, as ``hqsim.ir.Param`` does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..ir import Circuit, Gate
from ..ir.gate_matrices import is_identity_up_to_phase
from ..ir.gates import ALL_GATES, merges
from .analyses import compute_light_cone
from .pass_manager import FixedPoint, run_passes


@dataclass(frozen=True)
class Opaque:
    """An operation the circuit passes keep in place and never look into (in a hybrid segment:
    a measurement, reset or classical assignment); no gate merges or cancels across it on
    ``qubits``. ``op`` is what it stands for."""

    qubits: tuple
    op: object


@dataclass(frozen=True)
class Segment:
    """A straight-line run of gates and ``Opaque`` operations: a hybrid program's block as the
    circuit passes see it (it has no qubit count, so it is not a ``Circuit``)."""

    gates: tuple

    def replace_gates(self, gates) -> "Segment":
        return Segment(tuple(gates))


@dataclass(frozen=True)
class FoldConstants:
    """Merge adjacent (on their qubits) gates of one additive kind; drop identities.

    Options: ``phase_identities``: a gate with constant angles whose matrix is the identity up
    to a global phase (RX(2 pi), I) is dropped, not only an additive gate at angle exactly 0;
    ``cancel_pairs``: two adjacent constant gates on the same qubits whose product is the
    identity up to a phase (H H, CNOT CNOT, S Sdg) are dropped. The hybrid optimizer turns both
    on; hqsim.compile's schedule leaves them off, so its output stays what it has always been
    (bench/compile_snapshot.py records it).
    """

    phase_identities: bool = False
    cancel_pairs: bool = False
    name: ClassVar[str] = "fold"

    def __call__(self, circuit):
        return circuit.replace_gates(self.fold(circuit.gates))

    def fold(self, ops) -> list:
        out: list = []
        on_qubit: dict = {}  # qubit -> indices into out of the live ops touching it, last on top

        def top(q):
            stack = on_qubit.get(q)
            return stack[-1] if stack else None

        def drop(i):
            for q in out[i].qubits:
                on_qubit[q].remove(i)
            out[i] = None

        for op in ops:
            if isinstance(op, Gate):
                if self.is_identity(op):
                    continue
                j = top(op.qubits[0])
                prev = out[j] if j is not None else None
                if (isinstance(prev, Gate) and set(prev.qubits) == set(op.qubits)
                        and all(top(q) == j for q in op.qubits)):
                    if self.cancel_pairs and _cancel(prev, op):
                        drop(j)
                        continue
                    merged = _try_merge(prev, op)
                    if merged is not None:
                        if self.is_identity(merged):
                            drop(j)
                        else:
                            out[j] = merged
                        continue
            out.append(op)
            for q in op.qubits:
                on_qubit.setdefault(q, []).append(len(out) - 1)
        return [op for op in out if op is not None]

    def is_identity(self, g: Gate) -> bool:
        spec = ALL_GATES.get(g.name)
        if spec is None:
            return False
        if not self.phase_identities:  # an additive gate (one angle) at the constant 0
            return spec.additive and g.params[0].is_constant and g.params[0].value() == 0.0
        return (all(p.is_constant for p in g.params)
                and is_identity_up_to_phase(spec.matrix(*(p.value() for p in g.params))))


def _try_merge(a: Gate, b: Gate) -> Gate | None:
    if not merges(a.name, a.qubits, b.name, b.qubits):
        return None
    try:
        merged = a.params[0] + b.params[0]
    except ValueError:  # two different symbols: not representable as one angle
        return None
    return a.with_params([merged])


def _cancel(a: Gate, b: Gate) -> bool:
    """Constant gates on the same qubits in the same order whose product is a global phase."""
    spec_a, spec_b = ALL_GATES.get(a.name), ALL_GATES.get(b.name)
    if (a.qubits != b.qubits or spec_a is None or spec_b is None
            or not all(p.is_constant for p in a.params + b.params)):
        return False
    m = spec_b.matrix(*(p.value() for p in b.params)) @ spec_a.matrix(*(p.value() for p in a.params))
    return is_identity_up_to_phase(m)


def fold_constants(circuit: Circuit) -> Circuit:
    """Merge adjacent (on their qubits) gates of one additive kind; drop zero-angle ones."""
    return FoldConstants()(circuit)


def drop_outside_light_cone(circuit: Circuit, observables) -> Circuit:
    """Keep only the gates in the backward light cone of the observables' qubits."""
    cone = compute_light_cone(circuit.gates, observables)
    return circuit.replace_gates(g for g, keep in zip(circuit.gates, cone.keep) if keep)


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
