"""Chooses how the CUDA kernels are launched: the pybind11 extension built from csrc/ when it
is present (ahead-of-time nvcc build, lower launch overhead), else CuPy's RawModule (JIT).

Both launch the same kernels (kernels/hqsim_kernels.cu) with the same packed arguments, and
tests/gpu/test_cuda_backend.py checks that they agree. The extension is the one place hqsim
imports its compiled module.
"""
from __future__ import annotations

import importlib

EXTENSION_MODULE = "hqsim.backends._hqsim_cuda"


def load_extension():
    """The compiled extension module, or None when it was not built (python csrc/build.py)."""
    try:
        return importlib.import_module(EXTENSION_MODULE)
    except ImportError:
        return None


def cupy_available() -> bool:
    try:
        importlib.import_module("cupy")
    except ImportError:
        return False
    return True


def launcher_available() -> bool:
    return load_extension() is not None or cupy_available()


class ExtensionLauncher:
    """Launches through the extension's ``launch(name, grid, block, smem, stream, slots)``."""

    kind = "extension"

    def __init__(self, module, device_index: int):
        self._m = module
        self._device = device_index

    def launch(self, name: str, grid, block: int, smem: int, args, stream: int) -> None:
        from .cuda import pack_args
        self._m.launch(name, self._device, tuple(int(g) for g in grid), int(block), int(smem), int(stream),
                       pack_args(args))


def get_launcher(device_index: int, preference: str = "auto"):
    """preference: "auto" (extension if built, else CuPy), "extension" or "cupy"."""
    if preference in ("auto", "extension"):
        ext = load_extension()
        if ext is not None:
            return ExtensionLauncher(ext, device_index)
        if preference == "extension":
            raise ImportError(f"the CUDA extension {EXTENSION_MODULE} is not built: run "
                              "HQSIM_BUILD_CUDA=1 python csrc/build.py (needs nvcc and pybind11)")
    from .cuda import CupyLauncher
    return CupyLauncher(device_index)
