"""The pass manager: stages, fixed points, options, levels."""
import pytest

from hqsim.hybrid import OPT_LEVELS, PipelineOptions, optimize, run_pipeline
from hqsim.hybrid.pipeline import stages
from hqsim.hybrid.printers.dump import dump

from .hybrid_helpers import assert_equivalent, qasm

SRC = """input float[64] x; output bit c; output float[64] y; qubit[3] q; float[64] a = 0.25;
    int unused = 4; for int k in [0:2] { a = a * 2; } cx q[0], q[1]; h q[2];
    rx(a) q[0]; ry(x) q[0]; c = measure q[0]; y = a + x;"""


def test_simplifying_passes_share_a_fixed_point_stage():
    assert stages(("fold", "unroll", "dce", "reorder", "lpqe")) == [
        (True, ("fold", "unroll", "dce")), (False, ("reorder",)), (False, ("lpqe",))]
    assert stages(("reorder", "fold", "lpqe", "dce")) == [
        (False, ("reorder",)), (True, ("fold",)), (False, ("lpqe",)), (True, ("dce",))]


def test_pipeline_reaches_a_fixed_point_and_records_every_application():
    p = qasm(SRC)
    result = run_pipeline(p)
    assert_equivalent(p, result.program, {"x": 0.6})
    names = [(r.name, r.round, r.changed) for r in result.records]
    assert names[:3] == [("fold", 1, True), ("unroll", 1, True), ("dce", 1, True)]
    last_round = [r for r in result.records if r.name in ("fold", "unroll", "dce")][-3:]
    assert not any(r.changed for r in last_round)
    assert run_pipeline(result.program).program == result.program
    assert result.seconds > 0


def test_levels():
    p = qasm(SRC)
    assert optimize(p, level=0) == p
    o1, o2 = optimize(p, level=1), optimize(p, level=2)
    assert OPT_LEVELS[1] == ("fold", "dce")
    for o in (o1, o2):
        assert_equivalent(p, o, {"x": 0.6})
    assert sum(len(b.instructions) for b in o2.blocks) < sum(len(b.instructions) for b in o1.blocks)
    assert optimize(p, passes=["dce"]) == run_pipeline(p, PipelineOptions(passes=("dce",))).program


def test_options_are_validated():
    with pytest.raises(ValueError, match="unknown pass"):
        PipelineOptions(passes=("fold", "nope"))
    with pytest.raises(ValueError, match="max_rounds"):
        PipelineOptions(max_rounds=0)


def test_input_program_is_not_modified():
    p = qasm(SRC)
    snapshot = dump(p)
    optimize(p)
    assert dump(p) == snapshot
