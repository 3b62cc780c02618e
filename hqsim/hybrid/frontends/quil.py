"""Quil -> hybrid IR, parsing with the ``quil`` package (Rust core) one source line at a time,
so every error names its line (the package drops source positions from instructions).

Supported: ``DECLARE`` (BIT, INTEGER, REAL; scalars and arrays), standard gates (I X Y Z H S T
RX RY RZ PHASE CNOT CZ SWAP CCNOT CSWAP CPHASE) with ``DAGGER``/``CONTROLLED`` and parameter
expressions over memory (+ - * / ^, SIN COS SQRT EXP, pi), ``MEASURE`` (with or without a
target), ``RESET`` (one qubit or all), ``LABEL``, ``JUMP``, ``JUMP-WHEN``, ``JUMP-UNLESS``,
``HALT``, ``MOVE``, ``ADD``/``SUB``/``MUL``/``DIV``, ``NEG``, ``NOT``, ``AND``/``IOR``/``XOR``,
``EQ``/``GT``/``GE``/``LT``/``LE``, ``CONVERT``, ``NOP``, ``PRAGMA INPUT name...`` and
``PRAGMA OUTPUT name...`` (other pragmas are ignored).

Inputs are the regions named by ``PRAGMA INPUT`` (Quil has no input declaration: those are the
values a caller patches in); outputs are those named by ``PRAGMA OUTPUT`` lines (an empty one
means none), else every declared region that is not an input. Qubits are numbered as written (0..max).
"""
from __future__ import annotations

import re
from dataclasses import replace

from ..errors import HybridSyntaxError, UnsupportedConstruct
from ..limits import TooLarge, check_classical_size
from ..ir import (Assign, Binary, Block, Branch, Call, GateOp, Halt, Jump, Measure, Program,
                 QubitRegister, Reset, Role, ScalarType, Unary, VarDecl)
from ..passes.simplify_cfg import remove_unreachable, simplify_cfg
from ..wellformed import validate
from ._deps import parse_quil_line
from .qasm_gates import ModifierError, Op, control, invert
from .quil_convert import QuilConverter

UNSUPPORTED = {"DEFGATE", "DEFCIRCUIT", "DEFCAL", "DEFFRAME", "DEFWAVEFORM", "PULSE", "CAPTURE",
               "RAW-CAPTURE", "DELAY", "FENCE", "LOAD", "STORE", "EXCHANGE", "WAIT", "INCLUDE",
               "SET-FREQUENCY", "SHIFT-FREQUENCY", "SET-PHASE", "SHIFT-PHASE", "SWAP-PHASES",
               "SET-SCALE", "CALL", "EXTERN"}
_TYPES = {"Bit": ScalarType.BIT, "Integer": ScalarType.INT, "Real": ScalarType.FLOAT}


def _strip_comment(line: str) -> str:
    out, in_str = [], False
    for ch in line:
        if ch == '"':
            in_str = not in_str
        if ch == "#" and not in_str:
            break
        out.append(ch)
    return "".join(out).rstrip()


def parse_quil_program(source: str, filename: str = "<input>", name: str = "") -> Program:
    try:
        return _QuilLowerer(name).lower(source)
    except HybridSyntaxError as exc:
        raise exc.with_filename(filename) from None


class _QuilLowerer(QuilConverter):
    def __init__(self, name: str):
        self.name = name
        self.decls: dict = {}
        self.inputs: list = []
        self.outputs: list = []
        self.outputs_declared = False
        self.items: list = []  # (line, kind, payload)
        self.max_qubit = -1
        self.line = 0
        self.declared_elements = 0

    def error(self, message: str, column: int | None = None, cls=HybridSyntaxError):
        if "not supported" in message:
            cls = UnsupportedConstruct
        raise cls(message, self.line, column or 1)

    def lower(self, source: str) -> Program:
        # lines end at \n, \r\n or \r only (str.splitlines also splits at U+2028, form feed...)
        for number, raw in enumerate(re.split(r"\r\n|\r|\n", source), 1):
            self.line = number
            text = _strip_comment(raw)
            if not text.strip():
                continue
            if text[0].isspace():
                self.error("indented line outside a definition (DEFGATE/DEFCIRCUIT are not supported)")
            word = text.split()[0].upper()
            if word in UNSUPPORTED:
                self.error(f"{word} is not supported", 1)
            parsed = self._parse(text)
            for dname, decl in parsed.declarations.items():
                self._declare(dname, decl)
            for ins in parsed.body_instructions:
                self._instruction(ins)
        return self._build()

    def _parse(self, text: str):
        try:
            return parse_quil_line(text)
        except HybridSyntaxError as exc:
            msg = re.sub(r"^syntax error: at line \d+, column \d+ ", "syntax error: ", exc.message)
            raise HybridSyntaxError(msg, self.line, exc.column) from None

    def _declare(self, name: str, decl) -> None:
        if name in self.decls:
            self.error(f"memory region {name!r} is declared twice")
        if decl.sharing is not None:
            self.error("DECLARE ... SHARING is not supported")
        kind = str(decl.size.data_type)
        if kind not in _TYPES:
            self.error(f"memory type {kind.upper()} is not supported (BIT, INTEGER, REAL)")
        length = int(decl.size.length)
        try:
            self.declared_elements = check_classical_size(name, length, self.declared_elements)
        except TooLarge as exc:
            self.error(f"DECLARE {exc}")
        self.decls[name] = VarDecl(name, _TYPES[kind], None if length == 1 else length)

    # -- instructions --------------------------------------------------------------------
    def _instruction(self, ins) -> None:
        kind = type(ins).__name__
        handler = getattr(self, "_i_" + kind, None)
        if handler is None:
            self.error(f"{kind} instructions are not supported")
        handler(ins._0 if hasattr(ins, "_0") else None)

    def _emit(self, item) -> None:
        self.items.append((self.line, "ins", item))

    def _i_Gate(self, g) -> None:
        if "Forked" in [str(m) for m in g.modifiers]:
            self.error("the FORKED modifier is not supported")
        qubits = [self.qubit(q) for q in g.qubits]
        params = tuple(self.quil_expr(e) for e in g.parameters)
        mods = [str(m) for m in g.modifiers]
        n_ctrl = mods.count("Controlled")
        ops = [Op(*self.base_gate(g.name, qubits[n_ctrl:], params))]
        pos = n_ctrl
        try:
            for m in reversed(mods):
                if m == "Dagger":
                    ops = invert(ops)
                else:
                    pos -= 1
                    ops = control(ops, qubits[pos])
        except ModifierError as exc:
            self.error(f"{exc} (not supported)")
        if len(set(qubits)) != len(qubits):
            self.error(f"gate {g.name} applied to repeated qubit(s) {qubits}")
        for op in ops:
            self._emit(GateOp(op.name, op.qubits, op.params))

    def _i_Measurement(self, m) -> None:
        q = self.qubit(m.qubit)
        target = None if m.target is None else self.memory(m.target, write=True)
        if target is not None and self.decls[target.name].type is ScalarType.FLOAT:
            self.error(f"cannot MEASURE into REAL memory {target.name!r}")
        self._emit(Measure(q, target))

    def _i_Reset(self, r) -> None:
        if r.qubit is None:
            self.items.append((self.line, "reset_all", None))
        else:
            self._emit(Reset(self.qubit(r.qubit)))

    def _i_Label(self, lab) -> None:
        self.items.append((self.line, "label", self.label_name(lab.target)))

    def _i_Jump(self, j) -> None:
        self.items.append((self.line, "jump", (self.label_name(j.target), None, True)))

    def _i_JumpWhen(self, j) -> None:
        self.items.append((self.line, "jump", (self.label_name(j.target), self.memory(j.condition), True)))

    def _i_JumpUnless(self, j) -> None:
        self.items.append((self.line, "jump", (self.label_name(j.target), self.memory(j.condition), False)))

    def _i_Halt(self, _h) -> None:
        self.items.append((self.line, "halt", None))

    def _i_Nop(self, _n) -> None:
        pass

    def _i_Pragma(self, p) -> None:
        if p.name in ("INPUT", "OUTPUT"):
            names = [str(a._0) for a in p.arguments]
            (self.inputs if p.name == "INPUT" else self.outputs).extend((n, self.line) for n in names)
            self.outputs_declared = self.outputs_declared or p.name == "OUTPUT"

    def _i_Move(self, m) -> None:
        target = self.memory(m.destination, write=True)
        self._emit(Assign(target, self.operand(m.source)))

    def _i_Arithmetic(self, a) -> None:
        op = {"Add": "+", "Subtract": "-", "Multiply": "*", "Divide": "/"}[str(a.operator)]
        target = self.memory(a.destination, write=True)
        self._emit(Assign(target, Binary(op, target, self.operand(a.source))))

    def _i_Comparison(self, c) -> None:
        op = {"Equal": "==", "GreaterThan": ">", "GreaterThanOrEqual": ">=", "LessThan": "<",
              "LessThanOrEqual": "<="}[str(c.operator)]
        target = self.memory(c.destination, write=True)
        self._emit(Assign(target, Binary(op, self.memory(c.lhs), self.operand(c.rhs))))

    def _i_BinaryLogic(self, b) -> None:
        op = {"And": "&", "Ior": "|", "Xor": "^"}[str(b.operator)]
        target = self.memory(b.destination, write=True)
        self._emit(Assign(target, Binary(op, target, self.operand(b.source))))

    def _i_UnaryLogic(self, u) -> None:
        target = self.memory(u.operand, write=True)
        if str(u.operator) == "Neg":
            value = Unary("-", target)
        else:
            is_bit = self.decls[target.name].type is ScalarType.BIT
            value = Unary("!", target) if is_bit else Unary("~", target)
        self._emit(Assign(target, value))

    def _i_Convert(self, c) -> None:
        target = self.memory(c.destination, write=True)
        cast = {ScalarType.FLOAT: "float", ScalarType.INT: "int", ScalarType.BIT: "bit"}
        self._emit(Assign(target, Call(cast[self.decls[target.name].type], (self.memory(c.source),))))

    # -- assembling blocks ---------------------------------------------------------------
    def _build(self) -> Program:
        n = self.max_qubit + 1
        for name, line in self.inputs + self.outputs:
            if name not in self.decls:
                self.line = line
                self.error(f"PRAGMA names undeclared memory region {name!r}")
        inputs = {n_ for n_, _ in self.inputs}
        outputs = {n_ for n_, _ in self.outputs} if self.outputs_declared else set(self.decls) - inputs
        variables = []
        for d in self.decls.values():
            role = Role.INPUT if d.name in inputs else Role.OUTPUT if d.name in outputs else Role.LOCAL
            variables.append(VarDecl(d.name, d.type, d.size, role))
        labels = {payload for _, kind, payload in self.items if kind == "label"}
        blocks, counter = [], [0]

        def fresh():
            while True:
                counter[0] += 1
                lab = f"L{counter[0]}"
                if lab not in labels:
                    labels.add(lab)
                    return lab

        defined: dict = {}
        current, instrs = "entry" if "entry" not in labels else fresh(), []
        for line, kind, payload in self.items:
            self.line = line
            if kind == "ins":
                instrs.append(replace(payload, loc=(line, 1)) if hasattr(payload, "loc") else payload)
            elif kind == "reset_all":
                instrs.extend(Reset(q) for q in range(n))
            elif kind == "label":
                if payload in defined:
                    self.error(f"label @{payload} is defined twice (first on line {defined[payload]})")
                defined[payload] = line
                blocks.append(Block(current, tuple(instrs), Jump(payload)))
                current, instrs = payload, []
            else:
                term, nxt = self._terminator(kind, payload, fresh)
                blocks.append(Block(current, tuple(instrs), term))
                current, instrs = nxt, []
        blocks.append(Block(current, tuple(instrs), Halt()))
        for line, kind, payload in self.items:
            if kind == "jump" and payload[0] not in defined:
                self.line = line
                self.error(f"jump to undefined label @{payload[0]}")
        regs = (QubitRegister("q", n),) if n else ()
        program = Program(tuple(blocks), tuple(variables), regs, self.name)
        return validate(simplify_cfg(remove_unreachable(program)))

    def _terminator(self, kind, payload, fresh):
        nxt = fresh()
        if kind == "halt":
            return Halt(), nxt
        target, cond, when = payload
        if cond is None:
            return Jump(target), nxt
        loc = (self.line, 1)
        return (Branch(cond, target, nxt, loc) if when else Branch(cond, nxt, target, loc)), nxt

