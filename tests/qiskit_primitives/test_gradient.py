"""HQSimEstimatorGradient (hqsim's adjoint) against qiskit-machine-learning's parameter shift on
StatevectorEstimator: affine and non-affine angles, mixed observables, parameter subsets."""
import numpy as np
from qiskit.primitives import StatevectorEstimator
from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient

import hqsim.api
from hqsim.interop.qiskit import HQSimEstimator, HQSimEstimatorGradient

from .helpers import random_circuit, random_observable


def test_adjoint_gradient_matches_parameter_shift(monkeypatch):
    rng = np.random.default_rng(3)
    qc = random_circuit(rng, 3, 20, 4)
    obs = [random_observable(rng, 3), random_observable(rng, 3)]
    n = 6
    values = rng.uniform(-np.pi, np.pi, (n, qc.num_parameters))
    subsets = [qc.parameters[:2] if i % 3 == 0 else qc.parameters for i in range(n)]
    args = ([qc] * n, [obs[i % 2] for i in range(n)], values, subsets)
    calls = []
    real = hqsim.api.vjp
    monkeypatch.setattr(hqsim.api, "vjp", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = HQSimEstimatorGradient(HQSimEstimator(dtype=np.complex128)).run(*args).result().gradients
    assert len(calls) == 1  # six entries, two observables, one circuit: one adjoint pass
    want = ParamShiftEstimatorGradient(StatevectorEstimator()).run(*args).result().gradients
    for g, w, s in zip(got, want, subsets):
        assert g.shape == (len(s),)
        np.testing.assert_allclose(g, w, atol=1e-9)
