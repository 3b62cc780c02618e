"""The execution spine (hqsim/executor.py, hqsim/autodiff): every entry runs on an executor
chosen in one place, every tensor entry through the one torch Function, exact and noisy alike;
errors are the host path's."""
import numpy as np
import pytest
import torch

import hqsim
from hqsim import executor as spine
from hqsim.autodiff import torch_function
from hqsim.backends import reference
from hqsim.ir.validate import default_observables
from hqsim.noise import Depolarizing, NoiseModel
from hqsim.executor import NoisyExecutor


@pytest.fixture
def circuit():
    return hqsim.ansatz.rpqc(3, reuploads=2, layers=1)


@pytest.fixture
def calls(monkeypatch):
    """Names of the spine's steps as they run: Function.forward / .backward, the VJP step of
    the Function (also hqsim.vjp on tensors), and the executors' forward / vjp by kind."""
    seen = []

    def spy(owner, attr, label, static=False):
        original = getattr(owner, attr)

        def wrapper(*args, **kwargs):
            seen.append(label)
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, attr, staticmethod(wrapper) if static else wrapper)

    spy(torch_function.ExpectationFunction, "forward", "Function.forward", static=True)
    spy(torch_function.ExpectationFunction, "backward", "Function.backward", static=True)
    spy(torch_function, "_vjp", "vjp-step")
    for cls, kind in ((spine.ExactExecutor, "exact"), (NoisyExecutor, "noisy")):
        spy(cls, "forward", f"{kind}.forward")
        spy(cls, "vjp", f"{kind}.vjp")
    return seen


def _xw(circuit, dtype=torch.float64):
    torch.manual_seed(1)
    x = torch.rand(4, circuit.num_inputs, dtype=dtype, requires_grad=True)
    w = torch.rand(circuit.num_weights, dtype=dtype, requires_grad=True)
    return x, w


def test_every_tensor_entry_runs_the_one_function(circuit, calls):
    x, w = _xw(circuit)
    train = ["Function.forward", "{}.forward", "Function.backward", "vjp-step", "{}.vjp"]
    hqsim.expectation(circuit, x, w).sum().backward()
    assert calls == [s.format("exact") for s in train]
    calls.clear()
    hqsim.QuantumLayer(circuit, dtype=torch.float64)(x).sum().backward()
    assert calls == [s.format("exact") for s in train]
    calls.clear()
    hqsim.QuantumLayer(circuit, dtype=torch.float64, shots=64, seed=0)(x).sum().backward()
    assert calls == [s.format("noisy") for s in train]
    calls.clear()
    model = NoiseModel(one_qubit=Depolarizing(0.01))
    hqsim.expectation(circuit, x, w, noise=model, trajectories=4, seed=0).sum().backward()
    assert calls == [s.format("noisy") for s in train]
    calls.clear()
    hqsim.vjp(circuit, x, w, torch.ones(4, 3, dtype=torch.float64))  # the backward step alone
    assert calls == ["vjp-step", "exact.vjp"]


def test_numpy_entries_run_the_same_executors(circuit, calls):
    x, w = (a.detach().numpy() for a in _xw(circuit))
    hqsim.expectation(circuit, x, w)
    hqsim.vjp(circuit, x, w, np.ones((4, 3)))
    hqsim.expectation(circuit, x, w, shots=32, seed=0)
    hqsim.vjp(circuit, x, w, np.ones((4, 3)), gradient="parameter-shift", shots=32, seed=0)
    assert calls == ["exact.forward", "exact.vjp", "noisy.forward", "noisy.vjp"]


def test_one_place_chooses_the_executor(circuit):
    compiled = hqsim.compile_circuit(circuit)
    backend = hqsim.backends.get_backend("numba")
    assert isinstance(spine.choose_executor(compiled, backend), spine.ExactExecutor)
    options, rng = spine.noise_settings(shots=16)
    noisy = spine.choose_executor(compiled, backend, options)
    assert isinstance(noisy, NoisyExecutor) and noisy.arrays == "numpy"
    assert spine.choose_executor(compiled, backend, options).estimator is noisy.estimator  # cached
    assert spine.noise_settings() == (None, None)


def test_vjp_on_tensors_matches_numpy_and_the_backward(circuit):
    x, w = _xw(circuit)
    g = torch.rand(4, 3, dtype=torch.float64)
    dw, dx = hqsim.vjp(circuit, x, w, g)
    assert isinstance(dw, torch.Tensor) and dw.dtype == torch.float64 and dx.shape == (4, 3)
    ndw, ndx = hqsim.vjp(circuit, x.detach().numpy(), w.detach().numpy(), g.numpy())
    (hqsim.expectation(circuit, x, w) * g).sum().backward()
    for got, want in ((dw, ndw), (dx, ndx), (w.grad, ndw), (x.grad, ndx)):
        np.testing.assert_allclose(got.detach().numpy(), want, atol=1e-12)
    want_dw, want_dx = reference.vjp(circuit, default_observables(3), x.detach().numpy(), w.detach().numpy(),
                                     g.numpy())
    np.testing.assert_allclose(ndw, want_dw, atol=1e-10)
    np.testing.assert_allclose(ndx, want_dx, atol=1e-10)


@pytest.mark.parametrize("entry", ["numpy", "torch", "layer"])
def test_errors_are_the_same_on_every_entry(circuit, entry):
    def run(x, w):
        if entry == "numpy":
            return hqsim.expectation(circuit, x, w)
        if entry == "torch":
            return hqsim.expectation(circuit, torch.as_tensor(x), torch.as_tensor(w))
        return hqsim.QuantumLayer(circuit, dtype=torch.float64, init_weights=w)(torch.as_tensor(x))

    x, w = np.zeros((2, 3)), np.zeros(circuit.num_weights)
    x[1, 2] = np.inf
    with pytest.raises(ValueError, match=r"^inputs contain NaN or inf \(first at sample 1, feature 2\)$"):
        run(x, w)
    with pytest.raises(ValueError, match=r"^inputs must have shape \(batch, 3\), got \(2, 4\)$"):
        run(np.zeros((2, 4)), w)
    if entry != "layer":  # the layer's own weights are checked when it is built
        w_bad = w.copy()
        w_bad[4] = np.nan
        with pytest.raises(ValueError, match=r"^weights contain NaN or inf \(first at index 4\)$"):
            run(np.zeros((2, 3)), w_bad)


def test_zero_amplitudes_are_rejected_on_every_entry():
    enc = hqsim.ansatz.amplitude_encoder(2, 3, 1, 1)
    w = np.zeros(enc.num_weights)
    for x in (np.zeros((1, 3)), torch.zeros(1, 3, dtype=torch.float64)):
        with pytest.raises(ValueError, match="amplitude-encoded inputs of sample 0 are all zero"):
            hqsim.expectation(enc, x, w)


def test_cotangent_shape_is_checked_on_every_entry(circuit):
    x, w = _xw(circuit)
    with pytest.raises(ValueError, match=r"cotangent must have shape \(4, 3\), got \(4, 2\)"):
        hqsim.vjp(circuit, x.detach().numpy(), w.detach().numpy(), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"cotangent must have shape \(4, 3\), got \(4, 2\)"):
        hqsim.vjp(circuit, x, w, torch.ones(4, 2, dtype=torch.float64))


def test_float32_outputs_and_gradients_keep_the_callers_dtype(circuit):
    x, w = _xw(circuit, torch.float32)
    out = hqsim.expectation(circuit, x, w)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == w.grad.dtype == torch.float32


def test_exact_and_noisy_executors_give_the_same_gradients_through_the_function(circuit):
    # Without shots the parameter-shift rule is exact: the noisy executor's backward must equal
    # the exact executor's adjoint, both reached through the same Function.
    x, w = _xw(circuit)
    g = torch.rand(4, 3, dtype=torch.float64)
    grads = []
    for kw in ({}, {"gradient": "parameter-shift", "seed": 0}):
        x.grad, w.grad = None, None
        (hqsim.expectation(circuit, x, w, **kw) * g).sum().backward()
        grads.append((x.grad.clone(), w.grad.clone()))
    torch.testing.assert_close(grads[0][0], grads[1][0], atol=1e-10, rtol=0)
    torch.testing.assert_close(grads[0][1], grads[1][1], atol=1e-10, rtol=0)


def test_layer_gradients_match_finite_differences(circuit):
    torch.manual_seed(3)
    layer = hqsim.QuantumLayer(circuit, dtype=torch.float64)
    x = torch.rand(3, 3, dtype=torch.float64, requires_grad=True)
    g = torch.rand(3, 3, dtype=torch.float64)
    (layer(x) * g).sum().backward()
    h = 1e-6
    w0 = layer.weights.detach().clone()
    for i in range(w0.numel()):
        e = torch.zeros_like(w0)
        e[i] = h
        with torch.no_grad():
            plus = (hqsim.expectation(circuit, x, w0 + e) * g).sum()
            minus = (hqsim.expectation(circuit, x, w0 - e) * g).sum()
        assert abs(float((plus - minus) / (2 * h)) - float(layer.weights.grad[i])) < 1e-7
