"""The pass registry and the pass manager (which owns the loops to a fixed point).

Passes by name: ``fold`` (constant propagation and folding, branch folding), ``unroll`` (loops
with constant trip counts), ``dce`` (liveness-based dead-code elimination), ``reorder``
(shorten wall time) and ``lpqe`` (latest-possible quantum execution). Consecutive simplifying
passes (fold, unroll, dce) form one stage that repeats until a whole round changes nothing
(at most ``max_rounds``); scheduling passes (reorder, lpqe) run once each, in the order given.
Optimization levels: ``-O0`` nothing, ``-O1`` fold,dce, ``-O2`` fold,unroll,dce,reorder,lpqe.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from .ir import Program
from .passes.dce import DceOptions, eliminate_dead_code
from .passes.fold import FoldOptions, fold_constants
from .passes.schedule import ReorderOptions, reorder_instructions, reorder_latest_quantum
from .passes.unroll import UnrollOptions, unroll_loops


@dataclass(frozen=True)
class PassSpec:
    name: str
    simplifying: bool
    help: str


PASSES = {
    "fold": PassSpec("fold", True, "constant propagation/folding of classical values and qubit "
                     "Pauli states; rotation merging; branch folding"),
    "unroll": PassSpec("unroll", True, "unroll loops whose trip count is constant"),
    "dce": PassSpec("dce", True, "liveness-based dead-code elimination (dead classical code, "
                    "gates outside every measured qubit's light cone, unused qubits)"),
    "reorder": PassSpec("reorder", False, "reorder instructions to overlap CPU and QPU work"),
    "lpqe": PassSpec("lpqe", False, "latest-possible quantum execution: QPU-independent "
                     "classical work first, quantum work as late as possible"),
}
OPT_LEVELS = {0: (), 1: ("fold", "dce"), 2: ("fold", "unroll", "dce", "reorder", "lpqe")}


@dataclass(frozen=True)
class PipelineOptions:
    passes: tuple[str, ...] = OPT_LEVELS[2]
    max_rounds: int = 10
    fold: FoldOptions = field(default_factory=FoldOptions)
    unroll: UnrollOptions = field(default_factory=UnrollOptions)
    dce: DceOptions = field(default_factory=DceOptions)
    reorder: ReorderOptions = field(default_factory=ReorderOptions)

    def __post_init__(self):
        object.__setattr__(self, "passes", tuple(self.passes))
        unknown = [p for p in self.passes if p not in PASSES]
        if unknown:
            raise ValueError(f"unknown pass(es) {', '.join(unknown)}; choose from {', '.join(PASSES)}")
        if self.max_rounds < 1:
            raise ValueError(f"max_rounds must be >= 1, got {self.max_rounds}")


@dataclass(frozen=True)
class PassRecord:
    """One pass application: its name, the round of its stage, whether it changed the
    program, its run time, and the program it produced."""

    name: str
    round: int
    changed: bool
    seconds: float
    program: Program


@dataclass(frozen=True)
class PipelineResult:
    program: Program
    records: tuple[PassRecord, ...]
    seconds: float


def pass_function(name: str, options: PipelineOptions) -> Callable[[Program], Program]:
    if name == "fold":
        return lambda p: fold_constants(p, options.fold)
    if name == "unroll":
        return lambda p: unroll_loops(p, options.unroll)
    if name == "dce":
        return lambda p: eliminate_dead_code(p, options.dce)
    if name == "reorder":
        return lambda p: reorder_instructions(p, options.reorder)
    if name == "lpqe":
        return reorder_latest_quantum
    raise ValueError(f"unknown pass {name!r}")


def stages(passes) -> list[tuple[bool, tuple[str, ...]]]:
    """Group passes: (fixed_point, names) per stage."""
    out: list = []
    for name in passes:
        simplifying = PASSES[name].simplifying
        if simplifying and out and out[-1][0]:
            out[-1] = (True, out[-1][1] + (name,))
        else:
            out.append((simplifying, (name,)))
    return out


def run_pipeline(program: Program, options: PipelineOptions = PipelineOptions()) -> PipelineResult:
    """Apply the passes; the input program is not modified."""
    t_start = time.perf_counter()
    records: list[PassRecord] = []
    for fixed_point, names in stages(options.passes):
        for rnd in range(1, (options.max_rounds if fixed_point else 1) + 1):
            changed_any = False
            for name in names:
                t0 = time.perf_counter()
                new = pass_function(name, options)(program)
                changed = new != program
                records.append(PassRecord(name, rnd, changed, time.perf_counter() - t0, new))
                program, changed_any = new, changed_any or changed
            if not changed_any:
                break
    return PipelineResult(program, tuple(records), time.perf_counter() - t_start)


def optimize(program: Program, level: int = 2, passes=None) -> Program:
    """Shorthand: the optimized program for ``-O{level}`` or an explicit pass list."""
    chosen = tuple(passes) if passes is not None else OPT_LEVELS[level]
    return run_pipeline(program, PipelineOptions(passes=chosen)).program
