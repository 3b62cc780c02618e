"""The CUDA backend's "cpu-emulated" device: the kernels of kernels/ compiled as host C++.

The exact single-source text CuPy compiles (hqsim/backends/cuda_source.py) is built with the
machine's C++ compiler behind kernels/host_shim.h (each CUDA thread a fiber that switches at
__syncthreads and warp shuffles) and csrc/emulate.cpp (launch by name, arguments checked
against each kernel's parameters). The library is cached on disk, keyed by everything that goes
into it, so only the first use on a machine pays the build (~10 s).

Used by ``CudaBackend(CudaOptions(device="cpu-emulated"))``: hqsim's own host driver
(hqsim/backends/cuda_run.py, cuda_blocked.py) then runs unchanged on CPU tensors, with the
launch limits of an H100-class device, so CI tests the kernels and the driver without a GPU.
It is a correctness tool: a launch runs one thread at a time and is far slower than the Numba
backend.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .cuda_ext import pack_args
from .cuda_source import kernel_dir, kernel_source

CSRC = Path(__file__).resolve().parents[2] / "csrc" / "emulate.cpp"
BASE_FLAGS = ("-std=c++20", "-fPIC", "-shared", "-fvisibility=hidden", "-w")


def compiler() -> str | None:
    """The C++ compiler ($CXX, else g++ or c++ on the PATH), or None."""
    for cand in (os.environ.get("CXX"), "g++", "c++"):
        if cand and shutil.which(cand):
            return shutil.which(cand)
    return None


def is_available() -> bool:
    return compiler() is not None and CSRC.is_file()


def cache_dir() -> Path:
    root = os.environ.get("HQSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "hqsim")
    return Path(root) / "emulated"


def build(threads: bool = False, extra_flags: tuple = (), source: str | None = None, opt: str = "-O2") -> Path:
    """Build (or find in the cache) the emulation library; returns its path.

    threads: one OS thread per CUDA thread (std::barrier) instead of fibers, for sanitizers;
    extra_flags: e.g. ("-fsanitize=thread",); source: another kernel text (tests only)."""
    cxx = compiler()
    if cxx is None or not CSRC.is_file():
        raise RuntimeError("the cpu-emulated CUDA device needs a C++ compiler (g++; or set CXX) and the "
                           "csrc/ folder of an hqsim source checkout")
    source = kernel_source() if source is None else source
    flags = (*BASE_FLAGS, opt, f"-DHQEMU_THREADS={int(threads)}", *extra_flags)
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    digest = hashlib.sha256()
    for part in (source, (kernel_dir() / "host_shim.h").read_text(), CSRC.read_text(), " ".join(flags), version):
        digest.update(part.encode() + b"\0")
    key = digest.hexdigest()[:20]
    out = cache_dir() / f"hqemu-{key}.so"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        single = Path(tmp) / "hqsim_single.cu"
        single.write_text(source)
        lib = Path(tmp) / out.name
        cmd = [cxx, *flags, f"-I{kernel_dir()}", f'-DHQ_SINGLE_SOURCE="{single}"', str(CSRC), "-o", str(lib)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building the cpu-emulated kernels failed:\n{' '.join(cmd)}\n{proc.stderr[-4000:]}")
        os.replace(lib, out)  # atomic: a concurrent build of the same key writes the same bytes
    return out


_LIBS: dict[Path, ctypes.CDLL] = {}


def load(path: Path) -> ctypes.CDLL:
    if path not in _LIBS:
        lib = ctypes.CDLL(str(path))
        lib.hqemu_launch.restype = ctypes.c_int
        lib.hqemu_launch.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
                                     ctypes.c_ulonglong, ctypes.POINTER(ctypes.c_uint64), ctypes.c_char_p,
                                     ctypes.c_char_p, ctypes.c_int]
        lib.hqemu_kernel_name.restype = ctypes.c_char_p
        lib.hqemu_kernel_kinds.restype = ctypes.c_char_p
        lib.hqemu_configure.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_uint]
        _LIBS[path] = lib
    return _LIBS[path]


def launch_bounds(source: str) -> dict[str, int]:
    """__launch_bounds__ of each kernel, read off the source (the GPU refuses a larger block)."""
    bounds = {}
    for m in re.finditer(r"__launch_bounds__\((\d+)\)\s+(hq_\w+?)(_##sfx)?\(", source):
        names = [m.group(2) + s for s in ("_f32", "_f64")] if m.group(3) else [m.group(2)]
        bounds.update({n: int(m.group(1)) for n in names})
    return bounds


ORDERS = {"forward": 0, "reverse": 1, "shuffle": 2}


class EmulatedLauncher:
    """Launches the host-built kernels; checks each launch as a GPU with ``limits`` would."""

    kind = "emulated"

    def __init__(self, limits, library: Path | None = None):
        self.limits = limits
        self.lib = load(library or build())
        self.bounds = launch_bounds(kernel_source())

    def kernels(self) -> dict[str, str]:
        """Kernel name -> parameter kinds (p pointer, i int, u unsigned, d double)."""
        return {self.lib.hqemu_kernel_name(i).decode(): self.lib.hqemu_kernel_kinds(i).decode()
                for i in range(self.lib.hqemu_kernel_count())}

    def configure(self, skip_line: int = -1, order: str = "forward", seed: int = 0) -> None:
        """skip_line: make the __syncthreads at that line of the single source a no-op (to prove
        the tests catch a missing barrier); order: threads and blocks run "forward", "reverse"
        or "shuffle"d (seeded)."""
        self.lib.hqemu_configure(int(skip_line), ORDERS[order], int(seed))

    def launch(self, name: str, grid, block: int, smem: int, args, stream: int = 0) -> None:
        if smem > self.limits.smem_optin:
            raise RuntimeError(f"launching {name}: {smem} bytes of shared memory exceed the device's "
                               f"{self.limits.smem_optin} per block")
        if block > self.bounds.get(name, 1024):
            raise RuntimeError(f"launching {name}: block of {block} threads exceeds its "
                               f"__launch_bounds__({self.bounds[name]})")
        kinds = "".join(kind for kind, _ in args)
        slots = (ctypes.c_uint64 * max(1, len(args)))(*pack_args(args))
        g = (ctypes.c_uint * 3)(*(int(v) for v in grid))
        b = (ctypes.c_uint * 3)(int(block), 1, 1)
        err = ctypes.create_string_buffer(1024)
        if self.lib.hqemu_launch(name.encode(), g, b, int(smem), slots, kinds.encode(), err, len(err)) != 0:
            raise RuntimeError(f"cpu-emulated launch failed: {err.value.decode()}")
