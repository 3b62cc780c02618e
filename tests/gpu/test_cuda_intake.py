"""How the CUDA backend takes its inputs: the caller's float32 (complex64 runs) or float64
(complex128) tensors reach the kernels in place — the launches receive the caller's own data
pointers, no host copy and no float64 up-cast — and other kinds of arrays are taken or refused
with a clear error. On the cpu-emulated device (CI) and, marked, on a GPU.
"""
import numpy as np
import pytest
import torch

from hqsim.ansatz import amplitude_encoder, z_all
from hqsim.backends import numba_cpu
from hqsim.backends.cuda_device import tensor_kind
from hqsim.compile import compile_circuit

from .helpers import DEVICES, GRAD_TOL, TOL, cuda_backend_or_skip, random_case

PATHS = [dict(path="resident"), dict(path="blocked", tile_bits=3)]


class RecordingLauncher:
    """Delegates to a launcher and records (kernel name, argument list) of every launch."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def launch(self, name, grid, block, smem, args, stream=0):
        self.calls.append((name, list(args)))
        self.inner.launch(name, grid, block, smem, args, stream)


def _recording(be, device):
    rec = RecordingLauncher(be.launcher(device))
    be._launchers[str(device)] = rec
    return rec


def _pointers(calls, prefix):
    """Every pointer argument of the launches of kernels whose name starts with ``prefix``."""
    return {v for name, args in calls if name.startswith(prefix) for kind, v in args if kind == "p"}


# The kernels that read x (and w, and the cotangent) on each path.
READS = {"resident": {"x": ["hq_forward_resident", "hq_vjp_resident"], "cot": ["hq_vjp_resident"]},
         "blocked": {"x": ["hq_amp_norms", "hq_init_states", "hq_op_matrices", "hq_chain_pass", "hq_amp_grad"],
                     "cot": ["hq_weighted_observable"]}}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("opts", PATHS, ids=["resident", "blocked"])
@pytest.mark.parametrize("real_dtype", [np.float32, np.float64])
def test_tensors_of_the_run_dtype_reach_the_kernels_in_place(device, opts, real_dtype):
    be = cuda_backend_or_skip(device, **opts)
    tdev = "cuda" if device == "cuda" else "cpu"
    tdt = torch.float32 if real_dtype == np.float32 else torch.float64
    rng = np.random.default_rng(21)
    program, _, c, obs, x, w = random_case(rng, 5, 30, 4, amplitude=True)
    xt, wt = torch.as_tensor(x, dtype=tdt, device=tdev), torch.as_tensor(w, dtype=tdt, device=tdev)
    cot = torch.as_tensor(rng.normal(size=(4, len(obs))), dtype=tdt, device=tdev)
    rec = _recording(be, xt.device)
    out, _ = be.forward(program, xt, wt, real_dtype)
    dw, dx = be.vjp(program, xt, wt, cot, real_dtype)
    path = opts["path"]
    sfx = "f32" if real_dtype == np.float32 else "f64"
    assert all(name.endswith(f"_{sfx}") or not name.startswith(("hq_forward", "hq_vjp", "hq_local", "hq_adjoint"))
               for name, _ in rec.calls)
    for kernel in READS[path]["x"]:
        if any(name.startswith(kernel) for name, _ in rec.calls):
            assert xt.data_ptr() in _pointers(rec.calls, kernel), kernel
    assert wt.data_ptr() in _pointers(rec.calls, "hq_forward_resident" if path == "resident" else "hq_op_matrices")
    for kernel in READS[path]["cot"]:
        assert cot.data_ptr() in _pointers(rec.calls, kernel), kernel
    # the answers: those of the values as given (float32 values are exact in float64)
    x64, w64, c64 = (t.double().cpu().numpy() for t in (xt, wt, cot))
    np.testing.assert_allclose(out.cpu().numpy(), numba_cpu.forward(program, x64, w64, np.float64)[0],
                               atol=TOL[real_dtype] * 10)
    ndw, ndx = numba_cpu.vjp(program, x64, w64, c64, np.float64, True)
    tol = GRAD_TOL[real_dtype] * max(1.0, float(np.abs(ndw).max()))
    np.testing.assert_allclose(dw.cpu().numpy(), ndw, atol=tol * 10)
    np.testing.assert_allclose(dx.cpu().numpy(), ndx, atol=tol)
    assert out.dtype == dw.dtype == dx.dtype == torch.float64


def test_other_dtypes_are_converted_and_the_caller_keeps_its_own():
    """float64 tensors in a complex64 run are converted for the kernels (the caller's tensor is
    left as it was); non-contiguous ones are made contiguous; complex ones are refused."""
    be = cuda_backend_or_skip("cpu-emulated")
    rng = np.random.default_rng(22)
    program, _, c, obs, x, w = random_case(rng, 4, 20, 3)
    wide = torch.as_tensor(np.repeat(x, 2, axis=1))  # float64, every other column is x
    xt, wt = wide[:, ::2], torch.as_tensor(w)
    before = wide.clone()
    rec = _recording(be, torch.device("cpu"))
    out, _ = be.forward(program, xt, wt, np.float32)
    assert torch.equal(wide, before)
    assert xt.data_ptr() not in _pointers(rec.calls, "hq_")
    x32 = torch.as_tensor(x, dtype=torch.float32).double().numpy()
    np.testing.assert_allclose(out.numpy(), numba_cpu.forward(program, x32, w.astype(np.float32).astype(np.float64),
                                                              np.float64)[0], atol=3e-5)
    with pytest.raises(ValueError, match="inputs must be real"):
        be.forward(program, xt.to(torch.complex64), wt, np.float32)


def test_a_float32_zero_amplitude_block_is_named():
    """The NumPy intake checks the amplitudes as the kernels will read them (float32 here)."""
    be = cuda_backend_or_skip("cpu-emulated")
    amp = compile_circuit(amplitude_encoder(3, 5), z_all(3)).program
    x = np.full((2, 5), 1e-50)
    x[0] = 1.0
    with pytest.raises(ValueError, match="sample 1 are all zero"):
        be.forward(amp, x, np.zeros(amp.num_weights), np.float32)
    be.forward(amp, x, np.zeros(amp.num_weights), np.float64)  # nonzero in float64: runs


class CudaArrayOnly:
    """An object exposing nothing but ``__cuda_array_interface__`` (as a Numba device array or a
    JAX array does)."""

    def __init__(self, interface):
        self.__cuda_array_interface__ = interface


def test_cuda_array_interface_objects_are_recognised_and_refused_by_the_emulated_device():
    obj = CudaArrayOnly({"shape": (2, 3), "typestr": "<f4", "data": (0, False), "version": 3})
    assert tensor_kind(obj) == "cuda_array"
    be = cuda_backend_or_skip("cpu-emulated")
    program, _, c, obs, x, w = random_case(np.random.default_rng(23), 3, 10, 2)
    with pytest.raises(ValueError, match="NumPy arrays or CPU tensors"):
        be.forward(program, obj, w, np.float32)


@pytest.mark.gpu
def test_cuda_array_interface_objects_are_read_in_place():
    be = cuda_backend_or_skip("cuda")
    rng = np.random.default_rng(24)
    program, _, c, obs, x, w = random_case(rng, 5, 30, 4)
    xt = torch.as_tensor(x, dtype=torch.float32, device="cuda")
    wt = torch.as_tensor(w, dtype=torch.float32, device="cuda")
    rec = _recording(be, xt.device)
    out, _ = be.forward(program, CudaArrayOnly(xt.__cuda_array_interface__),
                        CudaArrayOnly(wt.__cuda_array_interface__), np.float32)
    assert isinstance(out, torch.Tensor) and out.is_cuda
    assert {xt.data_ptr(), wt.data_ptr()} <= _pointers(rec.calls, "hq_")
    want = numba_cpu.forward(program, xt.double().cpu().numpy(), wt.double().cpu().numpy(), np.float64)[0]
    np.testing.assert_allclose(out.cpu().numpy(), want, atol=3e-3)
