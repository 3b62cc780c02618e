"""A device backend for tests without a GPU: it declares ``arrays = "torch"`` (so the executor
hands it tensors where they live and checks them without a host sync), records what it was
handed, and computes with the Numba backend. Its own reads of the tensors are the device's
work, so they are made on plain views that the sync spy does not see. Like the CUDA backend it
also takes NumPy (the noisy path's host arrays) and then returns NumPy."""
from __future__ import annotations

import numpy as np
import torch

from hqsim.backends import NumbaBackend

from .sync_spy import DeviceTensor


def _device_view(t: torch.Tensor) -> np.ndarray:
    return np.asarray(t.detach().as_subclass(torch.Tensor).numpy(), np.float64)


def _on_device(a: np.ndarray) -> DeviceTensor:
    return DeviceTensor.wrap(torch.from_numpy(np.ascontiguousarray(a)))


class EmulatedDeviceBackend:
    """See the module docstring; ``handed`` lists (call, name, tensor) of every argument."""

    name = "emulated-device"
    arrays = "torch"
    keeps_states = True

    def __init__(self):
        self.host = NumbaBackend()
        self.handed: list[tuple[str, str, torch.Tensor]] = []

    def _take(self, call, **arrays):
        kinds = {isinstance(a, torch.Tensor) for a in arrays.values()}
        assert len(kinds) == 1, f"{call}: tensors and NumPy mixed"
        for name, a in arrays.items():
            self.handed.append((call, name, a))
        return kinds.pop(), [_device_view(a) if isinstance(a, torch.Tensor) else a for a in arrays.values()]

    def forward(self, compiled, x, w, real_dtype=np.float32, want_states=False):
        tensors, (xn, wn) = self._take("forward", x=x, w=w)
        out, states = self.host.forward(compiled, xn, wn, real_dtype, want_states)
        give = _on_device if tensors else np.asarray
        return give(out), (give(states) if want_states else None)

    def vjp(self, compiled, x, w, cotangent, real_dtype=np.float32, need_inputs=True, final_states=None):
        tensors, (xn, wn, gn) = self._take("vjp", x=x, w=w, cotangent=cotangent)
        if isinstance(final_states, torch.Tensor):
            final_states = final_states.detach().as_subclass(torch.Tensor).numpy()
        dw, dx = self.host.vjp(compiled, xn, wn, gn, real_dtype, need_inputs, final_states)
        give = _on_device if tensors else np.asarray
        return give(dw), (give(dx) if need_inputs else None)
