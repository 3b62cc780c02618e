"""OpenQASM 3 expressions, types and operands -> IR (a mixin of the OpenQASM front end).

Expects ``self.ast`` (the ``openqasm3.ast`` module), ``self.lookup(name)`` returning a
``Symbol``, and ``self.error(message, node)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..exprs import fold_constant
from ..ir import Binary, Call, Const, Expr, Ref, ScalarType, Unary

CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": 2 * math.pi, "τ": 2 * math.pi,
             "euler": math.e, "ℇ": math.e}
FUNCTIONS = {"sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "arcsin", "arccos": "arccos",
             "arctan": "arctan", "exp": "exp", "log": "log", "sqrt": "sqrt", "floor": "floor",
             "ceiling": "ceil"}


@dataclass(frozen=True)
class Symbol:
    """What a source name means: a classical variable (``ir`` = IR name), a compile-time
    constant (``value``), a qubit register (``qubits``), or a gate parameter (``expr``)."""

    kind: str  # "var" | "const" | "qubits" | "param"
    ir: str = ""
    value: object = None
    qubits: tuple = ()
    size: int | None = None


class QasmExprs:
    # -- types ------------------------------------------------------------------------
    def scalar_type(self, t, node) -> tuple[ScalarType, int | None]:
        """(scalar type, array size or None) of a classical type node."""
        A = self.ast
        if isinstance(t, A.BitType):
            return ScalarType.BIT, (None if t.size is None else self.const_int(t.size, "bit size"))
        if isinstance(t, A.BoolType):
            return ScalarType.BOOL, None
        if isinstance(t, (A.IntType, A.UintType)):
            return ScalarType.INT, None
        if isinstance(t, (A.FloatType, A.AngleType)):
            return ScalarType.FLOAT, None
        if isinstance(t, A.ArrayType):
            if len(t.dimensions) != 1:
                self.error("only one-dimensional arrays are supported", node)
            base, inner = self.scalar_type(t.base_type, node)
            if inner is not None:
                self.error("arrays of bit registers are not supported", node)
            return base, self.const_int(t.dimensions[0], "array size")
        self.error(f"type {type(t).__name__.replace('Type', '').lower()} is not supported", node)

    # -- compile-time constants --------------------------------------------------------
    def const_value(self, node, what: str = "value"):
        e = fold_constant(self.expr(node))
        if not isinstance(e, Const):
            self.error(f"{what} must be a compile-time constant", node)
        return e.value

    def const_int(self, node, what: str) -> int:
        v = self.const_value(node, what)
        if not isinstance(v, int):
            self.error(f"{what} must be an integer, got {v!r}", node)
        return v

    # -- expressions -------------------------------------------------------------------
    def expr(self, node) -> Expr:
        A = self.ast
        if isinstance(node, A.IntegerLiteral):
            return Const(int(node.value))
        if isinstance(node, A.FloatLiteral):
            return Const(float(node.value))
        if isinstance(node, A.BooleanLiteral):
            return Const(1 if node.value else 0)
        if isinstance(node, A.BitstringLiteral):
            return Const(int(node.value))
        if isinstance(node, A.Identifier):
            return self._identifier(node)
        if isinstance(node, A.IndexExpression):
            return self._index(node)
        if isinstance(node, A.BinaryExpression):
            return Binary(node.op.name, self.expr(node.lhs), self.expr(node.rhs))
        if isinstance(node, A.UnaryExpression):
            return Unary(node.op.name, self.expr(node.expression))
        if isinstance(node, A.FunctionCall):
            name = node.name.name
            if name not in FUNCTIONS:
                self.error(f"function {name}() is not supported (supported: "
                           f"{', '.join(FUNCTIONS)})", node)
            if len(node.arguments) != 1:
                self.error(f"{name}() takes one argument", node)
            return Call(FUNCTIONS[name], (self.expr(node.arguments[0]),))
        if isinstance(node, A.Cast):
            t, size = self.scalar_type(node.type, node)
            if size is not None:
                self.error("casts to arrays are not supported", node)
            return Call({ScalarType.BIT: "bit", ScalarType.BOOL: "bool", ScalarType.INT: "int",
                         ScalarType.FLOAT: "float"}[t], (self.expr(node.argument),))
        if isinstance(node, A.QuantumMeasurement):
            self.error("measure may only appear as a statement or as the value of an assignment", node)
        self.error(f"{_describe(node)} is not supported in expressions", node)

    def _identifier(self, node) -> Expr:
        name = node.name
        sym = self.lookup(name, required=False)
        if sym is None:
            if name in CONSTANTS:
                return Const(CONSTANTS[name])
            self.error(f"undeclared identifier {name!r}", node)
        if sym.kind == "const":
            return Const(sym.value)
        if sym.kind == "param":
            return sym.value
        if sym.kind == "qubits":
            self.error(f"qubit {name!r} used as a classical value", node)
        if sym.size is not None and self.var_type(sym.ir) is not ScalarType.BIT:
            self.error(f"array {name!r} used without an index", node)
        return Ref(sym.ir)

    def _index(self, node) -> Expr:
        A = self.ast
        if not isinstance(node.collection, A.Identifier):
            self.error("only indexing of named variables is supported", node)
        sym = self.lookup(node.collection.name)
        if sym.kind != "var" or sym.size is None:
            self.error(f"{node.collection.name!r} is not a classical array or register", node)
        if len(node.index) != 1 or isinstance(node.index[0], (A.RangeDefinition, A.DiscreteSet)):
            self.error("only single-element indexing of classical arrays is supported", node)
        return Ref(sym.ir, self.expr(node.index[0]))

    # -- operands ----------------------------------------------------------------------
    def lvalue(self, node) -> tuple[Symbol, Expr | None]:
        """(symbol, index expression or None) of an assignment target."""
        A = self.ast
        ident = node if isinstance(node, A.Identifier) else node.name
        sym = self.lookup(ident.name)
        if sym.kind != "var":
            self.error(f"cannot assign to {ident.name!r} ({'constant' if sym.kind == 'const' else sym.kind})", node)
        if self.var_role(sym.ir) == "input":
            self.error(f"cannot assign to input {ident.name!r}", node)
        if isinstance(node, A.Identifier):
            return sym, None
        if len(node.indices) != 1 or len(node.indices[0]) != 1:
            self.error("only single-element indexing is supported in assignments", node)
        idx = node.indices[0][0]
        if isinstance(idx, (A.RangeDefinition, A.DiscreteSet)):
            self.error("range indexing is not supported in assignments", node)
        if sym.size is None:
            self.error(f"{ident.name!r} is not an array", node)
        return sym, self.expr(idx)

    def qubit_operand(self, node) -> list[int]:
        """Qubits named by an operand (a register gives all its qubits, in order)."""
        A = self.ast
        if isinstance(node, A.Identifier):
            if node.name.startswith("$"):
                self.error("physical qubits ($n) are not supported; declare a qubit register", node)
            sym = self.lookup(node.name)
            if sym.kind != "qubits":
                self.error(f"{node.name!r} is not a qubit", node)
            return list(sym.qubits)
        sym = self.lookup(node.name.name)
        if sym.kind != "qubits":
            self.error(f"{node.name.name!r} is not a qubit register", node)
        out = list(sym.qubits)
        for group in node.indices:
            picked = []
            for idx in group:
                picked.extend(self._qubit_indices(idx, len(out), node))
            out = [out[i] for i in picked]
        return out

    def _qubit_indices(self, idx, size: int, node) -> list[int]:
        A = self.ast
        if isinstance(idx, A.RangeDefinition):
            start = 0 if idx.start is None else self.const_int(idx.start, "qubit index")
            end = size - 1 if idx.end is None else self.const_int(idx.end, "qubit index")
            step = 1 if idx.step is None else self.const_int(idx.step, "range step")
            picks = list(range(start, end + (1 if step > 0 else -1), step))
        elif isinstance(idx, A.DiscreteSet):
            picks = [self.const_int(v, "qubit index") for v in idx.values]
        else:
            picks = [self.const_int(idx, "qubit index")]
        for i in picks:
            if not -size <= i < size:
                self.error(f"qubit index {i} out of range for a register of {size}", node)
        return [i % size for i in picks]


def _describe(node) -> str:
    name = type(node).__name__
    words = "".join(" " + c.lower() if c.isupper() else c for c in name).strip()
    return words
