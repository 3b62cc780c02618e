"""Value checks of device tensors without a host sync (issue 12).

Reading a CUDA tensor's value on the host (``bool(t)``, ``t.item()``, ``t.cpu()``) waits for
every kernel queued before it. Checking inputs, weights and amplitude norms that way on every
call stalled the host once per check and training step. Here the checks run on the device
instead: per call one small boolean vector (inputs finite, weights finite, no all-zero
amplitude block), copied into pinned host memory behind a CUDA event. It is read once the event
has passed: at the next call through hqsim or the next backward, without waiting, or on demand
with ``check_pending()``, which waits. The first call of every compiled circuit on a device is
checked at once (waiting), so a wrong first batch fails where it is passed.

A failed check raises the ValueError the host path raises for the same values (located on the
host from the tensors the flagged call received: the error path may sync), naming the call
when it is reported later than it was made. The cost on the hot path is a handful of small
reductions on the device and one asynchronous copy; no host sync.
"""
from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass

import torch

from ..executor import host_arrays

MAX_PENDING = 16  # beyond this many unread calls, wait for the oldest (long finished by then)
_WHAT = ("inputs contain NaN or inf", "weights contain NaN or inf",
         "amplitude-encoded inputs of a sample are all zero; a zero vector cannot be normalised into a state")


@dataclass(eq=False)
class _Pending:
    ok: torch.Tensor        # (n_checks,) bool on the host (pinned when the flags live on CUDA)
    event: object           # torch.cuda.Event recorded after the copy, or None (already read)
    executor: object
    x: torch.Tensor
    w: torch.Tensor
    call: int

    def ready(self) -> bool:
        return self.event is None or self.event.query()


def device_flags(executor, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """(n_checks,) bool on the tensors' device, True where a check passed; no host sync."""
    flags = [torch.isfinite(x).all(), torch.isfinite(w).all()]
    enc = executor.source.amplitude_encoding
    if enc is not None:
        flags.append((x[:, enc.start:enc.start + enc.size] != 0).any(dim=1).all())
    return torch.stack(flags)


class DeviceChecks:
    """The pending checks of all device calls of this process (see the module docstring)."""

    def __init__(self):
        self._pending: deque[_Pending] = deque()
        self._checked: "weakref.WeakKeyDictionary[object, set]" = weakref.WeakKeyDictionary()
        self._calls = 0

    def submit(self, executor, x: torch.Tensor, w: torch.Tensor) -> None:
        """Queue the checks of one call's ``x`` and ``w`` (device tensors, not mutated). Raises
        for an earlier call whose failed check has become readable, and for this call when it
        is the first of its compiled circuit on this device."""
        self.poll()
        self._calls += 1
        seen = self._checked.setdefault(executor.compiled, set())
        first = x.device not in seen
        ok = device_flags(executor, x, w)
        host = torch.empty(ok.shape, dtype=torch.bool, pin_memory=ok.is_cuda)
        host.copy_(ok, non_blocking=not first)
        event = None
        if not first and ok.is_cuda:
            event = torch.cuda.Event()
            event.record(torch.cuda.current_stream(ok.device))
        pending = _Pending(host, event, executor, x, w, self._calls)
        if first:
            seen.add(x.device)
            _raise_if_failed(pending, later=False)
            return
        self._pending.append(pending)
        if len(self._pending) > MAX_PENDING:
            self.poll(wait_for=len(self._pending) - MAX_PENDING)

    def poll(self, wait_for: int = 0) -> None:
        """Read the pending checks in call order: the first ``wait_for`` waiting, the rest only
        while they are ready. Raises the first failure found."""
        while self._pending:
            p = self._pending[0]
            if wait_for <= 0 and not p.ready():
                return
            if p.event is not None:
                p.event.synchronize()
            self._pending.popleft()
            wait_for -= 1
            _raise_if_failed(p, later=True)

    def wait(self) -> None:
        self.poll(wait_for=len(self._pending))


def _raise_if_failed(p: _Pending, later: bool) -> None:
    failed = [i for i, ok in enumerate(p.ok.tolist()) if not ok]
    if not failed:
        return
    where = (f" (found in call {p.call} through hqsim on {p.x.device}: device tensors are checked "
             "without stopping the device, so a failure is reported at a later call, a backward or "
             "hqsim.autodiff.check_pending())") if later else ""
    try:  # the host path's error for these very values, with its position
        host_arrays(p.executor, p.x.detach().cpu().numpy(), p.w.detach().cpu().numpy())
    except ValueError as exc:
        raise ValueError(f"{exc}{where}") from None
    raise ValueError(f"{_WHAT[failed[0]]}{where}")  # the tensors have been overwritten since


DEVICE_CHECKS = DeviceChecks()


def check_pending() -> None:
    """Wait for the value checks of every earlier call on a device and raise the first failure
    (a ValueError naming the argument, as on the CPU). Calls with CPU tensors are checked at once."""
    DEVICE_CHECKS.wait()
