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

Executed traces need the statevector, so they are computed only within the simulation budget
(``limits.simulation_budget``: a 40-qubit program is not simulated); otherwise ``qin``, ``qct``,
``wall`` and ``measured_seconds`` are None and ``note`` says why. The static metrics need no
state and are always there: ``static_qin`` / ``static_size`` count the program text, and
``static_qct`` / ``static_wall`` time it as one pass over the text in block order (each
instruction and branch once; a branch is hybrid when its condition may read a measured value).
For a program without branches they equal the executed ones.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from .costs import CostModel, get_cost_model
from .errors import StepLimit
from .interpreter import RunResult, run
from .ir import Assign, Branch, GateOp, Jump, Kind, Measure, Program, Reset, instruction_kind, refs
from .limits import METRIC_STEPS, SHOT_STEPS, simulation_budget


@dataclass(frozen=True)
class Timing:
    qin: int
    qct: float
    wall: float


@dataclass(frozen=True)
class Metrics:
    qin: float | None              # None: not simulated (see note)
    qct: float | None
    wall: float | None
    static_qin: int
    static_size: int
    measured_seconds: float | None
    shots: int
    cost_model: str
    static_qct: float = 0.0
    static_wall: float = 0.0
    note: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class StepBudget:
    """Interpreter steps one command may spend on its metrics (every stage, shot and timing
    run together; limits.METRIC_STEPS) and ``progress(what, steps used)``, called every
    interpreter.PROGRESS_EVERY steps of a run (None: silent)."""

    total: int = METRIC_STEPS
    used: int = 0
    progress: Callable[[str, int], None] | None = None

    def run(self, program: Program, inputs, seed, record_trace: bool, what: str) -> RunResult | None:
        """One run charged to the budget; None when the budget is (or gets) spent. A run past
        limits.SHOT_STEPS on its own is the program's StepLimit, raised."""
        limit = min(SHOT_STEPS, self.total - self.used)
        if limit <= 0:
            return None
        hook = None if self.progress is None else (lambda s: self.progress(what, self.used + s))
        try:
            result = run(program, inputs, seed=seed, max_steps=limit, record_trace=record_trace,
                         on_progress=hook)
        except StepLimit:
            if limit == SHOT_STEPS:
                raise
            self.used = self.total
            return None
        self.used += result.steps
        return result

    @property
    def spent_note(self) -> str:
        return (f"simulation stopped: the metrics' interpreter budget of {self.total:,} steps "
                "for this command is used up")


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


def measured_names(program: Program) -> set[str]:
    """Variables that may hold a value derived from a measurement (names; a fixpoint over the
    program text, so conservative: one measured element taints its whole array)."""
    tainted = {i.target.name for i in program.instructions() if isinstance(i, Measure) and i.target}
    assigns = [i for i in program.instructions() if isinstance(i, Assign)]
    grew = True
    while grew:
        grew = False
        for a in assigns:
            if a.target.name not in tainted and any(r.name in tainted for r in refs(a.value)):
                tainted.add(a.target.name)
                grew = True
    return tainted


def static_trace(program: Program) -> list:
    """(Kind, category) events of the program text in block order, each instruction and each
    terminator once (categories as ``interpreter`` records them)."""
    tainted = measured_names(program)
    events = []
    for b in program.blocks:
        for ins in b.instructions:
            if isinstance(ins, GateOp):
                events.append((instruction_kind(ins), f"gate{min(len(ins.qubits), 3)}"))
            elif isinstance(ins, Assign):
                events.append((Kind.CLASSICAL, "classical"))
            elif isinstance(ins, Reset):
                events.append((Kind.HYBRID, "reset"))
            else:
                events.append((instruction_kind(ins), "measure"))
        term = b.terminator
        if isinstance(term, Jump):
            events.append((Kind.CLASSICAL, "jump"))
        elif isinstance(term, Branch):
            hybrid = any(r.name in tainted for r in refs(term.cond))
            events.append((Kind.HYBRID if hybrid else Kind.CLASSICAL, "branch"))
    return events


def measure_seconds(program: Program, inputs=None, repeats: int = 5, seed: int = 0,
                    budget: StepBudget | None = None, label: str = "") -> float | None:
    """Median wall-clock seconds of one interpreted shot (after one warm-up run); None when
    the step budget runs out."""
    budget = budget if budget is not None else StepBudget()
    if budget.run(program, inputs, seed, False, f"{label} timing warm-up") is None:
        return None
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        if budget.run(program, inputs, seed + r, False, f"{label} timing {r + 1}/{repeats}") is None:
            return None
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compute_metrics(program: Program, inputs=None, *, cost_model: str | CostModel = "unit",
                    shots: int = 8, seed: int = 0, measure_time: bool = True,
                    repeats: int = 5, budget: StepBudget | None = None, label: str = "") -> Metrics:
    """Static QIN/QCT/wall and counts; within the simulation budget also the mean QIN/QCT/wall
    over ``shots`` runs seeded from ``seed`` and (unless ``measure_time`` is False) the measured
    seconds per shot (else those are None and ``note`` says why). ``budget``: the steps the
    runs may take (shared by the calls of one command; default a fresh StepBudget);
    ``label`` names the program in its progress calls."""
    model = get_cost_model(cost_model)
    sqin, size = static_counts(program)
    static = trace_timing(static_trace(program), model)
    base = dict(static_qin=sqin, static_size=size, shots=shots, cost_model=model.name,
                static_qct=static.qct, static_wall=static.wall)
    note = simulation_budget(program.num_qubits)
    if note is not None:
        return Metrics(qin=None, qct=None, wall=None, measured_seconds=None, note=note, **base)
    budget = budget if budget is not None else StepBudget()
    rng = np.random.default_rng(seed)
    timings = []
    for k in range(shots):
        result = budget.run(program, inputs, rng, True, f"{label} shot {k + 1}/{shots}".strip())
        if result is None:
            return Metrics(qin=None, qct=None, wall=None, measured_seconds=None,
                           note=budget.spent_note, **base)
        timings.append(trace_timing(result.trace, model))
    secs = measure_seconds(program, inputs, repeats, seed, budget, label) if measure_time else None
    return Metrics(qin=statistics.fmean(t.qin for t in timings),
                   qct=statistics.fmean(t.qct for t in timings),
                   wall=statistics.fmean(t.wall for t in timings), measured_seconds=secs, **base)


def reduction(before: float | None, after: float | None) -> float | None:
    """Relative reduction in percent (0 when ``before`` is 0; None when either is None)."""
    if before is None or after is None:
        return None
    return 0.0 if before == 0 else 100.0 * (before - after) / before
