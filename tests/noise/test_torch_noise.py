"""QuantumLayer and torch hqsim.expectation with shots / noise options; default behaviour unchanged."""
import numpy as np
import pytest
import torch

import hqsim
from hqsim.noise import SPSA, Depolarizing, NoiseModel, ReadoutError


@pytest.fixture
def circuit():
    return hqsim.ansatz.rpqc(3, reuploads=2, layers=1)


def test_default_layer_unchanged(circuit):
    layer = hqsim.QuantumLayer(circuit, dtype=torch.float64)
    assert layer.noise_options is None
    x = torch.rand(4, 3, dtype=torch.float64)
    exact = hqsim.expectation(circuit, x.numpy(), layer.weights.detach().numpy())
    np.testing.assert_allclose(layer(x).detach().numpy(), exact, atol=1e-12)


def test_seeded_layer_replays_and_adjoint_gradient_is_exact(circuit):
    torch.manual_seed(0)
    init = torch.rand(circuit.num_weights, dtype=torch.float64)
    x = torch.rand(5, 3, dtype=torch.float64, requires_grad=True)
    a = hqsim.QuantumLayer(circuit, dtype=torch.float64, init_weights=init, shots=256, seed=9)
    b = hqsim.QuantumLayer(circuit, dtype=torch.float64, init_weights=init, shots=256, seed=9)
    ya, yb = a(x), b(x)
    assert torch.equal(ya, yb) and not torch.equal(a(x), ya)  # replay; successive calls differ
    ya.sum().backward()
    dw, dx = hqsim.vjp(circuit, x.detach().numpy(), init.numpy(), np.ones((5, 3)))
    np.testing.assert_allclose(a.weights.grad.numpy(), dw, atol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), dx, atol=1e-10)


def test_manual_seed_restarts_the_shot_stream(circuit):
    x = torch.rand(4, 3, dtype=torch.float64)
    layer = hqsim.QuantumLayer(circuit, dtype=torch.float64, shots=128, seed=5)
    first = layer(x)
    assert not torch.equal(layer(x), first)
    assert layer.manual_seed(5) is layer
    assert torch.equal(layer(x), first)  # the same stream as a layer built with seed=5
    with pytest.raises(ValueError, match="seed"):
        layer.manual_seed(-1)
    exact = hqsim.QuantumLayer(circuit, dtype=torch.float64)
    assert exact.manual_seed(3) is exact and exact.noise_options is None


@pytest.mark.parametrize("gradient", ["adjoint", "parameter-shift", SPSA(epsilon=0.15, directions=8)])
def test_training_steps_under_each_mode(circuit, gradient):
    """Shots + depolarizing noise + readout: a few Adam steps reduce the (noisy) loss."""
    torch.manual_seed(1)
    model = NoiseModel(one_qubit=Depolarizing(0.01), two_qubit=Depolarizing(0.02, 2), readout=ReadoutError(0.02))
    layer = hqsim.QuantumLayer(circuit, dtype=torch.float64, shots=2048, seed=0, gradient=gradient,
                               noise=model, trajectories=8)
    x, target = torch.rand(8, 3, dtype=torch.float64), torch.full((8, 3), -0.5, dtype=torch.float64)
    opt = torch.optim.Adam(layer.parameters(), lr=0.1)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])


def test_functional_torch_with_options(circuit):
    x = torch.rand(3, 3, requires_grad=True)
    w = torch.rand(circuit.num_weights, requires_grad=True)
    out = hqsim.expectation(circuit, x, w, shots=64, seed=0, gradient="parameter-shift")
    assert out.dtype == torch.float32 and out.shape == (3, 3)
    out.sum().backward()
    assert x.grad.shape == (3, 3) and w.grad.shape == (circuit.num_weights,)
    assert hqsim.expectation(circuit, x[0].detach(), w.detach(), shots=64, seed=0).shape == (3,)


def test_noisy_adjoint_backward_uses_the_forwards_trajectories(circuit):
    """The torch backward differentiates the very trajectories its forward sampled: same seed,
    same gradient as hqsim.vjp (which samples the forward's trajectories first, then differentiates
    them); a backward that resampled would differ."""
    model = NoiseModel(one_qubit=Depolarizing(0.05), two_qubit=Depolarizing(0.1, 2))
    init = torch.rand(circuit.num_weights, dtype=torch.float64)
    x = torch.rand(3, 3, dtype=torch.float64)
    layer = hqsim.QuantumLayer(circuit, dtype=torch.float64, init_weights=init, noise=model, trajectories=4, seed=21)
    layer(x).sum().backward()
    dw, _ = hqsim.vjp(circuit, x.numpy(), init.numpy(), np.ones((3, 3)), noise=model, trajectories=4, seed=21)
    np.testing.assert_allclose(layer.weights.grad.numpy(), dw, atol=1e-10)
