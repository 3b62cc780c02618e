"""The CUDA backend: the kernels in kernels/ driven over the lowered op program.

Memory is torch's (torch is a hard dependency): inputs arrive as NumPy arrays, torch CUDA
tensors or CuPy arrays (taken without a copy through DLPack), every launch goes on torch's
current stream, and results come back in the kind that came in. Kernels are launched either
by the pybind11 extension (csrc/, built ahead of time) or through CuPy's RawModule, which
JIT-compiles kernels/ with NVRTC on first use and caches the binary on disk (CuPy's kernel
cache, keyed by the full source text: every header is inlined before compiling, so an edited
header recompiles). hqsim/backends/cuda_ext.py picks between the two.

NOT YET RUN ON A GPU: written and compiled (nvcc, sm_80 and sm_90) on a machine without one;
tests/gpu/ holds the checks that must pass on a GPU before any of this is trusted.
"""
from __future__ import annotations

import re
import struct
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..program import OpProgram, expand_fused_cnots
from . import cuda_plan as plan

_KERNEL_DIRS = (Path(__file__).resolve().parents[2] / "kernels", Path(__file__).resolve().parents[1] / "kernels")
KERNEL_ENTRY = "hqsim_kernels.cu"


def kernel_dir() -> Path:
    for d in _KERNEL_DIRS:
        if (d / KERNEL_ENTRY).is_file():
            return d
    raise FileNotFoundError(f"CUDA kernel sources not found (looked for {KERNEL_ENTRY} in "
                            f"{', '.join(str(d) for d in _KERNEL_DIRS)})")


def kernel_source(entry: str = KERNEL_ENTRY) -> str:
    """The kernels as one translation unit: local #include "..." lines expanded once each."""
    root, seen = kernel_dir(), set()

    def expand(name: str) -> str:
        if name in seen:
            return ""
        seen.add(name)
        text = (root / name).read_text()
        return re.sub(r'^\s*#include\s+"([^"]+)"\s*$', lambda m: expand(m.group(1)), text, flags=re.M)
    return expand(entry).replace("#pragma once", "")


def _import_cupy():
    try:
        import cupy
    except ImportError as exc:  # the one place hqsim imports CuPy
        raise ImportError("the CUDA backend's JIT path needs CuPy: pip install 'hqsim[gpu]' "
                          "(cupy-cuda13x), or build the extension: python csrc/build.py") from exc
    return cupy


class CupyLauncher:
    """Launches kernels from a CuPy RawModule compiled from kernels/ (NVRTC, disk-cached)."""

    kind = "cupy"

    def __init__(self, device_index: int):
        cupy = _import_cupy()
        self._cupy = cupy
        with cupy.cuda.Device(device_index):
            self._module = cupy.RawModule(code=kernel_source(), options=("-std=c++17",))
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


# ---------------------------------------------------------------- device-side program
@dataclass
class DeviceProgram:
    program: OpProgram
    tensors: dict
    args: list            # HQ_PROGRAM_PARAMS as (kind, value)
    mofs: dict            # tile_bits -> (plan, mofs tensor)


_UPLOADS: "weakref.WeakKeyDictionary[OpProgram, dict]" = weakref.WeakKeyDictionary()


def upload(program: OpProgram, device) -> DeviceProgram:
    """The program's arrays on ``device`` (uploaded once per program and device)."""
    import torch
    per = _UPLOADS.setdefault(program, {})
    key = str(device)
    if key in per:
        return per[key]
    plan.check_supported(program)
    p = program

    def t(a, dtype):
        return torch.as_tensor(np.ascontiguousarray(a, dtype=dtype), device=device)
    ts = {
        "ops": t(p.ops, np.int32), "factors": t(p.factors, np.int32), "fcoef": t(p.fcoef, np.float64),
        "const_mats": t(np.ascontiguousarray(p.const_mats, np.complex128).view(np.float64), np.float64),
        "perms": t(p.perms, np.int32), "inv_perms": t(p.inv_perms, np.int32), "wires": t(p.wires, np.int32),
        "terms": t(p.terms, np.int32), "term_coeff": t(p.term_coeff, np.float64),
    }
    args = [("p", ts[k].data_ptr()) for k in ("ops", "factors", "fcoef", "const_mats", "perms", "inv_perms",
                                              "wires", "terms", "term_coeff")]
    args += [("i", v) for v in (p.num_qubits, p.num_ops, p.terms.shape[0], p.num_observables, p.amp_start,
                                p.amp_size)]
    dp = per[key] = DeviceProgram(program, ts, args, {})
    return dp


def blocked_plan(dp: DeviceProgram, tile_bits: int):
    import torch
    if tile_bits not in dp.mofs:
        bp = plan.plan_blocked(dp.program, tile_bits)
        dp.mofs[tile_bits] = (bp, torch.as_tensor(bp.mofs, device=dp.tensors["ops"].device))
    return dp.mofs[tile_bits]


# ---------------------------------------------------------------- the backend
@dataclass(frozen=True)
class CudaOptions:
    """path: "auto" (resident when the state fits on chip), "resident" or "blocked";
    tile_bits: blocked-path tile size (None: the largest that fits); scratch_bytes: device
    memory the blocked path may use per batch chunk; launcher: "auto", "extension" or "cupy"."""
    path: str = "auto"
    tile_bits: int | None = None
    scratch_bytes: int = 2 << 30
    launcher: str = "auto"

    def __post_init__(self):
        if self.path not in ("auto", "resident", "blocked"):
            raise ValueError(f"CudaOptions.path must be 'auto', 'resident' or 'blocked', got {self.path!r}")
        if self.launcher not in ("auto", "extension", "cupy"):
            raise ValueError(f"CudaOptions.launcher must be 'auto', 'extension' or 'cupy', got {self.launcher!r}")


def _op_program(program) -> OpProgram:
    """The OpProgram itself, or the one inside a hqsim.compile.CompiledCircuit, with fused
    CNOT+U1 ops (OP_CXU1, a Numba-backend op) split back into PERM and U1 for the kernels."""
    program = getattr(program, "program", program)
    if not isinstance(program, OpProgram):
        raise TypeError(f"expected a lowered OpProgram (or CompiledCircuit), got {type(program).__name__}")
    return expand_fused_cnots(program)


def _real_itemsize(real_dtype) -> int:
    dt = np.dtype(real_dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"real_dtype must be float32 (complex64 states) or float64 (complex128), got {dt}")
    return dt.itemsize


class CudaBackend:
    """hqsim's CUDA backend (registry name "cuda"); see the module docstring."""

    name = "cuda"
    arrays = "torch"  # takes torch CUDA tensors where they are (see hqsim/backends/__init__.py)

    def __init__(self, options: CudaOptions | None = None):
        self.options = options or CudaOptions()
        self._launchers: dict = {}

    @staticmethod
    def is_available() -> bool:
        """True when torch sees a CUDA device and a launcher (extension or CuPy) is importable."""
        try:
            import torch
            if not torch.cuda.is_available():
                return False
        except ImportError:
            return False
        from .cuda_ext import launcher_available
        return launcher_available()

    def launcher(self, device_index: int):
        if device_index not in self._launchers:
            from .cuda_ext import get_launcher
            self._launchers[device_index] = get_launcher(device_index, self.options.launcher)
        return self._launchers[device_index]

    def forward(self, program: OpProgram, x, w, real_dtype=np.float32, want_states: bool = False):
        """Expectations (B, n_obs) float64 and, if asked, final states (B, 2^Q) complex64/128.

        x (B, n_in) and w (n_w,) real, NumPy / torch CUDA / CuPy; not mutated. Results are
        NumPy for NumPy inputs, else torch CUDA tensors (CuPy arrays for CuPy inputs)."""
        from .cuda_run import Run
        run = Run(self, _op_program(program), x, w, _real_itemsize(real_dtype))
        out, states = run.forward(want_states)
        return run.give(out), (run.give(states) if want_states else None)

    def vjp(self, program: OpProgram, x, w, cotangent, real_dtype=np.float32, need_inputs: bool = True):
        """(dweights (n_w,), dinputs (B, n_in) or None) of sum(cotangent * expectations), float64.

        cotangent (B, n_obs); one adjoint sweep per sample with psi and lambda kept; inputs
        are not mutated."""
        from .cuda_run import Run
        run = Run(self, _op_program(program), x, w, _real_itemsize(real_dtype))
        dw, dx = run.vjp(cotangent, need_inputs)
        return run.give(dw), (run.give(dx) if need_inputs else None)
