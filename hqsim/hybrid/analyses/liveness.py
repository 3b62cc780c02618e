"""Live-variable analysis over classical locations and qubits (backward data flow).

A classical location is ``(name, index)``; ``index`` is ``None`` for a scalar, or for a whole
array (all of its elements), which is what a read with a computed index makes live. A qubit is
live at a point when some later measurement whose result (or whose collapse) matters can depend
on its state: it is measured later, or a later live gate couples it to a live qubit. Outputs are
live at every ``Halt``.

Per instruction, going backwards from the live set after it (``needed`` decides whether the
instruction has an observable effect):

- ``Assign``: needed when its target overlaps a live location; kills a precisely known target.
- gate: needed when one of its qubits is live; then all its qubits and the variables its angles
  read are live before it (its backward light cone).
- ``Measure``: needed when its qubit is live after it or its target is live; kills the target.
- ``Reset``: needed when its qubit is live after it; the qubit is dead before it (a local
  operation on a qubit that is reset cannot change the other qubits' reduced state).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from ..ir import (Assign, Branch, GateOp, Halt, Measure, Program, Ref, Reset,
                  location, read_locations, successors)


@dataclass(frozen=True)
class Live:
    classical: frozenset = frozenset()
    qubits: frozenset = frozenset()

    def union(self, other: "Live") -> "Live":
        return Live(self.classical | other.classical, self.qubits | other.qubits)


@dataclass(frozen=True)
class LivenessFacts:
    live_in: MappingProxyType   # label -> Live at block entry
    live_out: MappingProxyType  # label -> Live after the terminator's reads


def overlaps(program: Program, loc, live: frozenset) -> bool:
    name, idx = loc
    if (name, None) in live:
        return True
    if idx is None:
        return any(n == name for n, _ in live)
    return (name, idx) in live


def _kill(program: Program, target: Ref, live: frozenset) -> frozenset:
    name, idx = location(target)
    decl = program.var_map[name]
    if decl.size is None:
        return live - {(name, None)}
    if idx is not None and target.index is not None:
        return live - {(name, idx)}
    return live


def _reads_of_target(target: Ref) -> set:
    return set() if target.index is None else read_locations(target.index)


def step_back(program: Program, ins, live: Live) -> tuple[bool, Live]:
    """(needed, live set before ``ins``) given the live set after it."""
    if isinstance(ins, Assign):
        if not overlaps(program, location(ins.target), live.classical):
            return False, live
        cl = _kill(program, ins.target, live.classical)
        cl = cl | read_locations(ins.value) | _reads_of_target(ins.target)
        return True, Live(frozenset(cl), live.qubits)
    if isinstance(ins, GateOp):
        if not any(q in live.qubits for q in ins.qubits):
            return False, live
        reads = set().union(*(read_locations(p) for p in ins.params)) if ins.params else set()
        return True, Live(live.classical | frozenset(reads), live.qubits | frozenset(ins.qubits))
    if isinstance(ins, Measure):
        target_live = ins.target is not None and overlaps(program, location(ins.target), live.classical)
        if not target_live and ins.qubit not in live.qubits:
            return False, live
        cl = live.classical
        if ins.target is not None:
            cl = _kill(program, ins.target, cl) | frozenset(_reads_of_target(ins.target))
        return True, Live(frozenset(cl), live.qubits | {ins.qubit})
    if isinstance(ins, Reset):
        if ins.qubit not in live.qubits:
            return False, live
        return True, Live(live.classical, live.qubits - {ins.qubit})
    raise TypeError(f"not an instruction: {ins!r}")


def terminator_live(program: Program, term, succ_live: Live) -> Live:
    if isinstance(term, Halt):
        return Live(frozenset((name, None) for name in program.outputs), frozenset())
    if isinstance(term, Branch):
        return Live(succ_live.classical | frozenset(read_locations(term.cond)), succ_live.qubits)
    return succ_live


def compute_liveness(program: Program) -> LivenessFacts:
    live_in: dict = {b.label: Live() for b in program.blocks}
    live_out: dict = {}
    changed = True
    order = list(reversed(program.blocks))
    while changed:
        changed = False
        for b in order:
            succ = Live()
            for s in successors(b.terminator):
                succ = succ.union(live_in[s])
            out = terminator_live(program, b.terminator, succ)
            live = out
            for ins in reversed(b.instructions):
                _, live = step_back(program, ins, live)
            live_out[b.label] = out
            if live != live_in[b.label]:
                live_in[b.label] = live
                changed = True
    return LivenessFacts(MappingProxyType(live_in), MappingProxyType(live_out))
