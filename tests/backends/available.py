"""The backends the shared backend tests run on (tests/backends, tests/core/test_backends.py).

Every backend that can run on the machine, as (backend id, real dtype) pairs: the reference
oracle (complex128 only), Numba, the CUDA backend on its cpu-emulated device (the kernel
source built for the CPU; CI runs it), and, marked ``gpu``, the CUDA and cuStateVec backends
on a GPU. ``backend_or_skip(id)`` builds one, skipping only where the machine lacks what it
needs (no C++ compiler, no GPU) and failing on anything else.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

F32, F64 = np.float32, np.float64
FAST_IDS = ["numba", "cuda-emulated", pytest.param("cuda", marks=pytest.mark.gpu),
            pytest.param("custatevec", marks=pytest.mark.gpu)]
BACKENDS = [("reference", F64), ("numba", F32), ("numba", F64), ("cuda-emulated", F32),
            ("cuda-emulated", F64),
            pytest.param("cuda", F32, marks=pytest.mark.gpu), pytest.param("cuda", F64, marks=pytest.mark.gpu),
            pytest.param("custatevec", F32, marks=pytest.mark.gpu),
            pytest.param("custatevec", F64, marks=pytest.mark.gpu)]


@lru_cache(maxsize=None)
def _build(backend_id: str):
    from hqsim.backends import get_backend
    if backend_id in ("reference", "numba"):
        return get_backend(backend_id)
    if backend_id == "cuda-emulated":
        from hqsim.backends.cuda import CudaBackend, CudaOptions
        if not CudaBackend.is_available("cpu-emulated"):
            return None
        return CudaBackend(CudaOptions(device="cpu-emulated"))
    from hqsim.backends import available_backends
    return get_backend(backend_id) if backend_id in available_backends() else None


def backend_or_skip(backend_id: str):
    backend = _build(backend_id)
    if backend is None:
        pytest.skip("no C++ compiler for the cpu-emulated device" if backend_id == "cuda-emulated"
                    else f"{backend_id} needs a CUDA GPU")
    return backend
