"""Dead-code elimination driven by ``compute_liveness``.

Removes every instruction without an observable effect (see ``liveness``): assignments to dead
locations, gates outside every measured qubit's backward light cone (including everything on
qubits that are never measured nor coupled to a measured qubit), measurements whose result and
collapse are both unobservable, resets of dead qubits. Then, with ``compact_qubits``, qubits no
instruction touches are removed from the program (registers shrink, qubits are renumbered), and
unreferenced local variables are dropped. Inputs and outputs are never dropped.

Assumes, like any optimizing compiler, that a removed assignment would not have failed at run
time (e.g. a division by zero whose result is never used).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..analyses.liveness import Live, compute_liveness, step_back, terminator_live
from ..ir import (Assign, Block, Branch, GateOp, Measure, Program, QubitRegister, Reset, Role,
                  instruction_qubits, refs, successors)


@dataclass(frozen=True)
class DceOptions:
    """``compact_qubits``: drop untouched qubits; ``drop_variables``: drop unused locals."""

    compact_qubits: bool = True
    drop_variables: bool = True


def eliminate_dead_code(program: Program, options: DceOptions = DceOptions()) -> Program:
    facts = compute_liveness(program)
    blocks = []
    for b in program.blocks:
        succ = Live()
        for s in successors(b.terminator):
            succ = succ.union(facts.live_in[s])
        live = terminator_live(program, b.terminator, succ)
        kept = []
        for ins in reversed(b.instructions):
            needed, live = step_back(program, ins, live)
            if needed:
                kept.append(ins)
        blocks.append(Block(b.label, tuple(reversed(kept)), b.terminator))
    out = program.with_blocks(blocks)
    if options.compact_qubits:
        out = compact_qubits(out)
    if options.drop_variables:
        out = drop_unused_variables(out)
    return out


def compact_qubits(program: Program) -> Program:
    """Remove qubits that no instruction touches; renumber the rest in order."""
    used = set()
    for ins in program.instructions():
        used.update(instruction_qubits(ins))
    if len(used) == program.num_qubits:
        return program
    mapping = {q: i for i, q in enumerate(sorted(used))}
    registers, base = [], 0
    for r in program.registers:
        size = sum(1 for q in range(base, base + r.size) if q in used)
        if size:
            registers.append(QubitRegister(r.name, size))
        base += r.size
    blocks = [b.with_instructions(_renumber(i, mapping) for i in b.instructions) for b in program.blocks]
    return program.replace(blocks=tuple(blocks), registers=tuple(registers))


def _renumber(ins, mapping: dict):
    if isinstance(ins, GateOp):
        return GateOp(ins.name, tuple(mapping[q] for q in ins.qubits), ins.params, ins.loc)
    if isinstance(ins, Measure):
        return Measure(mapping[ins.qubit], ins.target, ins.loc)
    if isinstance(ins, Reset):
        return Reset(mapping[ins.qubit], ins.loc)
    return ins


def referenced_variables(program: Program) -> set[str]:
    names = set()
    for ins in program.instructions():
        exprs = []
        if isinstance(ins, Assign):
            exprs = [ins.target, ins.value]
        elif isinstance(ins, GateOp):
            exprs = list(ins.params)
        elif isinstance(ins, Measure) and ins.target is not None:
            exprs = [ins.target]
        for e in exprs:
            names.update(r.name for r in refs(e))
    for b in program.blocks:
        if isinstance(b.terminator, Branch):
            names.update(r.name for r in refs(b.terminator.cond))
    return names


def drop_unused_variables(program: Program) -> Program:
    used = referenced_variables(program)
    keep = tuple(v for v in program.variables
                 if v.role in (Role.INPUT, Role.OUTPUT) or v.name in used)
    return program if len(keep) == len(program.variables) else program.replace(variables=keep)
