"""The Python front end: build a hybrid program with method calls.

Example (teleport-like feed-forward)::

    b = ProgramBuilder("ff")
    q = b.qubits(2)
    theta = b.input("theta")                 # input float theta
    c = b.output("c", ScalarType.BIT, 2)     # output bit[2] c
    b.ry(theta * 2, q[0])
    b.measure(q[0], c[0])
    with b.if_(c[0].eq(1)):
        b.x(q[1])
    b.measure(q[1], c[1])
    program = b.build()
"""
from __future__ import annotations

from contextlib import contextmanager

from ..gateset import GATESET
from ..ir import (Assign, Const, GateOp, Measure, Program, QubitRegister, Ref, Reset, Role,
                 ScalarType, VarDecl, as_expr)
from ..passes.simplify_cfg import remove_unreachable
from ..wellformed import validate
from .cfg_builder import CFGBuilder


class ProgramBuilder:
    def __init__(self, name: str = ""):
        self.name = name
        self._cfg = CFGBuilder()
        self._vars: list[VarDecl] = []
        self._regs: list[QubitRegister] = []

    # -- declarations ----------------------------------------------------------------------
    def qubits(self, size: int, name: str = "q") -> list[int]:
        """Declare a register of ``size`` qubits; returns their indices."""
        start = sum(r.size for r in self._regs)
        self._regs.append(QubitRegister(name, int(size)))
        return list(range(start, start + int(size)))

    def _declare(self, name, type_, size, role) -> Ref:
        self._vars.append(VarDecl(name, ScalarType(type_), size, role))
        return Ref(name)

    def input(self, name: str, type_=ScalarType.FLOAT, size: int | None = None) -> Ref:
        return self._declare(name, type_, size, Role.INPUT)

    def output(self, name: str, type_=ScalarType.BIT, size: int | None = None) -> Ref:
        return self._declare(name, type_, size, Role.OUTPUT)

    def var(self, name: str, type_=ScalarType.INT, size: int | None = None) -> Ref:
        return self._declare(name, type_, size, Role.LOCAL)

    # -- instructions ----------------------------------------------------------------------
    def gate(self, name: str, *qubits: int, params=()) -> None:
        if name not in GATESET:
            raise ValueError(f"unknown gate {name!r}; known: {', '.join(sorted(GATESET))}")
        self._cfg.emit(GateOp(name, tuple(qubits), tuple(as_expr(p) for p in params)))

    def h(self, q): self.gate("H", q)
    def x(self, q): self.gate("X", q)
    def y(self, q): self.gate("Y", q)
    def z(self, q): self.gate("Z", q)
    def s(self, q): self.gate("S", q)
    def t(self, q): self.gate("T", q)
    def rx(self, a, q): self.gate("RX", q, params=(a,))
    def ry(self, a, q): self.gate("RY", q, params=(a,))
    def rz(self, a, q): self.gate("RZ", q, params=(a,))
    def cnot(self, c, t): self.gate("CNOT", c, t)
    def cz(self, a, b): self.gate("CZ", a, b)

    def measure(self, q: int, target: Ref | None = None) -> None:
        self._cfg.emit(Measure(q, target))

    def reset(self, q: int) -> None:
        self._cfg.emit(Reset(q))

    def assign(self, target: Ref, value) -> None:
        self._cfg.emit(Assign(target, as_expr(value)))

    # -- control flow ----------------------------------------------------------------------
    @contextmanager
    def if_(self, cond, has_else: bool = False):
        """``with b.if_(c) as arms:`` ...; with ``has_else=True`` call ``arms.else_()`` between."""
        with self._cfg.if_then(as_expr(cond), has_else) as arms:
            yield arms

    @contextmanager
    def while_(self, cond):
        with self._cfg.while_loop(as_expr(cond)):
            yield

    @contextmanager
    def for_range(self, name: str, start: int, stop: int, step: int = 1):
        """``for int name in [start : step : stop]`` (inclusive); declares ``name`` (int)."""
        var = self.var(name, ScalarType.INT)
        with self._cfg.for_range(var, Const(int(start)), Const(int(stop)), int(step)):
            yield var

    def break_(self): self._cfg.break_()
    def continue_(self): self._cfg.continue_()
    def halt(self): self._cfg.halt()

    def build(self) -> Program:
        """The finished, validated program (the builder must not be used afterwards)."""
        blocks = self._cfg.finish()
        program = Program(blocks, tuple(self._vars), tuple(self._regs), self.name)
        return validate(remove_unreachable(program))
