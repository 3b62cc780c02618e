"""Hybrid IR -> Quil text (re-parsable by ``parse_quil_program``).

Blocks are laid out in program order with ``LABEL``/``JUMP``/``JUMP-WHEN``. Quil's classical
instructions are two-address (``ADD a b`` is ``a += b``), so assignments are lowered into
``MOVE``/``ADD``/``EQ``/``CONVERT``... sequences, with scratch regions (``tmp_real``...)
declared when needed. Not expressible, and reported as ``EmitError``: ``%``, ``**``, shifts and
math functions in classical assignments (allowed in gate parameters), computed memory
indices. Gates Quil lacks are rewritten: ``Sdg``/``Tdg`` as ``DAGGER S``/``DAGGER T``, ``CY`` and
``CRX``/``CRY``/``CRZ`` with ``CONTROLLED``, ``SX`` as ``RX(pi/2)`` and ``U3`` as
``RZ RY RZ`` (both equal up to a global phase).
"""
from __future__ import annotations

from ..errors import EmitError
from ..exprs import format_float, infer_type
from ..gateset import GATESET
from ..ir import (Binary, Branch, Call, Const, Expr, GateOp, Halt, Jump, Measure, Program,
                 Ref, Reset, ScalarType, Unary, refs)
from .dump import format_expr

_QUIL_TYPES = {ScalarType.BIT: "BIT", ScalarType.BOOL: "BIT", ScalarType.INT: "INTEGER",
               ScalarType.FLOAT: "REAL"}


def _quil_spelling(spec) -> str | None:
    """A gate's Quil name, or its base gate's under CONTROLLED (CRX, CY) or DAGGER (Sdg, Tdg)."""
    if spec.names.quil:
        return spec.names.first("quil")
    if spec.control_of is not None and spec.control_of[0] == 1:
        base = GATESET.get(spec.control_of[1])
        if base is not None and base.names.quil:
            return "CONTROLLED " + base.names.first("quil")
    rule = spec.inverse
    if rule is not None and rule.exact and not rule.angles and not rule.extra:
        base = GATESET.get(rule.name)
        if base is not None and base.names.quil:
            return "DAGGER " + base.names.first("quil")
    return None


# IR name -> Quil (SX and U3 have none: written as rotations in ``instruction``)
_DIRECT = {name: q for name, spec in GATESET.items() if (q := _quil_spelling(spec)) is not None}
_ARITH = {"+": "ADD", "-": "SUB", "*": "MUL", "/": "DIV", "&": "AND", "|": "IOR", "^": "XOR"}
_CMP = {"==": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_CATEGORY = {ScalarType.BIT: "BIT", ScalarType.BOOL: "BIT", ScalarType.INT: "INTEGER",
             ScalarType.FLOAT: "REAL"}


class _Printer:
    def __init__(self, program: Program):
        self.p = program
        self.vars = dict(program.var_map)
        self.temps: dict = {}      # quil type -> (region name, size used)
        self._in_use: dict = {}

    # -- operands ------------------------------------------------------------------------
    def ref(self, r: Ref) -> str:
        if r.index is None:
            if self.vars[r.name].size is not None:
                raise EmitError(f"Quil cannot read the whole register {r.name!r} as a number")
            return f"{r.name}[0]"  # never bare: a region named i or pi reads as a constant
        if not isinstance(r.index, Const):
            raise EmitError(f"Quil memory references need constant indices: {format_expr(r)}")
        return f"{r.name}[{r.index.value}]"

    def literal(self, c: Const, real: bool = False) -> str:
        v = c.value
        return format_float(float(v)) if (real or isinstance(v, float)) else str(v)

    def param(self, e: Expr) -> str:
        if isinstance(e, Const):
            return self.literal(e, real=True)
        if isinstance(e, Ref):
            return self.ref(e)
        if isinstance(e, Unary) and e.op == "-":
            return f"-({self.param(e.operand)})"
        if isinstance(e, Binary) and e.op in ("+", "-", "*", "/", "**"):
            op = "^" if e.op == "**" else e.op
            return f"({self.param(e.left)} {op} {self.param(e.right)})"  # x-y is one identifier
        if isinstance(e, Call) and e.func in ("sin", "cos", "sqrt", "exp"):
            return f"{e.func.upper()}({self.param(e.args[0])})"
        if isinstance(e, Call) and e.func == "float":
            return self.param(e.args[0])
        raise EmitError(f"gate parameter {format_expr(e)} cannot be expressed in Quil")

    def category(self, e) -> str:
        return _CATEGORY[infer_type(e, self.vars)]

    def temp(self, quil_type: str) -> str:
        base = {"REAL": "tmp_real", "INTEGER": "tmp_int", "BIT": "tmp_bit"}[quil_type]
        name = base
        while name in self.vars:
            name += "_"
        used = self._in_use.get(quil_type, 0)
        self._in_use[quil_type] = used + 1
        self.temps[quil_type] = (name, max(self.temps.get(quil_type, (name, 0))[1], used + 1))
        return f"{name}[{used}]"

    def release(self, quil_type: str, n: int = 1) -> None:
        self._in_use[quil_type] -= n

    # -- classical lowering ----------------------------------------------------------------
    def simple(self, e, dest_real=False):
        if isinstance(e, Const):
            return self.literal(e, dest_real)
        if isinstance(e, Ref):
            return self.ref(e)
        return None

    def into(self, dest: str, dest_cat: str, e: Expr, out: list) -> None:
        """Code that stores the value of ``e`` into memory ``dest`` (of type ``dest_cat``)."""
        s = self.simple(e, dest_cat == "REAL")
        if s is not None:
            same = isinstance(e, Const) or self.category(e) == dest_cat
            out.append(f"{'MOVE' if same else 'CONVERT'} {dest} {s}")
            return
        cat = self.category(e)
        hazard = isinstance(e, Binary) and e.op in list(_ARITH) + ["&&", "||"] and self._reads(e.right, dest)
        if cat != dest_cat or hazard:
            t = self.temp(cat)
            self.into(t, cat, e, out)
            out.append(f"{'MOVE' if cat == dest_cat else 'CONVERT'} {dest} {t}")
            self.release(cat)
            return
        if isinstance(e, Binary) and e.op in _ARITH:
            if not (isinstance(e.left, Ref) and self.ref(e.left) == dest):
                self.into(dest, dest_cat, e.left, out)
            self.with_operand(e.right, lambda o: out.append(f"{_ARITH[e.op]} {dest} {o}"), out)
        elif isinstance(e, Binary) and e.op in _FLIP:
            self.compare(dest, e, out)
        elif isinstance(e, Binary) and e.op in ("&&", "||"):
            self.into(dest, "BIT", Binary("!=", e.left, Const(0)), out)
            self.with_operand(Binary("!=", e.right, Const(0)),
                              lambda o: out.append(f"{'AND' if e.op == '&&' else 'IOR'} {dest} {o}"), out, "BIT")
        elif isinstance(e, Unary) and e.op == "-":
            self.into(dest, dest_cat, e.operand, out)
            out.append(f"NEG {dest}")
        elif isinstance(e, Unary) and e.op == "!":
            self.compare(dest, Binary("==", e.operand, Const(0)), out)
        elif isinstance(e, Unary) and e.op == "~":
            self.into(dest, dest_cat, e.operand, out)
            out.append(f"NOT {dest}")
        elif isinstance(e, Call) and e.func in ("int", "float", "bit", "bool"):
            self.with_operand(e.args[0], lambda o: out.append(f"CONVERT {dest} {o}"), out, memory=True)
        else:
            what = e.op if isinstance(e, (Binary, Unary)) else f"{e.func}()"
            raise EmitError(f"{what} in a classical assignment cannot be expressed in Quil: "
                            f"{format_expr(e)}")

    def with_operand(self, e, use, out, cat=None, memory=False):
        s = None if memory and isinstance(e, Const) else self.simple(e)
        if s is not None:
            return use(s)
        cat = cat or self.category(e)
        t = self.temp(cat)
        self.into(t, cat, e, out)
        use(t)
        self.release(cat)

    def compare(self, dest: str, e: Binary, out: list) -> None:
        left, right, op = e.left, e.right, e.op
        if not isinstance(left, Ref) and isinstance(right, Ref):
            left, right, op = right, left, _FLIP[op]
        name = _CMP["==" if op == "!=" else op]

        def emit_with_left(a):
            self.with_operand(right, lambda b: out.append(f"{name} {dest} {a} {b}"), out)
        self.with_operand(left, emit_with_left, out, memory=True)
        if op == "!=":
            out.append(f"NOT {dest}")

    def _reads(self, e, dest: str) -> bool:
        name = dest.split("[")[0]
        return any(r.name == name for r in refs(e))

    # -- instructions and blocks -------------------------------------------------------
    def instruction(self, ins, out: list) -> None:
        if isinstance(ins, GateOp):
            qs = " ".join(str(q) for q in ins.qubits)
            if ins.name == "SX":
                out.append(f"RX(pi/2) {qs}")
            elif ins.name == "U3":
                theta, phi, lam = (self.param(p) for p in ins.params)
                out.extend([f"RZ({lam}) {qs}", f"RY({theta}) {qs}", f"RZ({phi}) {qs}"])
            else:
                params = f"({', '.join(self.param(p) for p in ins.params)})" if ins.params else ""
                out.append(f"{_DIRECT[ins.name]}{params} {qs}")
        elif isinstance(ins, Measure):
            out.append(f"MEASURE {ins.qubit}" + (f" {self.ref(ins.target)}" if ins.target else ""))
        elif isinstance(ins, Reset):
            out.append(f"RESET {ins.qubit}")
        else:
            dest = self.ref(ins.target)
            self.into(dest, _CATEGORY[self.vars[ins.target.name].type], ins.value, out)

    def jump_if(self, cond, target: str, negate: bool, out: list) -> None:
        """``JUMP-WHEN``/``JUMP-UNLESS`` to ``target`` when ``cond`` (or its negation) holds."""
        if isinstance(cond, Unary) and cond.op == "!" and isinstance(cond.operand, Ref) \
                and self.category(cond.operand) == "BIT":
            cond, negate = cond.operand, not negate
        if isinstance(cond, Ref) and self.category(cond) == "BIT":
            out.append(f"{'JUMP-UNLESS' if negate else 'JUMP-WHEN'} @{target} {self.ref(cond)}")
            return
        if self.category(cond) != "BIT":
            cond = Binary("!=", cond, Const(0))
        t = self.temp("BIT")
        self.into(t, "BIT", cond, out)
        out.append(f"{'JUMP-UNLESS' if negate else 'JUMP-WHEN'} @{target} {t}")
        self.release("BIT")

    def branch(self, term: Branch, next_label, out: list) -> None:
        if term.if_true == next_label:
            self.jump_if(term.cond, term.if_false, True, out)
            return
        self.jump_if(term.cond, term.if_true, False, out)
        if term.if_false != next_label:
            out.append(f"JUMP @{term.if_false}")

    def program(self) -> str:
        p = self.p
        body: list = []
        for k, b in enumerate(p.blocks):
            nxt = p.blocks[k + 1].label if k + 1 < len(p.blocks) else None
            body.append(f"LABEL @{b.label}")
            for ins in b.instructions:
                self.instruction(ins, body)
            t = b.terminator
            if isinstance(t, Jump) and t.target != nxt:
                body.append(f"JUMP @{t.target}")
            elif isinstance(t, Branch):
                self.branch(t, nxt, body)
            elif isinstance(t, Halt) and nxt is not None:
                body.append("HALT")
        used = {line.split()[1] for line in body if line.startswith("JUMP")}
        body = [l for l in body if not l.startswith("LABEL @") or l.split()[1] in used]
        head = [f"# {p.name}"] if p.name else []
        for v in p.variables:
            size = f"[{v.size}]" if v.size is not None else ""
            head.append(f"DECLARE {v.name} {_QUIL_TYPES[v.type]}{size}")
        for qtype, (name, size) in sorted(self.temps.items()):
            head.append(f"DECLARE {name} {qtype}[{size}]")
        if p.inputs:
            head.append("PRAGMA INPUT " + " ".join(p.inputs))
        head.append(" ".join(["PRAGMA OUTPUT", *p.outputs]))
        return "\n".join(head + body) + "\n"


def print_quil(program: Program) -> str:
    """Quil source for ``program`` (raises ``EmitError`` for what Quil cannot express)."""
    return _Printer(program).program()
