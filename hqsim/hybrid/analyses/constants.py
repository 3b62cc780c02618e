"""Constant analysis: classical values and qubit Pauli states (sparse conditional propagation).

``compute_constants(program)`` is a forward data-flow analysis over the CFG that follows only
feasible edges (a branch whose condition is constant feeds only one successor). Per program
point it knows each classical location's value (or ``TOP``: not constant) and each qubit's
state: one of the six Pauli eigenstates (see ``analyses.pauli_states``) or ``None``
(unknown). At the entry, inputs are ``TOP``, other variables 0 and every qubit ``|0>``.

``transfer`` is the single transfer function: the analysis uses its effect on the state and
``fold_constants`` uses the rewritten instructions it returns, so the two cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from ..errors import HybridRuntimeError
from ..exprs import Unknown, as_index, coerce, simplify
from ..ir import (Assign, Branch, Const, GateOp, Halt, Instruction, Jump, Measure, Program, Ref,
                 Reset, Role)
from .pauli_states import GateFold, fold_gate, measured_value


class _Top:
    __slots__ = ()

    def __repr__(self):
        return "TOP"


TOP = _Top()


def _same(a, b) -> bool:
    return a is b or (type(a) is type(b) and a == b)


class ConstState:
    """Mutable working state of the analysis (facts hand out copies)."""

    __slots__ = ("cl", "qs", "_sizes")

    def __init__(self, cl: dict, qs: list, sizes: dict):
        self.cl, self.qs, self._sizes = cl, qs, sizes

    @classmethod
    def initial(cls, program: Program) -> "ConstState":
        cl, sizes = {}, {}
        for v in program.variables:
            val = TOP if v.role is Role.INPUT else v.zero
            sizes[v.name] = v.size
            if v.size is None:
                cl[(v.name, None)] = val
            else:
                cl.update({(v.name, i): val for i in range(v.size)})
        return cls(cl, ["0"] * program.num_qubits, sizes)

    def copy(self) -> "ConstState":
        return ConstState(dict(self.cl), list(self.qs), self._sizes)

    def join(self, other: "ConstState") -> bool:
        changed = False
        for k, v in other.cl.items():
            mine = self.cl[k]
            if mine is not TOP and not _same(mine, v):
                self.cl[k] = TOP
                changed = True
        for q, s in enumerate(other.qs):
            if self.qs[q] is not None and self.qs[q] != s:
                self.qs[q] = None
                changed = True
        return changed

    def lookup(self, name: str, idx):
        size = self._sizes[name]
        if idx is None and size is not None:  # whole bit register as an integer
            vals = [self.cl[(name, i)] for i in range(size)]
            if any(v is TOP for v in vals):
                raise Unknown()
            return sum(int(b) << k for k, b in enumerate(vals))
        if size is not None and not 0 <= idx < size:
            raise Unknown()  # out of range: leave it to the run-time error
        v = self.cl[(name, None if size is None else idx)]
        if v is TOP:
            raise Unknown()
        return v

    def value(self, expr):
        """The expression simplified against this state (a ``Const`` when fully known)."""
        return simplify(expr, self.lookup)

    def write(self, program: Program, target: Ref, value) -> Ref:
        """Store ``value`` (a number or TOP); returns the target with its index simplified."""
        decl = program.var_map[target.name]
        if value is not TOP:
            try:
                value = coerce(decl.type, value)
            except HybridRuntimeError:
                value = TOP
        if target.index is None:
            self.cl[(target.name, None)] = value
            return target
        index = self.value(target.index)
        if isinstance(index, Const) and isinstance(index.value, int) and 0 <= index.value < decl.size:
            self.cl[(target.name, as_index(index.value))] = value
        else:
            for i in range(decl.size):
                self.cl[(target.name, i)] = TOP
        return Ref(target.name, index)


def transfer(program: Program, st: ConstState, ins: Instruction) -> list:
    """Apply ``ins`` to ``st`` (in place); return the instruction(s) it folds to."""
    if isinstance(ins, Assign):
        value = st.value(ins.value)
        target = st.write(program, ins.target, value.value if isinstance(value, Const) else TOP)
        return [Assign(target, value, ins.loc)]
    if isinstance(ins, GateOp):
        gate = GateOp(ins.name, ins.qubits, tuple(st.value(p) for p in ins.params), ins.loc)
        res: GateFold = fold_gate(gate, tuple(st.qs[q] for q in gate.qubits))
        for q, s in zip(gate.qubits, res.states):
            st.qs[q] = s
        if res.action == "remove":
            return []
        return list(res.replacement) if res.action == "replace" else [gate]
    if isinstance(ins, Measure):
        known = measured_value(st.qs[ins.qubit])
        if known is None:
            st.qs[ins.qubit] = None
            target = None if ins.target is None else st.write(program, ins.target, TOP)
            return [Measure(ins.qubit, target, ins.loc)]
        if ins.target is None:
            return []
        return [Assign(st.write(program, ins.target, known), Const(known), ins.loc)]
    if isinstance(ins, Reset):
        was_zero = st.qs[ins.qubit] == "0"
        st.qs[ins.qubit] = "0"
        return [] if was_zero else [ins]
    raise TypeError(f"not an instruction: {ins!r}")


def branch_targets(st: ConstState, term) -> tuple[str, ...]:
    """Feasible successors of a terminator under ``st``."""
    if isinstance(term, Jump):
        return (term.target,)
    if isinstance(term, Branch):
        cond = st.value(term.cond)
        if isinstance(cond, Const):
            return (term.if_true if cond.value else term.if_false,)
        return (term.if_true, term.if_false)
    assert isinstance(term, Halt)
    return ()


@dataclass(frozen=True)
class ConstantFacts:
    """Block entry/exit states (read-only views; call ``.copy()`` before changing one), the
    feasible edges and the reachable blocks."""

    entry: MappingProxyType
    exit: MappingProxyType
    feasible_edges: frozenset

    @property
    def reachable(self) -> frozenset:
        return frozenset(self.entry)

    def edge_state(self, src: str) -> ConstState:
        return self.exit[src]


def compute_constants(program: Program, max_visits: int = 100_000) -> ConstantFacts:
    order = {b.label: i for i, b in enumerate(program.blocks)}
    entry: dict = {program.entry: ConstState.initial(program)}
    exits: dict = {}
    edges: set = set()
    work = {program.entry}
    visits = 0
    while work:
        label = min(work, key=order.__getitem__)
        work.discard(label)
        visits += 1
        if visits > max_visits:
            raise RuntimeError("constant analysis did not converge")
        st = entry[label].copy()
        block = program.block_map[label]
        for ins in block.instructions:
            transfer(program, st, ins)
        exits[label] = st
        for succ in branch_targets(st, block.terminator):
            edges.add((label, succ))
            if succ not in entry:
                entry[succ] = st.copy()
                work.add(succ)
            elif entry[succ].join(st):
                work.add(succ)
    return ConstantFacts(MappingProxyType(entry), MappingProxyType(exits), frozenset(edges))
