"""Loop unrolling where the trip count is constant, by repeated peeling.

One peel copies the loop body (its natural loop) and sends the edges that enter the loop into
the copy; the copy's back edges go to the original header. Sparse conditional constant
propagation then decides the copy's exit branches; if every branch that can leave the copy is
constant, the copy is one deterministic iteration and its branches are folded. Peeling stops
when the original loop becomes unreachable (fully unrolled: the loop is gone) or gives up,
leaving the program as it was, when an exit depends on a value that is not constant (a
measurement, an input), after ``max_iterations`` iterations, or beyond ``max_instructions``.
Innermost loops are tried first. Only the copies' branches are folded (``fold`` does the rest).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..analyses.cfg import compute_cfg
from ..analyses.constants import branch_targets, compute_constants
from ..ir import Block, Branch, Jump, Program
from .simplify_cfg import _retarget, simplify_cfg


@dataclass(frozen=True)
class UnrollOptions:
    """``max_iterations``: per loop; ``max_instructions``: program size after unrolling."""

    max_iterations: int = 64
    max_instructions: int = 20_000


def unroll_loops(program: Program, options: UnrollOptions = UnrollOptions()) -> Program:
    cfg = compute_cfg(program)
    if not cfg.loops:
        return program
    start = program
    if cfg.preds.get(program.entry):  # the entry is a loop header: give the loop a preheader
        label = _fresh(program, "pre")
        start = program.with_blocks((Block(label, (), Jump(program.entry)),) + program.blocks)
    current, failed = start, set()
    while True:
        loops = [lp for lp in sorted(compute_cfg(current).loops, key=lambda lp: len(lp.body))
                 if lp.header not in failed]
        if not loops:
            break
        result = _unroll(current, loops[0].header, options)
        if result is None:
            failed.add(loops[0].header)
        else:
            current = result
    return program if current is start else current


def _size(program: Program) -> int:
    return sum(len(b.instructions) + 1 for b in program.blocks)


def _unroll(program: Program, header: str, options: UnrollOptions) -> Program | None:
    # a trip count of T takes T + 1 peels (the last copy only evaluates the exit test)
    for peels in range(options.max_iterations + 2):
        loop = next((lp for lp in compute_cfg(program).loops if lp.header == header), None)
        if loop is None:
            return program  # fully unrolled
        if peels == options.max_iterations + 1:
            return None
        program, copies = _peel(program, loop)
        facts = compute_constants(program)
        if not _deterministic(program, copies, facts):
            return None
        program = _fold_copy_branches(program, copies, facts)
        if _size(program) > options.max_instructions:
            return None
    return None


def _fold_copy_branches(program: Program, copies: set, facts) -> Program:
    """Fold the copy's constant branches (only those: the original header keeps its label)."""
    blocks = []
    for b in program.blocks:
        term = b.terminator
        if b.label in copies and isinstance(term, Branch) and b.label in facts.exit:
            targets = branch_targets(facts.exit[b.label], term)
            if len(targets) == 1:
                term = Jump(targets[0])
        blocks.append(b if term is b.terminator else Block(b.label, b.instructions, term))
    return simplify_cfg(program.with_blocks(blocks))


def _deterministic(program: Program, copies: set, facts) -> bool:
    """Every reachable branch of the copy that can leave it has a constant condition."""
    for label in copies:
        if label not in facts.exit:
            continue
        term = program.block_map[label].terminator
        if not isinstance(term, Branch):
            continue
        if {term.if_true, term.if_false} <= copies:
            continue
        if len(branch_targets(facts.exit[label], term)) != 1:
            return False
    return True


def _fresh(program: Program, base: str, taken: set | None = None) -> str:
    taken = taken if taken is not None else set()
    k = 1
    while f"{base}_{k}" in program.block_map or f"{base}_{k}" in taken:
        k += 1
    taken.add(f"{base}_{k}")
    return f"{base}_{k}"


def _peel(program: Program, loop) -> tuple[Program, set]:
    taken: set = set()
    rename = {l: _fresh(program, l, taken) for l in loop.body}
    inner = {l: rename[l] for l in loop.body if l != loop.header}
    copies, blocks = [], []
    for b in program.blocks:
        if b.label in loop.body:
            copies.append(Block(rename[b.label], b.instructions, _retarget(b.terminator, inner)))
    for b in program.blocks:
        if b.label == loop.header:
            blocks.extend(copies)
        if b.label in loop.body:
            blocks.append(b)
        else:
            blocks.append(Block(b.label, b.instructions,
                                _retarget(b.terminator, {loop.header: rename[loop.header]})))
    return program.with_blocks(blocks), set(rename.values())
