"""HqsimSimulator against cirq.Simulator (and qsimcirq where installed) on random circuits."""
import numpy as np
import pytest

import hqsim

cirq = pytest.importorskip("cirq")
sympy = pytest.importorskip("sympy")

from hqsim.interop.cirq import observables_to_cirq, to_cirq  # noqa: E402
from hqsim.interop.simulator import HqsimSimulator  # noqa: E402

from .helpers import random_circuit, random_paulis  # noqa: E402
from .test_convert import _zoo  # noqa: E402

BACKENDS = ["reference", "auto"]


def _random_sweep_case(seed, num_qubits=4, batch=6):
    """A symbolic Cirq circuit (inputs x<j>, weights w<i>), a sweep over both, observables."""
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, num_qubits=num_qubits, num_gates=30)
    circuit = to_cirq(c)
    names = sorted(cirq.parameter_names(circuit))
    sweep = cirq.ListSweep([{n: float(rng.uniform(-np.pi, np.pi)) for n in names} for _ in range(batch)])
    obs = observables_to_cirq(random_paulis(rng, num_qubits), num_qubits)
    obs[0] += 0.25  # a constant term
    return circuit, sweep, obs


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", range(4))
def test_expectation_sweep_matches_cirq(seed, backend):
    circuit, sweep, obs = _random_sweep_case(seed)
    want = cirq.Simulator(dtype=np.complex128).simulate_expectation_values_sweep(circuit, obs, sweep)
    got = HqsimSimulator(backend=backend, dtype=np.complex128).simulate_expectation_values_sweep(
        circuit, obs, sweep)
    np.testing.assert_allclose(np.array(got), np.real(want), atol=1e-9)
    single = HqsimSimulator(backend=backend).simulate_expectation_values(circuit, obs[0], list(sweep)[0])
    np.testing.assert_allclose(single, np.real(want[0][:1]), atol=2e-5)  # complex64 default


def test_expectation_sweep_matches_qsimcirq():
    qsimcirq = pytest.importorskip("qsimcirq", reason="qsimcirq (optional peer) not installed")
    circuit, sweep, obs = _random_sweep_case(11, num_qubits=5)
    want = qsimcirq.QSimSimulator().simulate_expectation_values_sweep(circuit, obs, sweep)
    got = HqsimSimulator().simulate_expectation_values_sweep(circuit, obs, sweep)
    np.testing.assert_allclose(np.array(got), np.real(want), atol=5e-5)


def test_a_sweep_is_one_batched_hqsim_call(monkeypatch):
    c = hqsim.ansatz.rpqc(4, reuploads=2)
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=c.num_weights), rng.normal(size=(64, 4))
    circuit = to_cirq(c, weights=w)
    sweep = cirq.ListSweep([{f"x{j}": v for j, v in enumerate(row)} for row in x])
    calls = []
    real = hqsim.api.expectation
    monkeypatch.setattr(hqsim.api, "expectation", lambda *a, **k: calls.append(a[1].shape) or real(*a, **k))
    obs = [cirq.Z(q) for q in cirq.LineQubit.range(4)]
    got = HqsimSimulator(dtype=np.complex128).simulate_expectation_values_sweep(circuit, obs, sweep)
    assert calls == [(64, 4)]
    np.testing.assert_allclose(got, real(c, x, w), atol=1e-9)
    want = cirq.Simulator(dtype=np.complex128).simulate_expectation_values_sweep(circuit, obs, sweep[:3])
    np.testing.assert_allclose(np.array(got[:3]), np.real(want), atol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_final_states_match_cirq_including_global_phase(backend):
    q = cirq.LineQubit.range(3)
    x, y = sympy.symbols("x y")
    circuit = _zoo(q, x, y) + cirq.rx(x * x + y).on(q[2])  # a non-affine angle gets its own column
    sweep = cirq.Zip(cirq.Linspace("x", 0, 1, 4), cirq.Linspace("y", -1, 2, 4))
    want = cirq.Simulator(dtype=np.complex128).simulate_sweep(circuit, sweep)
    got = HqsimSimulator(backend=backend, dtype=np.complex128).simulate_sweep(circuit, sweep)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.final_state_vector, b.final_state_vector, atol=1e-10)
        assert a.params == b.params


def test_initial_state_and_qubit_order():
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[2]), cirq.ry(0.4).on(q[1]))
    order = [q[2], q[0], q[1]]
    want = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=order, initial_state=5)
    got = HqsimSimulator(dtype=np.complex128).simulate(circuit, qubit_order=order, initial_state=5)
    np.testing.assert_allclose(got.final_state_vector, want.final_state_vector, atol=1e-12)
    with pytest.raises(ValueError, match="basis-state index"):
        HqsimSimulator().simulate(circuit, initial_state=np.ones(8) / np.sqrt(8))


def test_samples_follow_the_born_rule_with_keys_and_invert_masks():
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.ry(1.0).on(q[0]), cirq.CNOT(q[0], q[1]), cirq.rx(0.7).on(q[2]),
                           cirq.measure(q[0], q[1], key="ab"),
                           cirq.measure(q[2], key="c", invert_mask=(True,)))
    reps = 20000
    res = HqsimSimulator(seed=5).run(circuit, repetitions=reps)
    assert res.measurements["ab"].shape == (reps, 2) and res.measurements["c"].shape == (reps, 1)
    p1 = np.sin(0.5) ** 2
    ab = res.measurements["ab"]
    assert np.all(ab[:, 0] == ab[:, 1])
    assert abs(ab[:, 0].mean() - p1) < 0.015
    assert abs((1 - res.measurements["c"][:, 0]).mean() - np.sin(0.35) ** 2) < 0.015
    again = HqsimSimulator(seed=5).run(circuit, repetitions=reps)
    assert np.array_equal(again.measurements["ab"], res.measurements["ab"])


def test_run_sweep_matches_cirq_distribution():
    circuit, sweep, _ = _random_sweep_case(21, num_qubits=3, batch=3)
    circuit = circuit + cirq.measure(*cirq.LineQubit.range(3), key="m")
    got = HqsimSimulator(seed=1).run_sweep(circuit, sweep, repetitions=20000)
    for r, res in zip(sweep, got):
        exact = np.abs(cirq.final_state_vector(cirq.resolve_parameters(cirq.drop_terminal_measurements(
            circuit), r), qubit_order=cirq.LineQubit.range(3), dtype=np.complex128)) ** 2
        hist = np.bincount(res.measurements["m"] @ np.array([4, 2, 1]), minlength=8) / 20000
        assert 0.5 * np.abs(hist - exact).sum() < 0.02
        assert res.params == r


def test_simulate_collapses_terminal_measurements():
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.measure(q[0], key="a"))
    for seed in range(4):
        r = HqsimSimulator(seed=seed).simulate(circuit)
        bit = int(r.measurements["a"][0])
        want = np.zeros(4)
        want[3 * bit] = 1
        np.testing.assert_allclose(np.abs(r.final_state_vector), want, atol=1e-6)


def test_errors_are_clear():
    q = cirq.LineQubit.range(2)
    x = sympy.Symbol("x")
    sim = HqsimSimulator()
    circuit = cirq.Circuit(cirq.rx(x).on(q[0]), cirq.measure(*q, key="m"))
    with pytest.raises(ValueError, match="terminal measurements"):
        sim.simulate_expectation_values(circuit, cirq.Z(q[0]), {"x": 0.1})
    ok = sim.simulate_expectation_values(circuit, cirq.Z(q[0]), {"x": 0.0}, permit_terminal_measurements=True)
    assert abs(ok[0] - 1) < 1e-6
    with pytest.raises(ValueError, match=r"unbound symbol\(s\) \['x'\]"):
        sim.run(circuit, {"y": 1.0})
    with pytest.raises(ValueError, match="mid-circuit"):
        sim.run(cirq.Circuit(cirq.measure(q[0], key="a"), cirq.X(q[0]), cirq.measure(q[0], key="b")))
    with pytest.raises(ValueError, match="repeated measurement keys"):
        sim.run(cirq.Circuit(cirq.measure(q[0], key="a"), cirq.measure(q[1], key="a")))
    with pytest.raises(ValueError, match="dtype"):
        HqsimSimulator(dtype=np.float32)
    assert sim.run(cirq.Circuit(cirq.X(q[0]))).measurements == {}
