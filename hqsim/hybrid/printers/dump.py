"""A plain-text dump of the IR (for debugging and error messages; not a source language)."""
from __future__ import annotations

from ..exprs import format_float
from ..ir import (Assign, Binary, Branch, Call, Const, GateOp, Halt, Jump, Measure, Program, Ref,
                 Reset, Unary)

# operator precedence (higher binds tighter), C-like, shared with the OpenQASM printer
PRECEDENCE = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, "<=": 7,
              ">": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
              "**": 12}
UNARY_PRECEDENCE = 11


def format_expr(e, ref_fmt=None, names=None, prec=0) -> str:
    """Infix text with minimal parentheses; ``names`` maps operators/functions to spellings."""
    names = names or {}
    ref_fmt = ref_fmt or _ref
    if isinstance(e, Const):
        v = e.value
        s = format_float(v) if isinstance(v, float) else str(v)
        return f"({s})" if s.startswith("-") and prec > 0 else s
    if isinstance(e, Ref):
        idx = None if e.index is None else format_expr(e.index, ref_fmt, names)
        return ref_fmt(e.name, idx)
    if isinstance(e, Unary):
        s = names.get(e.op, e.op) + format_expr(e.operand, ref_fmt, names, UNARY_PRECEDENCE)
        return f"({s})" if prec > UNARY_PRECEDENCE else s
    if isinstance(e, Binary):
        p = PRECEDENCE[e.op]
        right_assoc = e.op == "**"
        left = format_expr(e.left, ref_fmt, names, p + 1 if right_assoc else p)
        right = format_expr(e.right, ref_fmt, names, p if right_assoc else p + 1)
        s = f"{left} {names.get(e.op, e.op)} {right}"
        return f"({s})" if p < prec else s
    if isinstance(e, Call):
        return f"{names.get(e.func, e.func)}({format_expr(e.args[0], ref_fmt, names)})"
    raise TypeError(f"not an expression: {e!r}")


def _ref(name, idx):
    return name if idx is None else f"{name}[{idx}]"


def format_instruction(i) -> str:
    if isinstance(i, Assign):
        return f"{format_expr(i.target)} = {format_expr(i.value)}"
    if isinstance(i, GateOp):
        ps = f"({', '.join(format_expr(p) for p in i.params)})" if i.params else ""
        return f"{i.name}{ps} {' '.join(f'%{q}' for q in i.qubits)}"
    if isinstance(i, Measure):
        return f"measure %{i.qubit}" + (f" -> {format_expr(i.target)}" if i.target else "")
    if isinstance(i, Reset):
        return f"reset %{i.qubit}"
    if isinstance(i, Jump):
        return f"jump {i.target}"
    if isinstance(i, Branch):
        return f"branch {format_expr(i.cond)} ? {i.if_true} : {i.if_false}"
    if isinstance(i, Halt):
        return "halt"
    raise TypeError(f"not an instruction: {i!r}")


def dump(p: Program) -> str:
    lines = [f"program {p.name!r}: {p.num_qubits} qubits "
             f"({', '.join(f'{r.name}[{r.size}]' for r in p.registers)})"]
    for v in p.variables:
        size = f"[{v.size}]" if v.size is not None else ""
        lines.append(f"  {v.role.value} {v.type.value}{size} {v.name}")
    for b in p.blocks:
        lines.append(f"{b.label}:")
        lines.extend(f"  {format_instruction(i)}" for i in b.instructions)
        lines.append(f"  {format_instruction(b.terminator)}")
    return "\n".join(lines)
