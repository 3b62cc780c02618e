"""OpenQASM 3 ``for`` loops: expanded at translation time or lowered to a CFG loop.

A loop is expanded (one copy of the body per value, the variable a constant in each) when it
runs over a set, over a float range, or when its variable indexes qubits (qubit indices must be
static in the IR). Otherwise it becomes ``var = start; while (var <= stop) {...; var += step}``
with ``stop`` evaluated once; the step must be a constant.
"""
from __future__ import annotations

import dataclasses

from ..exprs import coerce, fold_constant
from ..ir import Const, Ref, Role, ScalarType
from .qasm_exprs import Symbol

MAX_EXPANSION = 100_000


def _walk(node):
    if isinstance(node, list):
        for x in node:
            yield from _walk(x)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        yield node
        for f in dataclasses.fields(node):
            if f.name != "span":
                yield from _walk(getattr(node, f.name))


def uses_as_qubit_index(ast, statements, name: str) -> bool:
    """Does ``name`` appear inside the index of a qubit operand in ``statements``?"""
    for node in _walk(statements):
        operands = []
        if isinstance(node, (ast.QuantumGate, ast.QuantumPhase, ast.QuantumBarrier)):
            operands = node.qubits
        elif isinstance(node, ast.QuantumReset):
            operands = [node.qubits]
        elif isinstance(node, ast.QuantumMeasurement):
            operands = [node.qubit]
        for op in operands:
            if isinstance(op, ast.IndexedIdentifier):
                for sub in _walk(op.indices):
                    if isinstance(sub, ast.Identifier) and sub.name == name:
                        return True
    return False


def lower_for(lw, s) -> None:
    A = lw.ast
    name = s.identifier.name
    t, size = lw.scalar_type(s.type, s)
    if size is not None:
        lw.error("the loop variable must be a scalar", s)
    sd = s.set_declaration
    if isinstance(sd, A.DiscreteSet):
        return _expand(lw, s, name, t, [lw.const_value(v, "a for-loop set element") for v in sd.values])
    if not isinstance(sd, A.RangeDefinition):
        lw.error("for loops over arrays are not supported", s)
    if sd.start is None or sd.end is None:
        lw.error("a for-loop range needs a start and an end", s)
    step = 1 if sd.step is None else lw.const_int(sd.step, "range step")
    if step == 0:
        lw.error("a for-loop range step must not be zero", s)
    start, stop = fold_constant(lw.expr(sd.start)), fold_constant(lw.expr(sd.end))
    static = isinstance(start, Const) and isinstance(stop, Const)
    indexes_qubits = uses_as_qubit_index(A, s.block, name)
    if static and (indexes_qubits or t is ScalarType.FLOAT):
        values, v = [], start.value
        while (v <= stop.value if step > 0 else v >= stop.value):
            values.append(v)
            v += step
            if len(values) > MAX_EXPANSION:
                lw.error(f"loop of more than {MAX_EXPANSION} iterations", s)
        return _expand(lw, s, name, t, values)
    if indexes_qubits:
        lw.error(f"qubit index uses loop variable {name!r} whose range is not a compile-time constant", s)
    if t is not ScalarType.INT:
        lw.error("for loops over non-constant float ranges are not supported", s)
    lw.scopes.append({})
    try:
        var = lw.declare(name, ScalarType.INT, None, Role.LOCAL, s)
        bound = None
        if not isinstance(stop, Const):
            bound = Ref(lw.declare(f"{name}_end", ScalarType.INT, None, Role.TEMP, s))
        with lw.cfg.for_range(Ref(var), start, stop, step, bound):
            lw.block(s.block)
    finally:
        lw.scopes.pop()


def _expand(lw, s, name: str, t: ScalarType, values) -> None:
    end = lw.cfg.new_label("endfor")
    for v in values:
        nxt = lw.cfg.new_label("iter")
        lw.scopes.append({name: Symbol("const", value=coerce(t, v))})
        try:
            with lw.cfg.loop_targets(nxt, end):
                lw.block(s.block)
        finally:
            lw.scopes.pop()
        lw.cfg.start(nxt)
    lw.cfg.start(end)
