"""The launchers of the CUDA kernels on a GPU: the pybind11 extension built from csrc/ when it is
present (ahead-of-time nvcc build, lower launch overhead), else CuPy's RawModule (JIT, NVRTC).

Both launch the same kernels (kernels/hqsim_kernels.cu) with the same packed arguments, and
tests/gpu/test_cuda_backend.py checks that they agree. This is the one place hqsim imports its
compiled module and CuPy. (The cpu-emulated device's launcher is hqsim/backends/cuda_emulated.py.)
"""
from __future__ import annotations

import importlib
import struct

import numpy as np

from .cuda_source import kernel_source

EXTENSION_MODULE = "hqsim.backends._hqsim_cuda"


def pack_args(args) -> list[int]:
    """Kernel arguments as 64-bit slots (little-endian low bytes hold 4-byte values)."""
    out = []
    for kind, v in args:
        if kind == "d":
            out.append(struct.unpack("<Q", struct.pack("<d", float(v)))[0])
        elif kind in "iu":
            out.append(int(v) & 0xFFFFFFFF)
        else:
            out.append(int(v))
    return out


def load_extension():
    """The compiled extension module, or None when it was not built (python csrc/build.py)."""
    try:
        return importlib.import_module(EXTENSION_MODULE)
    except ImportError:
        return None


def import_cupy():
    try:
        return importlib.import_module("cupy")
    except ImportError as exc:
        raise ImportError("the CUDA backend's JIT path needs CuPy: pip install 'hqsim[gpu]' "
                          "(cupy-cuda13x), or build the extension: python csrc/build.py") from exc


def cupy_available() -> bool:
    try:
        import_cupy()
    except ImportError:
        return False
    return True


def launcher_available() -> bool:
    return load_extension() is not None or cupy_available()


class ExtensionLauncher:
    """Launches through the extension's ``launch(name, device, grid, block, smem, stream, slots)``."""

    kind = "extension"

    def __init__(self, module, device_index: int):
        self._m = module
        self._device = device_index

    def launch(self, name: str, grid, block: int, smem: int, args, stream: int) -> None:
        self._m.launch(name, self._device, tuple(int(g) for g in grid), int(block), int(smem), int(stream),
                       pack_args(args))


class CupyLauncher:
    """Launches kernels from a CuPy RawModule compiled from kernels/ (NVRTC, disk-cached)."""

    kind = "cupy"
    OPTIONS = ("-std=c++17",)  # what CuPy's NVRTC receives besides the source (tests compile the same)

    def __init__(self, device_index: int):
        cupy = import_cupy()
        self._cupy = cupy
        with cupy.cuda.Device(device_index):
            self._module = cupy.RawModule(code=kernel_source(), options=self.OPTIONS)
        self._device = device_index
        self._kernels: dict[str, object] = {}

    def _kernel(self, name: str, smem: int):
        k = self._kernels.get(name)
        if k is None:
            k = self._kernels[name] = self._module.get_function(name)
        if smem > 48 * 1024 and k.max_dynamic_shared_size_bytes < smem:
            k.max_dynamic_shared_size_bytes = smem
        return k

    def launch(self, name: str, grid, block: int, smem: int, args, stream: int) -> None:
        conv = {"p": np.uint64, "i": np.int32, "u": np.uint32, "d": np.float64}
        values = tuple(conv[kind](v) for kind, v in args)
        with self._cupy.cuda.Device(self._device):
            self._kernel(name, smem)(tuple(grid), (block,), values, shared_mem=smem,
                                     stream=self._cupy.cuda.ExternalStream(stream))


def get_launcher(device_index: int, preference: str = "auto"):
    """preference: "auto" (extension if built, else CuPy), "extension" or "cupy"."""
    if preference in ("auto", "extension"):
        ext = load_extension()
        if ext is not None:
            return ExtensionLauncher(ext, device_index)
        if preference == "extension":
            raise ImportError(f"the CUDA extension {EXTENSION_MODULE} is not built: run "
                              "HQSIM_BUILD_CUDA=1 python csrc/build.py (needs nvcc and pybind11)")
    return CupyLauncher(device_index)
