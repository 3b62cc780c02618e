"""The optional peers of bench/ (the `peers` extra: JAX, Catalyst, qulacs) agree with hqsim's
float64 reference on a small circuit, outputs and gradients; each test skips cleanly when its
package is absent (CI does not install the extra)."""
import sys
from pathlib import Path

import numpy as np
import pytest

import hqsim
from hqsim.backends import reference
from hqsim.ir.validate import default_observables

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is a directory of scripts at the repository root
    sys.path.insert(0, str(ROOT))


def _case():
    circ = hqsim.ansatz.rpqc(3, 2, 1, 1)
    rng = np.random.default_rng(7)
    x = rng.uniform(-3, 3, (4, 3))
    w = rng.uniform(-3, 3, circ.num_weights)
    g = rng.normal(size=(4, 3))
    obs = default_observables(3)
    dw, dx = reference.vjp(circ, obs, x, w, g)
    return circ, x, w, g, reference.expectation(circ, obs, x, w), dx, dw


def _agrees(peer, tol):
    circ, x, w, g, out, dx, dw = _case()
    got = peer(circ, range(3))
    np.testing.assert_allclose(got.forward(x, w), out, atol=tol)
    o2, gx, gw = got.forward_backward(x, w, g)
    np.testing.assert_allclose(o2, out, atol=tol)
    np.testing.assert_allclose(gx, dx, atol=tol)
    np.testing.assert_allclose(gw, dw, atol=tol)


def test_jax_peer_matches_the_oracle():
    pytest.importorskip("jax")
    from bench.peers.jax_circuit import JaxCircuit
    _agrees(lambda c, m: JaxCircuit(c, m, np.float32), 1e-5)


def test_qulacs_peer_matches_the_oracle():
    pytest.importorskip("qulacs")
    from bench.peers.qulacs_circuit import QulacsCircuit
    _agrees(QulacsCircuit, 1e-10)


def test_qulacs_peer_refuses_amplitude_encoding():
    pytest.importorskip("qulacs")
    from bench.peers.qulacs_circuit import QulacsCircuit
    with pytest.raises(ValueError, match="amplitude encoding"):
        QulacsCircuit(hqsim.Circuit(2, amplitude_encoding=4).ry(hqsim.weight(0), 0), [0])


def test_catalyst_peer_matches_the_oracle():
    pytest.importorskip("catalyst")
    from bench.peers.catalyst_circuit import CatalystCircuit
    _agrees(CatalystCircuit, 1e-10)


def _amplitude_case():
    """W2's encoder shape in small: amplitude-encoded inputs (5 of 8 amplitudes), RY and CNOT."""
    circ = hqsim.Circuit(3, amplitude_encoding=5)
    for q in range(3):
        circ.cnot(q, (q + 1) % 3).ry(hqsim.weight(q), (q + 1) % 3)
    rng = np.random.default_rng(3)
    x, w, g = rng.normal(size=(2, 5)), rng.uniform(-3, 3, 3), rng.normal(size=(2, 3))
    obs = default_observables(3)
    dw, dx = reference.vjp(circ, obs, x, w, g)
    return circ, x, w, g, reference.expectation(circ, obs, x, w), dx, dw


def test_jax_peer_matches_the_oracle_with_amplitude_encoding():
    pytest.importorskip("jax")
    from bench.peers.jax_circuit import JaxCircuit
    circ, x, w, g, out, dx, dw = _amplitude_case()
    got = JaxCircuit(circ, range(3), np.float32)
    np.testing.assert_allclose(got.forward(x, w), out, atol=1e-5)
    _, gx, gw = got.forward_backward(x, w, g)
    np.testing.assert_allclose(gx, dx, atol=1e-5)
    np.testing.assert_allclose(gw, dw, atol=1e-5)


def test_catalyst_peer_refuses_amplitude_encoding():
    pytest.importorskip("catalyst")
    from bench.peers.catalyst_circuit import CatalystCircuit
    with pytest.raises(ValueError, match="amplitude encoding"):
        CatalystCircuit(_amplitude_case()[0], range(3))
