"""Recover structured control flow (if / while / break / continue / end) from basic blocks.

OpenQASM 3 has no ``goto``: printing a control-flow graph needs structure. A branch becomes
``if``/``else`` whose arms meet at the branch's immediate post-dominator; a natural loop with
one exit becomes ``while (cond)`` when its header only tests the condition, else
``while (true)`` with ``break``; edges to the innermost loop's header or exit inside the body
are ``continue``/``break``. Graphs that do not fit (irreducible flow, loops with several exits)
raise ``StructureError``; the printer then falls back to a dispatch loop over block numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..analyses.cfg import compute_cfg, immediate_postdominators
from ..ir import Branch, Const, Halt, Jump, Program, Unary

_CONT, _BRK = "\0continue", "\0break"


class StructureError(Exception):
    pass


@dataclass(frozen=True)
class If:
    cond: object
    then: tuple
    orelse: tuple


@dataclass(frozen=True)
class While:
    cond: object
    body: tuple


@dataclass(frozen=True)
class Stmt:
    """One instruction, or the keyword ``"break"``, ``"continue"`` or ``"end"``."""

    item: object


@dataclass(frozen=True)
class _Ctx:
    header: str
    exit: str | None
    body: frozenset


def structurize(program: Program) -> tuple:
    return _Structurizer(program).run()


class _Structurizer:
    def __init__(self, program: Program):
        self.p = program
        self.cfg = compute_cfg(program)
        self.loops = {}
        for lp in self.cfg.loops:
            if len(lp.exits) > 1:
                raise StructureError(f"loop at {lp.header} has {len(lp.exits)} exits")
            self.loops[lp.header] = lp
        index = {l: i for i, l in enumerate(self.cfg.rpo)}
        for l in self.cfg.rpo:  # reducibility: every retreating edge is a back edge
            for s in self.cfg.succs[l]:
                if index[s] <= index[l] and not self.cfg.dominates(s, l):
                    raise StructureError(f"irreducible control flow at {l} -> {s}")
        self._ipdom: dict = {}
        self.steps = 0

    def run(self) -> tuple:
        return tuple(self.region(self.p.entry, None, None))

    def ipdom(self, label: str, ctx: _Ctx | None) -> str | None:
        key = ctx.header if ctx else None
        if key not in self._ipdom:
            if ctx is None:
                self._ipdom[key] = immediate_postdominators(self.p)
            else:
                sinks = {ctx.header: _CONT}
                if ctx.exit is not None:
                    sinks[ctx.exit] = _BRK
                self._ipdom[key] = immediate_postdominators(self.p, ctx.body, sinks)
        d = self._ipdom[key][label]
        return {_CONT: ctx.header if ctx else None, _BRK: ctx.exit if ctx else None}.get(d, d)

    def region(self, label, stop, ctx: _Ctx | None, header_first: bool = False) -> list:
        out, cur, first = [], label, True
        while cur is not None:
            self.steps += 1
            if self.steps > 100_000:
                raise StructureError("structuring did not terminate")
            fresh = not (first and header_first)
            if cur == stop and fresh:
                break
            if ctx is not None and fresh:
                if cur == ctx.header:
                    out.append(Stmt("continue"))
                    return out
                if cur == ctx.exit:
                    out.append(Stmt("break"))
                    return out
                if cur not in ctx.body:
                    raise StructureError(f"jump from a loop to {cur}, not its exit")
            if cur in self.loops and fresh:
                out.append(self.loop(self.loops[cur]))
                cur, first = self.loops[cur].exits[0] if self.loops[cur].exits else None, False
                continue
            first = False
            block = self.p.block_map[cur]
            out.extend(Stmt(i) for i in block.instructions)
            term = block.terminator
            if isinstance(term, Halt):
                out.append(Stmt("end"))
                return out
            if isinstance(term, Jump):
                cur = term.target
                continue
            assert isinstance(term, Branch)
            merge = self.ipdom(cur, ctx)
            then = self.region(term.if_true, merge, ctx)
            orelse = self.region(term.if_false, merge, ctx)
            out.append(If(term.cond, tuple(then), tuple(orelse)))
            cur = merge
        return out

    def loop(self, lp) -> While:
        exit_ = lp.exits[0] if lp.exits else None
        ctx = _Ctx(lp.header, exit_, lp.body)
        hb = self.p.block_map[lp.header]
        term = hb.terminator
        if not hb.instructions and isinstance(term, Branch) and exit_ is not None:
            if term.if_false == exit_ and term.if_true in lp.body and term.if_true != lp.header:
                return While(term.cond, _strip_continue(self.region(term.if_true, lp.header, ctx)))
            if term.if_true == exit_ and term.if_false in lp.body and term.if_false != lp.header:
                return While(Unary("!", term.cond),
                             _strip_continue(self.region(term.if_false, lp.header, ctx)))
        return While(Const(1), _strip_continue(self.region(lp.header, lp.header, ctx, header_first=True)))


def _strip_continue(body: list) -> tuple:
    """Drop ``continue`` where it is the last thing a loop body does anyway."""
    body = list(body)
    if body and body[-1] == Stmt("continue"):
        body.pop()
    elif body and isinstance(body[-1], If):
        last = body[-1]
        body[-1] = If(last.cond, _strip_continue(last.then), _strip_continue(last.orelse))
    return tuple(body)
