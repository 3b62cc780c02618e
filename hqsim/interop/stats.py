"""Gate counts and depths of Cirq circuits, before and after compiling for a target."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ._deps import cirq


@dataclass(frozen=True)
class CircuitStats:
    """Facts about one circuit; measurements and global phases are not counted as gates.

    ``depth`` / ``two_qubit_depth``: length of the longest chain of dependent gates (all
    gates / gates on two or more qubits only) when gates run as early as possible.
    """

    num_qubits: int
    num_gates: int
    num_two_qubit_gates: int
    depth: int
    two_qubit_depth: int
    gate_counts: tuple[tuple[str, int], ...]  # (gate name, count), most frequent first


@dataclass(frozen=True)
class CompileReport:
    target: str
    before: CircuitStats
    after: CircuitStats

    def format(self) -> str:
        rows = [("qubits", "num_qubits"), ("gates", "num_gates"), ("2q gates", "num_two_qubit_gates"),
                ("depth", "depth"), ("2q depth", "two_qubit_depth")]
        lines = [f"compiled for {self.target}:", f"  {'':<10}{'before':>8}{'after':>8}"]
        lines += [f"  {label:<10}{getattr(self.before, f):>8}{getattr(self.after, f):>8}"
                  for label, f in rows]
        for tag, s in (("before", self.before), ("after", self.after)):
            lines.append(f"  {tag} gates: " + ", ".join(f"{n}:{k}" for n, k in s.gate_counts))
        return "\n".join(lines)


def gate_name(gate) -> str:
    """A short name: ``CZPowGate`` -> ``CZ``, ``_PauliX`` -> ``X``, ``ControlledGate(Rx)`` -> ``CRx``."""
    if isinstance(gate, cirq.ControlledGate):
        return "C" * gate.num_controls() + gate_name(gate.sub_gate)
    name = type(gate).__name__.lstrip("_").replace("Pauli", "")
    for suffix in ("PowGate", "Gate"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def compute_circuit_stats(circuit: cirq.AbstractCircuit) -> CircuitStats:
    """Stats of a Cirq circuit (operations in moment order)."""
    level: dict = {}
    level2: dict = {}
    counts: Counter = Counter()
    n_gates = n_two = depth = depth2 = 0
    for op in circuit.all_operations():
        if op.gate is not None and isinstance(op.gate, (cirq.MeasurementGate, cirq.GlobalPhaseGate)):
            continue
        if not op.qubits:
            continue
        n_gates += 1
        counts[gate_name(op.gate) if op.gate is not None else type(op).__name__] += 1
        d = 1 + max(level.get(q, 0) for q in op.qubits)
        for q in op.qubits:
            level[q] = d
        depth = max(depth, d)
        if len(op.qubits) >= 2:
            n_two += 1
            d2 = 1 + max(level2.get(q, 0) for q in op.qubits)
            for q in op.qubits:
                level2[q] = d2
            depth2 = max(depth2, d2)
    return CircuitStats(len(circuit.all_qubits()), n_gates, n_two, depth, depth2,
                        tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))))
