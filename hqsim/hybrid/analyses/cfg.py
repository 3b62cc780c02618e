"""Control-flow analysis: successors, predecessors, reverse postorder, dominators, natural loops.

``compute_cfg(program)`` returns a frozen ``CFGInfo``. Only blocks reachable from the entry
appear in ``rpo``; ``dominators`` and loops are computed over those (iterative data-flow).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Halt, Program, successors


@dataclass(frozen=True)
class Loop:
    """A natural loop: its header, the blocks of its body (header included), the back-edge
    sources (latches), and the blocks outside the loop that it can exit to."""

    header: str
    body: frozenset[str]
    latches: tuple[str, ...]
    exits: tuple[str, ...]


@dataclass(frozen=True)
class CFGInfo:
    succs: dict
    preds: dict
    rpo: tuple[str, ...]
    idom: dict          # block -> immediate dominator (entry -> None)
    loops: tuple[Loop, ...]  # outermost first

    def dominates(self, a: str, b: str) -> bool:
        while b is not None:
            if a == b:
                return True
            b = self.idom.get(b)
        return False

    @property
    def reachable(self) -> frozenset[str]:
        return frozenset(self.rpo)


def reachable_blocks(program: Program) -> frozenset[str]:
    """Labels of the blocks reachable from the entry (cheaper than ``compute_cfg``)."""
    seen, stack = {program.entry}, [program.entry]
    while stack:
        for s in successors(program.block_map[stack.pop()].terminator):
            if s not in seen:
                seen.add(s)
                stack.append(s)
    return frozenset(seen)


def compute_cfg(program: Program) -> CFGInfo:
    succs = {b.label: successors(b.terminator) for b in program.blocks}
    rpo = _reverse_postorder(program.entry, succs)
    reach = set(rpo)
    preds: dict = {l: [] for l in rpo}
    for l in rpo:
        for s in succs[l]:
            preds[s].append(l)
    preds = {k: tuple(v) for k, v in preds.items()}
    idom = _dominators(rpo, preds)
    loops = _natural_loops(rpo, succs, preds, idom, reach)
    return CFGInfo({l: succs[l] for l in rpo}, preds, tuple(rpo), idom, loops)


def _reverse_postorder(entry: str, succs: dict) -> list[str]:
    seen, order = {entry}, []
    stack = [(entry, iter(succs[entry]))]
    while stack:
        node, it = stack[-1]
        for s in it:
            if s not in seen:
                seen.add(s)
                stack.append((s, iter(succs[s])))
                break
        else:
            order.append(node)
            stack.pop()
    return order[::-1]


def _dominators(rpo: list[str], preds: dict) -> dict:
    """Cooper-Harvey-Kennedy iterative immediate dominators."""
    index = {l: i for i, l in enumerate(rpo)}
    idom = {rpo[0]: rpo[0]}

    def intersect(a, b):
        while a != b:
            while index[a] > index[b]:
                a = idom[a]
            while index[b] > index[a]:
                b = idom[b]
        return a

    changed = True
    while changed:
        changed = False
        for l in rpo[1:]:
            ps = [p for p in preds[l] if p in idom]
            new = ps[0]
            for p in ps[1:]:
                new = intersect(p, new)
            if idom.get(l) != new:
                idom[l] = new
                changed = True
    idom[rpo[0]] = None
    return idom


def _natural_loops(rpo, succs, preds, idom, reach) -> tuple[Loop, ...]:
    def dominates(a, b):
        while b is not None:
            if a == b:
                return True
            b = idom.get(b)
        return False

    by_header: dict = {}
    for l in rpo:
        for s in succs[l]:
            if dominates(s, l):  # back edge l -> s
                by_header.setdefault(s, []).append(l)
    loops = []
    for header, latches in by_header.items():
        body, stack = {header}, [x for x in latches if x != header]
        body.update(stack)
        while stack:
            for p in preds[stack.pop()]:
                if p not in body:
                    body.add(p)
                    stack.append(p)
        exits = sorted({s for b in body for s in succs[b] if s not in body}, key=rpo.index)
        loops.append(Loop(header, frozenset(body), tuple(latches), tuple(exits)))
    loops.sort(key=lambda lp: (-len(lp.body), rpo.index(lp.header)))
    return tuple(loops)


def immediate_postdominators(program: Program, nodes=None, sinks: dict | None = None) -> dict:
    """Immediate post-dominators over ``nodes`` (default: all reachable blocks).

    An edge into a target named in ``sinks`` goes to that sink instead (target -> sink name);
    an edge leaving ``nodes`` otherwise, and every ``Halt``, goes to the virtual exit ``None``.
    Returns block -> ipdom: a block in ``nodes``, a sink name, or ``None``.
    """
    cfg = compute_cfg(program)
    nodes = set(cfg.rpo if nodes is None else nodes)
    sinks = sinks or {}
    exit_ = "\0exit"
    fwd: dict = {}
    for l in nodes:
        outs = [sinks[s] if s in sinks else (s if s in nodes else exit_) for s in cfg.succs[l]]
        if isinstance(program.block_map[l].terminator, Halt):
            outs.append(exit_)
        fwd[l] = outs
    for sink in set(sinks.values()):
        fwd[sink] = [exit_]
    fwd[exit_] = []
    rev: dict = {k: [] for k in fwd}  # the reversed graph, entered at the exit
    for k, outs in fwd.items():
        for o in outs:
            rev[o].append(k)
    order = _reverse_postorder(exit_, rev)
    ipdom = _dominators(order, fwd)  # predecessors in the reversed graph = forward successors
    return {l: (None if ipdom.get(l) in (exit_, None) else ipdom[l]) for l in nodes}
