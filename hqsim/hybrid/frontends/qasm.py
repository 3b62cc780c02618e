"""OpenQASM 3 -> hybrid IR, on the ``openqasm3`` reference AST.

Supported: ``include "stdgates.inc"``, ``qubit``/``qreg`` registers, ``bit``/``bool``/``int``/
``uint``/``float``/``angle`` scalars and one-dimensional arrays, ``input``/``output``, ``const``,
arithmetic, comparisons, logic, casts and math functions, ``measure`` (statement, arrow and
assignment forms, register-wide), ``reset``, ``barrier`` (ignored), gate definitions (inlined),
the ``inv``, ``ctrl``/``ctrl(n)`` and integer ``pow`` modifiers, ``if``/``else``, ``while``,
``for`` over ranges and sets, ``break``, ``continue``, ``end``. A ``for`` loop whose variable
indexes qubits (or that runs over a set) is expanded at translation time; other loops become
loops in the control-flow graph. Anything else is rejected with its line, column and name.

Semantics fixed here: variables start at 0, inputs not given are 0; without ``output``
declarations every variable declared at the top level is an output (OpenQASM 3); ``angle`` is
treated as ``float[64]`` (no wrap-around) and ``int``/``uint`` as unbounded integers.
"""
from __future__ import annotations

from ..errors import HybridSyntaxError, UnsupportedConstruct
from ..limits import TooLarge, check_classical_size, check_qubits
from ..exprs import coerce, fold_constant
from ..ir import (Assign, Binary, Const, GateOp, Measure, Program, QubitRegister, Ref, Reset, Role,
                 ScalarType, VarDecl)
from ..passes.simplify_cfg import remove_unreachable, simplify_cfg
from ..wellformed import validate
from ._deps import parse_qasm
from .cfg_builder import CFGBuilder
from .qasm_exprs import QasmExprs, Symbol, _describe
from .qasm_gates import QASM_GATES, UNSUPPORTED_STD, ModifierError, control, invert, power, primitive
from .qasm_loops import lower_for

_BARRIER = "\0gate"


def parse_qasm_program(source: str, filename: str = "<input>", name: str = "") -> Program:
    """Parse and lower an OpenQASM 3 program; errors are ``HybridSyntaxError`` with location."""
    try:
        ast, tree = parse_qasm(source)
        return _Lowerer(ast, name).lower(tree)
    except HybridSyntaxError as exc:
        raise exc.with_filename(filename) from None


class _Lowerer(QasmExprs):
    def __init__(self, ast, name: str):
        self.ast, self.name = ast, name
        self.cfg = CFGBuilder(where=self._where)
        self.vars: list[VarDecl] = []
        self.regs: list[QubitRegister] = []
        self.scopes: list[dict] = [{}]
        self.gate_defs: dict = {}
        self.stdgates = self.has_outputs = False
        self.global_vars: list[str] = []
        self.declared_elements = 0
        self.stmt = None
        self.gate_depth = 0

    # -- infrastructure ----------------------------------------------------------------
    def error(self, message: str, node=None, cls=HybridSyntaxError):
        if "not supported" in message:
            cls = UnsupportedConstruct
        n = node if node is not None and not isinstance(node, self.ast.Identifier) else self.stmt
        span = getattr(n, "span", None) or getattr(self.stmt, "span", None)
        raise cls(message, span.start_line if span else None, span.start_column + 1 if span else None)

    def lookup(self, name: str, required: bool = True):
        crossed = False
        for scope in reversed(self.scopes):
            sym = scope.get(name)
            if sym is not None and (not crossed or sym.kind == "const"):
                return sym
            crossed = crossed or _BARRIER in scope
        if required:
            self.error(f"undeclared identifier {name!r}")
        return None

    def var_type(self, ir_name: str) -> ScalarType:
        return next(v.type for v in self.vars if v.name == ir_name)

    def var_role(self, ir_name: str) -> str:
        return next(v.role.value for v in self.vars if v.name == ir_name)

    def _where(self):
        span = getattr(self.stmt, "span", None)
        return (span.start_line, span.start_column + 1) if span is not None else None

    def bind(self, name: str, sym: Symbol, node) -> None:
        if name in self.scopes[-1] or (name in self.gate_defs and sym.kind != "param"):
            self.error(f"{name!r} is already declared", node)
        self.scopes[-1][name] = sym

    def declare(self, name: str, t: ScalarType, size, role: Role, node) -> str:
        try:
            self.declared_elements = check_classical_size(name, size, self.declared_elements)
        except TooLarge as exc:
            self.error(str(exc), node)
        taken = {v.name for v in self.vars}
        ir = name
        k = 1
        while ir in taken:
            ir, k = f"{name}_{k}", k + 1
        self.vars.append(VarDecl(ir, t, size, role))
        self.bind(name, Symbol("var", ir=ir, size=size), node)
        return ir

    @property
    def at_top(self) -> bool:
        return len(self.scopes) == 1

    def block(self, statements, barrier: bool = False) -> None:
        self.scopes.append({_BARRIER: True} if barrier else {})
        try:
            for s in statements:
                self.statement(s)
        finally:
            self.scopes.pop()

    def statement(self, s) -> None:
        prev, self.stmt = self.stmt, s
        try:
            handler = getattr(self, "_s_" + type(s).__name__, None)
            if handler is None:
                self.error(f"{_describe(s)} is not supported", s)
            handler(s)
        finally:
            self.stmt = prev

    def lower(self, tree) -> Program:
        if tree.version is not None and not str(tree.version).startswith(("3", "2")):
            raise UnsupportedConstruct(f"OpenQASM version {tree.version} is not supported", 1, 1)
        for s in tree.statements:
            self.statement(s)
        if not self.has_outputs:
            out = set(self.global_vars)
            self.vars = [VarDecl(v.name, v.type, v.size, Role.OUTPUT) if v.name in out else v
                         for v in self.vars]
        program = Program(self.cfg.finish(), tuple(self.vars), tuple(self.regs), self.name)
        return validate(simplify_cfg(remove_unreachable(program)))

    # -- declarations ------------------------------------------------------------------
    def _s_Include(self, s):
        if s.filename not in ("stdgates.inc", "qelib1.inc"):
            self.error(f"include {s.filename!r} is not supported (only stdgates.inc)", s)
        self.stdgates = True

    def _s_QubitDeclaration(self, s):
        if not self.at_top:
            self.error("qubits must be declared at the top level", s)
        size = None if s.size is None else self.const_int(s.size, "register size")
        if size is not None and size < 1:
            self.error(f"register size must be positive, got {size}", s)
        start = sum(r.size for r in self.regs)
        try:
            check_qubits(start + (size or 1), f"qubit register {s.qubit.name}")
        except TooLarge as exc:
            self.error(str(exc), s)
        self.regs.append(QubitRegister(s.qubit.name, size or 1))
        self.bind(s.qubit.name, Symbol("qubits", qubits=tuple(range(start, start + (size or 1))),
                                       size=size), s)

    def _s_ClassicalDeclaration(self, s):
        t, size = self.scalar_type(s.type, s)
        ir = self.declare(s.identifier.name, t, size, Role.LOCAL, s)
        if self.at_top:
            self.global_vars.append(ir)
        if s.init_expression is not None:
            self._assign_whole(ir, size, s.init_expression, s)

    def _s_IODeclaration(self, s):
        if not self.at_top:
            self.error("input/output must be declared at the top level", s)
        t, size = self.scalar_type(s.type, s)
        is_input = s.io_identifier.name == "input"
        self.has_outputs = self.has_outputs or not is_input
        self.declare(s.identifier.name, t, size, Role.INPUT if is_input else Role.OUTPUT, s)

    def _s_ConstantDeclaration(self, s):
        t, size = self.scalar_type(s.type, s)
        if size is not None:
            self.error("constant arrays are not supported", s)
        value = coerce(t, self.const_value(s.init_expression, "a const initializer"))
        self.bind(s.identifier.name, Symbol("const", value=value), s)

    def _s_QuantumGateDefinition(self, s):
        name = s.name.name
        if not self.at_top:
            self.error("gates must be defined at the top level", s)
        if name in self.gate_defs or (self.stdgates and name in QASM_GATES) or name in ("U", "gphase"):
            self.error(f"gate {name!r} is already defined", s)
        self.gate_defs[name] = s

    # -- quantum statements ------------------------------------------------------------
    def _s_QuantumGate(self, s):
        args = [self.expr(a) for a in s.arguments]
        self._emit_ops(self.gate_ops(s.name.name, args, s.qubits, s.modifiers, s))

    def _s_QuantumPhase(self, s):
        self._emit_ops(self.gate_ops("gphase", [self.expr(s.argument)], s.qubits, s.modifiers, s))

    def _emit_ops(self, ops):
        for op in ops:
            if op.name != "GPHASE":
                self.cfg.emit(GateOp(op.name, op.qubits, tuple(fold_constant(p) for p in op.params)))

    def _s_QuantumBarrier(self, s):
        pass

    def _s_QuantumReset(self, s):
        for q in self.qubit_operand(s.qubits):
            self.cfg.emit(Reset(q))

    def _s_QuantumMeasurementStatement(self, s):
        self._measure(s.measure, s.target, s)

    def _measure(self, measure, target, node):
        qubits = self.qubit_operand(measure.qubit)
        if target is None:
            for q in qubits:
                self.cfg.emit(Measure(q))
            return
        sym, idx = self.lvalue(target)
        if self.var_type(sym.ir) is ScalarType.FLOAT:
            self.error(f"cannot measure into a float variable ({sym.ir!r})", node)
        if sym.size is not None and idx is None:
            if len(qubits) != sym.size:
                self.error(f"measuring {len(qubits)} qubit(s) into {sym.size} bit(s)", node)
            for k, q in enumerate(qubits):
                self.cfg.emit(Measure(q, Ref(sym.ir, Const(k))))
            return
        if len(qubits) != 1:
            self.error(f"measuring {len(qubits)} qubits into a single bit", node)
        self.cfg.emit(Measure(qubits[0], Ref(sym.ir, idx)))

    def gate_ops(self, name, args, qubit_nodes, modifiers, node):
        operands = [self.qubit_operand(q) for q in qubit_nodes]
        sizes = {len(o) for o in operands if len(o) != 1}
        if len(sizes) > 1:
            self.error(f"gate {name}: registers of different sizes {sorted(sizes)}", node)
        ops = []
        for k in range(sizes.pop() if sizes else 1):
            qs = [o[k] if len(o) > 1 else o[0] for o in operands]
            if len(set(qs)) != len(qs):
                self.error(f"gate {name} applied to repeated qubit(s) {qs}", node)
            ops.extend(self._modified(name, args, qs, modifiers, node))
        return ops

    def _modified(self, name, args, qs, modifiers, node):
        counts = []
        for m in modifiers:
            kind = m.modifier.name
            if kind == "negctrl":
                self.error("the negctrl modifier is not supported", node)
            n = 1 if m.argument is None or kind != "ctrl" else self.const_int(m.argument, "ctrl count")
            counts.append(n if kind == "ctrl" else 0)
        pos = sum(counts)
        if pos > len(qs):
            self.error(f"gate {name}: {pos} control qubit(s) but {len(qs)} operand(s)", node)
        ops = self._base_gate(name, args, qs[pos:], node)
        try:
            for m, n in zip(reversed(modifiers), reversed(counts)):
                kind = m.modifier.name
                if kind == "inv":
                    ops = invert(ops)
                elif kind == "pow":
                    ops = power(ops, self.const_int(m.argument, "pow exponent"))
                else:
                    for c in reversed(qs[pos - n:pos]):
                        ops = control(ops, c)
                    pos -= n
        except ModifierError as exc:
            self.error(f"{exc} (not supported)", node)
        return ops

    def _base_gate(self, name, args, qs, node):
        if name in self.gate_defs:
            return self._expand_user_gate(self.gate_defs[name], args, qs, node)
        spec = QASM_GATES.get(name)
        if spec is None or (spec[3] and not self.stdgates):
            if name in UNSUPPORTED_STD and self.stdgates:
                self.error(f"gate {name!r} is not supported", node)
            hint = " (missing include \"stdgates.inc\"?)" if spec is not None else ""
            self.error(f"unknown gate {name!r}{hint}", node)
        ir_name, n_args, n_qubits, _ = spec
        if len(args) != n_args or len(qs) != n_qubits:
            self.error(f"gate {name} takes {n_args} angle(s) and {n_qubits} qubit(s), got "
                       f"{len(args)} and {len(qs)}", node)
        return primitive(ir_name, qs, args)

    def _expand_user_gate(self, d, args, qs, node):
        if len(args) != len(d.arguments) or len(qs) != len(d.qubits):
            self.error(f"gate {d.name.name} takes {len(d.arguments)} angle(s) and {len(d.qubits)} "
                       f"qubit(s), got {len(args)} and {len(qs)}", node)
        if self.gate_depth > 32:
            self.error(f"gate {d.name.name} is defined recursively", node)
        scope = {_BARRIER: True}
        scope.update({a.name: Symbol("param", value=e) for a, e in zip(d.arguments, args)})
        scope.update({q.name: Symbol("qubits", qubits=(v,)) for q, v in zip(d.qubits, qs)})
        self.scopes.append(scope)
        self.gate_depth += 1
        ops = []
        try:
            for st in d.body:
                prev, self.stmt = self.stmt, st
                try:
                    if isinstance(st, self.ast.QuantumGate):
                        sub = [self.expr(a) for a in st.arguments]
                        ops.extend(self.gate_ops(st.name.name, sub, st.qubits, st.modifiers, st))
                    elif isinstance(st, self.ast.QuantumPhase):
                        ops.extend(self.gate_ops("gphase", [self.expr(st.argument)], st.qubits,
                                                 st.modifiers, st))
                    elif not isinstance(st, self.ast.QuantumBarrier):
                        self.error(f"{_describe(st)} inside a gate definition is not supported", st)
                finally:
                    self.stmt = prev
        finally:
            self.scopes.pop()
            self.gate_depth -= 1
        return ops

    # -- classical statements ----------------------------------------------------------
    def _s_ClassicalAssignment(self, s):
        if isinstance(s.rvalue, self.ast.QuantumMeasurement):
            if s.op.name != "=":
                self.error(f"measure with {s.op.name} is not supported", s)
            return self._measure(s.rvalue, s.lvalue, s)
        sym, idx = self.lvalue(s.lvalue)
        if sym.size is not None and idx is None:
            if s.op.name != "=":
                self.error(f"{s.op.name} on a whole register is not supported", s)
            return self._assign_whole(sym.ir, sym.size, s.rvalue, s)
        target = Ref(sym.ir, idx)
        value = self.expr(s.rvalue)
        op = s.op.name
        if op != "=":
            if op == "~=":
                self.error("the ~= operator is not supported", s)
            value = Binary(op[:-1], target, value)
        self.cfg.emit(Assign(target, value))

    def _assign_whole(self, ir: str, size, value_node, node):
        A = self.ast
        if isinstance(value_node, A.QuantumMeasurement):
            return self._measure(value_node, A.Identifier(self._source_name(ir)), node)
        if size is None:
            return self.cfg.emit(Assign(Ref(ir), self.expr(value_node)))
        if isinstance(value_node, A.ArrayLiteral):
            if len(value_node.values) != size:
                self.error(f"array literal of {len(value_node.values)} values for {size} elements", node)
            for k, v in enumerate(value_node.values):
                self.cfg.emit(Assign(Ref(ir, Const(k)), self.expr(v)))
            return
        bits = self.const_value(value_node, "a register value")
        if not isinstance(bits, int) or self.var_type(ir) is not ScalarType.BIT:
            self.error("only bit registers can be assigned a bitstring or integer", node)
        for k in range(size):
            self.cfg.emit(Assign(Ref(ir, Const(k)), Const((bits >> k) & 1)))

    def _source_name(self, ir: str) -> str:
        for scope in reversed(self.scopes):
            for name, sym in scope.items():
                if name != _BARRIER and sym.kind == "var" and sym.ir == ir:
                    return name
        return ir

    def _s_BranchingStatement(self, s):
        with self.cfg.if_then(self.expr(s.condition), has_else=bool(s.else_block)) as arms:
            self.block(s.if_block)
            if s.else_block:
                arms.else_()
                self.block(s.else_block)

    def _s_WhileLoop(self, s):
        with self.cfg.while_loop(self.expr(s.while_condition)):
            self.block(s.block)

    def _s_ForInLoop(self, s):
        lower_for(self, s)

    def _s_BreakStatement(self, s):
        self._jump(self.cfg.break_, "break")

    def _s_ContinueStatement(self, s):
        self._jump(self.cfg.continue_, "continue")

    def _jump(self, fn, what):
        try:
            fn()
        except ValueError:
            self.error(f"{what} outside a loop")

    def _s_EndStatement(self, s):
        self.cfg.halt()

    def _s_CompoundStatement(self, s):
        self.block(s.statements)

    def _s_Pragma(self, s):
        pass
