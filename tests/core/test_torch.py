"""The torch layer: dtypes, batch sizes, no_grad, gradcheck, and no wasted input-gradient work."""
import numpy as np
import pytest
import torch

import hqsim
from hqsim.backends import NumbaBackend, reference
from hqsim.ir.validate import default_observables


@pytest.fixture
def circuit():
    return hqsim.ansatz.rpqc(3, reuploads=2, layers=1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch", [1, 5])
def test_layer_matches_oracle(circuit, dtype, batch):
    torch.manual_seed(0)
    layer = hqsim.QuantumLayer(circuit, dtype=dtype)
    x = torch.rand(batch, 3, dtype=dtype)
    out = layer(x)
    assert out.shape == (batch, 3) and out.dtype == dtype
    want = reference.expectation(circuit, default_observables(3), x.double().numpy(),
                                 layer.weights.detach().double().numpy())
    np.testing.assert_allclose(out.detach().double().numpy(), want, atol=1e-5 if dtype == torch.float32 else 1e-10)


def test_single_sample_vector_input(circuit):
    layer = hqsim.QuantumLayer(circuit, dtype=torch.float64)
    assert layer(torch.rand(3, dtype=torch.float64)).shape == (3,)


def test_gradcheck_inputs_and_weights(circuit):
    x = torch.rand(4, 3, dtype=torch.float64, requires_grad=True)
    w = torch.rand(circuit.num_weights, dtype=torch.float64, requires_grad=True)
    obs = [hqsim.Z(0) + 0.3 * hqsim.X(1) @ hqsim.Y(2), hqsim.Z(2)]
    assert torch.autograd.gradcheck(lambda a, b: hqsim.expectation(circuit, a, b, observables=obs), (x, w))


def test_gradcheck_amplitude_encoder():
    enc = hqsim.ansatz.amplitude_encoder(3, 7, layers=2, connectivity=2)
    x = (torch.rand(3, 7, dtype=torch.float64) + 0.1).requires_grad_()
    w = torch.rand(enc.num_weights, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: hqsim.expectation(enc, a, b), (x, w))


def test_no_grad_and_training_step(circuit):
    layer = hqsim.QuantumLayer(circuit)
    with torch.no_grad():
        out = layer(torch.rand(2, 3))
    assert not out.requires_grad
    opt = torch.optim.Adam(layer.parameters(), lr=0.1)
    x, y = torch.rand(16, 3), torch.ones(16, 3)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((layer(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_inputs_without_grad_skip_input_gradient_work(circuit, monkeypatch):
    seen = []
    original = NumbaBackend.vjp

    def spy(self, compiled, x, w, cot, rd, need_inputs, **kw):
        seen.append(need_inputs)
        return original(self, compiled, x, w, cot, rd, need_inputs, **kw)

    monkeypatch.setattr(NumbaBackend, "vjp", spy)
    layer = hqsim.QuantumLayer(circuit)
    layer(torch.rand(2, 3)).sum().backward()
    layer(torch.rand(2, 3, requires_grad=True)).sum().backward()
    assert seen == [False, True]
    assert layer.weights.grad is not None


def test_layer_rejects_bad_inputs(circuit):
    layer = hqsim.QuantumLayer(circuit)
    with pytest.raises(ValueError, match=r"inputs must have shape \(batch, 3\)"):
        layer(torch.rand(2, 4))
    with pytest.raises(ValueError, match="NaN or inf"):
        layer(torch.tensor([[0.1, float("nan"), 0.2]]))
    with pytest.raises(ValueError, match="dtype must be"):
        hqsim.QuantumLayer(circuit, dtype=torch.int32)
    with pytest.raises(ValueError, match="init_weights must hold"):
        hqsim.QuantumLayer(circuit, init_weights=torch.zeros(3))


def test_backward_with_kept_states_equals_recomputation(circuit, monkeypatch):
    from hqsim import executor
    kept = []
    original = NumbaBackend.vjp

    def spy(self, *args, **kw):
        kept.append(kw.get("final_states") is not None)
        return original(self, *args, **kw)

    monkeypatch.setattr(NumbaBackend, "vjp", spy)
    x = torch.rand(19, 3, dtype=torch.float64, requires_grad=True)
    layer = hqsim.QuantumLayer(circuit, dtype=torch.float64)
    grads = []
    for budget in (1 << 30, 0):  # keep the forward's states, then force recomputation
        monkeypatch.setattr(executor, "KEEP_STATES_BYTES", budget)
        x.grad, layer.weights.grad = None, None
        (layer(x) * torch.arange(3.0, dtype=torch.float64)).sum().backward()
        grads.append((x.grad.clone(), layer.weights.grad.clone()))
    torch.testing.assert_close(grads[0][0], grads[1][0], atol=1e-12, rtol=0)
    torch.testing.assert_close(grads[0][1], grads[1][1], atol=1e-12, rtol=0)
    assert kept == [True, False]
