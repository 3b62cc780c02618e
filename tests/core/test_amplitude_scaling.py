"""Amplitude encoding normalises with a scaled norm (issue 17, item 7): any finite input with a
non-zero entry becomes the state x / |x| on every CPU backend and in the Cirq export, in
float32 and float64, however large or small; its gradient scales as 1 / c when x does as c."""
import numpy as np
import pytest
import torch

import hqsim
from hqsim.backends import available_backends
from hqsim.ir.validate import unit_amplitudes

CPU_BACKENDS = [b for b in ("reference", "numba") if b in available_backends()]


@pytest.fixture
def enc():
    return hqsim.ansatz.amplitude_encoder(2, 4, layers=1, connectivity=1)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e300, 1e-300])
def test_issue_example_any_scale(backend, dtype, scale):
    c = hqsim.Circuit(2, amplitude_encoding=4)
    out = hqsim.expectation(c, np.array([[1.0, 0, 0, 0.5]]) * scale, backend=backend, dtype=dtype)
    np.testing.assert_allclose(out, [[0.6, 0.6]], atol=1e-6)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_float32_extremes_through_torch(enc, backend):
    w = torch.zeros(enc.num_weights, dtype=torch.float32, requires_grad=True)
    base = torch.tensor([[0.3, -0.5, 0.1, 0.8]], dtype=torch.float32)
    for s in (3e38, 1e-30, 1e-44):  # squares overflow / underflow float32
        x = (base * s).requires_grad_(True)
        assert torch.isfinite(x).all() and (x != 0).any()
        # the same direction at a benign scale (1e-44 rounds the entries to subnormal steps)
        ref = hqsim.expectation(enc, x.detach().double() / x.detach().double().abs().max(),
                                w.detach().double(), backend=backend).float()
        out = hqsim.expectation(enc, x, w, backend=backend)
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)
        out.sum().backward()
        if s > 1e-38:  # the gradient is ~1 / |x|: past float32's range for |x| ~ 1e-44
            assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_gradient_scales_inversely(enc, backend):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    w = rng.normal(size=enc.num_weights)
    cot = rng.normal(size=(3, 2))
    dw0, dx0 = hqsim.vjp(enc, x, w, cot, backend=backend, dtype="complex128")
    for c in (1e200, 1e-200):
        dw, dx = hqsim.vjp(enc, x * c, w, cot, backend=backend, dtype="complex128")
        np.testing.assert_allclose(dw, dw0, atol=1e-10)
        np.testing.assert_allclose(dx * c, dx0, atol=1e-10)


def test_unit_amplitudes_and_zero_rows():
    unit, norms = unit_amplitudes(np.array([[3e300, 4e300], [3e-310, -4e-310]]))
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.6, -0.8]], rtol=1e-12)
    np.testing.assert_allclose(norms, [5e300, 5e-310], rtol=1e-12)
    assert unit_amplitudes(np.full((1, 4), 1e308))[1][0] == np.inf  # past float64: |x| is inf
    with pytest.raises(ValueError, match="sample 1 are all zero"):
        unit_amplitudes(np.array([[1.0, 0.0], [0.0, 0.0]]))
    c = hqsim.Circuit(2, amplitude_encoding=4)
    with pytest.raises(ValueError, match="all zero"):
        hqsim.expectation(c, np.zeros((1, 4)))


def test_cirq_export_of_huge_amplitudes():
    pytest.importorskip("cirq")
    from hqsim.interop.cirq import to_cirq
    c = hqsim.Circuit(2, amplitude_encoding=4)
    circuit = to_cirq(c, inputs=np.array([1e200, 0, 0, 5e199]))
    state = circuit.final_state_vector(dtype=np.complex128)
    np.testing.assert_allclose(np.abs(state) ** 2, [0.8, 0, 0, 0.2], atol=1e-7)


def test_cuda_kernels_scale_amplitudes_on_the_emulated_device(enc):
    from hqsim.backends.cuda import CudaBackend, CudaOptions
    if not CudaBackend.is_available("cpu-emulated"):
        pytest.skip("no C++ compiler for the cpu-emulated device")
    cuda = CudaBackend(CudaOptions(device="cpu-emulated"))
    compiled = hqsim.compile_circuit(enc)
    rng = np.random.default_rng(1)
    x, w, cot = rng.normal(size=(3, 4)), rng.normal(size=enc.num_weights), rng.normal(size=(3, 2))
    out0 = hqsim.expectation(enc, x, w, backend="reference")
    dw0, dx0 = hqsim.vjp(enc, x, w, cot, backend="reference")
    for c in (1e200, 1e-200):
        out, _ = cuda.forward(compiled, x * c, w, np.float64)
        np.testing.assert_allclose(np.asarray(out), out0, atol=1e-10)
        dw, dx = cuda.vjp(compiled, x * c, w, cot, np.float64, True)
        np.testing.assert_allclose(np.asarray(dw), dw0, atol=1e-9)
        np.testing.assert_allclose(np.asarray(dx) * c, dx0, atol=1e-9)
