"""Quil operands, memory references, parameter expressions and gate names -> IR (a mixin of the
Quil front end; expects ``self.decls``, ``self.max_qubit`` and ``self.error``)."""
from __future__ import annotations

import math

from ...ir.gates import by_spelling
from ..gateset import GATESET
from ..ir import Binary, Call, Const, Ref, Unary
from ..limits import TooLarge, check_qubits

# Quil gate -> (IR name, number of parameters, number of qubits): the GateSpecs' Quil names
QUIL_GATES = {name: (spec.name, spec.num_params, spec.num_qubits)
              for name, spec in by_spelling("quil", GATESET).items()}
_FUNCS = {"sin": "sin", "cos": "cos", "sqrt": "sqrt", "exp": "exp"}
_INFIX = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "**"}


class QuilConverter:
    def qubit(self, q) -> int:
        if type(q).__name__ != "Fixed":
            self.error(f"qubit {q.to_quil_or_debug()} is not a fixed qubit index (not supported)")
        index = int(q._0)
        try:
            check_qubits(index + 1, f"qubit {index:,}")
        except TooLarge as exc:
            self.error(str(exc))
        self.max_qubit = max(self.max_qubit, index)
        return index

    def label_name(self, target) -> str:
        if type(target).__name__ != "Fixed":
            self.error("label placeholders are not supported")
        return str(target._0)

    def memory(self, ref, write: bool = False) -> Ref:
        name, index = ref.name, int(ref.index)
        decl = self.decls.get(name)
        if decl is None:
            self.error(f"undeclared memory region {name!r} (add DECLARE {name} ...)")
        size = decl.size or 1
        if not 0 <= index < size:
            self.error(f"index {index} out of range for {name}[{size}]")
        if write and any(n == name for n, _ in getattr(self, "inputs", ())):
            self.error(f"cannot write to input region {name!r}")
        return Ref(name) if decl.size is None else Ref(name, Const(index))

    def operand(self, src):
        kind = type(src).__name__
        if kind == "LiteralInteger":
            return Const(int(src._0))
        if kind == "LiteralReal":
            return Const(float(src._0))
        if kind == "MemoryReference":
            return self.memory(src._0)
        self.error(f"operand {kind} is not supported")

    def quil_expr(self, e):
        kind = type(e).__name__
        if kind == "Number":
            z = complex(e._0)
            if abs(z.imag) > 0:
                self.error(f"complex parameter {z} is not supported")
            return Const(float(z.real))
        if kind in ("Pi", "PiConstant"):
            return Const(math.pi)
        if kind == "Address":
            return self.memory(e._0)
        if kind == "Infix":
            inner = e._0
            return Binary(_INFIX[str(inner.operator).strip()], self.quil_expr(inner.left),
                          self.quil_expr(inner.right))
        if kind == "Prefix":
            inner = e._0
            operand = self.quil_expr(inner.expression)
            return Unary("-", operand) if str(inner.operator).strip() == "-" else operand
        if kind == "FunctionCall":
            inner = e._0
            fn = str(inner.function)
            if fn not in _FUNCS:
                self.error(f"function {fn.upper()} is not supported")
            return Call(_FUNCS[fn], (self.quil_expr(inner.expression),))
        if kind == "Variable":
            self.error(f"gate parameter %{e._0} outside a definition is not supported")
        self.error(f"expression {kind} is not supported")

    def base_gate(self, name: str, qubits, params):
        spec = QUIL_GATES.get(name)
        if spec is None:
            self.error(f"gate {name} is not supported (supported: {', '.join(QUIL_GATES)})")
        ir_name, n_params, n_qubits = spec
        if len(params) != n_params or len(qubits) != n_qubits:
            self.error(f"gate {name} takes {n_params} parameter(s) and {n_qubits} qubit(s), "
                       f"got {len(params)} and {len(qubits)}")
        return ir_name, tuple(qubits), tuple(params)



