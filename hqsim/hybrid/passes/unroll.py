"""Loop unrolling where the trip count is constant, by peeling.

One peel copies the loop body (its natural loop) and sends the edges that enter the loop into
the copy; the copy's back edges go to the original header. ``c`` peels make a chain of copies
1 → 2 → ... → c → the loop. Sparse conditional constant propagation then decides the copies'
exit branches; if every branch that can leave a reachable copy is constant, each copy is one
deterministic iteration and their branches are folded. The loop is fully unrolled when the
original header becomes unreachable (the copies past the trip count are unreachable too and go
with it). The unroller gives up, leaving the program as it was, when an exit depends on a value
that is not constant (a measurement, an input), after ``max_iterations`` iterations, or beyond
``max_instructions``. Innermost loops are tried first. Only the copies' branches are folded
(``fold`` does the rest).

Cost: ``c`` is tried as 1, 2, 4, ... up to ``max_iterations + 1`` (a trip count of T takes T + 1
copies: the last only evaluates the exit test), each try built from the original program with
one constant analysis, so a loop costs O(T) analysis work (O(max_iterations) when it gives
up), not O(T^2) as peeling and re-analysing one copy at a time did (a trip count of 1e9 with
--max-unroll 4000 took 249 s).
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
    loop = next(lp for lp in compute_cfg(program).loops if lp.header == header)
    most = options.max_iterations + 1  # a trip count of T takes T + 1 copies
    count = 1
    while True:
        count = min(count, most)
        body = sum(len(program.block_map[l].instructions) + 1 for l in loop.body)
        if _size(program) + (count - 1) * body > 2 * options.max_instructions + body:
            return None  # the copies alone would not fit, reachable or not
        peeled, copies = _peel_many(program, loop, count)
        facts = compute_constants(peeled)
        if not _deterministic(peeled, copies, facts):
            return None
        peeled = _fold_copy_branches(peeled, copies, facts)
        if _size(peeled) > options.max_instructions:
            return None
        if header not in peeled.block_map:
            return peeled  # fully unrolled: the loop (and any copy past the exit) is gone
        if count == most:
            return None
        count *= 2


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


def _fresh_labels(program: Program, base: str, count: int) -> list[str]:
    """``count`` labels ``base_k`` (k = 1, 2, ...) not used in ``program``, in one pass."""
    out, k = [], 0
    while len(out) < count:
        k += 1
        if f"{base}_{k}" not in program.block_map:
            out.append(f"{base}_{k}")
    return out


def _peel_many(program: Program, loop, count: int) -> tuple[Program, set]:
    """``count`` peels at once: copies 1..count of the loop body placed before the header, the
    edges entering the loop sent to copy 1, copy k's back edges to copy k + 1 and copy
    ``count``'s to the original header. Returns (program, labels of every copy)."""
    fresh = {l: _fresh_labels(program, l, count) for l in loop.body}
    renames = [{l: fresh[l][k] for l in loop.body} for k in range(count)]
    copies = []
    for k, rename in enumerate(renames):
        nxt = renames[k + 1][loop.header] if k + 1 < count else loop.header
        inner = {l: (rename[l] if l != loop.header else nxt) for l in loop.body}
        copies += [Block(rename[b.label], b.instructions, _retarget(b.terminator, inner))
                   for b in program.blocks if b.label in loop.body]
    blocks = []
    for b in program.blocks:
        if b.label == loop.header:
            blocks.extend(copies)
        if b.label in loop.body:
            blocks.append(b)
        else:
            blocks.append(Block(b.label, b.instructions,
                                _retarget(b.terminator, {loop.header: renames[0][loop.header]})))
    return program.with_blocks(blocks), {l for r in renames for l in r.values()}
