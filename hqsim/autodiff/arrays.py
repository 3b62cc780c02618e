"""torch tensors into and out of an executor (hqsim/executor.py).

For an executor on host arrays (``arrays == "numpy"``) a CPU tensor is read through a NumPy
view (no copy for float64) and checked on the host; a CUDA tensor is copied to the host (the
user chose a host backend or the noisy path for it). For one on device arrays (``"torch"``) the
tensors go to the backend as they are — same device, same dtype, no copy when contiguous — and
their values are checked on the device without a host sync (device_checks.py). Results come
back as tensors on the caller's device in the caller's dtype (NumPy results without a copy)."""
from __future__ import annotations

import numpy as np
import torch

from ..executor import check_cotangent_shape, host_arrays
from .device_checks import DEVICE_CHECKS


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
    if inputs.shape[0] < 1:
        raise ValueError("inputs must hold at least one sample (batch >= 1)")
    weights = torch.as_tensor(weights if weights is not None else torch.zeros(0), dtype=float_dtype, device=device)
    if weights.numel() != num_weights:
        raise ValueError(f"weights must hold {num_weights} values (the circuit's weight count), "
                         f"got {weights.numel()}")
    return inputs, weights.reshape(-1), squeeze


def _host_view(t: torch.Tensor) -> np.ndarray:
    t = t.detach()
    return t.numpy() if t.device.type == "cpu" else t.cpu().numpy()


def executor_arrays(executor, inputs: torch.Tensor, weights: torch.Tensor):
    """(x, w) for ``executor`` from shaped tensors, their values checked (see module docstring)."""
    if executor.arrays == "torch":
        x, w = inputs.detach().contiguous(), weights.detach().contiguous()
        DEVICE_CHECKS.submit(executor, x, w)
        return x, w
    return host_arrays(executor, _host_view(inputs), _host_view(weights))


def executor_cotangent(executor, cotangent: torch.Tensor, batch: int):
    """The upstream gradient (B, n_obs) as ``executor`` takes it; the shape checked (its values
    are not: a NaN upstream gradient gives NaN gradients, as everywhere in torch)."""
    check_cotangent_shape(cotangent.shape, batch, executor.num_outputs)
    if executor.arrays == "torch":
        DEVICE_CHECKS.poll()  # an earlier call's failed check, if readable by now
        return cotangent.detach().contiguous()
    return np.ascontiguousarray(_host_view(cotangent), np.float64)


def as_result(a, like: torch.Tensor) -> torch.Tensor:
    """A result as a tensor on ``like``'s device in ``like``'s dtype: NumPy (a host executor's)
    wrapped without a copy and moved if ``like`` is elsewhere; a device executor's tensor is
    already on that device (see hqsim/backends/__init__.py)."""
    if isinstance(a, np.ndarray):
        a = torch.from_numpy(np.ascontiguousarray(a)).to(like.device)
    return a.to(like.dtype)
