"""Control-flow clean-up shared by the folding and unrolling passes.

``fold_branches``: a branch whose condition is constant on every path (per the constant
analysis) becomes a jump. ``simplify_cfg``: drop unreachable blocks, turn a branch with equal
targets into a jump, bypass empty jump-only blocks, and merge a block into its only
predecessor when that predecessor jumps to it unconditionally.
"""
from __future__ import annotations

from ..analyses.cfg import reachable_blocks
from ..analyses.constants import ConstantFacts, branch_targets, compute_constants
from ..ir import Block, Branch, Jump, Program


def remove_unreachable(program: Program) -> Program:
    """Drop blocks that cannot be reached from the entry (keeps the order of the others)."""
    seen = reachable_blocks(program)
    if len(seen) == len(program.blocks):
        return program
    return program.with_blocks(b for b in program.blocks if b.label in seen)


def fold_branches(program: Program, facts: ConstantFacts | None = None) -> Program:
    """Replace constant-condition branches by jumps, then ``simplify_cfg``."""
    facts = facts or compute_constants(program)
    blocks = []
    for b in program.blocks:
        term = b.terminator
        if isinstance(term, Branch) and b.label in facts.exit:
            targets = branch_targets(facts.exit[b.label], term)
            if len(targets) == 1:
                term = Jump(targets[0])
        blocks.append(b if term is b.terminator else Block(b.label, b.instructions, term))
    return simplify_cfg(program.with_blocks(blocks))


def _retarget(term, mapping: dict):
    if isinstance(term, Jump):
        return Jump(mapping.get(term.target, term.target))
    if isinstance(term, Branch):
        t, f = mapping.get(term.if_true, term.if_true), mapping.get(term.if_false, term.if_false)
        return Jump(t) if t == f else Branch(term.cond, t, f, term.loc)
    return term


def _thread_jumps(program: Program) -> Program:
    """Redirect edges into empty ``jump X`` blocks straight to X (not for the entry block)."""
    forward = {}
    for b in program.blocks[1:]:
        if not b.instructions and isinstance(b.terminator, Jump) and b.terminator.target != b.label:
            forward[b.label] = b.terminator.target

    def resolve(label):
        seen = set()
        while label in forward and label not in seen:
            seen.add(label)
            label = forward[label]
        return label

    mapping = {l: resolve(l) for l in forward}
    mapping = {k: v for k, v in mapping.items() if v != k}
    if not mapping:
        return program
    blocks = [Block(b.label, b.instructions, _retarget(b.terminator, mapping)) for b in program.blocks]
    return program.with_blocks(blocks)


def _merge_chains(program: Program) -> Program:
    preds: dict = {b.label: 0 for b in program.blocks}
    for b in program.blocks:
        term = b.terminator
        targets = (term.target,) if isinstance(term, Jump) else (
            (term.if_true, term.if_false) if isinstance(term, Branch) else ())
        for t in targets:
            preds[t] += 1
    by_label = dict(program.block_map)
    removed: set = set()
    order = [b.label for b in program.blocks]
    for label in order:
        if label in removed:
            continue
        blk = by_label[label]
        while (isinstance(blk.terminator, Jump) and blk.terminator.target != label
               and blk.terminator.target != program.entry and preds[blk.terminator.target] == 1
               and blk.terminator.target not in removed):
            nxt = by_label[blk.terminator.target]
            blk = Block(label, blk.instructions + nxt.instructions, nxt.terminator)
            removed.add(nxt.label)
        by_label[label] = blk
    if not removed:
        return program
    return program.with_blocks(by_label[l] for l in order if l not in removed)


def simplify_cfg(program: Program) -> Program:
    """Repeat the clean-ups until nothing changes."""
    while True:
        blocks = [Block(b.label, b.instructions, _retarget(b.terminator, {})) for b in program.blocks]
        new = _merge_chains(_thread_jumps(remove_unreachable(program.with_blocks(blocks))))
        new = remove_unreachable(new)
        if new == program:
            return program
        program = new
