"""Constant propagation and folding (classical values and qubit Pauli states), branch folding.

``fold_constants(program, options)``:

1. runs ``compute_constants`` and rewrites every reachable block with the same transfer
   function: known variables become literals, constant expressions are evaluated, a gate whose
   angles become constants turns from hybrid into quantum, gates that act trivially on a qubit
   in a known Pauli eigenstate disappear or lose their controls, a measurement of a qubit known
   ``|0>``/``|1>`` becomes an assignment, a reset of a qubit known ``|0>`` disappears;
2. folds branches whose condition became constant and drops unreachable blocks;
3. a peephole per block: adjacent gates of one additive kind on the same qubits are merged
   (``merge_rotations``: hqsim.ir.gates.merges, the rule of hqsim.compile's fold; symmetric
   gates such as CPhase merge whichever order their qubits are listed in), gates equal to the
   identity up to a phase are removed, adjacent pairs that cancel are removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...compile.pass_manager import FixedPoint, run_passes
from ..analyses.constants import ConstState, branch_targets, compute_constants, transfer
from ..analyses.pauli_states import cancels, is_identity, merge_rotations
from ..exprs import fold_constant
from ..ir import (Assign, Block, Branch, GateOp, Jump, Measure, Program, Reset,
                  read_locations)
from .simplify_cfg import simplify_cfg


@dataclass(frozen=True)
class FoldOptions:
    """``quantum``: track Pauli states of qubits; ``peephole``: merge/cancel adjacent gates;
    ``max_rounds``: bound on the repeat-until-unchanged loop (run by the pass manager)."""

    quantum: bool = True
    peephole: bool = True
    max_rounds: int = 8


@dataclass(frozen=True)
class _FoldOnce:
    options: FoldOptions
    name: ClassVar[str] = "fold-once"

    def __call__(self, program: Program) -> Program:
        return _fold_once(program, self.options)


def fold_constants(program: Program, options: FoldOptions = FoldOptions()) -> Program:
    """Program in, folded program out (the input is not modified). Repeats until nothing
    changes (a merge can expose a new constant), so applying it twice equals applying it once."""
    stage = FixedPoint((_FoldOnce(options),), options.max_rounds)
    return run_passes(program, [stage]).program


def _fold_once(program: Program, options: FoldOptions) -> Program:
    facts = compute_constants(program)
    blocks = []
    for b in program.blocks:
        if b.label not in facts.entry:
            continue  # unreachable
        st: ConstState = facts.entry[b.label].copy()
        out = []
        for ins in b.instructions:
            if not options.quantum:  # forget qubit states: no quantum constant propagation
                st.qs = [None] * len(st.qs)
            out.extend(transfer(program, st, ins))
        term = _fold_terminator(st, b.terminator)
        if options.peephole:
            out = peephole(out)
        blocks.append(Block(b.label, tuple(out), term))
    return simplify_cfg(program.with_blocks(blocks))


def _fold_terminator(st: ConstState, term):
    if not isinstance(term, Branch):
        return term
    targets = branch_targets(st, term)
    if len(targets) == 1:
        return Jump(targets[0])
    return Branch(st.value(term.cond), term.if_true, term.if_false, term.loc)


def peephole(instrs: list) -> list:
    """Merge same-axis rotations, drop identities and cancelling pairs (per block)."""
    out: list = []
    last: dict = {}   # qubit -> stack of indices into out of instructions touching it
    epoch = 0         # bumped by every classical write; hybrid gates merge only within one
    epochs: dict = {}

    def top(q):
        stack = last.get(q)
        return stack[-1] if stack else None

    def push(i, qubits):
        for q in qubits:
            last.setdefault(q, []).append(i)

    def pop(i, qubits):
        for q in qubits:
            last[q].remove(i)
        out[i] = None

    for ins in instrs:
        if isinstance(ins, GateOp):
            if is_identity(ins):
                continue
            j = top(ins.qubits[0])
            prev = out[j] if j is not None else None
            if (isinstance(prev, GateOp) and set(prev.qubits) == set(ins.qubits)
                    and all(top(q) == j for q in ins.qubits)):
                if cancels(prev, ins):
                    pop(j, ins.qubits)
                    continue
                constant = not any(read_locations(p) for p in prev.params + ins.params)
                merged = merge_rotations(prev, ins) if (constant or epochs[j] == epoch) else None
                if merged is not None:
                    merged = GateOp(merged.name, merged.qubits, tuple(fold_constant(p) for p in merged.params))
                    if is_identity(merged):
                        pop(j, ins.qubits)
                    else:
                        out[j] = merged
                    continue
            out.append(ins)
            epochs[len(out) - 1] = epoch
            push(len(out) - 1, ins.qubits)
        elif isinstance(ins, (Measure, Reset)):
            out.append(ins)
            push(len(out) - 1, (ins.qubit,))
            if isinstance(ins, Measure) and ins.target is not None:
                epoch += 1
        else:
            assert isinstance(ins, Assign)
            out.append(ins)
            epoch += 1
    return [i for i in out if i is not None]

