"""The finite-shot / noisy expectation as a torch.autograd.Function: forward = the Estimator's
estimate, backward = the Estimator's VJP in the chosen gradient mode."""
from __future__ import annotations

import numpy as np
import torch

from ..backends import get_backend
from ..autodiff.torch_function import _to_numpy, checked_arrays, shaped_torch_args


class NoisyExpectationFunction(torch.autograd.Function):
    """(inputs (B, n_in), weights (n_w,)) -> (B, n_obs) estimates. Saves inputs, weights and,
    for the adjoint mode, the forward's trajectories (and states when they fit)."""

    @staticmethod
    def forward(ctx, inputs, weights, estimator, rng, real_dtype, keep):
        x, w = checked_arrays(inputs, weights, estimator.source)
        values, record = estimator.forward(x, w, rng, real_dtype, keep=keep)
        ctx.save_for_backward(inputs, weights)
        ctx.estimator, ctx.rng, ctx.real_dtype, ctx.record = estimator, rng, real_dtype, record
        return torch.from_numpy(values).to(device=inputs.device, dtype=inputs.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        inputs, weights = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if not (need_x or need_w):
            return None, None, None, None, None, None
        dw, dx = ctx.estimator.vjp(_to_numpy(inputs), _to_numpy(weights), _to_numpy(grad_out), ctx.rng,
                                   ctx.real_dtype, need_w, need_x, ctx.record)
        ctx.record = None
        gx = torch.from_numpy(np.ascontiguousarray(dx)).to(inputs.device, inputs.dtype) if need_x else None
        gw = torch.from_numpy(np.ascontiguousarray(dw)).to(weights.device, weights.dtype) if need_w else None
        return gx, gw, None, None, None, None


def noisy_torch_expectation(estimator, inputs, weights, rng, dtype=None):
    """Validate and shape torch arguments like hqsim.expectation, then apply the Function."""
    from ..api import real_dtype_for
    src = estimator.source
    inputs, weights, squeeze = shaped_torch_args(inputs, weights, src.num_inputs, src.num_weights)
    rd = real_dtype_for(dtype if dtype is not None else inputs.dtype)
    # Decided here: inside Function.forward grad mode is always off. Keep the forward's
    # trajectories (and states) only when a backward can follow.
    keep = torch.is_grad_enabled() and (inputs.requires_grad or weights.requires_grad)
    out = NoisyExpectationFunction.apply(inputs, weights, estimator, rng, rd, keep)
    return out[0] if squeeze else out


def backend_for(backend, inputs, weights):
    ref = inputs if isinstance(inputs, torch.Tensor) else weights
    on_cuda = isinstance(ref, torch.Tensor) and ref.device.type == "cuda"
    return get_backend(backend, on_cuda=on_cuda)
