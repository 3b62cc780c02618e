"""Gradient modes under shots: parameter shift (exact rules, per-occurrence shifts of shared
weights, convergence to the adjoint as S grows, unbiasedness) and SPSA (unbiased), adjoint with
shots = the exact adjoint."""
import numpy as np
import pytest

import hqsim
from hqsim.noise import SPSA

from core.random_circuits import random_circuit, random_observables


def _exact(c, x, w, g, obs):
    return hqsim.vjp(c, x, w, g, observables=obs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parameter_shift_exact_on_random_circuits(seed):
    """All gate kinds (four-term rule for CRX/CRY/CRZ, Rot/U3 split, affine angles, shared
    weights and inputs) against the adjoint, with exact expectations."""
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, 3, 14, n_weights=3, n_inputs=2, allow_unitary=True)
    obs = random_observables(rng, 3)
    x, w = rng.uniform(-2, 2, (2, 2)), rng.uniform(-2, 2, 3)
    g = rng.normal(size=(2, len(obs)))
    dw, dx = _exact(c, x, w, g, obs)
    dw2, dx2 = hqsim.vjp(c, x, w, g, observables=obs, gradient="parameter-shift")
    np.testing.assert_allclose(dw2, dw, atol=1e-9)
    np.testing.assert_allclose(dx2, dx, atol=1e-9)


def test_parameter_shift_shared_weights_w2_module():
    """W2's QPU module reuses PQC1's weights in every re-uploading block."""
    c = hqsim.ansatz.reuploading_module(3, blocks=3, pqc1_layers=1, pqc2_layers=1, connectivity=2)
    rng = np.random.default_rng(3)
    x, w = rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, c.num_weights)
    g = rng.normal(size=(3, 1))
    obs = [hqsim.Z(0)]
    dw, dx = _exact(c, x, w, g, obs)
    dw2, dx2 = hqsim.vjp(c, x, w, g, observables=obs, gradient="parameter-shift")
    np.testing.assert_allclose(dw2, dw, atol=1e-9)
    np.testing.assert_allclose(dx2, dx, atol=1e-9)


def test_parameter_shift_with_shots_converges_to_adjoint(small_circuit, args, observables):
    """RMS error over all gradient components ~ 1/sqrt(S): 256x more shots -> 16x smaller
    (asserted > 8x); mean over 12 seeds at S = 512 within 5 SE of the adjoint (unbiased)."""
    x, w = args
    g = np.ones((2, 3))
    dw, dx = _exact(small_circuit, x, w, g, observables)
    exact = np.concatenate([dw, dx.ravel()])

    def estimate(shots, seed):
        a, b = hqsim.vjp(small_circuit, x, w, g, observables=observables, shots=shots, seed=seed,
                         gradient="parameter-shift")
        return np.concatenate([a, b.ravel()])

    rms = {s: np.sqrt(np.mean([np.mean((estimate(s, k) - exact) ** 2) for k in range(3)]))
           for s in (64, 16384)}
    assert rms[16384] < rms[64] / 8 and rms[16384] < 0.05
    runs = np.stack([estimate(512, 100 + k) for k in range(12)])
    se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert np.all(np.abs(runs.mean(axis=0) - exact) < 5 * se + 1e-3)


def test_adjoint_with_shots_is_the_exact_gradient(small_circuit, args, observables):
    x, w = args
    g = np.random.default_rng(0).normal(size=(2, 3))
    dw, dx = _exact(small_circuit, x, w, g, observables)
    dw2, dx2 = hqsim.vjp(small_circuit, x, w, g, observables=observables, shots=128, seed=0)
    np.testing.assert_allclose(dw2, dw, atol=1e-9)
    np.testing.assert_allclose(dx2, dx, atol=1e-9)


def test_spsa_is_unbiased(small_circuit, args, observables):
    """Mean of 24 seeds x 150 directions within 5 SE of the adjoint (c = 1e-3: O(c^2) bias negligible)."""
    x, w = args
    g = np.ones((2, 3))
    dw, dx = _exact(small_circuit, x, w, g, observables)
    exact = np.concatenate([dw, dx.ravel()])
    mode = SPSA(epsilon=1e-3, directions=150)
    runs = np.stack([np.concatenate([a, b.ravel()]) for a, b in
                     (hqsim.vjp(small_circuit, x, w, g, observables=observables, gradient=mode, seed=s)
                      for s in range(24))])
    se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert np.all(np.abs(runs.mean(axis=0) - exact) < 5 * se)
    # with shots the estimate stays finite and correlated with the truth
    a, _ = hqsim.vjp(small_circuit, x, w, g, observables=observables, shots=4096, seed=0,
                     gradient=SPSA(epsilon=0.2, directions=400))
    assert np.corrcoef(a, dw)[0, 1] > 0.8
