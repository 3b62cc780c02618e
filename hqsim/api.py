"""Public functions: expectation values and statevectors; numpy in → numpy out, torch in →
torch out (differentiable through hqsim's adjoint)."""
from __future__ import annotations

import weakref

import numpy as np

from .backends import get_backend
from .compile import CompiledCircuit, compile_circuit as _compile
from .ir import Circuit
from .ir.validate import (check_amplitudes, check_inputs, check_observables, check_state_fits, check_weights,
                          default_observables)

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
    return any(type(a).__module__.startswith("torch") for a in arrays if a is not None)


def real_dtype_for(dtype) -> type:
    """complex64 / float32 → np.float32; complex128 / float64 → np.float64."""
    try:
        name = np.dtype(dtype).name
    except TypeError:  # torch dtypes and other non-numpy spellings
        name = str(dtype).replace("torch.", "")
    if name in ("complex64", "float32", "float16", "bfloat16"):
        return np.float32
    if name in ("complex128", "float64"):
        return np.float64
    raise ValueError(f"dtype must be complex64 or complex128 (or float32 / float64), got {dtype}")


def _numpy_args(circuit, inputs, weights):
    x = check_inputs(np.zeros((1, circuit.num_inputs)) if inputs is None else inputs, circuit.num_inputs)
    w = check_weights(weights, circuit.num_weights)
    check_amplitudes(x, circuit)
    return x.astype(np.float64, copy=False), w.astype(np.float64, copy=False)


def expectation(circuit, inputs=None, weights=None, observables=None, backend="auto", dtype=None, *,
                shots=None, seed=None, gradient=None, noise=None, trajectories=None):
    """Expectation values, shape (B, n_observables).

    inputs: (B, circuit.num_inputs) or (num_inputs,) — angles and/or amplitude features;
    weights: (circuit.num_weights,); observables: list of PauliString / Observable (default
    <Z_q> on every qubit). numpy in → float64 numpy out; torch in → torch out with gradients
    for inputs and weights by one adjoint pass. ``dtype``: complex64 or complex128 state
    precision (default: follows the input's float precision). Inputs are not mutated.

    Finite shots and noise (hqsim.noise; any of these options routes the call there):
    shots: S samples per circuit (joint bitstring sampling per measurement group) or None
    (exact); seed: None, int or numpy Generator (a fresh Generator per call); gradient:
    "adjoint" (exact gradient of the exact, noise-averaged expectation), "parameter-shift"
    (shifted circuits also estimated from S shots) or "spsa" / hqsim.noise.SPSA(...); noise:
    hqsim.noise.NoiseModel; trajectories: T per sample under gate noise (default 64).
    """
    compiled = compile_circuit(circuit, observables)
    if any(v is not None for v in (shots, seed, gradient, noise, trajectories)):
        from .noise.api import noisy_expectation
        return noisy_expectation(compiled, inputs, weights, backend, dtype, shots=shots, seed=seed,
                                 gradient=gradient, noise=noise, trajectories=trajectories)
    if _is_torch(inputs, weights):
        from .autodiff.torch_function import torch_expectation
        return torch_expectation(compiled, inputs, weights, backend, dtype)
    x, w = _numpy_args(circuit, inputs, weights)
    rd = real_dtype_for(dtype if dtype is not None else np.asarray(inputs if inputs is not None else 0.0).dtype)
    squeeze = inputs is not None and np.ndim(inputs) == 1
    check_state_fits(circuit.num_qubits, min(x.shape[0], 8), np.dtype(rd).itemsize * 2, 6)
    out, _ = get_backend(backend).forward(compiled, x, w, rd, False)
    return out[0] if squeeze else out


def statevector(circuit, inputs=None, weights=None, backend="auto", dtype=None):
    """Final states, shape (B, 2^Q), complex64 or complex128 (numpy)."""
    compiled = compile_circuit(circuit, [default_observables(circuit.num_qubits)[0]], optimize=False)
    x, w = _numpy_args(circuit, inputs, weights)
    rd = real_dtype_for(dtype if dtype is not None else np.float64)
    check_state_fits(circuit.num_qubits, x.shape[0], np.dtype(rd).itemsize * 2, 1)
    _, states = get_backend(backend).forward(compiled, x, w, rd, True)
    return states


def vjp(circuit, inputs, weights, cotangent, observables=None, backend="auto", dtype=None, *,
        shots=None, seed=None, gradient=None, noise=None, trajectories=None):
    """Framework-free adjoint: (dweights (n_w,), dinputs (B, n_in)) of sum(cotangent * E).

    With any of the options of ``expectation`` (shots, seed, gradient, noise, trajectories) the
    gradient is computed by hqsim.noise in the chosen mode instead."""
    compiled = compile_circuit(circuit, observables)
    if any(v is not None for v in (shots, seed, gradient, noise, trajectories)):
        from .noise.api import noisy_vjp
        return noisy_vjp(compiled, inputs, weights, cotangent, backend, dtype, shots=shots, seed=seed,
                         gradient=gradient, noise=noise, trajectories=trajectories)
    x, w = _numpy_args(circuit, inputs, weights)
    g = np.asarray(cotangent, dtype=np.float64)
    if g.shape != (x.shape[0], len(compiled.observables)):
        raise ValueError(f"cotangent must have shape {(x.shape[0], len(compiled.observables))}, got {g.shape}")
    rd = real_dtype_for(dtype if dtype is not None else np.float64)
    return get_backend(backend).vjp(compiled, x, w, g, rd, True)
