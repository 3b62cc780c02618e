"""Expression semantics shared by the interpreter and the folding passes.

One evaluator (``evaluate``) defines what every operator means, so that constant folding
computes exactly what the interpreter would have computed at run time:

- values are Python ``int`` (bit, bool and int variables) and finite ``float``;
- ``/`` of two ints truncates toward zero; ``%`` is the C remainder; ``**`` of ints with a
  non-negative exponent is an int; comparisons and ``&&``/``||``/``!`` give 0 or 1;
- bitwise operators need ints; reading a whole ``bit`` array gives the integer with element 0
  as its least significant bit (OpenQASM 3);
- a non-finite result, a division by zero or a domain error raises ``HybridRuntimeError``.
"""
from __future__ import annotations

import math
from typing import Callable

from .errors import HybridRuntimeError
from .ir import (CASTS, COMPARISONS, Binary, Call, Const, Expr, Ref, ScalarType, Unary, VarDecl)


class Unknown(Exception):
    """Raised by a lookup when a value is not known (constant propagation)."""


Lookup = Callable[[str, "int | None"], "int | float"]


def _finite(v):
    if isinstance(v, float) and not math.isfinite(v):
        raise HybridRuntimeError(f"arithmetic produced a non-finite value ({v})")
    return v


def _need_int(op, *vals):
    for v in vals:
        if not isinstance(v, int):
            raise HybridRuntimeError(f"operator {op} needs integer operands, got {v!r}")


def _div(a, b):
    if b == 0:
        raise HybridRuntimeError("division by zero")
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    return _finite(a / b)


def _mod(a, b):
    if b == 0:
        raise HybridRuntimeError("modulo by zero")
    if isinstance(a, int) and isinstance(b, int):
        return a - b * _div(a, b)
    return _finite(math.fmod(a, b))


def _pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and b >= 0:
        if abs(b) > 4096:
            raise HybridRuntimeError(f"integer power {a}**{b} is too large")
        return a ** b
    try:
        return _finite(float(a) ** float(b))
    except (OverflowError, ZeroDivisionError, ValueError) as exc:
        raise HybridRuntimeError(f"{a}**{b}: {exc}") from None


def _shift(op, a, b):
    _need_int(op, a, b)
    if b < 0 or b > 4096:
        raise HybridRuntimeError(f"shift by {b} is out of range")
    return a << b if op == "<<" else a >> b


_BINARY = {
    "+": lambda a, b: _finite(a + b), "-": lambda a, b: _finite(a - b),
    "*": lambda a, b: _finite(a * b), "/": _div, "%": _mod, "**": _pow,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b),
    "&&": lambda a, b: int(bool(a) and bool(b)), "||": lambda a, b: int(bool(a) or bool(b)),
    "&": lambda a, b: (_need_int("&", a, b), a & b)[1],
    "|": lambda a, b: (_need_int("|", a, b), a | b)[1],
    "^": lambda a, b: (_need_int("^", a, b), a ^ b)[1],
    "<<": lambda a, b: _shift("<<", a, b), ">>": lambda a, b: _shift(">>", a, b),
}


def apply_unary(op: str, v):
    if op == "-":
        return -v
    if op == "!":
        return int(not v)
    _need_int("~", v)
    return ~v


def _math(func: str, v):
    f = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "arcsin": math.asin,
         "arccos": math.acos, "arctan": math.atan, "exp": math.exp, "log": math.log,
         "sqrt": math.sqrt, "floor": math.floor, "ceil": math.ceil}[func]
    try:
        out = f(v)
    except (ValueError, OverflowError) as exc:
        raise HybridRuntimeError(f"{func}({v}): {exc}") from None
    return _finite(float(out))


def coerce(t: ScalarType, v):
    """Convert a value to type ``t`` (the semantics of assignment and of casts)."""
    if t is ScalarType.FLOAT:
        return _finite(float(v))
    if t is ScalarType.INT:
        if isinstance(v, float) and not math.isfinite(v):
            raise HybridRuntimeError(f"cannot convert {v} to int")
        return int(math.trunc(v)) if isinstance(v, float) else int(v)
    return 1 if v else 0


_CAST_TYPES = {"int": ScalarType.INT, "float": ScalarType.FLOAT, "bool": ScalarType.BOOL,
               "bit": ScalarType.BIT}


def apply_call(func: str, v):
    if func in CASTS:
        return coerce(_CAST_TYPES[func], v)
    return _math(func, v)


def apply_binary(op: str, a, b):
    return _BINARY[op](a, b)


def as_index(v) -> int:
    if not isinstance(v, int):
        raise HybridRuntimeError(f"array index must be an integer, got {v!r}")
    return v


def evaluate(expr: Expr, lookup: Lookup):
    """Evaluate with ``lookup(name, index)`` (index ``None`` reads a scalar or a whole array)."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Ref):
        idx = None if expr.index is None else as_index(evaluate(expr.index, lookup))
        return lookup(expr.name, idx)
    if isinstance(expr, Unary):
        return apply_unary(expr.op, evaluate(expr.operand, lookup))
    if isinstance(expr, Binary):
        return apply_binary(expr.op, evaluate(expr.left, lookup), evaluate(expr.right, lookup))
    if isinstance(expr, Call):
        return apply_call(expr.func, evaluate(expr.args[0], lookup))
    raise TypeError(f"not an expression: {expr!r}")


def simplify(expr: Expr, lookup: Lookup) -> Expr:
    """Partially evaluate: known references become constants, constant subtrees are folded.

    ``lookup`` raises :class:`Unknown` for values that are not known. Subtrees whose evaluation
    would fail at run time (division by zero...) are left as they are.
    """
    if isinstance(expr, Const):
        return expr
    if isinstance(expr, Ref):
        index = None if expr.index is None else simplify(expr.index, lookup)
        if index is None or isinstance(index, Const):
            try:
                idx = None if index is None else as_index(index.value)
                return Const(lookup(expr.name, idx))
            except (Unknown, HybridRuntimeError):
                pass
        return Ref(expr.name, index)
    if isinstance(expr, Unary):
        inner = simplify(expr.operand, lookup)
        return _fold(Unary(expr.op, inner), lambda: apply_unary(expr.op, inner.value),
                     isinstance(inner, Const))
    if isinstance(expr, Binary):
        left, right = simplify(expr.left, lookup), simplify(expr.right, lookup)
        both = isinstance(left, Const) and isinstance(right, Const)
        out = _fold(Binary(expr.op, left, right),
                    lambda: apply_binary(expr.op, left.value, right.value), both)
        return _int_identities(out) if isinstance(out, Binary) else out
    if isinstance(expr, Call):
        arg = simplify(expr.args[0], lookup)
        return _fold(Call(expr.func, (arg,)), lambda: apply_call(expr.func, arg.value),
                     isinstance(arg, Const))
    raise TypeError(f"not an expression: {expr!r}")


def _fold(node: Expr, compute, foldable: bool) -> Expr:
    if not foldable:
        return node
    try:
        return Const(compute())
    except HybridRuntimeError:
        return node


def _int_identities(e: Binary) -> Expr:
    """x+0, 0+x, x-0, x*1, 1*x with *integer* constants: the value and its Python type are
    unchanged at run time (an int constant never widens an int to a float)."""
    l, r = e.left, e.right
    zero, one = Const(0), Const(1)
    if (e.op in ("+", "-") and r == zero) or (e.op == "*" and r == one):
        return l
    if (e.op == "+" and l == zero) or (e.op == "*" and l == one):
        return r
    return e


def const_lookup(_name, _idx):
    raise Unknown()


def fold_constant(expr: Expr) -> Expr:
    """Fold constant subtrees only (no variable is known)."""
    return simplify(expr, const_lookup)


def infer_type(expr: Expr, var_map: dict[str, VarDecl]) -> ScalarType:
    """The static type of an expression (used by printers and validation)."""
    if isinstance(expr, Const):
        return ScalarType.FLOAT if isinstance(expr.value, float) else ScalarType.INT
    if isinstance(expr, Ref):
        decl = var_map[expr.name]
        if expr.index is None and decl.size is not None:
            return ScalarType.INT  # a whole bit register read as an integer
        return decl.type
    if isinstance(expr, Unary):
        return ScalarType.BOOL if expr.op == "!" else _numeric(infer_type(expr.operand, var_map))
    if isinstance(expr, Binary):
        if expr.op in COMPARISONS or expr.op in ("&&", "||"):
            return ScalarType.BOOL
        lt, rt = infer_type(expr.left, var_map), infer_type(expr.right, var_map)
        if expr.op in ("&", "|", "^", "<<", ">>"):
            return ScalarType.INT
        return ScalarType.FLOAT if ScalarType.FLOAT in (lt, rt) else ScalarType.INT
    if isinstance(expr, Call):
        return _CAST_TYPES.get(expr.func, ScalarType.FLOAT)
    raise TypeError(f"not an expression: {expr!r}")


def _numeric(t: ScalarType) -> ScalarType:
    return ScalarType.FLOAT if t is ScalarType.FLOAT else ScalarType.INT


def format_float(v: float) -> str:
    """Shortest round-tripping literal that always reads back as a float."""
    s = repr(float(v))
    return s if any(c in s for c in ".en") else s + ".0"
