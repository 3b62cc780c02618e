"""Instruction reordering within basic blocks (any topological order of the dependences).

Timing model (``metrics``): the CPU issues instructions in program order; a classical
instruction occupies the CPU; a quantum instruction is handed to the QPU and starts when the
QPU is free (the CPU does not wait); a hybrid instruction waits for both and occupies both.

- ``reorder_instructions``: list scheduling against that model to shorten the wall time: at each
  step the ready instruction that can start earliest, ties broken by the longest remaining
  dependence path, then by the original position. Quantum work is issued early so the QPU runs
  while the CPU computes, and hybrid synchronisations wait for what feeds them only.
- ``reorder_latest_quantum`` (latest-possible quantum execution): every classical instruction
  that does not depend on the QPU moves to the front of its block, so the first quantum
  instruction starts as late as possible, and classical work that no quantum instruction
  needs moves behind the last one; this takes classical time out of the window in which the
  qubits must stay coherent (QCT), at a possible cost in wall time.

Both keep blocks, terminators and dependences (a valid topological order), and both are
idempotent: ties are broken by the current position, which the output order agrees with.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..analyses.dependences import DependenceGraph, compute_dependences
from ..costs import CostModel, get_cost_model
from ..ir import GateOp, Kind, Measure, Program, Reset


@dataclass(frozen=True)
class ReorderOptions:
    cost_model: str = "unit"


def _cost(ins, model: CostModel) -> float:
    if isinstance(ins, GateOp):
        return model.gate_cost(len(ins.qubits))
    if isinstance(ins, Measure):
        return model.measure
    if isinstance(ins, Reset):
        return model.reset
    return model.classical


def _critical_paths(g: DependenceGraph, costs: list) -> list:
    n = len(costs)
    longest = [0.0] * n
    for i in range(n - 1, -1, -1):
        longest[i] = costs[i] + max((longest[j] for j in g.succs[i]), default=0.0)
    return longest


def schedule_block(instrs, model: CostModel) -> list:
    """Forward list scheduling of one block (see the module docstring)."""
    n = len(instrs)
    if n < 2:
        return list(instrs)
    g = compute_dependences(instrs)
    costs = [_cost(i, model) for i in instrs]
    prio = _critical_paths(g, costs)
    missing = [len(p) for p in g.preds]
    ready = {i for i in range(n) if not missing[i]}
    cpu = qpu = 0.0
    order = []
    while ready:
        starts = {k: cpu if g.kinds[k] is Kind.CLASSICAL else max(cpu, qpu) for k in ready}
        i = min(ready, key=lambda k: (starts[k], -prio[k], k))
        ready.discard(i)
        t = starts[i]
        if g.kinds[i] is Kind.CLASSICAL:
            cpu = t + costs[i]
        elif g.kinds[i] is Kind.QUANTUM:
            qpu = t + costs[i]
        else:
            cpu = qpu = t + costs[i]
        order.append(i)
        for j in g.succs[i]:
            missing[j] -= 1
            if not missing[j]:
                ready.add(j)
    return [instrs[i] for i in order]


def latest_quantum_block(instrs) -> list:
    """Classical work the QPU does not need (or that does not need the QPU) out of the way.

    Front: classical instructions with no quantum or hybrid instruction before them in the
    dependence graph (the QPU starts after them). Back: classical instructions, not already at
    the front, on which no quantum or hybrid instruction depends (they run after the QPU is
    done). The rest keeps its order.
    """
    n = len(instrs)
    if n < 2:
        return list(instrs)
    g = compute_dependences(instrs)
    classical = [k is Kind.CLASSICAL for k in g.kinds]
    after_qpu = [False] * n
    for i in range(n):
        after_qpu[i] = not classical[i] or any(after_qpu[p] for p in g.preds[i])
    feeds_qpu = [False] * n
    for i in range(n - 1, -1, -1):
        feeds_qpu[i] = not classical[i] or any(feeds_qpu[s] for s in g.succs[i])
    front = [i for i in range(n) if not after_qpu[i]]
    back = [i for i in range(n) if after_qpu[i] and not feeds_qpu[i]]
    middle = [i for i in range(n) if after_qpu[i] and feeds_qpu[i]]
    return [instrs[i] for i in front + middle + back]


def _map_blocks(program: Program, fn) -> Program:
    blocks = tuple(b.with_instructions(fn(list(b.instructions))) for b in program.blocks)
    return program if blocks == program.blocks else program.with_blocks(blocks)


def reorder_instructions(program: Program, options: ReorderOptions = ReorderOptions()) -> Program:
    model = get_cost_model(options.cost_model)
    return _map_blocks(program, lambda instrs: schedule_block(instrs, model))


def reorder_latest_quantum(program: Program) -> Program:
    return _map_blocks(program, latest_quantum_block)
