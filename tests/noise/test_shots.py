"""Finite-shot estimates: unbiased, with the binomial variance, the physical covariance between
outputs that share a measurement setting, independent settings, readout error, reproducibility.

Statistics: a batch of N copies of one sample gives N independent estimates (one random
stream per row). Tolerances are stated per test in standard errors (SE) of the quantity."""
import numpy as np
import pytest

import hqsim
from hqsim.noise import ReadoutError, plan_measurements, sample_expectations

from .helpers import dm_expectations

N, S = 4000, 64


@pytest.fixture
def correlated():
    """3 qubits with strongly correlated Z outcomes (GHZ-like plus rotations)."""
    c = hqsim.Circuit(3)
    c.h(0).cnot(0, 1).cnot(1, 2).ry(0.7, 0).rx(0.4, 2).ry(0.3, 1)
    return c


def _copies(circuit, n=N):
    return np.zeros((n, circuit.num_inputs))


def test_unbiased_and_binomial_variance(correlated):
    obs = [hqsim.Z(0), hqsim.Z(1), hqsim.Z(2)]
    exact = hqsim.expectation(correlated, observables=obs)
    est = hqsim.expectation(correlated, _copies(correlated), observables=obs, shots=S, seed=1)
    var = (1 - exact ** 2) / S
    se_mean = np.sqrt(var / N)
    assert np.all(np.abs(est.mean(axis=0) - exact) < 4 * se_mean)          # 4 SE
    rel = est.var(axis=0, ddof=1) / var                                       # SE of ratio ~ sqrt(2/N) = 2.2 %
    np.testing.assert_allclose(rel, 1.0, atol=0.12)
    assert np.all(np.abs(est * S - np.round(est * S)) < 1e-9)  # means of S parities


def test_joint_sampling_gives_physical_covariance(correlated):
    """Cov(Zi_hat, Zj_hat) = (<Zi Zj> - <Zi><Zj>) / S; independent per-qubit draws give 0."""
    z = [hqsim.Z(q) for q in range(3)]
    zz = [hqsim.Z(i) @ hqsim.Z(j) for i in range(3) for j in range(3) if i != j]
    e1 = hqsim.expectation(correlated, observables=z)[0]
    e2 = hqsim.expectation(correlated, observables=zz)[0]
    want = np.diag(1 - e1 ** 2)
    k = 0
    for i in range(3):
        for j in range(3):
            if i != j:
                want[i, j] = e2[k] - e1[i] * e1[j]
                k += 1
    want /= S
    est = hqsim.expectation(correlated, _copies(correlated), observables=z, shots=S, seed=2)
    got = np.cov(est.T)
    # SE of a sample covariance <= sqrt(2) / (S sqrt(N)) = 3.5e-4: 5 SE tolerance.
    np.testing.assert_allclose(got, want, atol=5 * np.sqrt(2) / (S * np.sqrt(N)))
    assert np.min(np.abs(want[~np.eye(3, dtype=bool)])) > 10 * np.sqrt(2) / (S * np.sqrt(N))


def test_rotated_groups_and_independent_settings(correlated):
    """X/Y strings are measured in a rotated basis; strings in different settings are
    independent (covariance 0), strings in one setting share bitstrings."""
    obs = [hqsim.X(0), hqsim.X(0) @ hqsim.Y(1), hqsim.Y(1), hqsim.Z(0) + 0.5 * hqsim.Z(1)]
    plan = plan_measurements(obs, 3)
    assert len(plan.groups) == 2
    exact = hqsim.expectation(correlated, observables=obs)[0]
    est = hqsim.expectation(correlated, _copies(correlated), observables=obs, shots=S, seed=3)
    sd = np.sqrt(np.diag(np.cov(est.T)) / N)
    assert np.all(np.abs(est.mean(axis=0) - exact) < 4 * sd + 1e-12)
    cov = np.cov(est.T)
    tol = 5 * np.sqrt(2) * 1.5 / (S * np.sqrt(N))  # 5 SE (|obs 3| <= 1.5)
    assert abs(cov[0, 3]) < tol and abs(cov[2, 3]) < tol           # different settings
    x0y1 = hqsim.expectation(correlated, observables=[hqsim.X(0) @ hqsim.Y(1)])[0, 0]
    assert abs(cov[0, 2] - (x0y1 - exact[0] * exact[2]) / S) < tol   # same setting


def test_readout_error_is_unbiased_against_density_matrix(correlated):
    from hqsim.noise import NoiseModel
    model = NoiseModel(readout=ReadoutError(0.08, 0.2))
    obs = [hqsim.Z(0), hqsim.Z(1) @ hqsim.Z(2), hqsim.X(0)]
    exact = dm_expectations(correlated, obs, np.zeros((1, 0)), np.zeros(0), model)[0]
    assert np.allclose(hqsim.expectation(correlated, observables=obs, noise=model)[0], exact, atol=1e-6)
    est = hqsim.expectation(correlated, _copies(correlated), observables=obs, noise=model, shots=S, seed=4)
    sd = np.sqrt((1 - exact ** 2) / S / N)
    assert np.all(np.abs(est.mean(axis=0) - exact) < 4.5 * sd)


def test_seed_reproducible_and_batched(correlated):
    x = _copies(correlated, 5)
    a = hqsim.expectation(correlated, x, shots=100, seed=11)
    b = hqsim.expectation(correlated, x, shots=100, seed=11)
    c = hqsim.expectation(correlated, x, shots=100, seed=12)
    assert a.shape == (5, 3) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert len({tuple(r) for r in a}) > 1  # rows use independent streams
    gen = np.random.default_rng(5)
    assert not np.array_equal(hqsim.expectation(correlated, x, shots=100, seed=gen),
                              hqsim.expectation(correlated, x, shots=100, seed=gen))


def test_sample_expectations_on_given_states(correlated):
    states = hqsim.statevector(correlated, np.zeros((3, 0)))
    est = sample_expectations(states, [hqsim.Z(0)], shots=10_000, seed=0)
    exact = hqsim.expectation(correlated, observables=[hqsim.Z(0)])[0, 0]
    assert est.shape == (3, 1) and np.all(np.abs(est - exact) < 5 * np.sqrt(1 / 10_000))
