"""The interpreter: statevector stepping, sampling, feed-forward, exact distributions, errors."""
import math

import numpy as np
import pytest

from hqsim import ansatz
from hqsim.backends import reference
from hqsim.hybrid import (HybridRuntimeError, ProgramBuilder, ScalarType, from_circuit,
                          output_distribution, run, sample_outputs, total_variation)
from hqsim.hybrid.ir import Kind

from .hybrid_helpers import qasm


def test_statevector_matches_the_reference_backend():
    c = ansatz.rpqc(3, reuploads=2, layers=1)
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(1, 3)), rng.normal(size=c.num_weights)
    program = from_circuit(c, measure=(), weights=None)
    state = run(program, {"x": x[0], "w": w}).state
    assert np.allclose(state, reference.statevector(c, x, w)[0], atol=1e-12)


def test_bell_pair_distribution_is_exact():
    p = qasm("output bit[2] c; qubit[2] q; h q[0]; cx q[0], q[1]; c = measure q;")
    d = output_distribution(p)
    assert d.probs == pytest.approx({(("c", (0, 0)),): 0.5, (("c", (1, 1)),): 0.5})
    assert d.missing == 0


def test_sampling_is_seeded_and_converges():
    p = qasm("output bit c; qubit[1] q; ry(2 * arcsin(sqrt(0.3))) q[0]; c = measure q[0];")
    assert run(p, seed=5).outputs == run(p, seed=5).outputs
    freq = sample_outputs(p, shots=4000, seed=1)
    assert freq[(("c", 1),)] == pytest.approx(0.3, abs=0.03)


def test_feed_forward_teleportation_restores_the_state():
    p = qasm("""input float[64] t; output bit out; qubit[3] q; bit m0; bit m1;
        ry(t) q[0]; h q[1]; cx q[1], q[2]; cx q[0], q[1]; h q[0];
        m0 = measure q[0]; m1 = measure q[1];
        if (m1) { x q[2]; } if (m0) { z q[2]; }
        ry(-t) q[2]; out = measure q[2];""")
    assert output_distribution(p, {"t": 1.234}).probs == pytest.approx({(("out", 0),): 1.0})


def test_reset_returns_a_qubit_to_zero_and_keeps_the_rest():
    p = qasm("output bit[2] c; qubit[2] q; h q[0]; cx q[0], q[1]; reset q[0]; c = measure q;")
    d = output_distribution(p).probs
    assert d == pytest.approx({(("c", (0, 0)),): 0.5, (("c", (0, 1)),): 0.5})


def test_repeat_until_success_loop_has_geometric_tail():
    p = qasm("""output int tries; qubit[1] q; bit a = 1;
        while (a == 1) { reset q[0]; h q[0]; a = measure q[0]; tries += 1; }""")
    d = output_distribution(p, min_probability=1e-6)
    assert d.probs[(("tries", 1),)] == pytest.approx(0.5)
    assert d.probs[(("tries", 3),)] == pytest.approx(0.125)
    assert 0 < d.missing < 1e-5


def test_too_many_paths_is_an_error():
    p = qasm("output bit[8] c; qubit[8] q; for int i in [0:7] { h q[i]; } c = measure q;")
    with pytest.raises(HybridRuntimeError, match="more than 100 measurement paths"):
        output_distribution(p, max_paths=100)


def test_runtime_errors():
    with pytest.raises(HybridRuntimeError, match="division by zero"):
        run(qasm("input int k; output int n; n = 1 / k;"))
    with pytest.raises(HybridRuntimeError, match="index 5 out of range"):
        run(qasm("output array[int, 2] a; int i = 5; a[i] = 1;"))
    with pytest.raises(HybridRuntimeError, match="did not halt within 1000 steps"):
        run(qasm("output int n; while (true) { n += 1; }"), max_steps=1000)
    with pytest.raises(HybridRuntimeError, match="unknown input"):
        run(qasm("input float[64] x; output int n;"), {"y": 1})
    with pytest.raises(HybridRuntimeError, match="needs 3 values"):
        run(qasm("input array[float[64], 3] x; output int n;"), {"x": [1, 2]})
    with pytest.raises(HybridRuntimeError, match="exp"):
        run(qasm("input float[64] x; output float[64] y; y = exp(x);"), {"x": 1000.0})
    with pytest.raises(HybridRuntimeError, match="non-finite"):
        run(qasm("input float[64] x; output float[64] y; y = x * x;"), {"x": 1e200})


def test_inputs_default_to_zero_and_are_coerced():
    p = qasm("input int k; input float[64] x; output float[64] y; y = k + x;")
    assert run(p).outputs == {"y": 0.0}
    assert run(p, {"k": 2.9, "x": 1}).outputs == {"y": 3.0}


def test_trace_kinds_and_categories():
    p = qasm("""input float[64] t; output bit c; qubit[2] q; int n; n = 1; h q[0]; rz(t) q[0];
        cx q[0], q[1]; c = measure q[0]; if (c) { reset q[1]; } if (n == 1) { n = 2; }""")
    trace = run(p, {"t": 0.1}, seed=1).trace
    kinds = [k for k, _ in trace]
    cats = [c for _, c in trace]
    assert cats[:5] == ["classical", "gate1", "gate1", "gate2", "measure"]
    assert kinds[:5] == [Kind.CLASSICAL, Kind.QUANTUM, Kind.HYBRID, Kind.QUANTUM, Kind.HYBRID]
    branches = [k for k, c in trace if c == "branch"]
    assert branches == [Kind.HYBRID, Kind.CLASSICAL]  # on the measured bit / on n


def test_builder_program_runs():
    b = ProgramBuilder("ff")
    q = b.qubits(2)
    theta = b.input("theta")
    c = b.output("c", ScalarType.BIT, 2)
    b.ry(theta * 2, q[0])
    b.measure(q[0], c[0])
    with b.if_(c[0].eq(1)):
        b.x(q[1])
    b.measure(q[1], c[1])
    d = output_distribution(b.build(), {"theta": math.pi / 4})
    assert total_variation(d.probs, {(("c", (0, 0)),): 0.5, (("c", (1, 1)),): 0.5}) < 1e-12
