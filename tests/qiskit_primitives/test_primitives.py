"""HQSimEstimator / HQSimSampler against Qiskit's StatevectorEstimator / StatevectorSampler on
random parameterised circuits and broadcast shapes; precision, shots, registers, errors."""
import numpy as np
import pytest
from qiskit.circuit import ClassicalRegister, Parameter, QuantumCircuit
from qiskit.primitives import StatevectorEstimator, StatevectorSampler
from qiskit.quantum_info import SparsePauliOp

import hqsim.api
from hqsim.interop.qiskit import HQSimEstimator, HQSimSampler

from .helpers import random_circuit, random_observable

SHAPES = [  # (parameter-value shape, observables shape)
    ((), ()), ((5,), ()), ((4, 3), (1, 3)), ((2, 1), (1, 4)), ((), (2, 2)), ((3,), (3,))]


@pytest.mark.parametrize("pshape,oshape", SHAPES)
@pytest.mark.parametrize("seed", range(2))
def test_estimator_matches_statevector_estimator(pshape, oshape, seed):
    rng = np.random.default_rng(seed)
    qc = random_circuit(rng, 4, 30, 5)
    values = rng.uniform(-np.pi, np.pi, pshape + (qc.num_parameters,))
    obs = np.empty(oshape, dtype=object)
    for idx in np.ndindex(*oshape):
        obs[idx] = random_observable(rng, 4)
    obs = obs.tolist() if oshape else random_observable(rng, 4)
    pubs = [(qc, obs, values), (qc, random_observable(rng, 4), values.reshape(-1, qc.num_parameters)[0])]
    got = HQSimEstimator(dtype=np.complex128).run(pubs).result()
    want = StatevectorEstimator().run(pubs).result()
    for g, w in zip(got, want):
        assert g.data.evs.shape == w.data.evs.shape == g.data.stds.shape
        np.testing.assert_allclose(g.data.evs, w.data.evs, atol=1e-10)
        assert np.all(g.data.stds == 0)


def test_estimator_complex64_default_and_one_call_per_circuit(monkeypatch):
    rng = np.random.default_rng(5)
    qc = random_circuit(rng, 5, 40, 6)
    values = rng.uniform(-np.pi, np.pi, (16, qc.num_parameters))
    obs = [random_observable(rng, 5) for _ in range(3)]
    calls = []
    real = hqsim.api.expectation
    monkeypatch.setattr(hqsim.api, "expectation", lambda *a, **k: calls.append(1) or real(*a, **k))
    pubs = [(qc, [[o] for o in obs], values), (qc, obs[0], values[0])]
    got = HQSimEstimator().run(pubs).result()
    assert len(calls) == 1  # both pubs, 16 parameter sets, 3 observables: one batch
    want = StatevectorEstimator().run(pubs).result()
    np.testing.assert_allclose(got[0].data.evs, want[0].data.evs, atol=5e-6)


def test_estimator_precision_sets_shots_and_stds():
    qc = QuantumCircuit(2)
    a = Parameter("a")
    qc.ry(a, 0)
    qc.cx(0, 1)
    obs = SparsePauliOp(["ZZ", "IZ"], [1.0, 0.5])  # ZZ = 1 exactly; IZ = Z on qubit 0 = cos(a)
    x = np.linspace(0, np.pi, 7)
    res = HQSimEstimator(seed=3).run([(qc, obs, x)], precision=0.02).result()[0]
    assert res.metadata["shots"] == 2500 and res.metadata["target_precision"] == 0.02
    exact = 1.0 + 0.5 * np.cos(x)
    se = 0.5 * np.sqrt((1 - np.cos(x) ** 2) / 2500)
    assert np.all(np.abs(res.data.evs - exact) <= 5 * se + 1e-12)
    np.testing.assert_allclose(res.data.stds, se, atol=0.004)
    again = HQSimEstimator(seed=3).run([(qc, obs, x)], precision=0.02).result()[0]
    np.testing.assert_array_equal(res.data.evs, again.data.evs)


@pytest.mark.parametrize("pshape", [(), (3,), (2, 2)])
def test_sampler_matches_statevector_sampler(pshape):
    rng = np.random.default_rng(11)
    qc = random_circuit(rng, 3, 20, 3)
    meas, other = ClassicalRegister(2, "meas"), ClassicalRegister(9, "wide")
    qc.add_register(meas)
    qc.add_register(other)
    qc.measure(0, meas[1])
    qc.measure(2, meas[0])
    qc.measure(1, other[8])
    values = rng.uniform(-np.pi, np.pi, pshape + (qc.num_parameters,))
    shots = 20000
    got = HQSimSampler(seed=1).run([(qc, values)], shots=shots).result()[0]
    want = StatevectorSampler(seed=1).run([(qc, values)], shots=shots).result()[0]
    for reg in ("meas", "wide"):
        g, w = getattr(got.data, reg), getattr(want.data, reg)
        assert g.shape == w.shape == pshape and g.num_shots == shots and g.num_bits == w.num_bits
        for idx in np.ndindex(*pshape):
            gc, wc = g.get_counts(idx), w.get_counts(idx)
            for key in set(gc) | set(wc):
                p = wc.get(key, 0) / shots
                assert abs(gc.get(key, 0) / shots - p) < 6 * np.sqrt(p * (1 - p) / shots) + 2e-3


def test_sampler_rejects_gates_after_measurement_and_classical_control():
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    qc.x(0)
    with pytest.raises(ValueError, match="after their measurement"):
        HQSimSampler().run([qc]).result()


def test_bad_options_name_the_argument():
    with pytest.raises(ValueError, match="default_shots"):
        HQSimSampler(default_shots=0)
    with pytest.raises(ValueError, match="default_precision"):
        HQSimEstimator(default_precision=-1)
    with pytest.raises(ValueError, match="dtype"):
        HQSimEstimator(dtype=np.float64)
