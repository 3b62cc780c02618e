"""The spine's device path without a GPU: tensors reach a device backend (``arrays = "torch"``)
where they are, in their dtype, with no copy, no float64 up-cast and no host read on the hot
path (DeviceTensor records what a CUDA tensor would sync on), and their values are still checked
with the host path's errors: at once on a compiled circuit's first call, else at the next call
or on demand. The device backends: EmulatedDeviceBackend (Numba behind the "torch" contract)
and the CUDA backend itself on its cpu-emulated device (the real kernels and host driver)."""
import numpy as np
import pytest
import torch

import hqsim
from hqsim.autodiff.device_checks import DEVICE_CHECKS, MAX_PENDING, check_pending

from .emulated_device import EmulatedDeviceBackend
from .sync_spy import SPY, DeviceTensor


@pytest.fixture(autouse=True)
def no_leftover_checks():
    yield
    DEVICE_CHECKS._pending.clear()  # a test that leaves a failed check must not fail the next


def _cuda_emulated():
    from hqsim.backends.cuda import CudaBackend, CudaOptions
    if not CudaBackend.is_available("cpu-emulated"):
        pytest.skip("no C++ compiler for the CUDA backend's cpu-emulated device")
    return CudaBackend(CudaOptions(device="cpu-emulated"))


@pytest.fixture
def device():
    return EmulatedDeviceBackend()


@pytest.fixture(params=["emulated-numba", "cuda-cpu-emulated"])
def any_device(request):
    return EmulatedDeviceBackend() if request.param == "emulated-numba" else _cuda_emulated()


@pytest.fixture
def circuit():
    return hqsim.ansatz.rpqc(3, reuploads=2, layers=1)


def _on_device(t, requires_grad=True):
    return DeviceTensor.wrap(t).requires_grad_(requires_grad)


def _step(circuit, device, x, w, g):
    x.grad, w.grad = None, None
    out = hqsim.expectation(circuit, x, w, backend=device)
    (out * g).sum().backward()
    return out


def test_training_steps_read_nothing_back_and_copy_nothing(circuit, device):
    torch.manual_seed(0)
    x = _on_device(torch.rand(5, 3))
    w = _on_device(torch.rand(circuit.num_weights))
    g = DeviceTensor.wrap(torch.rand(5, 3))
    with SPY.recording():
        _step(circuit, device, x, w, g)
    assert SPY.host_reads() == ["copy_"]  # the circuit's first call on this device: checked at once
    device.handed.clear()
    with SPY.recording():
        for _ in range(3):
            out = _step(circuit, device, x, w, g)
    assert SPY.host_reads() == [] and SPY.upcasts() == []
    assert out.dtype == x.grad.dtype == w.grad.dtype == torch.float32
    handed = {(call, name): t for call, name, t in device.handed}
    assert set(handed) == {("forward", "x"), ("forward", "w"), ("vjp", "x"), ("vjp", "w"), ("vjp", "cotangent")}
    for (call, name), t in handed.items():
        assert t.dtype == torch.float32, (call, name)
        if name != "cotangent":
            assert t.data_ptr() == {"x": x, "w": w}[name].data_ptr(), (call, name)  # the caller's memory


def test_device_path_matches_the_host_path(circuit, any_device):
    device = any_device
    torch.manual_seed(1)
    obs = [hqsim.Z(0) + 0.5 * hqsim.X(1) @ hqsim.Y(2), hqsim.Z(2)]
    x = torch.rand(7, 3, dtype=torch.float64, requires_grad=True)
    w = torch.rand(circuit.num_weights, dtype=torch.float64, requires_grad=True)
    g = torch.rand(7, 2, dtype=torch.float64)
    grads = []
    for backend in ("numba", device):
        x.grad, w.grad = None, None
        out = hqsim.expectation(circuit, x, w, observables=obs, backend=backend)
        (out * g).sum().backward()
        grads.append((out.detach().clone(), x.grad.clone(), w.grad.clone()))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    dw, dx = hqsim.vjp(circuit, x, w, g, observables=obs, backend=device)
    torch.testing.assert_close(dw, grads[0][2], atol=1e-12, rtol=0)
    torch.testing.assert_close(dx, grads[0][1], atol=1e-12, rtol=0)


def test_gradcheck_through_the_device_path(circuit, any_device):
    device = any_device
    x = torch.rand(3, 3, dtype=torch.float64, requires_grad=True)
    w = torch.rand(circuit.num_weights, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: hqsim.expectation(circuit, a, b, backend=device), (x, w))


def test_kept_states_go_back_to_the_device_backend(circuit, device, monkeypatch):
    seen = []
    original = device.vjp

    def spy(*args, final_states=None, **kw):
        seen.append(final_states)
        return original(*args, final_states=final_states, **kw)
    monkeypatch.setattr(device, "vjp", spy)
    x = torch.rand(4, 3, requires_grad=True)
    layer = hqsim.QuantumLayer(circuit, backend=device)
    layer(x).sum().backward()
    assert isinstance(seen[0], torch.Tensor) and seen[0].shape == (4, 8)


def test_nan_on_the_first_call_fails_at_once(circuit, device):
    x = torch.rand(2, 3)
    x[1, 2] = float("nan")
    with pytest.raises(ValueError, match=r"^inputs contain NaN or inf \(first at sample 1, feature 2\)$"):
        hqsim.expectation(circuit, x, torch.zeros(circuit.num_weights), backend=device)


def test_nan_later_is_reported_at_the_next_call(circuit, device):
    w = torch.zeros(circuit.num_weights)
    hqsim.expectation(circuit, torch.rand(2, 3), w, backend=device)  # the first call: checked at once
    bad = torch.rand(2, 3)
    bad[1, 2] = float("inf")
    out = hqsim.expectation(circuit, bad, w, backend=device)  # not stopped: the device runs on
    assert out.shape == (2, 3)
    with pytest.raises(ValueError, match=r"^inputs contain NaN or inf \(first at sample 1, feature 2\) "
                                         r"\(found in call \d+ through hqsim on cpu"):
        hqsim.expectation(circuit, torch.rand(2, 3), w, backend=device)
    hqsim.expectation(circuit, torch.rand(2, 3), w, backend=device)  # reported once


def test_check_pending_reports_at_once(circuit, device):
    hqsim.expectation(circuit, torch.rand(2, 3), torch.zeros(circuit.num_weights), backend=device)
    w = torch.zeros(circuit.num_weights)
    w[4] = float("nan")
    hqsim.expectation(circuit, torch.rand(2, 3), w, backend=device)
    with pytest.raises(ValueError, match=r"^weights contain NaN or inf \(first at index 4\) \(found in call"):
        check_pending()
    check_pending()  # nothing left


def test_a_failure_overwritten_since_still_names_the_argument(circuit, device):
    w = torch.zeros(circuit.num_weights)
    hqsim.expectation(circuit, torch.rand(2, 3), w, backend=device)
    w[0] = float("nan")
    hqsim.expectation(circuit, torch.rand(2, 3), w, backend=device)
    w[0] = 0.0  # e.g. the optimizer wrote the weights again before the check was read
    with pytest.raises(ValueError, match=r"^weights contain NaN or inf \(found in call"):
        check_pending()


def test_zero_amplitudes_on_the_device_path(device):
    enc = hqsim.ansatz.amplitude_encoder(2, 3, 1, 1)
    w = torch.zeros(enc.num_weights)
    x = torch.rand(3, 3)
    x[2] = 0.0
    with pytest.raises(ValueError, match="amplitude-encoded inputs of sample 2 are all zero"):
        hqsim.expectation(enc, x, w, backend=device)


def test_unread_checks_are_bounded(circuit, device):
    w = torch.zeros(circuit.num_weights)
    for _ in range(MAX_PENDING + 5):
        hqsim.expectation(circuit, torch.rand(2, 3), w, backend=device)
    assert len(DEVICE_CHECKS._pending) <= MAX_PENDING


def test_noisy_path_on_a_device_backend_runs_on_host_arrays(circuit, device):
    x = torch.rand(3, 3, dtype=torch.float64, requires_grad=True)
    layer = hqsim.QuantumLayer(circuit, backend=device, dtype=torch.float64, shots=256, seed=0)
    layer(x).sum().backward()
    assert device.handed and all(isinstance(t, np.ndarray) for _, _, t in device.handed)
    assert x.grad is not None and layer.weights.grad is not None


def test_cuda_backend_on_the_spine_reads_nothing_back(circuit):
    # The CUDA backend's own host driver (cuda_run.py) behind the executor: after the first
    # call, a training step through QuantumLayer makes no host read of the device tensors.
    device = _cuda_emulated()
    torch.manual_seed(2)
    layer = hqsim.QuantumLayer(circuit, backend=device, dtype=torch.float64)
    x = _on_device(torch.rand(5, 3, dtype=torch.float64))
    layer.weights = torch.nn.Parameter(DeviceTensor.wrap(layer.weights.detach()))
    g = DeviceTensor.wrap(torch.rand(5, 3, dtype=torch.float64))
    (layer(x) * g).sum().backward()
    want = hqsim.expectation(circuit, x.detach().as_subclass(torch.Tensor),
                             layer.weights.detach().as_subclass(torch.Tensor), backend="numba")
    with SPY.recording():
        x.grad, layer.weights.grad = None, None
        out = layer(x)
        (out * g).sum().backward()
    assert SPY.host_reads() == []
    torch.testing.assert_close(out.detach().as_subclass(torch.Tensor), want, atol=1e-10, rtol=0)
