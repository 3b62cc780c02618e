"""Entry points behind the ``shots=, seed=, gradient=, noise=, trajectories=`` options of
hqsim.expectation, hqsim.vjp and hqsim.QuantumLayer."""
from __future__ import annotations

import numpy as np

from ..backends import get_backend
from ..ir.validate import check_amplitudes, check_inputs, check_weights
from .estimator import Estimator
from .options import EstimatorOptions, make_options, make_rng

_ESTIMATORS: dict = {}


def wants_noise(shots=None, seed=None, gradient=None, noise=None, trajectories=None) -> bool:
    """True when any of the options is given (then hqsim.noise handles the call)."""
    return any(v is not None for v in (shots, seed, gradient, noise, trajectories))


def get_estimator(compiled, options: EstimatorOptions, backend) -> Estimator:
    """A cached Estimator for this compiled circuit, options and backend object."""
    key = (id(compiled), options, id(backend))
    hit = _ESTIMATORS.get(key)
    if hit is not None and hit.compiled is compiled and hit.backend is backend:
        return hit
    if len(_ESTIMATORS) > 16:
        _ESTIMATORS.clear()
    _ESTIMATORS[key] = est = Estimator(compiled, options, backend)
    return est


def _is_torch(*arrays) -> bool:
    return any(type(a).__module__.startswith("torch") for a in arrays if a is not None)


def _numpy_args(circuit, inputs, weights):
    x = check_inputs(np.zeros((1, circuit.num_inputs)) if inputs is None else inputs, circuit.num_inputs)
    w = check_weights(weights, circuit.num_weights)
    check_amplitudes(x, circuit)
    return x.astype(np.float64, copy=False), w.astype(np.float64, copy=False)


def noisy_expectation(compiled, inputs, weights, backend="auto", dtype=None, *, shots=None, seed=None,
                      gradient=None, noise=None, trajectories=None):
    """hqsim.expectation with finite shots and/or noise: (B, n_obs) estimates; torch in ->
    torch out with gradients in the chosen mode; a fresh Generator from ``seed`` per call."""
    from ..api import real_dtype_for
    options = make_options(shots, gradient, noise, trajectories)
    rng = make_rng(seed)
    if _is_torch(inputs, weights):
        from .autograd import backend_for, noisy_torch_expectation
        est = get_estimator(compiled, options, backend_for(backend, inputs, weights))
        return noisy_torch_expectation(est, inputs, weights, rng, dtype)
    x, w = _numpy_args(compiled.source, inputs, weights)
    rd = real_dtype_for(dtype if dtype is not None else np.asarray(inputs if inputs is not None else 0.0).dtype)
    values, _ = get_estimator(compiled, options, get_backend(backend)).forward(x, w, rng, rd)
    return values[0] if inputs is not None and np.ndim(inputs) == 1 else values


def noisy_vjp(compiled, inputs, weights, cotangent, backend="auto", dtype=None, *, shots=None, seed=None,
              gradient=None, noise=None, trajectories=None):
    """hqsim.vjp with finite shots and/or noise: (dweights (n_w,), dinputs (B, n_in))."""
    from ..api import real_dtype_for
    options = make_options(shots, gradient, noise, trajectories)
    x, w = _numpy_args(compiled.source, inputs, weights)
    rd = real_dtype_for(dtype if dtype is not None else np.float64)
    est = get_estimator(compiled, options, get_backend(backend))
    return est.vjp(x, w, cotangent, make_rng(seed), rd, True, True)
