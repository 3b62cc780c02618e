"""A CPU tensor that stands in for device memory in tests without a GPU.

``DeviceTensor`` behaves like any CPU tensor, and so does everything computed from it, but each
operation that on a CUDA tensor would make the host wait for the device (reading values into
Python or NumPy, copying to the host synchronously, data-dependent shapes such as ``nonzero``)
and each up-cast to float64 is written to ``SPY.log`` as (kind, operation). A test wraps the
caller's tensors, runs a call, and asserts that the log holds nothing it should not.
"""
from __future__ import annotations

import contextlib

import torch

_T = torch.Tensor
# Operations that read a device tensor's values on the host (a stream synchronisation on CUDA).
HOST_READS = {_T.item, _T.__bool__, _T.__int__, _T.__float__, _T.__index__, _T.tolist, _T.cpu,
              _T.numpy, _T.__array__, _T.nonzero, torch.nonzero, _T.masked_select, torch.masked_select,
              _T.unique, torch.unique, _T.__repr__, _T.__format__, _T.argwhere, torch.argwhere}


class _Spy:
    def __init__(self):
        self.log: list[tuple[str, str]] = []
        self.enabled = 0

    @contextlib.contextmanager
    def recording(self):
        """Clear the log and record inside the block; yields the log."""
        self.log.clear()
        self.enabled += 1
        try:
            yield self.log
        finally:
            self.enabled -= 1

    def host_reads(self):
        return [op for kind, op in self.log if kind == "host-read"]

    def upcasts(self):
        return [op for kind, op in self.log if kind == "float64"]


SPY = _Spy()


def _is_float64_request(func, args, kwargs) -> bool:
    if func is _T.double:
        return True
    if func in (_T.to, _T.type):
        wanted = [a for a in list(args[1:]) + list(kwargs.values()) if isinstance(a, torch.dtype)]
        return torch.float64 in wanted
    return False


def _is_host_copy(func, args, kwargs) -> bool:
    if func in (_T.to,):
        devices = [a for a in list(args[1:]) + list(kwargs.values()) if isinstance(a, (str, torch.device))]
        return any(torch.device(d).type == "cpu" for d in devices) and not kwargs.get("non_blocking", False)
    if func is _T.copy_:  # into a plain (host) tensor, waiting for it
        dst = args[0]
        return not isinstance(dst, DeviceTensor) and not (len(args) > 2 and args[2]) \
            and not kwargs.get("non_blocking", False)
    return False


class DeviceTensor(torch.Tensor):
    """See the module docstring. Make one with ``DeviceTensor.wrap(t)``."""

    @staticmethod
    def wrap(t: torch.Tensor) -> "DeviceTensor":
        out = t.detach().as_subclass(DeviceTensor)
        return out.requires_grad_(t.requires_grad)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if SPY.enabled:
            name = getattr(func, "__name__", str(func))
            if func in HOST_READS or _is_host_copy(func, args, kwargs):
                SPY.log.append(("host-read", name))
            if _is_float64_request(func, args, kwargs):
                SPY.log.append(("float64", name))
        return super().__torch_function__(func, types, args, kwargs)
