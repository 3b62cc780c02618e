"""Backend registry, and the contract between the executor (hqsim/executor.py) and a backend.

A backend receives a CompiledCircuit (its lowered ``program``; the oracle runs its ``source``)
and arrays, and runs it:

    forward(compiled, x (B, n_in), w (n_w,), real_dtype, want_states)
        -> (expectations (B, n_obs) float64, final states (B, 2^Q) complex or None)
    vjp(compiled, x, w, cotangent (B, n_obs), real_dtype, need_inputs[, final_states])
        -> (dweights (n_w,) float64, dinputs (B, n_in) float64 or None)

``real_dtype`` is np.float32 (complex64 states) or np.float64 (complex128). The weight gradient
is always computed (it is a by-product of the adjoint sweep); ``need_inputs`` False spares the
per-sample input gradients. Inputs are never mutated.

Class attributes:

- ``arrays``: what the backend computes on. "numpy": host arrays; the executor hands it
  float64 C-contiguous NumPy arrays and it returns NumPy. "torch": device memory; the executor
  hands it torch tensors where the caller's tensors live (e.g. CUDA), in the caller's float
  dtype (float32 or float64), contiguous, never copied to the host; the backend launches on
  torch's current stream, allocates its results with torch on the same device (no host sync
  anywhere) and returns torch tensors. A "torch" backend also accepts NumPy (then returns NumPy).
- ``keeps_states``: True when ``vjp`` accepts ``final_states`` (the forward's (B, 2^Q) output,
  asked for with ``want_states``) and then skips recomputing the forward pass. Such a backend
  may also have ``forward_kept(compiled, x, w, real_dtype) -> (expectations, kept)``, whose
  ``kept`` (any object with ``nbytes``) only its ``vjp`` reads, as ``final_states``, for the
  same x, w and real_dtype: the executor's training path uses it when present (Numba: the
  states in the kernels' own layout, numba_cpu.KeptStates).

Value checks (NaN / inf in x and w, all-zero amplitude blocks) are the executor's job: it does
them once per call, on the host for "numpy" backends and without a host sync for "torch"
backends (hqsim/autodiff/device_checks.py). A backend checks only what it can see without
reading device memory (shapes, devices, dtypes); called directly with NumPy, it may check values.
"""
from __future__ import annotations

import numpy as np


class ReferenceBackend:
    """NumPy complex128 oracle, run on the *uncompiled* source circuit."""

    name = "reference"
    arrays = "numpy"

    @staticmethod
    def is_available() -> bool:
        return True

    def forward(self, compiled, x, w, real_dtype=np.float64, want_states=False):
        from . import reference
        states = reference.statevector(compiled.source, x, w)
        obs = compiled.observables
        out = np.stack([np.einsum("bi,bi->b", states.conj(),
                                  reference.apply_observable(states, o, compiled.num_qubits)).real
                        for o in obs], axis=1)
        return out, (states if want_states else None)

    def vjp(self, compiled, x, w, cotangent, real_dtype=np.float64, need_inputs=True):
        from . import reference
        dw, dx = reference.vjp(compiled.source, compiled.observables, x, w, cotangent)
        return dw, (dx if need_inputs else None)


class NumbaBackend:
    """Parallel CPU backend interpreting the op program (complex64 and complex128)."""

    name = "numba"
    arrays = "numpy"
    keeps_states = True

    @staticmethod
    def is_available() -> bool:
        try:
            import numba  # noqa: F401
            return True
        except ImportError:
            return False

    def forward(self, compiled, x, w, real_dtype=np.float32, want_states=False):
        from . import numba_cpu
        return numba_cpu.forward(compiled.program, x, w, real_dtype, want_states)

    def forward_kept(self, compiled, x, w, real_dtype=np.float32):
        from . import numba_cpu
        return numba_cpu.forward_kept(compiled.program, x, w, real_dtype)

    def vjp(self, compiled, x, w, cotangent, real_dtype=np.float32, need_inputs=True,
            final_states=None):
        from . import numba_cpu
        return numba_cpu.vjp(compiled.program, x, w, cotangent, real_dtype, need_inputs, final_states)


_REGISTRY = {"reference": ReferenceBackend, "numba": NumbaBackend}
_OPTIONAL = {"cuda": ("hqsim.backends.cuda", "CudaBackend"),
             "custatevec": ("hqsim.backends.custatevec", "CuStateVecBackend")}
_INSTANCES: dict[str, object] = {}


def available_backends() -> list[str]:
    names = [n for n, cls in _REGISTRY.items() if cls.is_available()]
    for n in _OPTIONAL:
        try:
            if _load_optional(n).is_available():
                names.append(n)
        except Exception:  # a missing optional dependency means "not available"
            pass
    return names


def _load_optional(name):
    import importlib
    module, cls = _OPTIONAL[name]
    return getattr(importlib.import_module(module), cls)


def get_backend(name: str = "auto", *, on_cuda: bool = False):
    """The backend called ``name``; "auto" = CUDA for CUDA tensors, Numba on the CPU."""
    if not isinstance(name, str):
        return name  # an already-constructed backend object
    if name == "auto":
        name = "cuda" if on_cuda else ("numba" if NumbaBackend.is_available() else "reference")
    if name in _INSTANCES:
        return _INSTANCES[name]
    if name in _REGISTRY:
        cls = _REGISTRY[name]
    elif name in _OPTIONAL:
        try:
            cls = _load_optional(name)
        except ImportError as exc:
            raise ValueError(f"backend {name!r} is not installed here: {exc}") from exc
    else:
        raise ValueError(f"unknown backend {name!r}; choose from auto, "
                         f"{', '.join(list(_REGISTRY) + list(_OPTIONAL))}")
    if not cls.is_available():
        raise ValueError(f"backend {name!r} is not available on this machine "
                         "(no CUDA GPU or its Python packages are missing)")
    _INSTANCES[name] = cls()
    return _INSTANCES[name]
