"""reorder_instructions and reorder_latest_quantum: dependences kept, expected orders, the
metric each targets improves, meaning preserved, idempotence."""
from hqsim.hybrid import (compute_dependences, compute_metrics, print_qasm, reorder_instructions,
                          reorder_latest_quantum)
from hqsim.hybrid.passes.schedule import latest_quantum_block, schedule_block
from hqsim.hybrid.costs import COST_MODELS

from .hybrid_helpers import assert_equivalent, qasm

OVERLAP = """input float[64] x; output bit[2] c; output float[64] y; qubit[2] q; float[64] a;
    h q[0]; c[0] = measure q[0];
    a = x * 2; a = a + 1; a = a * a; y = a - c[0];
    h q[1]; t q[1]; h q[1]; s q[1]; h q[1];
    c[1] = measure q[1];"""

PREP = """input float[64] x; output bit[2] c; qubit[2] q; float[64] a;
    h q[0]; c[0] = measure q[0];
    a = x * 0.5; a = a + 0.25; a = a * a; a = a - 0.1;
    ry(a) q[1]; c[1] = measure q[1];"""


def _topological(instrs, order):
    g = compute_dependences(instrs)
    pos = {id(i): k for k, i in enumerate(order)}
    return all(pos[id(instrs[p])] < pos[id(instrs[j])] for j in range(len(instrs)) for p in g.preds[j])


def test_reorder_overlaps_cpu_and_qpu_work():
    p = qasm(OVERLAP)
    out = reorder_instructions(p)
    assert_equivalent(p, out, {"x": 0.3})
    before, after = compute_metrics(p, {"x": 0.3}, measure_time=False), compute_metrics(out, {"x": 0.3}, measure_time=False)
    assert after.wall < before.wall
    assert (before.wall, after.wall) == (12.0, 8.0)  # 8: all classical work hidden
    assert reorder_instructions(out) == out


def test_lpqe_moves_qpu_independent_work_before_the_first_quantum_instruction():
    p = qasm(PREP)
    out = reorder_latest_quantum(p)
    assert_equivalent(p, out, {"x": 0.3})
    lines = print_qasm(out).splitlines()
    first_gate = next(k for k, l in enumerate(lines) if l.startswith("h "))
    assert all(lines.index(f"a = {e};") < first_gate for e in ("x * 0.5", "a + 0.25", "a * a", "a - 0.1"))
    before, after = compute_metrics(p, {"x": 0.3}, measure_time=False), compute_metrics(out, {"x": 0.3}, measure_time=False)
    assert (before.qct, after.qct) == (8.0, 4.0)
    assert reorder_latest_quantum(out) == out


def test_lpqe_sinks_classical_work_that_no_quantum_instruction_needs():
    p = qasm("""output bit[2] c; output int n; qubit[2] q; h q[0]; c[0] = measure q[0];
        n = c[0] * 3; n = n + 1; h q[1]; c[1] = measure q[1];""")
    out = reorder_latest_quantum(p)
    assert_equivalent(p, out)
    assert print_qasm(out).rstrip().endswith("n = c[0] * 3;\nn = n + 1;")


def test_schedules_are_topological_orders_of_the_dependences():
    p = qasm(OVERLAP)
    instrs = list(p.blocks[0].instructions)
    assert _topological(instrs, schedule_block(instrs, COST_MODELS["unit"]))
    assert _topological(instrs, schedule_block(instrs, COST_MODELS["ionq"]))
    assert _topological(instrs, latest_quantum_block(instrs))


def test_dependences_distinguish_array_elements():
    p = qasm("output bit[2] c; qubit[2] q; c[0] = measure q[0]; c[1] = measure q[1]; c[0] = c[0] + 1;")
    g = compute_dependences(list(p.blocks[0].instructions))
    assert g.preds == (frozenset(), frozenset(), frozenset({0}))


def test_whole_array_reads_depend_on_every_element():
    p = qasm("output bit[2] c; output int n; qubit[2] q; c[0] = measure q[0]; c[1] = measure q[1]; n = c;")
    g = compute_dependences(list(p.blocks[0].instructions))
    assert g.preds[2] == frozenset({0, 1})


def test_hybrid_gate_stays_after_the_write_of_its_angle():
    p = qasm("""input float[64] x; output bit c; qubit[1] q; float[64] a;
        h q[0]; a = x + 1; rz(a) q[0]; a = 0.5; h q[0]; c = measure q[0];""")
    for out in (reorder_instructions(p), reorder_latest_quantum(p)):
        assert_equivalent(p, out, {"x": 0.2})
        text = print_qasm(out)
        assert text.index("a = x + 1;") < text.index("rz(a)") < text.index("a = 0.5;")
