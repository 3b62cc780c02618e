"""Google: compiled and routed circuits stay equivalent; jobs through a simulated local engine
whose processor samples with hqsim."""
import numpy as np
import pytest

import hqsim
from hqsim import Z

cirq = pytest.importorskip("cirq")
pytest.importorskip("cirq_google")

from hqsim.interop.cirq import observables_to_cirq  # noqa: E402
from hqsim.interop.google import compile_for_google, simulated_engine, submit  # noqa: E402
from hqsim.interop.simulator import HqsimSimulator  # noqa: E402
from hqsim.interop.stats import compute_circuit_stats  # noqa: E402

from .helpers import random_args, random_circuit, random_paulis  # noqa: E402

C128 = np.dtype("complex128")


def _physical(observables, final_map):
    """Logical Pauli sums moved onto the physical qubits the logical ones end on."""
    return [cirq.PauliSum.from_pauli_strings([ps.map_qubits(final_map) for ps in cirq.PauliSum.wrap(o)])
            for o in observables]


@pytest.mark.parametrize("gateset", ["cz", "sqrt_iswap"])
@pytest.mark.parametrize("seed", range(2))
def test_compiled_for_google_preserves_expectation_values(seed, gateset):
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, num_qubits=4, num_gates=25)
    x, w = random_args(rng, c)
    obs = random_paulis(rng, 4)
    comp = compile_for_google(c, "rainbow", gateset, weights=w, inputs=x)
    assert all(isinstance(q, cirq.GridQubit) for q in comp.circuit.all_qubits())
    got = HqsimSimulator(dtype=np.complex128).simulate_expectation_values(
        comp.circuit, _physical(observables_to_cirq(obs, 4), comp.final_map))
    np.testing.assert_allclose(got, hqsim.expectation(c, x, w, obs, dtype=C128)[0], atol=1e-6)
    rep = comp.report
    assert rep.before.num_qubits == 4 and rep.after.gate_counts
    two = {"cz": "CZ", "sqrt_iswap": "ISwap"}[gateset]
    assert {n for n, _ in rep.after.gate_counts} <= {"PhasedXZ", two, "Z", "X", "Y"}


def test_symbolic_w1_compiles_once_and_stays_equivalent_for_every_sample():
    c = hqsim.ansatz.rpqc(4, reuploads=2, connectivity=2)
    rng = np.random.default_rng(3)
    w, x = rng.uniform(-np.pi, np.pi, c.num_weights), rng.uniform(-np.pi, np.pi, (5, 4))
    comp = compile_for_google(c, "weber", "cz", weights=w)
    assert cirq.parameter_names(comp.circuit) == {"x0", "x1", "x2", "x3"}
    sweep = cirq.ListSweep([{f"x{j}": v for j, v in enumerate(row)} for row in x])
    obs = _physical([cirq.Z(cirq.LineQubit(q)) for q in range(4)], comp.final_map)
    got = HqsimSimulator(dtype=np.complex128).simulate_expectation_values_sweep(comp.circuit, obs, sweep)
    np.testing.assert_allclose(got, hqsim.expectation(c, x, w, dtype=C128), atol=1e-6)
    assert comp.report.before.two_qubit_depth == 2 * 2 * 2  # R * L rings of depth 2 (C=2, Q=4)


def test_circuit_stats_exact():
    q = cirq.LineQubit.range(4)
    c = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.CNOT(q[2], q[3]), cirq.rz(0.1).on(q[1]),
                     cirq.CZ(q[1], q[2]), cirq.X(q[3]), cirq.measure(*q, key="m"))
    s = compute_circuit_stats(c)
    assert (s.num_qubits, s.num_gates, s.num_two_qubit_gates, s.depth, s.two_qubit_depth) == (4, 6, 3, 4, 2)
    assert s.gate_counts == (("CX", 2), ("CZ", 1), ("H", 1), ("Rz", 1), ("X", 1))


def test_google_errors():
    with pytest.raises(ValueError, match="needs 24 qubits but the device 'rainbow' has 23"):
        compile_for_google(_wide(24), "rainbow")
    with pytest.raises(ValueError, match="unknown processor 'sycamore9'"):
        compile_for_google(_wide(2), "sycamore9")
    with pytest.raises(ValueError, match="does not support the 'sqrt_iswap' gate set"):
        compile_for_google(_wide(2), "willow_pink", "sqrt_iswap")


def _wide(n):
    c = hqsim.Circuit(n)
    for q in range(n):
        c.h(q)
    for q in range(n - 1):
        c.cnot(q, q + 1)
    return c


@pytest.fixture(scope="module")
def engine():
    return simulated_engine("rainbow", sampler=HqsimSimulator(seed=7))


def test_sweep_job_on_simulated_engine_sampled_by_hqsim(engine):
    c = hqsim.ansatz.rpqc(3, reuploads=2, layers=1)
    rng = np.random.default_rng(5)
    w, x = rng.uniform(-np.pi, np.pi, c.num_weights), rng.uniform(-np.pi, np.pi, (4, 3))
    res = submit(c, weights=w, inputs=x, engine=engine, processor_id="rainbow", shots=20000)
    assert len(res.compiled) == 1 and res.counts.shape == (4, 8) and np.all(res.counts.sum(1) == 20000)
    exact = np.abs(hqsim.statevector(c, x, w, dtype=C128)) ** 2
    assert np.all(0.5 * np.abs(res.probabilities - exact).sum(axis=1) < 0.02)
    np.testing.assert_allclose(res.expectation([Z(0)]), hqsim.expectation(c, x, w, [Z(0)]), atol=0.03)


def test_batch_of_resolved_circuits_and_validator(engine):
    q = cirq.LineQubit.range(2)
    bell = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]))
    flip = cirq.Circuit(cirq.X(q[1]))
    res = submit([bell, flip], engine=engine, processor_id="rainbow", shots=4000)
    assert res.counts[0, 1] == res.counts[0, 2] == 0 and abs(res.probabilities[0, 0] - 0.5) < 0.05
    assert res.counts[1, 1] == 4000
    with pytest.raises(RuntimeError):  # the engine's validator: at most 5,000,000 repetitions
        submit(flip, engine=engine, processor_id="rainbow", shots=6_000_000)
