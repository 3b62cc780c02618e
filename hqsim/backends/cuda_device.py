"""Where a CUDA-backend call runs: the device (a GPU through torch, or the cpu-emulated one),
its limits and launcher, tensors in and out, and the op program uploaded to it.

Both devices give the host driver (hqsim/backends/cuda_run.py) the same things: a torch device
for its buffers, a stream handle, DeviceLimits for planning, and a launcher with
``launch(name, grid, block, smem, args, stream)``.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import torch

from ..program import OpProgram
from . import cuda_emulated, cuda_ext
from . import cuda_plan as plan


@dataclass(frozen=True)
class DeviceLimits:
    sm_count: int
    smem_optin: int    # dynamic shared memory a block may opt in to, bytes
    smem_per_sm: int


# The cpu-emulated device plans as an H100/H200 would (227 KiB per block, 228 KiB per SM), with
# 2 SMs so that persistent grids loop over several sample groups per block.
EMULATED_LIMITS = DeviceLimits(sm_count=2, smem_optin=227 * 1024, smem_per_sm=228 * 1024)


def tensor_kind(a) -> str:
    """"torch", "cupy", "cuda_array" (any other object exposing ``__cuda_array_interface__``,
    e.g. a Numba device array) or "numpy" (anything else: converted by NumPy)."""
    mods = [c.__module__ for c in type(a).__mro__]  # the MRO: subclasses of torch.Tensor count
    if any(m.startswith("torch") for m in mods):
        return "torch"
    if any(m.startswith("cupy") for m in mods):
        return "cupy"
    if hasattr(a, "__cuda_array_interface__"):
        return "cuda_array"
    return "numpy"


class GpuDevice:
    name = "cuda"

    @staticmethod
    def is_available() -> bool:
        return torch.cuda.is_available() and cuda_ext.launcher_available()

    @staticmethod
    def place(a) -> torch.device:
        """The torch device a call runs on: the tensor's own, else the current CUDA device (a
        ``__cuda_array_interface__`` object must live there: torch refuses it otherwise)."""
        if tensor_kind(a) == "torch":
            if not a.is_cuda:
                raise ValueError("the CUDA backends take CUDA tensors; got inputs on the CPU (use backend='numba')")
            return a.device
        return torch.device("cuda", torch.cuda.current_device())

    @staticmethod
    def stream(device) -> int:
        return torch.cuda.current_stream(device).cuda_stream

    _limits: dict = {}

    @classmethod
    def limits(cls, device) -> DeviceLimits:
        if device.index not in cls._limits:
            props = torch.cuda.get_device_properties(device)
            optin = getattr(props, "shared_memory_per_block_optin", None) or 48 * 1024
            per_sm = getattr(props, "shared_memory_per_multiprocessor", None) or 48 * 1024
            cls._limits[device.index] = DeviceLimits(int(props.multi_processor_count), int(optin), int(per_sm))
        return cls._limits[device.index]

    @staticmethod
    def launcher(device, preference: str):
        return cuda_ext.get_launcher(device.index, preference)


class EmulatedDevice:
    """The kernels built for the host (hqsim/backends/cuda_emulated.py); inputs on the CPU."""

    name = "cpu-emulated"

    @staticmethod
    def is_available() -> bool:
        return cuda_emulated.is_available()

    @staticmethod
    def place(a) -> torch.device:
        if tensor_kind(a) in ("cupy", "cuda_array") or (tensor_kind(a) == "torch" and a.device.type != "cpu"):
            raise ValueError("the cpu-emulated CUDA device takes NumPy arrays or CPU tensors")
        return torch.device("cpu")

    @staticmethod
    def stream(device) -> int:
        return 0

    @staticmethod
    def limits(device) -> DeviceLimits:
        return EMULATED_LIMITS

    @staticmethod
    def launcher(device, preference: str):
        if preference not in ("auto", "emulated"):
            raise ValueError(f"the cpu-emulated device has one launcher; launcher={preference!r} needs a GPU")
        return cuda_emulated.EmulatedLauncher(EMULATED_LIMITS)


DEVICES = {"cuda": GpuDevice, "cpu-emulated": EmulatedDevice}


# ---------------------------------------------------------------- tensors in and out
def as_device_tensor(a, what: str, ndim: int, device, dtype=torch.float64):
    """A contiguous torch tensor of ``dtype`` on ``device``, without a copy whenever the caller's
    array already is one: torch taken as it is (converted on the device only if its dtype or
    layout differ), CuPy through DLPack, other ``__cuda_array_interface__`` objects through
    torch.as_tensor (zero-copy; torch's current stream first waits for the producer's stream
    when the interface names one), NumPy converted on the host and copied over. Never mutates
    ``a``. Values are checked only for NumPy (on the host, before the copy): device arrays come
    from the executor, which checks them without a host sync (see hqsim/backends/__init__.py);
    reading a device flag here would stall every call."""
    kind = tensor_kind(a)
    if kind == "cupy":
        a = torch.from_dlpack(a)
    elif kind == "cuda_array":
        a = _from_cuda_array_interface(a, what, device)
    if kind == "numpy":
        arr = np.asarray(a, dtype=_NUMPY_DTYPES[dtype])
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{what} contain NaN or inf")
        t = torch.as_tensor(arr, device=device)
    else:
        if a.device != device:
            raise ValueError(f"{what} are on {a.device}, the inputs on {device}")
        if not (a.dtype.is_floating_point or a.dtype in _INTEGER_DTYPES):
            raise ValueError(f"{what} must be real (floating-point or integer), got dtype {a.dtype}")
        t = a.detach().to(dtype).contiguous()
    if ndim == 2 and t.ndim == 1:
        t = t[None, :]
    if ndim == 1:
        t = t.reshape(-1)
    if t.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-dimensional, got shape {tuple(t.shape)}")
    return t


_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


def _from_cuda_array_interface(a, what: str, device):
    """A torch view of a ``__cuda_array_interface__`` object on ``device`` (no copy). Version 3 of
    the interface may name the stream that last wrote the data (1: legacy default, 2: per-thread
    default, else a cudaStream_t): the consumer must order its work after it, so torch's current
    stream waits for that stream (an event on the device, no host sync)."""
    stream = a.__cuda_array_interface__.get("stream")
    if stream is not None:
        current = torch.cuda.current_stream(device)
        if int(stream) != current.cuda_stream:
            current.wait_stream(torch.cuda.ExternalStream(int(stream), device=device))
    try:
        return torch.as_tensor(a, device=device)
    except (TypeError, RuntimeError) as exc:
        raise ValueError(f"{what}: cannot take this __cuda_array_interface__ object on {device} ({exc})") from exc


def give(t, kind: str):
    """Results in the kind the inputs came in: NumPy, torch, or CuPy (zero-copy); torch tensors
    for ``__cuda_array_interface__`` inputs (they expose the interface themselves)."""
    if kind == "numpy":
        return t.cpu().numpy()
    if kind == "cupy":
        return cuda_ext.import_cupy().from_dlpack(t)
    return t


# ---------------------------------------------------------------- the program on the device
@dataclass
class BlockedOnDevice:
    """A blocked plan on the device: ``args`` is HQ_PROGRAM_PARAMS with the plan's own ops and
    bit maps (its PERM ops split into tile-sized factors) in place of the program's."""
    plan: object          # cuda_plan.BlockedPlan
    args: list
    maps: torch.Tensor
    mofs: torch.Tensor
    tensors: dict


@dataclass
class DeviceProgram:
    program: OpProgram
    tensors: dict
    args: list            # HQ_PROGRAM_PARAMS as (kind, value)
    plans: dict           # tile_bits -> BlockedOnDevice

    def blocked_plan(self, tile_bits: int) -> BlockedOnDevice:
        if tile_bits not in self.plans:
            bp = plan.plan_blocked(self.program, tile_bits)
            dev = self.tensors["ops"].device
            ts = dict(self.tensors, ops=_to_device(bp.ops, np.int32, dev),
                      maps=_to_device(bp.device_maps(self.program.num_qubits), np.uint32, dev))
            self.plans[tile_bits] = BlockedOnDevice(bp, _program_args(self.program, ts, len(bp.ops)), ts["maps"],
                                                    _to_device(bp.mofs, np.int32, dev), ts)
        return self.plans[tile_bits]


_UPLOADS: "weakref.WeakKeyDictionary[OpProgram, dict]" = weakref.WeakKeyDictionary()
_PROGRAM_ARRAYS = ("ops", "factors", "fcoef", "const_mats", "maps", "wires", "terms", "term_coeff")


def _to_device(a, dtype, device) -> torch.Tensor:
    """A device copy of a host array (uint32 travels as int32 of the same bits)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return torch.tensor(a.view(np.int32) if dtype == np.uint32 else a, device=device)


def _program_args(p: OpProgram, ts: dict, num_ops: int) -> list:
    args = [("p", ts[k].data_ptr()) for k in _PROGRAM_ARRAYS]
    return args + [("i", v) for v in (p.num_qubits, num_ops, p.terms.shape[0], p.num_observables, p.amp_start,
                                      p.amp_size)]


def upload(program: OpProgram, device) -> DeviceProgram:
    """The program's arrays on ``device`` (copied once per program and device, never aliasing
    the program's own arrays, so a kernel can never write into them). PERM tables travel as
    their bit maps (hqsim/backends/cuda_bitmaps.py): Q + 1 words instead of 2^Q each."""
    per = _UPLOADS.setdefault(program, {})
    key = str(device)
    if key in per:
        return per[key]
    plan.check_supported(program)
    p = program
    host = {"ops": (p.ops, np.int32), "factors": (p.factors, np.int32), "fcoef": (p.fcoef, np.float64),
            "const_mats": (np.ascontiguousarray(p.const_mats, np.complex128).view(np.float64), np.float64),
            "maps": (plan.stack_device_maps(plan.program_maps(p), p.num_qubits), np.uint32),
            "wires": (p.wires, np.int32), "terms": (p.terms, np.int32), "term_coeff": (p.term_coeff, np.float64)}
    ts = {k: _to_device(a, dt, device) for k, (a, dt) in host.items()}
    per[key] = DeviceProgram(program, ts, _program_args(p, ts, p.num_ops), {})
    return per[key]
