"""The CUDA backend: the kernels in kernels/ driven over the lowered op program.

Memory is torch's (torch is a hard dependency): inputs arrive as NumPy arrays, torch CUDA
tensors or CuPy arrays (taken without a copy through DLPack), every launch goes on torch's
current stream, and results come back in the kind that came in. Kernels are launched either
by the pybind11 extension (csrc/, built ahead of time) or through CuPy's RawModule, which
JIT-compiles kernels/ with NVRTC on first use and caches the binary on disk (CuPy's kernel
cache, keyed by the full source text: every header is inlined before compiling, so an edited
header recompiles). hqsim/backends/cuda_ext.py picks between the two.

``CudaOptions(device="cpu-emulated")`` runs the same host driver and the same kernel source
built for the CPU (hqsim/backends/cuda_emulated.py): how CI tests the GPU path without a GPU.

Module layers (no circles): cuda_source (kernel text) <- cuda_ext / cuda_emulated (launchers)
<- cuda_device (devices, tensors, uploads) <- cuda_blocked <- cuda_run (one call) <- cuda.

NOT YET RUN ON A GPU: written, compiled (nvcc sm_80/sm_90 and NVRTC) and run through the
cpu-emulated device on machines without one; tests/gpu/ holds the checks that must pass on a
GPU before any of this is trusted there (bench/gpu/first_contact.sh runs them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..program import OpProgram
from .cuda_device import DEVICES
from .cuda_run import Run


# ---------------------------------------------------------------- the backend
@dataclass(frozen=True)
class CudaOptions:
    """path: "auto" (resident when the state fits on chip), "resident" or "blocked";
    tile_bits: blocked-path tile size (None: the largest that fits); scratch_bytes: device
    memory the blocked path may use per batch chunk; launcher: "auto", "extension" or "cupy"
    on a GPU ("auto" or "emulated" on the emulated device); device: "cuda" (a GPU) or
    "cpu-emulated" (the same kernel source built for the CPU, run by the same host driver on
    NumPy arrays / CPU tensors: how CI tests the GPU path)."""
    path: str = "auto"
    tile_bits: int | None = None
    scratch_bytes: int = 2 << 30
    launcher: str = "auto"
    device: str = "cuda"

    def __post_init__(self):
        if self.path not in ("auto", "resident", "blocked"):
            raise ValueError(f"CudaOptions.path must be 'auto', 'resident' or 'blocked', got {self.path!r}")
        if self.launcher not in ("auto", "extension", "cupy", "emulated"):
            raise ValueError(f"CudaOptions.launcher must be 'auto', 'extension', 'cupy' or 'emulated', "
                             f"got {self.launcher!r}")
        if self.device not in DEVICES:
            raise ValueError(f"CudaOptions.device must be one of {', '.join(DEVICES)}, got {self.device!r}")


def _op_program(program) -> OpProgram:
    """The OpProgram itself, or the one inside a hqsim.compile.CompiledCircuit."""
    program = getattr(program, "program", program)
    if not isinstance(program, OpProgram):
        raise TypeError(f"expected a lowered OpProgram (or CompiledCircuit), got {type(program).__name__}")
    return program


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
        self.device = DEVICES[self.options.device]
        self._launchers: dict = {}

    @staticmethod
    def is_available(device: str = "cuda") -> bool:
        """True when ``device`` can run: a GPU torch sees plus a launcher (extension or CuPy), or
        for "cpu-emulated" a C++ compiler and hqsim's csrc/."""
        return DEVICES[device].is_available()

    def launcher(self, device):
        """The launcher for a torch device (one per device, created on first use)."""
        key = str(device)
        if key not in self._launchers:
            self._launchers[key] = self.device.launcher(device, self.options.launcher)
        return self._launchers[key]

    def forward(self, program: OpProgram, x, w, real_dtype=np.float32, want_states: bool = False):
        """Expectations (B, n_obs) float64 and, if asked, final states (B, 2^Q) complex64/128.

        x (B, n_in) and w (n_w,) real, NumPy / torch CUDA / CuPy; not mutated. Results are
        NumPy for NumPy inputs, else torch CUDA tensors (CuPy arrays for CuPy inputs)."""
        run = Run(self, _op_program(program), x, w, _real_itemsize(real_dtype))
        out, states = run.forward(want_states)
        return run.give(out), (run.give(states) if want_states else None)

    def vjp(self, program: OpProgram, x, w, cotangent, real_dtype=np.float32, need_inputs: bool = True):
        """(dweights (n_w,), dinputs (B, n_in) or None) of sum(cotangent * expectations), float64.

        cotangent (B, n_obs); one adjoint sweep per sample with psi and lambda kept; inputs
        are not mutated."""
        run = Run(self, _op_program(program), x, w, _real_itemsize(real_dtype))
        dw, dx = run.vjp(cotangent, need_inputs)
        return run.give(dw), (run.give(dx) if need_inputs else None)
