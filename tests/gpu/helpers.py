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
    program as the CUDA backend runs it (fused CNOT+U1 ops split back into PERM and U1)."""
    from hqsim.compile import compile_circuit
    from hqsim.program import expand_fused_cnots
    c = random_circuit(rng, num_qubits, num_gates, amplitude=amplitude)
    obs = random_observables(rng, num_qubits)
    x, w = random_args(rng, c, batch)
    compiled = compile_circuit(c, obs)
    return expand_fused_cnots(compiled.program), compiled, c, obs, x, w


def cuda_backend_or_skip(**options):
    from hqsim.backends.cuda import CudaBackend, CudaOptions
    if not CudaBackend.is_available():
        pytest.skip("no CUDA GPU, or neither the extension nor CuPy is installed")
    return CudaBackend(CudaOptions(**options))


def torch_cuda_or_skip():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    return torch


TOL = {np.float32: 3e-4, np.float64: 1e-10}
GRAD_TOL = {np.float32: 2e-3, np.float64: 1e-8}
