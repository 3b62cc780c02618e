"""hqsim's expectation as a torch.autograd.Function: forward on the backend, backward by one
adjoint pass with the upstream gradient folded into one observable per sample."""
from __future__ import annotations

import numpy as np
import torch

from ..backends import get_backend
from ..ir.validate import check_amplitudes, check_inputs, check_state_fits, check_weights


# The forward keeps the final states for the backward (one state per sample, no tape) when
# they take at most this much memory; beyond it the backward recomputes the forward.
KEEP_STATES_BYTES = 1 << 30


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def checked_arrays(inputs, weights, circuit, program=None):
    """float64 numpy copies of torch inputs (B, n_in) and weights (n_w,), validated for
    ``circuit`` (shapes, finiteness, non-zero amplitude blocks). ``program``, the circuit's
    lowered OpProgram, gives the counts without a scan over the gates (every training step)."""
    counts = program if program is not None else circuit
    x = check_inputs(_to_numpy(inputs), counts.num_inputs)
    w = check_weights(_to_numpy(weights), counts.num_weights)
    check_amplitudes(x, circuit)
    return x, w


class ExpectationFunction(torch.autograd.Function):
    """(inputs (B, n_in), weights (n_w,)) -> (B, n_obs). Saves only inputs and weights."""

    @staticmethod
    def forward(ctx, inputs, weights, compiled, backend, real_dtype, keep_states):
        x, w = checked_arrays(inputs, weights, compiled.source, compiled.program)
        check_state_fits(compiled.num_qubits, min(x.shape[0], 8), np.dtype(real_dtype).itemsize * 2, 6)
        out, states = backend.forward(compiled, x, w, real_dtype, keep_states)
        ctx.save_for_backward(inputs, weights)
        ctx.compiled, ctx.backend, ctx.real_dtype, ctx.states = compiled, backend, real_dtype, states
        return torch.from_numpy(out).to(device=inputs.device, dtype=inputs.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        inputs, weights = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if not (need_x or need_w):
            return None, None, None, None, None, None
        extra = {"final_states": ctx.states} if ctx.states is not None else {}
        dw, dx = ctx.backend.vjp(ctx.compiled, _to_numpy(inputs), _to_numpy(weights),
                                 _to_numpy(grad_out), ctx.real_dtype, need_x, **extra)
        ctx.states = None
        gx = torch.from_numpy(dx).to(inputs.device, inputs.dtype) if need_x else None
        gw = torch.from_numpy(dw).to(weights.device, weights.dtype) if need_w else None
        return gx, gw, None, None, None, None


def shaped_torch_args(inputs, weights, num_inputs: int, num_weights: int):
    """(inputs (B, num_inputs), weights (num_weights,), squeeze): tensors in one float dtype
    and device (taken from whichever argument is a float tensor; inputs None means one empty
    sample, a 1-d input one sample and ``squeeze`` True), with the shapes checked."""
    ref = inputs if isinstance(inputs, torch.Tensor) else weights
    float_dtype = ref.dtype if isinstance(ref, torch.Tensor) and ref.is_floating_point() else torch.get_default_dtype()
    device = ref.device if isinstance(ref, torch.Tensor) else torch.device("cpu")
    squeeze = False
    if inputs is None:
        inputs, squeeze = torch.zeros((1, num_inputs), dtype=float_dtype, device=device), True
    inputs = torch.as_tensor(inputs, dtype=float_dtype, device=device)
    if inputs.ndim == 1:
        inputs, squeeze = inputs.unsqueeze(0), True
    if inputs.ndim != 2 or inputs.shape[1] != num_inputs:
        raise ValueError(f"inputs must have shape (batch, {num_inputs}), got {tuple(inputs.shape)}")
    weights = torch.as_tensor(weights if weights is not None else torch.zeros(0), dtype=float_dtype, device=device)
    if weights.numel() != num_weights:
        raise ValueError(f"weights must hold {num_weights} values (the circuit's weight count), "
                         f"got {weights.numel()}")
    return inputs, weights.reshape(-1), squeeze


def torch_expectation(compiled, inputs, weights, backend="auto", dtype=None):
    """Validate and shape torch arguments, then call ExpectationFunction."""
    from ..api import real_dtype_for
    inputs, weights, squeeze = shaped_torch_args(inputs, weights, compiled.program.num_inputs,
                                                 compiled.program.num_weights)
    be = get_backend(backend, on_cuda=inputs.device.type == "cuda")
    rd = real_dtype_for(dtype if dtype is not None else inputs.dtype)
    # Decided here: inside Function.forward grad mode is always off.
    keep = (getattr(be, "keeps_states", False) and torch.is_grad_enabled()
            and (inputs.requires_grad or weights.requires_grad)
            and inputs.shape[0] * 2 ** compiled.num_qubits * np.dtype(rd).itemsize * 2 <= KEEP_STATES_BYTES)
    out = ExpectationFunction.apply(inputs, weights, compiled, be, rd, keep)
    return out[0] if squeeze else out
