"""unroll_loops: constant trip counts are unrolled, others left alone; meaning, idempotence."""
from hqsim.hybrid import UnrollOptions, compute_cfg, print_qasm, unroll_loops
from hqsim.hybrid.ir import Branch

from .hybrid_helpers import assert_equivalent, gates, qasm, quil


def unrolled(p, inputs=None, **options):
    out = unroll_loops(p, UnrollOptions(**options))
    assert_equivalent(p, out, inputs)
    assert unroll_loops(out, UnrollOptions(**options)) == out
    return out


def test_for_loop_with_constant_bounds_is_unrolled():
    p = qasm("input float[64] x; output float[64] y; for int k in [0:2] { y = y + x * k; }")
    out = unrolled(p, {"x": 1.5})
    assert not compute_cfg(out).loops and len(out.blocks) == 1
    text = print_qasm(out)
    assert text.count("y = y + x * k;") == 3 and text.count("k = k + 1;") == 3


def test_nested_loops_unroll_inner_first_then_outer():
    p = qasm("""output bit c; qubit[1] q; int n;
        for int i in [0:1] { for int j in [0:2] { rx(0.1) q[0]; n = n + 1; } }
        c = measure q[0];""")
    out = unrolled(p)
    assert not compute_cfg(out).loops
    assert gates(out) == ["RX"] * 6


def test_loop_with_a_measured_exit_is_not_unrolled():
    p = qasm("""output int n; qubit[1] q; bit b = 1;
        while (b == 1 && n < 5) { h q[0]; b = measure q[0]; n += 1; }""")
    assert unroll_loops(p) == p


def test_loop_body_with_feed_forward_is_still_unrolled():
    p = qasm("""output bit[2] c; qubit[2] q;
        for int i in [0:1] { h q[0]; c[0] = measure q[0]; if (c[0]) { x q[1]; } }
        c[1] = measure q[1];""")
    out = unrolled(p)
    assert not compute_cfg(out).loops
    assert sum(isinstance(b.terminator, Branch) for b in out.blocks) == 2


def test_trip_count_above_the_limit_is_left_alone():
    p = qasm("output int n; for int i in [0:9] { n += i; }")
    assert unroll_loops(p, UnrollOptions(max_iterations=5)) == p
    assert not compute_cfg(unrolled(p, max_iterations=10)).loops


def test_size_limit_stops_unrolling():
    p = qasm("output int n; for int i in [0:9] { n += i; n += 1; n += 2; }")
    assert unroll_loops(p, UnrollOptions(max_instructions=20)) == p


def test_infinite_loop_is_left_alone():
    p = qasm("output int n; while (true) { n += 1; if (n > 1000000) { break; } }")
    assert unroll_loops(p, UnrollOptions(max_iterations=8)) == p


def test_quil_do_while_loop_at_program_entry():
    p = quil("""DECLARE n INTEGER
DECLARE more BIT
LABEL @top
ADD n 2
LT more n 6
JUMP-WHEN @top more
""")
    out = unrolled(p)
    assert not compute_cfg(out).loops
    assert [str(i.value) for i in out.instructions()].count(str(list(p.instructions())[0].value)) == 3


def test_zero_trip_loop_disappears():
    p = qasm("output int n; for int i in [3:1] { n += 1; }")
    out = unrolled(p)
    assert "n = n + 1" not in print_qasm(out)
