"""One pass framework for circuits (hqsim.compile) and hybrid programs (hqsim.hybrid).

A pass is a callable object ``program -> program`` that never modifies its input: a frozen
dataclass whose fields are its options and whose ``name`` says which pass it is (Cirq's
transformers, xdsl's pass classes). Analyses (``compute_*``, frozen results) live apart:
hqsim/compile/analyses.py and hqsim/hybrid/analyses/. The pass manager, not the passes, owns
the loops (Qiskit's rule): a ``FixedPoint`` stage repeats its passes, in order, until a whole
round changes nothing or ``max_rounds`` rounds have run; a bare pass runs once.

    result = run_passes(program, [FixedPoint((fold, dce)), reorder])
    result.program, result.records   # every application: name, round, changed, time, output
"""
from __future__ import annotations

import operator
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence


class Pass(Protocol):
    name: str

    def __call__(self, program: Any) -> Any: ...


@dataclass(frozen=True)
class FixedPoint:
    """Run ``passes`` in order, round after round, until a round changes nothing (at most
    ``max_rounds`` rounds)."""

    passes: tuple
    max_rounds: int = 10

    def __post_init__(self):
        object.__setattr__(self, "passes", tuple(self.passes))
        if not isinstance(self.max_rounds, int) or self.max_rounds < 1:
            raise ValueError(f"max_rounds must be an int >= 1, got {self.max_rounds!r}")


@dataclass(frozen=True)
class PassRecord:
    """One pass application: its name, the round of its stage (1 outside a fixed point),
    whether it changed the program, its run time and the program it produced."""

    name: str
    round: int
    changed: bool
    seconds: float
    program: Any


@dataclass(frozen=True)
class PassRun:
    program: Any
    records: tuple[PassRecord, ...]
    seconds: float


def run_passes(program, schedule: Sequence, *, changed: Callable = operator.ne) -> PassRun:
    """Apply ``schedule`` (passes and FixedPoint stages) to ``program``; ``changed(old, new)``
    says whether a pass changed it (default ``old != new``)."""
    t_start = time.perf_counter()
    records: list[PassRecord] = []
    for stage in schedule:
        passes, rounds = (stage.passes, stage.max_rounds) if isinstance(stage, FixedPoint) else ((stage,), 1)
        for rnd in range(1, rounds + 1):
            changed_any = False
            for p in passes:
                t0 = time.perf_counter()
                new = p(program)
                did = bool(changed(program, new))
                records.append(PassRecord(p.name, rnd, did, time.perf_counter() - t0, new))
                program, changed_any = new, changed_any or did
            if not changed_any:
                break
    return PassRun(program, tuple(records), time.perf_counter() - t_start)
