"""Constant propagation and folding (classical values and qubit Pauli states), branch folding.

``fold_constants(program, options)``:

1. runs ``compute_constants`` and rewrites every reachable block with the same transfer
   function: known variables become literals, constant expressions are evaluated, a gate whose
   angles become constants turns from hybrid into quantum, gates that act trivially on a qubit
   in a known Pauli eigenstate disappear or lose their controls, a measurement of a qubit known
   ``|0>``/``|1>`` becomes an assignment, a reset of a qubit known ``|0>`` disappears;
2. folds branches whose condition became constant and drops unreachable blocks;
3. a peephole per block: hqsim.compile's fold pass (``FoldConstants``, through the pass
   manager) on the block lifted into a circuit ``Segment``: adjacent gates of one additive kind
   on the same qubits are merged (symmetric gates such as CPhase whichever order their qubits
   are listed in), gates equal to the identity up to a phase are removed, adjacent pairs that
   cancel are removed. Measurements, resets and assignments stay in place as ``Opaque``
   operations; an angle is an ``_Angle`` (the expression and the number of classical writes
   before it), so two angles that read variables add only when no write lies between them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...compile.pass_manager import FixedPoint, run_passes
from ...compile.passes import FoldConstants, Opaque, Segment
from ...ir.gates import Gate
from ..analyses.constants import ConstState, branch_targets, compute_constants, transfer
from ..exprs import fold_constant
from ..ir import (Assign, Binary, Block, Branch, Const, Expr, GateOp, Jump, Measure, Program,
                  read_locations)
from .simplify_cfg import simplify_cfg


@dataclass(frozen=True)
class FoldOptions:
    """``quantum``: track Pauli states of qubits; ``peephole``: merge/cancel adjacent gates;
    ``max_rounds``: bound on the repeat-until-unchanged loop (run by the pass manager)."""

    quantum: bool = True
    peephole: bool = True
    max_rounds: int = 8


@dataclass(frozen=True)
class _FoldOnce:
    options: FoldOptions
    name: ClassVar[str] = "fold-once"

    def __call__(self, program: Program) -> Program:
        return _fold_once(program, self.options)


def fold_constants(program: Program, options: FoldOptions = FoldOptions()) -> Program:
    """Program in, folded program out (the input is not modified). Repeats until nothing
    changes (a merge can expose a new constant), so applying it twice equals applying it once."""
    stage = FixedPoint((_FoldOnce(options),), options.max_rounds)
    return run_passes(program, [stage]).program


def _fold_once(program: Program, options: FoldOptions) -> Program:
    facts = compute_constants(program)
    blocks = []
    for b in program.blocks:
        if b.label not in facts.entry:
            continue  # unreachable
        st: ConstState = facts.entry[b.label].copy()
        out = []
        for ins in b.instructions:
            if not options.quantum:  # forget qubit states: no quantum constant propagation
                st.qs = [None] * len(st.qs)
            out.extend(transfer(program, st, ins))
        term = _fold_terminator(st, b.terminator)
        if options.peephole:
            out = peephole(out)
        blocks.append(Block(b.label, tuple(out), term))
    return simplify_cfg(program.with_blocks(blocks))


def _fold_terminator(st: ConstState, term):
    if not isinstance(term, Branch):
        return term
    targets = branch_targets(st, term)
    if len(targets) == 1:
        return Jump(targets[0])
    return Branch(st.value(term.cond), term.if_true, term.if_false, term.loc)


# the circuit fold with both identity rules on: a hybrid program's gates are compared up to a phase
_PEEPHOLE = FoldConstants(phase_identities=True, cancel_pairs=True)


@dataclass(frozen=True)
class _Angle:
    """A gate angle of a hybrid program as a circuit-pass angle: ``expr`` and ``epoch``, the
    number of classical writes (assignments, measurements into a location) before the gate in
    its block. Two angles add into one when neither reads a location or both read them between
    the same writes (a write in between could change what the merged angle reads)."""

    expr: Expr
    epoch: int

    @property
    def is_constant(self) -> bool:
        return isinstance(self.expr, Const)

    def value(self) -> float:
        return float(self.expr.value)

    def __add__(self, other: "_Angle") -> "_Angle":
        if self.epoch != other.epoch and (read_locations(self.expr) or read_locations(other.expr)):
            raise ValueError("the angles read variables on either side of a classical write")
        return _Angle(fold_constant(Binary("+", self.expr, other.expr)), self.epoch)


def peephole(instrs: list) -> list:
    """Merge same-axis rotations, drop identities and cancelling pairs (per block): the block
    lifted into a circuit Segment, the circuit fold pass, the result lowered back."""
    lifted, originals = _lift(instrs)
    folded = run_passes(lifted, [_PEEPHOLE]).program
    return [_lower(op, originals) for op in folded.gates]


def _lift(instrs: list) -> tuple[Segment, dict]:
    """The block as a Segment, and each lifted gate's original instruction (by id) so that an
    unchanged gate comes back as itself, source location included."""
    ops, originals, epoch = [], {}, 0
    for ins in instrs:
        if isinstance(ins, GateOp):
            gate = Gate(ins.name, ins.qubits, tuple(_Angle(p, epoch) for p in ins.params))
            originals[id(gate)] = ins
            ops.append(gate)
            continue
        ops.append(Opaque(() if isinstance(ins, Assign) else (ins.qubit,), ins))
        if isinstance(ins, Assign) or (isinstance(ins, Measure) and ins.target is not None):
            epoch += 1
    return Segment(tuple(ops)), originals


def _lower(op, originals: dict):
    if isinstance(op, Opaque):
        return op.op
    original = originals.get(id(op))
    if original is not None:
        return original
    return GateOp(op.name, op.qubits, tuple(a.expr for a in op.params))
