"""Hypothesis-generated hybrid programs: every pass and the pipeline preserve the exact output
distribution, every pass is idempotent, and both printers round-trip."""
import pytest
from hypothesis import HealthCheck, assume, given, settings

from hqsim.hybrid import (EmitError, PipelineOptions, optimize, parse_qasm_program,
                          parse_quil_program, print_qasm, print_quil, run_pipeline)

from .hybrid_helpers import assert_equivalent, random_inputs, random_programs

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("name", ["fold", "unroll", "dce", "reorder", "lpqe"])
@SETTINGS
@given(program=random_programs(), inputs=random_inputs)
def test_pass_preserves_meaning_and_is_idempotent(name, program, inputs):
    options = PipelineOptions(passes=(name,))
    out = run_pipeline(program, options).program
    assert_equivalent(program, out, inputs)
    assert run_pipeline(out, options).program == out


@SETTINGS
@given(program=random_programs(), inputs=random_inputs)
def test_full_pipeline_preserves_meaning(program, inputs):
    out = optimize(program, level=2)
    assert_equivalent(program, out, inputs)
    assert optimize(out, level=2) == out


@pytest.mark.parametrize("level", [0, 2])
@SETTINGS
@given(program=random_programs(), inputs=random_inputs)
def test_printers_round_trip(level, program, inputs):
    printed = optimize(program, level=level)  # unrolled/merged graphs print too
    assert_equivalent(program, parse_qasm_program(print_qasm(printed)), inputs)
    try:
        text = print_quil(printed)
    except EmitError:
        assume(False)
    assert_equivalent(program, parse_quil_program(text), inputs)
