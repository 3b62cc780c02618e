"""Public functions: expectation values, gradients and statevectors; numpy in → numpy out,
torch in → torch out (differentiable through hqsim's adjoint). Each call compiles (cached) and
picks its executor once (hqsim/executor.py); NumPy arguments run on it directly, tensors through
the one torch.autograd.Function (hqsim/autodiff)."""
from __future__ import annotations

import weakref

import numpy as np

from .backends import get_backend
from .compile import CompiledCircuit, compile_circuit as _compile
from .executor import (ExactExecutor, check_cotangent_shape, choose_executor, host_arrays, noise_settings,
                       real_dtype_for)
from .ir import Circuit
from .ir.validate import check_observables, default_observables

__all__ = ["compile_circuit", "expectation", "statevector", "vjp", "real_dtype_for"]

_CACHE: "weakref.WeakKeyDictionary[Circuit, dict]" = weakref.WeakKeyDictionary()


def compile_circuit(circuit: Circuit, observables=None, *, optimize: bool = True) -> CompiledCircuit:
    """Compile (and cache) ``circuit`` for ``observables`` (default <Z_q> on every qubit)."""
    if not isinstance(circuit, Circuit):
        raise TypeError(f"circuit must be an hqsim.Circuit, got {type(circuit).__name__}")
    obs = check_observables(observables if observables is not None
                            else default_observables(circuit.num_qubits), circuit.num_qubits)
    key = (tuple(circuit.gates), tuple(obs), optimize)
    per_circuit = _CACHE.setdefault(circuit, {})
    if key not in per_circuit:
        if len(per_circuit) > 16:
            per_circuit.clear()
        per_circuit[key] = _compile(circuit, obs, optimize=optimize)
    return per_circuit[key]


def _is_torch(*arrays) -> bool:
    return any(c.__module__.startswith("torch") for a in arrays if a is not None for c in type(a).__mro__)


def _torch_entry():
    # torch takes about 2 s to import: loaded when tensors are first passed, not by `import hqsim`.
    # hqsim.autodiff never imports this module.
    from .autodiff import torch_function
    return torch_function


def _executor(circuit, observables, backend, inputs, weights, noise_kw):
    compiled = compile_circuit(circuit, observables)
    on_cuda = any(getattr(a, "is_cuda", False) for a in (inputs, weights))
    options, rng = noise_settings(**noise_kw)
    return choose_executor(compiled, get_backend(backend, on_cuda=on_cuda), options), rng


def expectation(circuit, inputs=None, weights=None, observables=None, backend="auto", dtype=None, *,
                shots=None, seed=None, gradient=None, noise=None, trajectories=None):
    """Expectation values, shape (B, n_observables).

    inputs: (B, circuit.num_inputs) or (num_inputs,) — angles and/or amplitude features;
    weights: (circuit.num_weights,); observables: list of PauliString / Observable (default
    <Z_q> on every qubit). numpy in → float64 numpy out; torch in → torch out (same device and
    dtype) with gradients for inputs and weights by one adjoint pass. ``dtype``: complex64 or
    complex128 state precision (default: follows the input's float precision). Inputs are not
    mutated.

    Finite shots and noise (hqsim.noise; any of these options routes the call there):
    shots: S samples per circuit (joint bitstring sampling per measurement group) or None
    (exact); seed: None, int or numpy Generator (a fresh Generator per call); gradient:
    "adjoint" (exact gradient of the exact, noise-averaged expectation), "parameter-shift"
    (shifted circuits also estimated from S shots) or "spsa" / hqsim.noise.SPSA(...); noise:
    hqsim.noise.NoiseModel; trajectories: T per sample under gate noise (default 64).
    """
    executor, rng = _executor(circuit, observables, backend, inputs, weights,
                              dict(shots=shots, seed=seed, gradient=gradient, noise=noise, trajectories=trajectories))
    if _is_torch(inputs, weights):
        return _torch_entry().torch_expectation(executor, inputs, weights, dtype, rng)
    x, w = host_arrays(executor, inputs, weights)
    real_dtype = real_dtype_for(dtype if dtype is not None else np.asarray(inputs if inputs is not None else 0.0).dtype)
    values, _ = executor.forward(x, w, real_dtype, False, rng)
    return values[0] if inputs is not None and np.ndim(inputs) == 1 else values


def statevector(circuit, inputs=None, weights=None, backend="auto", dtype=None):
    """Final states, shape (B, 2^Q), complex64 or complex128 (numpy)."""
    compiled = compile_circuit(circuit, [default_observables(circuit.num_qubits)[0]], optimize=False)
    executor = ExactExecutor(compiled, get_backend(backend))
    x, w = host_arrays(executor, inputs, weights)
    return executor.states(x, w, real_dtype_for(dtype if dtype is not None else np.float64))


def vjp(circuit, inputs, weights, cotangent, observables=None, backend="auto", dtype=None, *,
        shots=None, seed=None, gradient=None, noise=None, trajectories=None):
    """Framework-free adjoint: (dweights (n_w,), dinputs (B, n_in)) of sum(cotangent * E), with
    cotangent (B, n_obs). NumPy in → float64 NumPy out; tensors in → tensors out (on their
    device; no forward pass runs). ``dtype`` defaults to complex128 simulation.

    With any of the options of ``expectation`` (shots, seed, gradient, noise, trajectories) the
    gradient is computed by hqsim.noise in the chosen mode instead."""
    executor, rng = _executor(circuit, observables, backend, inputs, weights,
                              dict(shots=shots, seed=seed, gradient=gradient, noise=noise, trajectories=trajectories))
    if _is_torch(inputs, weights, cotangent):
        return _torch_entry().torch_vjp(executor, inputs, weights, cotangent, dtype, rng)
    x, w = host_arrays(executor, inputs, weights)
    g = np.asarray(cotangent, dtype=np.float64)
    check_cotangent_shape(g.shape, x.shape[0], executor.num_outputs)
    return executor.vjp(x, w, g, real_dtype_for(dtype if dtype is not None else np.float64), None, True, True, rng)
