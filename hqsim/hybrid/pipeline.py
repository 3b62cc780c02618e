"""The hybrid passes, declared once, and the pipeline that runs them on hqsim's pass manager.

``PASSES`` declares every pass: its name, whether it simplifies, its help line and the
function that implements it. Everything else reads this declaration: the validation of pass
lists (``check_pass_names``, once), the stages below, and ``hqsim compile``'s choices and
--help (hqsim/hybrid/cli.py). The loops belong to hqsim/compile/pass_manager.py, the manager
the circuit compiler uses too: consecutive simplifying passes (fold, unroll, dce) form one
``FixedPoint`` stage that repeats until a whole round changes nothing (at most
``max_rounds``); scheduling passes (reorder, lpqe) run once each, in the order given.
Optimization levels: ``-O0`` nothing, ``-O1`` fold,dce, ``-O2`` fold,unroll,dce,reorder,lpqe.

The pass modules load when a pipeline first runs (``importlib``), so that registering
``hqsim compile`` with the command line does not import the optimizer.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..compile.pass_manager import FixedPoint, PassRun, run_passes

if TYPE_CHECKING:  # names for the annotations only; the modules load when a pass runs
    from .passes.dce import DceOptions
    from .passes.fold import FoldOptions
    from .passes.schedule import ReorderOptions
    from .passes.unroll import UnrollOptions


@dataclass(frozen=True)
class PassSpec:
    """One hybrid pass: ``function`` is ``"module:name"`` under hqsim.hybrid, called as
    ``function(program, options)`` with ``PipelineOptions.<options>`` when that is set, else
    ``function(program)`` (the pass's default options)."""

    name: str
    simplifying: bool
    help: str
    function: str
    options: str | None


PASSES = {s.name: s for s in (
    PassSpec("fold", True, "constant propagation and folding of classical values and of qubit "
             "Pauli eigenstates, rotation merging, branch folding", "passes.fold:fold_constants", "fold"),
    PassSpec("unroll", True, "unroll loops whose trip count is constant (limit: --max-unroll)",
             "passes.unroll:unroll_loops", "unroll"),
    PassSpec("dce", True, "liveness-based dead-code elimination: dead classical code, gates "
             "outside every measured qubit's light cone, unused qubits",
             "passes.dce:eliminate_dead_code", "dce"),
    PassSpec("reorder", False, "reorder instructions so CPU and QPU work overlap (shorter wall time)",
             "passes.schedule:reorder_instructions", "reorder"),
    PassSpec("lpqe", False, "latest-possible quantum execution: QPU-independent classical work "
             "first, quantum work as late as possible (shorter QCT)",
             "passes.schedule:reorder_latest_quantum", None),
)}
OPT_LEVELS = {0: (), 1: ("fold", "dce"), 2: ("fold", "unroll", "dce", "reorder", "lpqe")}


def check_pass_names(passes) -> tuple[str, ...]:
    """The pass list as a tuple; ValueError naming the unknown ones and the choices."""
    passes = tuple(passes)
    unknown = [p for p in passes if p not in PASSES]
    if unknown:
        raise ValueError(f"unknown pass(es) {', '.join(unknown)}; choose from {', '.join(PASSES)}")
    return passes


@dataclass(frozen=True)
class PipelineOptions:
    """Which passes, the bound on fixed-point rounds, and each pass's options (None: that
    pass's defaults)."""

    passes: tuple[str, ...] = OPT_LEVELS[2]
    max_rounds: int = 10
    fold: FoldOptions | None = None
    unroll: UnrollOptions | None = None
    dce: DceOptions | None = None
    reorder: ReorderOptions | None = None

    def __post_init__(self):
        object.__setattr__(self, "passes", check_pass_names(self.passes))
        if self.max_rounds < 1:
            raise ValueError(f"max_rounds must be >= 1, got {self.max_rounds}")


@dataclass(frozen=True)
class HybridPass:
    """A hybrid pass bound to its options: a pass object of hqsim.compile.pass_manager."""

    name: str
    function: Callable
    options: Any = None

    def __call__(self, program):
        return self.function(program) if self.options is None else self.function(program, self.options)


def bind(name: str, options: PipelineOptions) -> HybridPass:
    spec = PASSES[name]
    module, function = spec.function.split(":")
    fn = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    return HybridPass(name, fn, None if spec.options is None else getattr(options, spec.options))


def stages(passes) -> list[tuple[bool, tuple[str, ...]]]:
    """Group passes: (fixed_point, names) per stage."""
    out: list = []
    for name in check_pass_names(passes):
        simplifying = PASSES[name].simplifying
        if simplifying and out and out[-1][0]:
            out[-1] = (True, out[-1][1] + (name,))
        else:
            out.append((simplifying, (name,)))
    return out


def schedule(options: PipelineOptions) -> list:
    """The pass manager's schedule for ``options``."""
    out = []
    for fixed_point, names in stages(options.passes):
        bound = tuple(bind(n, options) for n in names)
        out.append(FixedPoint(bound, options.max_rounds) if fixed_point else bound[0])
    return out


PipelineResult = PassRun  # (program, records, seconds): the manager's result, one type


def run_pipeline(program, options: PipelineOptions | None = None) -> PassRun:
    """Apply the passes (default: ``PipelineOptions()``, -O2); the input program is not modified."""
    return run_passes(program, schedule(options or PipelineOptions()))


def optimize(program, level: int = 2, passes=None):
    """Shorthand: the optimized program for ``-O{level}`` or an explicit pass list."""
    chosen = tuple(passes) if passes is not None else OPT_LEVELS[level]
    return run_pipeline(program, PipelineOptions(passes=chosen)).program
