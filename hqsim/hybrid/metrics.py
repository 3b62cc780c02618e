"""Metrics of a hybrid program: QIN, QCT and wall time (Remme et al.), and measured run time.

They are computed on executed traces (``interpreter.run``), so loops count once per iteration
and the numbers are means over ``shots`` seeded runs. Timing model, per executed instruction
with costs from a ``CostModel`` (``unit``: every instruction 1):

- the CPU issues instructions in order; a classical instruction (assignment, branch on a
  classical value) occupies the CPU for its cost; an unconditional jump costs ``jump`` (0);
- a quantum instruction (constant gate) is handed to the QPU: it starts at
  ``max(cpu, qpu)`` and occupies the QPU only, so CPU and QPU run in parallel;
- a hybrid instruction (gate with classical angles, measurement into a variable, reset, branch
  on a measured value) synchronises: it starts at ``max(cpu, qpu)`` and occupies both.

``wall`` = the time both are done. ``qin`` = executed quantum + hybrid instructions.
``qct`` = time from the start of the first to the end of the last hybrid instruction plus the
cost of the quantum instructions before the first and after the last (all quantum time when
there is no hybrid instruction). ``measured_seconds`` is the median interpreter time per shot.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np

from .costs import CostModel, get_cost_model
from .interpreter import run
from .ir import Kind, Program, instruction_kind


@dataclass(frozen=True)
class Timing:
    qin: int
    qct: float
    wall: float


@dataclass(frozen=True)
class Metrics:
    qin: float
    qct: float
    wall: float
    static_qin: int
    static_size: int
    measured_seconds: float | None
    shots: int
    cost_model: str

    def as_dict(self) -> dict:
        return asdict(self)


def trace_timing(trace, model: CostModel) -> Timing:
    """QIN, QCT and wall time of one executed trace of (Kind, category) events."""
    cpu = qpu = 0.0
    first = last_end = None
    q_before = q_after = 0.0
    qin = 0
    for kind, category in trace:
        c = model.cost(category)
        if kind is Kind.CLASSICAL:
            cpu += c
            continue
        qin += 1
        start = max(cpu, qpu)
        if kind is Kind.QUANTUM:
            qpu = start + c
            if first is None:
                q_before += c
            else:
                q_after += c
        else:
            cpu = qpu = start + c
            if first is None:
                first = start
            last_end = cpu
            q_after = 0.0
    qct = q_before if first is None else (last_end - first) + q_before + q_after
    return Timing(qin, qct, max(cpu, qpu))


def static_counts(program: Program) -> tuple[int, int]:
    """(quantum + hybrid instructions, all instructions and terminators) in the program text."""
    qin = sum(1 for i in program.instructions() if instruction_kind(i) is not Kind.CLASSICAL)
    return qin, sum(len(b.instructions) + 1 for b in program.blocks)


def measure_seconds(program: Program, inputs=None, repeats: int = 5, seed: int = 0) -> float:
    """Median wall-clock seconds of one interpreted shot (after one warm-up run)."""
    run(program, inputs, seed=seed, record_trace=False)
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        run(program, inputs, seed=seed + r, record_trace=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compute_metrics(program: Program, inputs=None, *, cost_model: str | CostModel = "unit",
                    shots: int = 8, seed: int = 0, measure_time: bool = True,
                    repeats: int = 5) -> Metrics:
    """Mean QIN/QCT/wall over ``shots`` runs seeded from ``seed``, static counts, and (unless
    ``measure_time`` is False) the measured seconds per shot."""
    model = get_cost_model(cost_model)
    rng = np.random.default_rng(seed)
    timings = [trace_timing(run(program, inputs, seed=rng).trace, model) for _ in range(shots)]
    sqin, size = static_counts(program)
    secs = measure_seconds(program, inputs, repeats, seed) if measure_time else None
    return Metrics(qin=statistics.fmean(t.qin for t in timings),
                   qct=statistics.fmean(t.qct for t in timings),
                   wall=statistics.fmean(t.wall for t in timings),
                   static_qin=sqin, static_size=size, measured_seconds=secs, shots=shots,
                   cost_model=model.name)


def reduction(before: float, after: float) -> float:
    """Relative reduction in percent (0 when ``before`` is 0)."""
    return 0.0 if before == 0 else 100.0 * (before - after) / before
