"""Well-formedness checks for IR programs (front ends report source locations themselves)."""
from __future__ import annotations

from .errors import ProgramError
from .gateset import GATESET
from .ir import (Assign, Branch, Const, GateOp, Measure, Program, Ref, Reset, ScalarType,
                 Role, refs, successors)


def validate(program: Program) -> Program:
    """Raise ``ProgramError`` naming the block and instruction of the first problem found.

    Checks: unique block labels and variable names, jump targets exist, variables declared,
    constant array indices in range, whole-array reads only of bit arrays, qubits in range and
    distinct within a gate, gate names and arities, measurement targets of bit/int/bool type.
    Returns the program unchanged so calls can be chained.
    """
    labels = [b.label for b in program.blocks]
    if len(set(labels)) != len(labels):
        dup = next(l for l in labels if labels.count(l) > 1)
        raise ProgramError(f"block label {dup!r} is defined twice")
    names = [v.name for v in program.variables]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ProgramError(f"variable {dup!r} is declared twice")
    for r in program.registers:
        if r.size < 1:
            raise ProgramError(f"qubit register {r.name!r} has size {r.size}")
    for b in program.blocks:
        for i in b.instructions:
            try:
                _check_instruction(program, b.label, i)
            except ProgramError as exc:  # the CLI prints file:line:col from it
                exc.loc = exc.loc or getattr(i, "loc", None)
                raise
        term = b.terminator
        for t in successors(term):
            if t not in program.block_map:
                raise ProgramError(f"block {b.label}: jump to undefined label {t!r}")
        if isinstance(term, Branch):
            _check_expr(program, b.label, term.cond)
    return program


def _check_instruction(p: Program, label: str, i) -> None:
    # with a source position the message names the statement's kind, not the IR's repr
    where = type(i).__name__.lower() if getattr(i, "loc", None) else f"block {label}: {i!r}"
    if isinstance(i, Assign):
        _check_ref(p, where, i.target, write=True)
        _check_expr(p, label, i.value)
    elif isinstance(i, GateOp):
        spec = GATESET.get(i.name)
        if spec is None:
            raise ProgramError(f"{where}: unknown gate {i.name!r}; known: {', '.join(sorted(GATESET))}")
        if len(i.qubits) != spec.num_qubits or len(i.params) != spec.num_params:
            raise ProgramError(f"{where}: {i.name} takes {spec.num_qubits} qubit(s) and "
                               f"{spec.num_params} angle(s)")
        _check_qubits(p, where, i.qubits)
        for e in i.params:
            _check_expr(p, label, e)
    elif isinstance(i, Measure):
        _check_qubits(p, where, (i.qubit,))
        if i.target is not None:
            decl = _check_ref(p, where, i.target, write=True)
            if decl.type is ScalarType.FLOAT:
                raise ProgramError(f"{where}: cannot measure into float variable {decl.name!r}")
    elif isinstance(i, Reset):
        _check_qubits(p, where, (i.qubit,))
    else:
        raise ProgramError(f"block {label}: not an instruction: {i!r}")


def _check_qubits(p: Program, where: str, qubits) -> None:
    for q in qubits:
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q < p.num_qubits:
            raise ProgramError(f"{where}: qubit {q!r} out of range 0..{p.num_qubits - 1}")
    if len(set(qubits)) != len(qubits):
        raise ProgramError(f"{where}: repeated qubit in {tuple(qubits)}")


def _check_ref(p: Program, where: str, ref: Ref, write: bool = False):
    decl = p.var_map.get(ref.name)
    if decl is None:
        raise ProgramError(f"{where}: undeclared variable {ref.name!r}")
    if ref.index is not None:
        if decl.size is None:
            raise ProgramError(f"{where}: {ref.name!r} is not an array")
        if isinstance(ref.index, Const):
            if not isinstance(ref.index.value, int) or not 0 <= ref.index.value < decl.size:
                raise ProgramError(f"{where}: index {ref.index.value} out of range for "
                                   f"{ref.name}[{decl.size}]")
    elif decl.size is not None and (write or decl.type is not ScalarType.BIT):
        raise ProgramError(f"{where}: array {ref.name!r} used without an index")
    if write and decl.role is Role.INPUT:
        raise ProgramError(f"{where}: cannot assign to input {ref.name!r}")
    return decl


def _check_expr(p: Program, label: str, e) -> None:
    for r in refs(e):
        _check_ref(p, f"block {label}: expression", r)
