"""The CUDA backend against the complex128 oracle and the Numba backend, on a GPU and on the
cpu-emulated device (the same kernel source built for the CPU; CI runs that one).

Every path is exercised at every size: the resident path (Q <= 13), the blocked path with its
default tiles and with tiny tiles (so small circuits cross tile boundaries, remap bits and run
CZ outside the tile), both launchers where both exist, float32 and float64. Every call goes
through hqsim's own host driver (hqsim/backends/cuda_run.py, cuda_blocked.py).
"""
import numpy as np
import pytest

from hqsim.ansatz import amplitude_encoder, reuploading_module, rpqc, z_all
from hqsim.backends import numba_cpu, reference
from hqsim.compile import compile_circuit

from .helpers import DEVICES, GRAD_TOL, TOL, cuda_backend_or_skip, random_case

PATHS = [dict(path="resident"), dict(path="blocked"), dict(path="blocked", tile_bits=3)]
PATH_IDS = ["resident", "blocked", "blocked-tiny-tiles"]
BATCHES = [1, 3, 7, 33]


def check_forward(be, case, real_dtype, check_oracle=True):
    program, compiled, c, obs, x, w = case
    x0, w0 = x.copy(), w.copy()
    out, states = be.forward(program, x, w, real_dtype, want_states=True)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    want, want_states = numba_cpu.forward(program, x, w, np.float64, True)
    np.testing.assert_allclose(out, want, atol=TOL[real_dtype] * 10)
    np.testing.assert_allclose(states, want_states, atol=TOL[real_dtype] * 10)
    assert states.dtype == (np.complex64 if real_dtype == np.float32 else np.complex128)
    if check_oracle:
        np.testing.assert_allclose(out, reference.expectation(c, obs, x, w), atol=TOL[real_dtype] * 10)


def check_vjp(be, case, real_dtype, rng, check_oracle=True, need_inputs_off=True):
    program, compiled, c, obs, x, w = case
    cot = rng.normal(size=(x.shape[0], len(obs)))
    x0, w0, cot0 = x.copy(), w.copy(), cot.copy()
    dw, dx = be.vjp(program, x, w, cot, real_dtype, need_inputs=True)
    for a, b in ((x, x0), (w, w0), (cot, cot0)):
        np.testing.assert_array_equal(a, b)
    ndw, ndx = numba_cpu.vjp(program, x, w, cot, np.float64, True)
    tol = GRAD_TOL[real_dtype] * max(1.0, float(np.abs(ndw).max(initial=0)))
    np.testing.assert_allclose(dw, ndw, atol=tol * 10)
    np.testing.assert_allclose(dx, ndx, atol=tol)
    if check_oracle:
        rdw, rdx = reference.vjp(c, obs, x, w, cot)
        np.testing.assert_allclose(dw, rdw, atol=tol * 10)
        np.testing.assert_allclose(dx, rdx, atol=tol)
    if need_inputs_off:
        dw2, dx2 = be.vjp(program, x, w, cot, real_dtype, need_inputs=False)
        assert dx2 is None
        np.testing.assert_allclose(dw2, dw, atol=tol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("opts", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("real_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(8))
def test_random_circuits_forward_and_gradients(device, opts, real_dtype, seed):
    """Every gate, parameter kind and observable kind; batches 1, 3, 7, 33; Q 1..8."""
    rng = np.random.default_rng(1000 + seed)
    nq = int(rng.integers(1, 9))
    be = cuda_backend_or_skip(device, **opts)
    case = random_case(rng, nq, int(rng.integers(1, 50)), BATCHES[seed % 4], amplitude=seed % 3 == 0)
    check_forward(be, case, real_dtype)
    check_vjp(be, case, real_dtype, rng)


MAX_Q = {"cuda": 20, "cpu-emulated": 14}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("nq", range(1, 21))
def test_every_size_against_oracle(device, nq):
    """Q = 1..20 (the emulated device: 1..14) with the default path choice (resident up to 13,
    blocked above)."""
    if nq > MAX_Q[device]:
        pytest.skip(f"the {device} device is tested up to {MAX_Q[device]} qubits")
    rng = np.random.default_rng(2000 + nq)
    be = cuda_backend_or_skip(device)
    case = random_case(rng, nq, 24, 3 if nq < 18 else 1, amplitude=nq % 4 == 1)
    check_forward(be, case, np.float64)
    check_forward(be, case, np.float32, check_oracle=False)
    check_vjp(be, case, np.float64, rng, check_oracle=nq <= 12, need_inputs_off=False)


def _workloads(nq):
    return [(rpqc(nq, 2, 2, 2), z_all(nq)), (amplitude_encoder(nq, 2 ** nq - 3), z_all(nq)),
            (reuploading_module(nq, blocks=2), z_all(nq)[:1])]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("nq", [10, 13, 14, 16])
def test_workloads_match_numba(device, nq):
    """W1 and W2 circuits (compiled, so with fused CNOT+U1 ops split for the kernels)."""
    if nq > MAX_Q[device]:
        pytest.skip(f"the {device} device is tested up to {MAX_Q[device]} qubits")
    rng = np.random.default_rng(nq)
    be = cuda_backend_or_skip(device)
    for c, obs in _workloads(nq):
        x = rng.uniform(-np.pi, np.pi, size=(3, c.num_inputs))
        w = rng.uniform(-np.pi, np.pi, size=c.num_weights)
        case = (compile_circuit(c, obs).program, None, c, obs, x, w)
        check_forward(be, case, np.float32, check_oracle=False)
        check_vjp(be, case, np.float32, rng, check_oracle=False, need_inputs_off=False)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("opts", PATHS, ids=PATH_IDS)
def test_every_output_element_is_written(device, opts):
    """Outputs poisoned with NaN beforehand come back finite and right."""
    import torch

    from hqsim.backends.cuda_run import Run
    rng = np.random.default_rng(7)
    be = cuda_backend_or_skip(device, **opts)
    program, _, c, obs, x, w = random_case(rng, 6, 30, 9, amplitude=True)
    run = Run(be, program, x, w, 4)
    out = torch.full((9, len(obs)), float("nan"), dtype=torch.float64, device=run.device)
    states = torch.full((9, 2 * 64), float("nan"), dtype=torch.float32, device=run.device)
    run.forward_into(out, states)
    want, want_states = numba_cpu.forward(program, x, w, np.float64, True)
    np.testing.assert_allclose(out.cpu().numpy(), want, atol=1e-3)
    np.testing.assert_allclose(run.complex_view(states).cpu().numpy(), want_states, atol=1e-3)
    cot = torch.as_tensor(rng.normal(size=(9, len(obs))), device=run.device)
    with pytest.raises(ValueError, match="cotangent must be torch.float32"):
        run.vjp_into(cot, torch.empty(program.num_weights, dtype=torch.float64))  # read as float32: refused
    cot = cot.float()
    dw = torch.full((program.num_weights,), float("nan"), dtype=torch.float64, device=run.device)
    dx = torch.full((9, program.num_inputs), float("nan"), dtype=torch.float64, device=run.device)
    run.vjp_into(cot, dw, dx)
    ndw, ndx = numba_cpu.vjp(program, x, w, cot.cpu().numpy(), np.float64, True)
    np.testing.assert_allclose(dw.cpu().numpy(), ndw, atol=1e-2)
    np.testing.assert_allclose(dx.cpu().numpy(), ndx, atol=1e-2)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("opts", PATHS, ids=PATH_IDS)
def test_amplitudes_of_any_scale(device, opts):
    """The kernels divide the amplitude block by its largest magnitude before squaring (as
    hqsim.ir.validate.unit_amplitudes), in place, x never copied: |x| ~ 1e200 or 1e-200 gives
    the state of x / |x| and an input gradient scaled by 1 / c."""
    rng = np.random.default_rng(21)
    be = cuda_backend_or_skip(device, **opts)
    program, _, c, obs, x, w = random_case(rng, 5, 20, 3, amplitude=True)
    cot = rng.normal(size=(3, len(obs)))
    out0 = numba_cpu.forward(program, x, w, np.float64)[0]
    dw0, dx0 = numba_cpu.vjp(program, x, w, cot, np.float64, True)
    block = slice(program.amp_start, program.amp_start + program.amp_size)
    for scale in (1e200, 1e-200):
        xs = x.copy()
        xs[:, block] *= scale
        out, _ = be.forward(program, xs, w, np.float64)
        np.testing.assert_allclose(np.asarray(out), out0, atol=1e-10)
        dw, dx = be.vjp(program, xs, w, cot, np.float64, True)
        np.testing.assert_allclose(np.asarray(dw), dw0, atol=1e-8)
        dx = np.asarray(dx).copy()
        dx[:, block] *= scale
        np.testing.assert_allclose(dx, dx0, atol=1e-8)


@pytest.mark.gpu
def test_launchers_agree():
    from hqsim.backends.cuda_ext import cupy_available, load_extension
    if load_extension() is None or not cupy_available():
        pytest.skip("needs both the built extension and CuPy")
    rng = np.random.default_rng(3)
    case = random_case(rng, 7, 40, 5, amplitude=True)
    ext, jit = cuda_backend_or_skip(launcher="extension"), cuda_backend_or_skip(launcher="cupy")
    for real_dtype in (np.float32, np.float64):
        a, b = ext.forward(case[0], case[4], case[5], real_dtype)[0], jit.forward(case[0], case[4], case[5], real_dtype)[0]
        np.testing.assert_allclose(a, b, atol=1e-12)
        cot = rng.normal(size=a.shape)
        ga, gb = ext.vjp(case[0], case[4], case[5], cot, real_dtype), jit.vjp(case[0], case[4], case[5], cot, real_dtype)
        np.testing.assert_allclose(ga[0], gb[0], atol=1e-9)
        np.testing.assert_allclose(ga[1], gb[1], atol=1e-9)


@pytest.mark.gpu
def test_torch_and_cupy_arrays_in_and_out_on_a_side_stream():
    import torch
    be = cuda_backend_or_skip()
    rng = np.random.default_rng(5)
    program, _, c, obs, x, w = random_case(rng, 5, 30, 4)
    xt, wt = torch.as_tensor(x, device="cuda", dtype=torch.float32), torch.as_tensor(w, device="cuda")
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        out, _ = be.forward(program, xt, wt, np.float64)
        dw, dx = be.vjp(program, xt, wt, torch.ones_like(out), np.float64)
    s.synchronize()
    assert out.is_cuda and dw.is_cuda and dx.is_cuda
    x32 = xt.double().cpu().numpy()
    np.testing.assert_allclose(out.cpu().numpy(), numba_cpu.forward(program, x32, w, np.float64)[0], atol=1e-9)
    cupy = pytest.importorskip("cupy")
    out_c, _ = be.forward(program, cupy.asarray(x), cupy.asarray(w), np.float64)
    assert isinstance(out_c, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(out_c), numba_cpu.forward(program, x, w, np.float64)[0], atol=1e-9)


def test_emulated_device_takes_and_gives_cpu_tensors():
    import torch
    be = cuda_backend_or_skip("cpu-emulated")
    rng = np.random.default_rng(6)
    program, _, c, obs, x, w = random_case(rng, 4, 20, 3)
    out, _ = be.forward(program, torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(w), np.float64)
    assert isinstance(out, torch.Tensor) and out.device.type == "cpu"
    x32 = torch.as_tensor(x, dtype=torch.float32).double().numpy()
    np.testing.assert_allclose(out.numpy(), numba_cpu.forward(program, x32, w, np.float64)[0], atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_bad_input_gets_a_clear_error(device):
    import torch
    be = cuda_backend_or_skip(device)
    rng = np.random.default_rng(9)
    program, _, c, obs, x, w = random_case(rng, 4, 10, 2)
    if device == "cuda":
        with pytest.raises(ValueError, match="CUDA tensors"):
            be.forward(program, torch.as_tensor(x), w)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        be.forward(program, bad, w)
    with pytest.raises(ValueError, match="real_dtype"):
        be.forward(program, x, w, np.float16)
    with pytest.raises(ValueError, match="weights must hold"):
        be.forward(program, x, w[:-1])
    with pytest.raises(ValueError, match="cotangent must have shape"):
        be.vjp(program, x, w, np.ones((x.shape[0], 99)))
    amp = compile_circuit(amplitude_encoder(3, 5), z_all(3)).program
    with pytest.raises(ValueError, match="all zero"):
        be.forward(amp, np.zeros((2, 5)), np.zeros(amp.num_weights))
    with pytest.raises(ValueError, match="resident"):
        cuda_backend_or_skip(device, path="resident").forward(compile_circuit(rpqc(15, 1, 1), z_all(15)).program,
                                                              np.zeros((1, 15)), np.zeros(45), np.float64)


def test_options_are_checked():
    from hqsim.backends.cuda import CudaOptions
    with pytest.raises(ValueError, match="CudaOptions.device"):
        CudaOptions(device="tpu")
    with pytest.raises(ValueError, match="CudaOptions.path"):
        CudaOptions(path="fast")


@pytest.mark.parametrize("device", DEVICES)
def test_blocked_path_in_batch_chunks(device):
    """scratch_bytes so small that every sample is its own chunk: weight gradients accumulate
    across chunks, each chunk's op matrices and states are its own."""
    rng = np.random.default_rng(11)
    be = cuda_backend_or_skip(device, path="blocked", tile_bits=3, scratch_bytes=1)
    case = random_case(rng, 5, 30, 5, amplitude=True)
    check_forward(be, case, np.float64)
    check_vjp(be, case, np.float64, rng, need_inputs_off=False)
