"""QIN, QCT and wall time on hand-computed traces, cost models, static counts."""
import pytest

from hqsim.hybrid import compute_metrics
from hqsim.hybrid.costs import COST_MODELS, CostModel, get_cost_model
from hqsim.hybrid.ir import Kind
from hqsim.hybrid.metrics import reduction, static_counts, trace_timing

from .hybrid_helpers import qasm

Q, C, H = Kind.QUANTUM, Kind.CLASSICAL, Kind.HYBRID
UNIT = COST_MODELS["unit"]


def test_cpu_and_qpu_run_in_parallel_until_a_hybrid_instruction():
    # Q Q C C C H: QPU 0-2, CPU 0-3, H starts at 3 and ends at 4
    t = trace_timing([(Q, "gate1"), (Q, "gate1"), (C, "classical"), (C, "classical"),
                      (C, "classical"), (H, "measure")], UNIT)
    assert (t.qin, t.wall, t.qct) == (3, 4.0, 3.0)  # QCT: H span 1 + 2 quantum before


def test_quantum_instructions_are_issued_in_program_order():
    # C C C then Q Q: the QPU cannot start before the CPU issues its instructions
    t = trace_timing([(C, "classical")] * 3 + [(Q, "gate1")] * 2, UNIT)
    assert (t.qin, t.wall, t.qct) == (2, 5.0, 2.0)


def test_qct_spans_first_to_last_hybrid_instruction():
    trace = [(Q, "gate1"), (H, "measure"), (C, "classical"), (C, "classical"), (H, "gate1"),
             (Q, "gate2"), (Q, "gate1"), (C, "classical")]
    t = trace_timing(trace, UNIT)
    # H1 1-2, C 2-4, H2 4-5, Q 5-6, Q 6-7, C 5-6: wall 7; QCT = (5 - 1) + 1 before + 2 after
    assert (t.qin, t.wall, t.qct) == (5, 7.0, 7.0)


def test_jumps_are_free_and_branches_cost_one_in_the_unit_model():
    t = trace_timing([(C, "jump"), (C, "branch"), (H, "branch")], UNIT)
    assert (t.qin, t.wall) == (1, 2.0)


def test_device_cost_model():
    ionq = COST_MODELS["ionq"]
    t = trace_timing([(Q, "gate1"), (Q, "gate2"), (H, "measure")], ionq)
    assert t.wall == pytest.approx(135 + 600 + 300) and t.qct == pytest.approx(1035)
    assert get_cost_model("google").gate2 == 0.032
    with pytest.raises(ValueError, match="unknown cost model 'nope'"):
        get_cost_model("nope")
    assert get_cost_model(CostModel("mine", gate1=2)).gate1 == 2


def test_compute_metrics_on_a_program():
    p = qasm("""output bit c; qubit[1] q; int n; n = 1; n = n + 1; h q[0]; c = measure q[0];""")
    m = compute_metrics(p, shots=4, measure_time=False)
    # CPU 0-2; h issued at 2 runs 2-3; the measurement synchronises at 3-4
    assert (m.qin, m.qct, m.wall) == (2.0, 2.0, 4.0)
    assert (m.static_qin, m.static_size) == static_counts(p) == (2, 5)
    assert m.measured_seconds is None and m.shots == 4 and m.cost_model == "unit"
    assert compute_metrics(p, shots=1, repeats=2).measured_seconds > 0


def test_metrics_average_over_measurement_dependent_paths():
    p = qasm("output bit c; qubit[1] q; h q[0]; c = measure q[0]; if (c) { x q[0]; }")
    m = compute_metrics(p, shots=200, seed=3, measure_time=False)
    assert 2.3 < m.qin < 3.7  # H, measure, hybrid branch, and X half of the time


def test_reduction():
    assert reduction(10, 7) == pytest.approx(30.0) and reduction(0, 0) == 0.0
