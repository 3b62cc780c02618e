"""Data dependences between the instructions of one basic block.

``compute_dependences(instrs)`` returns a frozen ``DependenceGraph``: an edge i -> j (i < j)
when j must stay after i: they touch a common qubit, or one writes a classical location the
other reads or writes (array elements with constant indices are separate locations; a computed
index or a whole-array read touches all of them). Any topological order of the graph is an
equivalent block.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import (Assign, GateOp, Kind, Measure, instruction_kind, instruction_qubits,
                  location, read_locations)


@dataclass(frozen=True)
class DependenceGraph:
    preds: tuple[frozenset, ...]
    succs: tuple[frozenset, ...]
    kinds: tuple[Kind, ...]


def accesses(ins) -> tuple[set, set]:
    """(classical locations read, classical locations written) by one instruction."""
    reads, writes = set(), set()
    if isinstance(ins, Assign):
        reads |= read_locations(ins.value)
        if ins.target.index is not None:
            reads |= read_locations(ins.target.index)
        writes.add(location(ins.target))
    elif isinstance(ins, GateOp):
        for p in ins.params:
            reads |= read_locations(p)
    elif isinstance(ins, Measure) and ins.target is not None:
        if ins.target.index is not None:
            reads |= read_locations(ins.target.index)
        writes.add(location(ins.target))
    return reads, writes


class _Tracker:
    """Last writer and readers-since-write per location (element or whole array)."""

    def __init__(self):
        self.last_write: dict = {}
        self.readers: dict = {}
        self.elements: dict = {}  # name -> set of element keys seen

    def _related(self, loc):
        name, idx = loc
        if idx is None:
            return [(name, None)] + [(name, k) for k in self.elements.get(name, ())]
        return [(name, idx), (name, None)]

    def read(self, j, loc, deps):
        for key in self._related(loc):
            if key in self.last_write:
                deps.add(self.last_write[key])
        self.readers.setdefault(loc, []).append(j)
        if loc[1] is not None:
            self.elements.setdefault(loc[0], set()).add(loc[1])

    def write(self, j, loc, deps):
        for key in self._related(loc):
            if key in self.last_write:
                deps.add(self.last_write[key])
            deps.update(self.readers.get(key, ()))
        name, idx = loc
        if idx is None:
            for key in self._related(loc):
                self.last_write.pop(key, None)
                self.readers.pop(key, None)
        else:
            self.elements.setdefault(name, set()).add(idx)
            self.readers[loc] = []
        self.last_write[loc] = j


def compute_dependences(instrs) -> DependenceGraph:
    n = len(instrs)
    preds = [set() for _ in range(n)]
    last_on_qubit: dict = {}
    tracker = _Tracker()
    for j, ins in enumerate(instrs):
        deps = preds[j]
        for q in instruction_qubits(ins):
            if q in last_on_qubit:
                deps.add(last_on_qubit[q])
            last_on_qubit[q] = j
        reads, writes = accesses(ins)
        for loc in reads:
            tracker.read(j, loc, deps)
        for loc in writes:
            tracker.write(j, loc, deps)
        deps.discard(j)
    succs = [set() for _ in range(n)]
    for j, ps in enumerate(preds):
        for i in ps:
            succs[i].add(j)
    return DependenceGraph(tuple(frozenset(p) for p in preds), tuple(frozenset(s) for s in succs),
                           tuple(instruction_kind(i) for i in instrs))
