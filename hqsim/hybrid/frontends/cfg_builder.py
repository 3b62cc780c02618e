"""Lowering structured control flow (if / while / for / break / continue / end) to basic blocks.

``CFGBuilder`` is shared by the Python builder and the OpenQASM 3 front end. Blocks are emitted
in source order; code after ``break``/``continue``/``end`` goes into a fresh block that is
removed by ``passes.simplify_cfg.remove_unreachable`` when nothing jumps to it.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from ..ir import Assign, Binary, Block, Branch, Const, Expr, Halt, Jump, Ref


class CFGBuilder:
    """``where()``, when given, returns the source (line, column) that the instructions and
    branches emitted now come from (their ``loc``)."""

    def __init__(self, reserved_labels=(), where=None):
        self._where = where
        self._reserved = set(reserved_labels)
        self._counter = 0
        self._done: list[Block] = []
        self._label = self.new_label("entry")
        self._instrs: list = []
        self._loops: list[tuple[str, str]] = []  # (continue target, break target)

    def new_label(self, hint: str = "b") -> str:
        while True:
            self._counter += 1
            label = hint if hint == "entry" and self._counter == 1 else f"{hint}{self._counter}"
            if label not in self._reserved:
                self._reserved.add(label)
                return label

    def emit(self, instr) -> None:
        self._instrs.append(self._located(instr))

    def _located(self, item):
        loc = self._where() if self._where is not None else None
        return replace(item, loc=loc) if loc is not None and hasattr(item, "loc") else item

    def terminate(self, term, next_label: str | None = None) -> str:
        """End the current block with ``term`` and start ``next_label`` (or a fresh block)."""
        term = self._located(term)
        self._done.append(Block(self._label, tuple(self._instrs), term))
        self._label = next_label or self.new_label("b")
        self._instrs = []
        return self._label

    def start(self, label: str) -> None:
        """Fall through into a new block named ``label``."""
        self.terminate(Jump(label), label)

    # -- structured constructs ------------------------------------------------------------
    @contextmanager
    def if_then(self, cond: Expr, has_else: bool = False):
        """``with b.if_then(c) as arms:`` then-code; if ``has_else``, call ``arms.else_()``."""
        then_l, end_l = self.new_label("then"), self.new_label("endif")
        else_l = self.new_label("else") if has_else else end_l
        self.terminate(Branch(cond, then_l, else_l), then_l)
        arms = _Arms(self, else_l, end_l, has_else)
        yield arms
        if has_else and not arms.in_else:
            arms.else_()
        self.terminate(Jump(end_l), end_l)

    @contextmanager
    def while_loop(self, cond: Expr):
        head, body, end = self.new_label("while"), self.new_label("body"), self.new_label("endwhile")
        self.start(head)
        self.terminate(Branch(cond, body, end), body)
        self._loops.append((head, end))
        try:
            yield
        finally:
            self._loops.pop()
        self.terminate(Jump(head), end)

    @contextmanager
    def for_range(self, var: Ref, start: Expr, stop: Expr, step: int = 1, bound: Ref | None = None):
        """``for var in [start : step : stop]`` (inclusive, OpenQASM 3 ranges). ``stop`` is
        evaluated once, into ``bound`` when given (needed when ``stop`` is not a constant)."""
        if step == 0:
            raise ValueError("a range step must not be zero")
        self.emit(Assign(var, start))
        if bound is not None:
            self.emit(Assign(bound, stop))
            stop = bound
        head, body, latch, end = (self.new_label("for"), self.new_label("body"),
                                  self.new_label("next"), self.new_label("endfor"))
        self.start(head)
        cond = Binary("<=" if step > 0 else ">=", var, stop)
        self.terminate(Branch(cond, body, end), body)
        self._loops.append((latch, end))
        try:
            yield
        finally:
            self._loops.pop()
        self.start(latch)
        self.emit(Assign(var, Binary("+", var, Const(step))))
        self.terminate(Jump(head), end)

    @contextmanager
    def loop_targets(self, continue_label: str, break_label: str):
        """Make ``continue``/``break`` jump to these labels (loops expanded at translation)."""
        self._loops.append((continue_label, break_label))
        try:
            yield
        finally:
            self._loops.pop()

    def break_(self) -> None:
        if not self._loops:
            raise ValueError("break outside a loop")
        self.terminate(Jump(self._loops[-1][1]))

    def continue_(self) -> None:
        if not self._loops:
            raise ValueError("continue outside a loop")
        self.terminate(Jump(self._loops[-1][0]))

    def halt(self) -> None:
        self.terminate(Halt())

    def finish(self) -> tuple[Block, ...]:
        self._done.append(Block(self._label, tuple(self._instrs), Halt()))
        blocks, self._done = tuple(self._done), []
        return blocks


class _Arms:
    def __init__(self, builder: CFGBuilder, else_l: str, end_l: str, has_else: bool):
        self._b, self._else, self._end, self.has_else = builder, else_l, end_l, has_else
        self.in_else = False

    def else_(self) -> None:
        if not self.has_else or self.in_else:
            raise ValueError("else_() needs if_then(..., has_else=True) and may be called once")
        self.in_else = True
        self._b.terminate(Jump(self._end), self._else)
