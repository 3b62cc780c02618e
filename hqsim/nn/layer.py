"""QuantumLayer: an nn.Module around a circuit whose weights are a trainable Parameter."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..api import compile_circuit
from ..autodiff.torch_function import torch_expectation
from ..backends import get_backend
from ..executor import choose_executor, noise_settings
from ..ir import Circuit
from ..noise.options import make_rng


class QuantumLayer(nn.Module):
    """``layer(inputs)``: inputs (B, circuit.num_inputs) or (num_inputs,) → (B, n_obs).

    observables: list of PauliString / Observable (default <Z_q> on every qubit).
    backend: "auto" (Numba on CPU tensors, CUDA on CUDA tensors), "numba", "reference", ...
    dtype: torch.float32 (complex64 simulation) or torch.float64 (complex128).
    init_weights: optional tensor of shape (num_weights,); default uniform in [0, 2π) like
    PennyLane's TorchLayer.

    Finite shots and noise (hqsim.noise; without these options the layer is exact):
    shots: S samples per circuit or None; seed: seeds the layer's own Generator once (so a
    re-created layer replays the same estimates; successive calls differ; ``manual_seed``
    restarts it); gradient:
    "adjoint" (exact gradient of the exact expectation), "parameter-shift", "spsa" or
    hqsim.noise.SPSA(...); noise: hqsim.noise.NoiseModel; trajectories: T per sample.
    """

    def __init__(self, circuit: Circuit, observables=None, backend="auto", dtype=torch.float32,
                 init_weights=None, *, shots=None, seed=None, gradient=None, noise=None,
                 trajectories=None):
        super().__init__()
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.circuit = circuit
        self.compiled = compile_circuit(circuit, observables)
        self.backend = backend
        n_w = circuit.num_weights
        if init_weights is None:
            init = torch.rand(n_w, dtype=dtype) * (2 * math.pi)
        else:
            init = torch.as_tensor(init_weights, dtype=dtype).reshape(-1).clone()
            if init.numel() != n_w:
                raise ValueError(f"init_weights must hold {n_w} values, got {init.numel()}")
        self.weights = nn.Parameter(init)
        self.noise_options, rng = noise_settings(shots, seed, gradient, noise, trajectories)
        if self.noise_options is not None:
            self.rng = rng

    def manual_seed(self, seed) -> "QuantumLayer":
        """Restart the layer's shot and trajectory randomness from ``seed`` (an int >= 0 or a
        numpy Generator), like ``torch.Generator.manual_seed``; returns the layer. An exact
        layer (no shots, noise or stochastic gradient) draws no random numbers: nothing to do."""
        if self.noise_options is not None:
            self.rng = make_rng(seed)
        return self

    @property
    def num_outputs(self) -> int:
        return len(self.compiled.observables)

    def executor(self, on_cuda: bool):
        """The executor this layer runs on for tensors on a CUDA device or on the CPU."""
        return choose_executor(self.compiled, get_backend(self.backend, on_cuda=on_cuda), self.noise_options)

    def forward(self, inputs=None):
        if inputs is not None and not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(inputs, dtype=self.weights.dtype)
        if inputs is not None and inputs.dtype != self.weights.dtype:
            inputs = inputs.to(self.weights.dtype)
        on_cuda = (inputs if inputs is not None else self.weights).is_cuda
        rng = self.rng if self.noise_options is not None else None
        return torch_expectation(self.executor(on_cuda), inputs, self.weights, rng=rng)

    def extra_repr(self) -> str:
        return (f"num_qubits={self.circuit.num_qubits}, num_weights={self.circuit.num_weights}, "
                f"num_inputs={self.circuit.num_inputs}, outputs={self.num_outputs}, backend={self.backend!r}"
                + (f", {self.noise_options}" if self.noise_options is not None else ""))
