"""Shared helpers of the GPU tests: random cases (reusing tests/core's generator) and skips."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_rc = importlib.import_module("core.random_circuits")
random_circuit, random_observables, random_args, random_unitary = (
    _rc.random_circuit, _rc.random_observables, _rc.random_args, _rc.random_unitary)


def random_case(rng, num_qubits, num_gates, batch, amplitude=False):
    """(program, compiled, circuit, observables, x, w) for a seeded random circuit; the
    program as compiled (with its fused CNOT+U1 ops, which the CUDA kernels run as they are)."""
    from hqsim.compile import compile_circuit
    c = random_circuit(rng, num_qubits, num_gates, amplitude=amplitude)
    obs = random_observables(rng, num_qubits)
    x, w = random_args(rng, c, batch)
    compiled = compile_circuit(c, obs)
    return compiled.program, compiled, c, obs, x, w


# The devices the CUDA backend's tests run on: a GPU (marked, skipped without one) and the
# kernels built for the CPU, which CI runs.
DEVICES = [pytest.param("cuda", marks=pytest.mark.gpu), "cpu-emulated"]


def cuda_backend_or_skip(device="cuda", **options):
    from hqsim.backends.cuda import CudaBackend, CudaOptions
    if not CudaBackend.is_available(device):
        pytest.skip("no CUDA GPU, or neither the extension nor CuPy is installed" if device == "cuda"
                    else "no C++ compiler for the cpu-emulated device")
    return CudaBackend(CudaOptions(device=device, **options))


def torch_cuda_or_skip():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    return torch


TOL = {np.float32: 3e-4, np.float64: 1e-10}
GRAD_TOL = {np.float32: 2e-3, np.float64: 1e-8}
