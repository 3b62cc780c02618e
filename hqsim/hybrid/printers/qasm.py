"""Hybrid IR -> OpenQASM 3 text (re-parsable by ``parse_qasm_program``).

Declarations come first (inputs, outputs, qubit registers, other variables); control flow is
recovered by ``structurize``, or, for graphs it cannot structure, printed as a dispatch loop
``while (pc >= 0) { if (pc == 0) {...} else if ... }`` over block numbers. Limitation: a
program with no output at all but with other variables reads back with those variables as
outputs (OpenQASM 3 has no way to declare "no outputs").
"""
from __future__ import annotations

from ..exprs import fold_constant
from ..frontends.qasm_gates import QASM_NAMES
from ..ir import Assign, GateOp, Halt, Jump, Measure, Program, Reset, Role, ScalarType, Unary
from .dump import format_expr
from .structurize import If, Stmt, StructureError, While, structurize

_QASM_FUNCS = {"ceil": "ceiling", "float": "float[64]"}
_TYPES = {ScalarType.BIT: "bit", ScalarType.BOOL: "bool", ScalarType.INT: "int",
          ScalarType.FLOAT: "float[64]"}
INDENT = "  "


def _type(v) -> str:
    if v.size is None:
        return _TYPES[v.type]
    if v.type is ScalarType.BIT:
        return f"bit[{v.size}]"
    return f"array[{_TYPES[v.type]}, {v.size}]"


class _Printer:
    def __init__(self, program: Program):
        self.p = program

    def expr(self, e) -> str:
        return format_expr(e, names=_QASM_FUNCS)

    def qubit(self, q: int) -> str:
        name, offset, _ = self.p.qubit_label(q)
        return f"{name}[{offset}]"

    def instruction(self, ins) -> str:
        if isinstance(ins, Assign):
            return f"{self.expr(ins.target)} = {self.expr(ins.value)};"
        if isinstance(ins, GateOp):
            params = f"({', '.join(self.expr(p) for p in ins.params)})" if ins.params else ""
            return f"{QASM_NAMES[ins.name]}{params} {', '.join(self.qubit(q) for q in ins.qubits)};"
        if isinstance(ins, Measure):
            if ins.target is None:
                return f"measure {self.qubit(ins.qubit)};"
            return f"{self.expr(ins.target)} = measure {self.qubit(ins.qubit)};"
        if isinstance(ins, Reset):
            return f"reset {self.qubit(ins.qubit)};"
        raise TypeError(f"not an instruction: {ins!r}")

    def tree(self, nodes, depth: int, out: list) -> None:
        pad = INDENT * depth
        for n in nodes:
            if isinstance(n, Stmt):
                out.append(pad + (f"{n.item};" if isinstance(n.item, str) else self.instruction(n.item)))
            elif isinstance(n, If):
                then, orelse, cond = n.then, n.orelse, n.cond
                if not then and not orelse:
                    continue
                if not then:
                    then, orelse, cond = orelse, (), _negate(cond)
                out.append(f"{pad}if ({self.expr(cond)}) {{")
                self.tree(then, depth + 1, out)
                if orelse:
                    out.append(f"{pad}}} else {{")
                    self.tree(orelse, depth + 1, out)
                out.append(pad + "}")
            else:
                assert isinstance(n, While)
                out.append(f"{pad}while ({self.expr(n.cond)}) {{")
                self.tree(n.body, depth + 1, out)
                out.append(pad + "}")

    def dispatch(self, out: list) -> None:
        """Fallback for unstructured graphs: a loop over block numbers."""
        pc = "pc"
        while pc in self.p.var_map:
            pc += "_"
        number = {b.label: i for i, b in enumerate(self.p.blocks)}
        out.append(f"int {pc} = 0;")
        out.append(f"while ({pc} >= 0) {{")
        for i, b in enumerate(self.p.blocks):
            out.append(f"{INDENT}{'if' if i == 0 else '} else if'} ({pc} == {i}) {{")
            out.extend(INDENT * 2 + self.instruction(ins) for ins in b.instructions)
            t = b.terminator
            if isinstance(t, Halt):
                out.append(f"{INDENT * 2}{pc} = -1;")
            elif isinstance(t, Jump):
                out.append(f"{INDENT * 2}{pc} = {number[t.target]};")
            else:
                out.append(f"{INDENT * 2}if ({self.expr(t.cond)}) {{ {pc} = {number[t.if_true]}; }} "
                           f"else {{ {pc} = {number[t.if_false]}; }}")
        out.append(INDENT + "}")
        out.append("}")

    def program(self) -> str:
        p = self.p
        out = ["OPENQASM 3.0;", 'include "stdgates.inc";']
        if p.name:
            out.append(f"// {p.name}")
        for role in (Role.INPUT, Role.OUTPUT):
            out.extend(f"{role.value} {_type(v)} {v.name};" for v in p.variables if v.role is role)
        out.extend(f"qubit[{r.size}] {r.name};" for r in p.registers)
        out.extend(f"{_type(v)} {v.name};" for v in p.variables
                   if v.role in (Role.LOCAL, Role.TEMP))
        try:
            nodes = list(structurize(p))
        except StructureError:
            self.dispatch(out)
            return "\n".join(out) + "\n"
        if nodes and nodes[-1] == Stmt("end"):
            nodes.pop()
        self.tree(nodes, 0, out)
        return "\n".join(out) + "\n"


def _negate(cond):
    if isinstance(cond, Unary) and cond.op == "!":
        return cond.operand
    return fold_constant(Unary("!", cond))


def print_qasm(program: Program) -> str:
    """OpenQASM 3 source for ``program``."""
    return _Printer(program).program()

