"""hqsim's one torch.autograd.Function: forward = an executor's forward (exact or noisy, see
hqsim/executor.py), backward = that executor's VJP, with the upstream gradient folded into one
observable per sample (one adjoint pass), or the noisy path's parameter-shift / SPSA estimate.

hqsim.expectation and hqsim.QuantumLayer apply it; hqsim.vjp on tensors runs its backward step
alone (``torch_vjp``: no forward is needed for it). Tensors stay on their device when the
executor computes on device arrays (hqsim/autodiff/arrays.py).
"""
from __future__ import annotations

import torch

from ..executor import real_dtype_for
from .arrays import as_result, executor_arrays, executor_cotangent, shaped_torch_args


def _vjp(executor, x, w, grad_out, real_dtype, saved, need_w, need_x, rng, inputs, weights):
    cot = executor_cotangent(executor, grad_out, inputs.shape[0])
    dw, dx = executor.vjp(x, w, cot, real_dtype, saved, need_w, need_x, rng)
    return (as_result(dw, weights) if need_w else None), (as_result(dx, inputs) if need_x else None)


class ExpectationFunction(torch.autograd.Function):
    """(inputs (B, n_in), weights (n_w,)) -> (B, n_obs) in the inputs' dtype and device.

    Saves inputs and weights (torch checks them for in-place changes), the arrays the executor
    ran on, and what its forward kept for the backward (freed after the first backward)."""

    @staticmethod
    def forward(ctx, inputs, weights, executor, rng, real_dtype, keep):
        x, w = executor_arrays(executor, inputs, weights)
        values, saved = executor.forward(x, w, real_dtype, keep, rng)
        ctx.save_for_backward(inputs, weights)
        ctx.executor, ctx.rng, ctx.real_dtype, ctx.arrays, ctx.kept = executor, rng, real_dtype, (x, w), saved
        return as_result(values, inputs)

    @staticmethod
    def backward(ctx, grad_out):
        inputs, weights = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if not (need_x or need_w):
            return None, None, None, None, None, None
        saved, ctx.kept = ctx.kept, None
        gw, gx = _vjp(ctx.executor, *ctx.arrays, grad_out, ctx.real_dtype, saved, need_w, need_x, ctx.rng,
                      inputs, weights)
        return gx, gw, None, None, None, None


def torch_expectation(executor, inputs, weights, dtype=None, rng=None):
    """hqsim.expectation on tensors: shape the arguments, then apply ExpectationFunction.
    ``dtype``: the simulation precision (default: the inputs' float precision)."""
    inputs, weights, squeeze = shaped_torch_args(inputs, weights, executor.num_inputs, executor.num_weights)
    real_dtype = real_dtype_for(dtype if dtype is not None else inputs.dtype)
    # Decided here: inside Function.forward grad mode is always off.
    keep = torch.is_grad_enabled() and (inputs.requires_grad or weights.requires_grad)
    out = ExpectationFunction.apply(inputs, weights, executor, rng, real_dtype, keep)
    return out[0] if squeeze else out


def torch_vjp(executor, inputs, weights, cotangent, dtype=None, rng=None):
    """hqsim.vjp on tensors: (dweights (n_w,), dinputs (B, n_in)) as tensors like the arguments;
    ``dtype`` defaults to complex128 simulation, like hqsim.vjp on NumPy."""
    inputs, weights, _ = shaped_torch_args(inputs, weights, executor.num_inputs, executor.num_weights)
    real_dtype = real_dtype_for(dtype if dtype is not None else torch.float64)
    cot = torch.as_tensor(cotangent, dtype=inputs.dtype, device=inputs.device)
    x, w = executor_arrays(executor, inputs, weights)
    return _vjp(executor, x, w, cot, real_dtype, None, True, True, rng, inputs, weights)
