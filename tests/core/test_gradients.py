"""Adjoint gradients against central finite differences and the parameter-shift rule."""
import numpy as np
import pytest

import hqsim
from hqsim.backends import available_backends, get_backend, reference
from hqsim.compile import compile_circuit
from hqsim.ir import Circuit, X, Z, input, weight

from .random_circuits import random_args, random_circuit, random_observables

BACKENDS = [b for b in available_backends() if b not in ("cuda", "custatevec")]


def _f(c, obs, x, w, g):
    return float(np.sum(g * reference.expectation(c, obs, x, w)))


def finite_differences(c, obs, x, w, g, h=1e-5):
    dw = np.zeros_like(w)
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        dw[i] = (_f(c, obs, x, w + e, g) - _f(c, obs, x, w - e, g)) / (2 * h)
    dx = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        dx[idx] = (_f(c, obs, x + e, w, g) - _f(c, obs, x - e, w, g)) / (2 * h)
    return dw, dx


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", range(10))
def test_adjoint_matches_finite_differences(backend, seed):
    rng = np.random.default_rng(seed)
    nq = int(rng.integers(1, 5))
    c = random_circuit(rng, nq, int(rng.integers(1, 25)), n_weights=4, n_inputs=2,
                       amplitude=seed % 3 == 0)
    obs = random_observables(rng, nq, count=2)
    x, w = random_args(rng, c, int(rng.integers(1, 4)))
    if c.amplitude_encoding is not None:  # keep the amplitude block well away from zero
        s = c.amplitude_encoding
        x[:, s.start:s.start + s.size] = rng.uniform(0.2, 1.0, size=(x.shape[0], s.size))
    g = rng.normal(size=(x.shape[0], len(obs)))
    dw, dx = get_backend(backend).vjp(compile_circuit(c, obs), x, w, g, np.float64, True)
    fw, fx = finite_differences(c, obs, x, w, g)
    np.testing.assert_allclose(dw, fw, atol=1e-6)
    np.testing.assert_allclose(dx, fx, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_complex64_gradients_close_to_complex128(backend):
    rng = np.random.default_rng(7)
    c = random_circuit(rng, 5, 40, n_weights=6, n_inputs=3)
    obs = random_observables(rng, 5, 2)
    x, w = random_args(rng, c, 5)
    g = rng.normal(size=(5, len(obs)))
    comp = compile_circuit(c, obs)
    d64 = get_backend(backend).vjp(comp, x, w, g, np.float64, True)
    d32 = get_backend(backend).vjp(comp, x, w, g, np.float32, True)
    np.testing.assert_allclose(d32[0], d64[0], atol=2e-4)
    np.testing.assert_allclose(d32[1], d64[1], atol=2e-4)


def test_adjoint_matches_parameter_shift():
    # each weight enters once through a Pauli rotation: df/dw = (f(w + pi/2) - f(w - pi/2)) / 2
    c = Circuit(3)
    rng = np.random.default_rng(3)
    k = 0
    for layer in range(3):
        for q in range(3):
            c.append(["RX", "RY", "RZ"][(q + layer) % 3], q, [weight(k)])
            k += 1
        c.ry(input(layer), layer).rxx(weight(k), 0, 1).ryy(weight(k + 1), 1, 2).rzz(weight(k + 2), 2, 0)
        k += 3
    obs = [Z(0) + 0.5 * X(1) @ Z(2), Z(2)]
    x, w = random_args(rng, c, 2)
    g = rng.normal(size=(2, 2))
    shift = np.zeros_like(w)
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = np.pi / 2
        shift[i] = (_f(c, obs, x, w + e, g) - _f(c, obs, x, w - e, g)) / 2
    dw, _ = hqsim.vjp(c, x, w, g, observables=obs, backend="numba", dtype="complex128")
    np.testing.assert_allclose(dw, shift, atol=1e-9)


def test_amplitude_gradient_is_tangent_to_the_sphere():
    # scaling the amplitude inputs does not change the state: the gradient is orthogonal to x
    enc = hqsim.ansatz.amplitude_encoder(3, 6, 2, 2)
    rng = np.random.default_rng(1)
    x, w = random_args(rng, enc, 4)
    g = rng.normal(size=(4, 3))
    _, dx = hqsim.vjp(enc, x, w, g, backend="numba", dtype="complex128")
    np.testing.assert_allclose(np.sum(dx * x, axis=1), 0.0, atol=1e-10)
    fw, fx = finite_differences(enc, hqsim.ir.validate.default_observables(3), x, w, g)
    np.testing.assert_allclose(dx, fx, atol=1e-6)
