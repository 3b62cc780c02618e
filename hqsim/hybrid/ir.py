"""The hybrid-program IR: typed classical variables, expressions, instructions, basic blocks.

A :class:`Program` is a tuple of basic blocks (the first is the entry); each block is a tuple of
instructions ended by one terminator (``Jump``, ``Branch`` or ``Halt``). Everything is a frozen
dataclass: passes build new programs and never mutate one.

Instructions come in three kinds (Remme et al., "Optimization of Hybrid Quantum-Classical
Algorithms"):

- quantum: a gate whose angles are constants, a measurement that discards its result;
- classical: ``Assign`` (arithmetic, comparisons, casts on typed variables and arrays);
- hybrid: a gate whose angles read classical variables, ``Measure`` into a classical location,
  ``Reset``. Conditional branches are classical control; the metrics count a branch whose
  condition depends on a measured value as hybrid (see ``metrics``).

Values are Python ``int`` (bit, bool, int) and ``float``; qubits are integers 0..num_qubits-1,
grouped into named registers only for printing.

Instructions and branches carry ``loc``, the (line, column) of the source statement they came
from (None when unknown, e.g. built by a pass); it takes no part in equality or hashing, so
passes compare and deduplicate as before, and the interpreter names the source line of a
run-time error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property
from typing import Iterator, Union


class ScalarType(str, Enum):
    BIT = "bit"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"


class Role(str, Enum):
    """``input``: set by the caller; ``output``: part of the result; ``local``/``temp``: neither."""

    INPUT = "input"
    OUTPUT = "output"
    LOCAL = "local"
    TEMP = "temp"


class Kind(str, Enum):
    QUANTUM = "quantum"
    CLASSICAL = "classical"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class VarDecl:
    """A classical variable: a scalar (``size is None``) or an array of ``size`` elements."""

    name: str
    type: ScalarType
    size: int | None = None
    role: Role = Role.LOCAL

    def __post_init__(self):
        if self.size is not None and (isinstance(self.size, bool) or not isinstance(self.size, int)
                                      or self.size < 1):
            raise ValueError(f"variable {self.name!r}: size must be a positive int or None, got {self.size!r}")

    @property
    def zero(self):
        return 0.0 if self.type is ScalarType.FLOAT else 0


# -- expressions ---------------------------------------------------------------------------
UNARY_OPS = frozenset({"-", "!", "~"})
BINARY_OPS = frozenset({"+", "-", "*", "/", "%", "**", "==", "!=", "<", "<=", ">", ">=",
                        "&&", "||", "&", "|", "^", "<<", ">>"})
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
MATH_FUNCS = frozenset({"sin", "cos", "tan", "arcsin", "arccos", "arctan", "exp", "log", "sqrt",
                        "floor", "ceil"})
CASTS = frozenset({"int", "float", "bool", "bit"})


class Expr:
    """Base of expressions; arithmetic operators build trees (comparisons are methods)."""

    __slots__ = ()

    def __add__(self, o): return Binary("+", self, as_expr(o))
    def __radd__(self, o): return Binary("+", as_expr(o), self)
    def __sub__(self, o): return Binary("-", self, as_expr(o))
    def __rsub__(self, o): return Binary("-", as_expr(o), self)
    def __mul__(self, o): return Binary("*", self, as_expr(o))
    def __rmul__(self, o): return Binary("*", as_expr(o), self)
    def __truediv__(self, o): return Binary("/", self, as_expr(o))
    def __rtruediv__(self, o): return Binary("/", as_expr(o), self)
    def __neg__(self): return Unary("-", self)
    def eq(self, o): return Binary("==", self, as_expr(o))
    def ne(self, o): return Binary("!=", self, as_expr(o))
    def lt(self, o): return Binary("<", self, as_expr(o))
    def le(self, o): return Binary("<=", self, as_expr(o))
    def gt(self, o): return Binary(">", self, as_expr(o))
    def ge(self, o): return Binary(">=", self, as_expr(o))
    def logical_and(self, o): return Binary("&&", self, as_expr(o))
    def logical_or(self, o): return Binary("||", self, as_expr(o))
    def logical_not(self): return Unary("!", self)


@dataclass(frozen=True, eq=False)
class Const(Expr):
    """An ``int`` or finite ``float`` literal (bools become 0/1). Equality includes the type."""

    value: int | float

    def __post_init__(self):
        v = self.value
        if isinstance(v, bool):
            object.__setattr__(self, "value", int(v))
        elif not isinstance(v, (int, float)):
            raise TypeError(f"Const takes an int or float, got {type(v).__name__}")
        elif isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"Const must be finite, got {v!r}")

    def __eq__(self, other):
        return (isinstance(other, Const) and type(self.value) is type(other.value)
                and self.value == other.value)

    def __hash__(self):
        return hash((Const, type(self.value), self.value))


@dataclass(frozen=True)
class Ref(Expr):
    """A variable (``index is None``: the scalar, or the whole array) or one array element."""

    name: str
    index: Expr | None = None

    def __getitem__(self, i) -> "Ref":
        if self.index is not None:
            raise TypeError(f"{self.name}[...] is already indexed")
        return Ref(self.name, as_expr(i))


@dataclass(frozen=True)
class Unary(Expr):
    op: str
    operand: Expr

    def __post_init__(self):
        if self.op not in UNARY_OPS:
            raise ValueError(f"unknown unary operator {self.op!r}")


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr

    def __post_init__(self):
        if self.op not in BINARY_OPS:
            raise ValueError(f"unknown binary operator {self.op!r}")


@dataclass(frozen=True)
class Call(Expr):
    """A math function (``sin``...) or a cast (``int``, ``float``, ``bool``, ``bit``) of one argument."""

    func: str
    args: tuple[Expr, ...]

    def __post_init__(self):
        if self.func not in MATH_FUNCS | CASTS:
            raise ValueError(f"unknown function {self.func!r}")
        object.__setattr__(self, "args", tuple(self.args))
        if len(self.args) != 1:
            raise ValueError(f"{self.func}() takes one argument, got {len(self.args)}")


def as_expr(x) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, (bool, int, float)):
        return Const(x)
    raise TypeError(f"expected an expression or a number, got {type(x).__name__}")


# -- static queries on expressions ----------------------------------------------------------
def refs(expr: Expr):
    """Every ``Ref`` node in the expression (including inside indices)."""
    if isinstance(expr, Ref):
        yield expr
        if expr.index is not None:
            yield from refs(expr.index)
    elif isinstance(expr, Unary):
        yield from refs(expr.operand)
    elif isinstance(expr, Binary):
        yield from refs(expr.left)
        yield from refs(expr.right)
    elif isinstance(expr, Call):
        yield from refs(expr.args[0])


def reads_any(expr: Expr) -> bool:
    return next(refs(expr), None) is not None


def location(ref: Ref) -> tuple[str, int | None]:
    """(name, constant index) or (name, None) for a whole variable or a computed index."""
    if isinstance(ref.index, Const) and isinstance(ref.index.value, int):
        return ref.name, ref.index.value
    return ref.name, None


def read_locations(expr: Expr) -> set[tuple[str, int | None]]:
    return {location(r) for r in refs(expr)}


# -- instructions --------------------------------------------------------------------------
Loc = tuple[int, int]  # (line, column) from 1


def _loc():
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Assign:
    """``target = value`` (classical); the value is coerced to the target's type."""

    target: Ref
    value: Expr
    loc: Loc | None = _loc()


@dataclass(frozen=True)
class GateOp:
    """A gate (names from ``hqsim.hybrid.gateset``) on ``qubits`` with angle expressions."""

    name: str
    qubits: tuple[int, ...]
    params: tuple[Expr, ...] = ()
    loc: Loc | None = _loc()

    def __post_init__(self):
        object.__setattr__(self, "qubits", tuple(self.qubits))
        object.__setattr__(self, "params", tuple(as_expr(p) for p in self.params))


@dataclass(frozen=True)
class Measure:
    """Measure ``qubit`` in the Z basis into ``target`` (``None``: result discarded)."""

    qubit: int
    target: Ref | None = None
    loc: Loc | None = _loc()


@dataclass(frozen=True)
class Reset:
    qubit: int
    loc: Loc | None = _loc()


Instruction = Union[Assign, GateOp, Measure, Reset]


@dataclass(frozen=True)
class Jump:
    target: str


@dataclass(frozen=True)
class Branch:
    """Go to ``if_true`` when ``cond`` is non-zero, else to ``if_false``."""

    cond: Expr
    if_true: str
    if_false: str
    loc: Loc | None = _loc()


@dataclass(frozen=True)
class Halt:
    pass


Terminator = Union[Jump, Branch, Halt]


def successors(term: Terminator) -> tuple[str, ...]:
    if isinstance(term, Jump):
        return (term.target,)
    if isinstance(term, Branch):
        return (term.if_true,) if term.if_true == term.if_false else (term.if_true, term.if_false)
    return ()


@dataclass(frozen=True)
class Block:
    label: str
    instructions: tuple[Instruction, ...] = ()
    terminator: Terminator = field(default_factory=Halt)

    def __post_init__(self):
        object.__setattr__(self, "instructions", tuple(self.instructions))

    def with_instructions(self, instructions) -> "Block":
        return Block(self.label, tuple(instructions), self.terminator)


@dataclass(frozen=True)
class QubitRegister:
    name: str
    size: int


@dataclass(frozen=True)
class Program:
    """Blocks (entry first), classical variables and qubit registers. Immutable."""

    blocks: tuple[Block, ...]
    variables: tuple[VarDecl, ...] = ()
    registers: tuple[QubitRegister, ...] = ()
    name: str = ""

    def __post_init__(self):
        object.__setattr__(self, "blocks", tuple(self.blocks))
        object.__setattr__(self, "variables", tuple(self.variables))
        object.__setattr__(self, "registers", tuple(self.registers))
        if not self.blocks:
            raise ValueError("a program needs at least one block")

    # -- lookups (cached; the program never changes) -----------------------------------
    @cached_property
    def block_map(self) -> dict[str, Block]:
        return {b.label: b for b in self.blocks}

    @cached_property
    def var_map(self) -> dict[str, VarDecl]:
        return {v.name: v for v in self.variables}

    @property
    def entry(self) -> str:
        return self.blocks[0].label

    @property
    def num_qubits(self) -> int:
        return sum(r.size for r in self.registers)

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables if v.role is Role.INPUT)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables if v.role is Role.OUTPUT)

    def qubit_label(self, q: int) -> tuple[str, int, int]:
        """(register name, offset, register size) of qubit ``q``."""
        base = 0
        for r in self.registers:
            if q < base + r.size:
                return r.name, q - base, r.size
            base += r.size
        raise IndexError(f"qubit {q} out of range (program has {self.num_qubits})")

    def instructions(self) -> Iterator[Instruction]:
        for b in self.blocks:
            yield from b.instructions

    def with_blocks(self, blocks) -> "Program":
        return replace(self, blocks=tuple(blocks))

    def replace(self, **changes) -> "Program":
        return replace(self, **changes)


def instruction_kind(instr: Instruction) -> Kind:
    """Quantum, classical or hybrid (a gate is hybrid when an angle reads a variable)."""
    if isinstance(instr, Assign):
        return Kind.CLASSICAL
    if isinstance(instr, GateOp):
        return Kind.HYBRID if any(reads_any(p) for p in instr.params) else Kind.QUANTUM
    if isinstance(instr, Measure):
        return Kind.QUANTUM if instr.target is None else Kind.HYBRID
    if isinstance(instr, Reset):
        return Kind.HYBRID
    raise TypeError(f"not an instruction: {instr!r}")


def instruction_qubits(instr: Instruction) -> tuple[int, ...]:
    if isinstance(instr, GateOp):
        return instr.qubits
    if isinstance(instr, (Measure, Reset)):
        return (instr.qubit,)
    return ()
