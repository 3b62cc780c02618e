"""The pass manager both compilers use (hqsim/compile/pass_manager.py) and the circuit passes
as pass objects: fixed points, round bounds, records, exact outputs, idempotence."""
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

import hqsim
from hqsim.backends import reference
from hqsim.compile.pass_manager import FixedPoint, run_passes
from hqsim.compile.passes import (DropOutsideLightCone, FoldConstants, compile_for_expectation,
                                  expectation_schedule, gates_changed)
from hqsim.ir import Circuit, Z, weight


@dataclass(frozen=True)
class Halve:
    """A toy pass on ints: n -> n // 2."""
    name: ClassVar[str] = "halve"

    def __call__(self, n):
        return n // 2


@dataclass(frozen=True)
class DropOne:
    name: ClassVar[str] = "drop-one"

    def __call__(self, n):
        return max(n - 1, 0)


def test_fixed_point_repeats_until_a_round_changes_nothing():
    run = run_passes(40, [FixedPoint((Halve(), DropOne()))])
    assert run.program == 0
    rounds = [(r.name, r.round, r.changed) for r in run.records]
    # 40 -> 20 -> 19 | 9 -> 8 | 4 -> 3 | 1 -> 0 | 0 -> 0 (no change: stop)
    assert rounds[-2:] == [("halve", 5, False), ("drop-one", 5, False)]
    assert [r.program for r in run.records] == [20, 19, 9, 8, 4, 3, 1, 0, 0, 0]


def test_max_rounds_bounds_the_loop_and_bare_passes_run_once():
    run = run_passes(1000, [FixedPoint((Halve(),), max_rounds=3), DropOne()])
    assert run.program == 124 and [r.round for r in run.records] == [1, 2, 3, 1]
    with pytest.raises(ValueError, match="max_rounds"):
        FixedPoint((Halve(),), max_rounds=0)


def _circuit():
    c = Circuit(3, num_weights=2)
    c.rx(0.3, 0).rx(-0.3, 0)            # cancels to RX(0): dropped
    c.rzz(weight(0), 0, 1).rzz(0.5, 1, 0)  # symmetric: merges into one RZZ
    c.ry(weight(1), 2).cnot(2, 1)       # outside the light cone of Z(0)
    c.h(0)
    return c


def test_compile_for_expectation_exact_output_and_idempotent():
    c = _circuit()
    out = compile_for_expectation(c, [Z(0)])
    assert [repr(g) for g in out.gates] == [repr(g) for g in
                                           Circuit(3, num_weights=2).rzz(weight(0) + 0.5, 0, 1).h(0).gates]
    assert compile_for_expectation(out, [Z(0)]).gates == out.gates
    x, w = np.zeros((1, 0)), np.array([0.7, -0.2])
    np.testing.assert_allclose(reference.expectation(out, [Z(0)], x, w),
                               reference.expectation(c, [Z(0)], x, w), atol=1e-12)


def test_schedule_is_fold_then_light_cone_to_a_fixed_point():
    c = _circuit()
    (stage,) = expectation_schedule(c, [hqsim.Z(0)])
    assert isinstance(stage, FixedPoint)
    assert [type(p) for p in stage.passes] == [FoldConstants, DropOutsideLightCone]
    run = run_passes(c, [stage], changed=gates_changed)
    assert [(r.name, r.changed) for r in run.records][-2:] == [("fold", False), ("light-cone", False)]
