"""Simulation options shared by the PennyLane device and the Qiskit primitives: a typed pair
(backend, dtype), validated once with clear errors."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backends import available_backends

BACKENDS = ("auto", "numba", "cuda", "reference")


@dataclass(frozen=True)
class DeviceOptions:
    """backend: an hqsim backend name; dtype: np.complex64 or np.complex128 state precision."""

    backend: str = "auto"
    dtype: type = np.complex64


def make_options(backend="auto", dtype=np.complex64) -> DeviceOptions:
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    if backend not in ("auto",) and backend not in available_backends():
        raise ValueError(f"backend {backend!r} is not available here; available: "
                         f"{', '.join(['auto'] + available_backends())}")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.complex64), np.dtype(np.complex128)):
        raise ValueError(f"dtype must be complex64 or complex128, got {dtype!r}")
    return DeviceOptions(backend, dt.type)
