"""One call of the CUDA backend: inputs on the device, the path chosen, the kernels launched.

Every launch goes on torch's current stream of the inputs' device. ``forward_into`` and
``vjp_into`` write into caller-provided buffers (the GPU tests poison them first to prove that
every element is written).
"""
from __future__ import annotations

import numpy as np

from . import cuda_plan as plan
from .cuda import DeviceProgram, upload


def _kind(a) -> str:
    mods = [c.__module__ for c in type(a).__mro__]  # the MRO: subclasses of torch.Tensor count
    if any(m.startswith("torch") for m in mods):
        return "torch"
    if any(m.startswith("cupy") for m in mods):
        return "cupy"
    return "numpy"


def input_device(a):
    """The torch device a call runs on: the tensor's own, else the current CUDA device."""
    import torch
    if _kind(a) == "torch":
        if not a.is_cuda:
            raise ValueError("the CUDA backends take CUDA tensors; got inputs on the CPU (use backend='numba')")
        return a.device
    return torch.device("cuda", torch.cuda.current_device())


def as_device_tensor(a, what: str, ndim: int, device):
    """A float64 contiguous torch tensor on ``device``: NumPy copied up, CuPy taken through
    DLPack without a copy, torch converted (on the device) only if its dtype or layout differ.
    Never mutates a. Values are checked only for NumPy (on the host, before the copy): device
    arrays come from the executor, which checks them without a host sync (see
    hqsim/backends/__init__.py); reading a device flag here would stall every call."""
    import torch
    kind = _kind(a)
    if kind == "cupy":
        a = torch.from_dlpack(a)
    if kind == "numpy":
        arr = np.asarray(a, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{what} contain NaN or inf")
        t = torch.as_tensor(arr, device=device)
    else:
        if a.device != device:
            raise ValueError(f"{what} are on {a.device}, the inputs on {device}")
        t = a.detach().to(torch.float64).contiguous()
    if ndim == 2 and t.ndim == 1:
        t = t[None, :]
    if ndim == 1:
        t = t.reshape(-1)
    if t.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-dimensional, got shape {tuple(t.shape)}")
    return t


def give(t, kind: str):
    """Results in the kind the inputs came in: NumPy, torch (CUDA) or CuPy (zero-copy)."""
    if kind == "numpy":
        return t.cpu().numpy()
    if kind == "cupy":
        import cupy  # present: the inputs were CuPy arrays
        return cupy.from_dlpack(t)
    return t


_LIMITS: dict = {}


def device_limits(device) -> tuple[int, int, int]:
    """(SM count, opt-in shared memory per block, shared memory per SM) of a torch device."""
    if device.index in _LIMITS:
        return _LIMITS[device.index]
    import torch
    props = torch.cuda.get_device_properties(device)
    optin = getattr(props, "shared_memory_per_block_optin", None)
    per_sm = getattr(props, "shared_memory_per_multiprocessor", None)
    if optin is None or per_sm is None:  # older torch: ask the runtime through CuPy if present
        try:
            import cupy
            optin = cupy.cuda.runtime.deviceGetAttribute(97, device.index)   # MaxSharedMemoryPerBlockOptin
            per_sm = cupy.cuda.runtime.deviceGetAttribute(81, device.index)  # MaxSharedMemoryPerMultiprocessor
        except ImportError:
            optin = per_sm = 48 * 1024  # the limit every CUDA device grants without opting in
    _LIMITS[device.index] = (int(props.multi_processor_count), int(optin), int(per_sm))
    return _LIMITS[device.index]


class Run:
    def __init__(self, backend, program, x, w, itemsize: int):
        import torch
        self.torch = torch
        self.kind = _kind(x)
        self.device = input_device(x)
        self.x = self.tensor(x, "inputs", 2)
        self.w = self.tensor(w, "weights", 1)
        if self.x.shape[1] < program.num_inputs:
            raise ValueError(f"inputs must have shape (batch, {program.num_inputs}), got {tuple(self.x.shape)}")
        if self.w.numel() != program.num_weights:
            raise ValueError(f"weights must hold {program.num_weights} values, got {self.w.numel()}")
        self.batch, self.n_in = int(self.x.shape[0]), int(self.x.shape[1])
        if self.batch < 1:
            raise ValueError("inputs must hold at least one sample (batch >= 1)")
        self.itemsize, self.sfx = itemsize, plan.suffix(itemsize)
        self.program = program
        self.dp: DeviceProgram = upload(program, self.device)
        self.opts = backend.options
        self.launcher = backend.launcher(self.device.index)
        self.stream = torch.cuda.current_stream(self.device).cuda_stream
        self.sm_count, self.smem_limit, self.smem_per_sm = device_limits(self.device)
        if program.amp_size and self.kind == "numpy":  # device arrays: checked by the executor
            norms = np.linalg.norm(np.asarray(x, np.float64).reshape(self.batch, -1)
                                   [:, program.amp_start:program.amp_start + program.amp_size], axis=1)
            if np.any(norms == 0):
                raise ValueError(f"amplitude-encoded inputs of sample {int(np.argmin(norms))} are all "
                                 "zero; a zero vector cannot be normalised into a state")

    # -- data in and out -----------------------------------------------------------------
    def tensor(self, a, what: str, ndim: int):
        return as_device_tensor(a, what, ndim, self.device)

    def give(self, t):
        return give(t, self.kind)

    def empty(self, shape, dtype=None):
        return self.torch.empty(shape, dtype=dtype or self.torch.float64, device=self.device)

    def launch(self, name, grid, block, smem, args):
        self.launcher.launch(name, grid, block, smem, args, self.stream)

    @staticmethod
    def ptr(t):
        return ("p", t.data_ptr())

    def real_dtype(self):
        return self.torch.float32 if self.itemsize == 4 else self.torch.float64

    def complex_view(self, states):
        return self.torch.view_as_complex(states.view(self.batch, -1, 2))

    # -- path choice -----------------------------------------------------------------------
    def resident(self, backward: bool):
        if self.opts.path == "blocked":
            return None
        cfg = plan.resident_config(self.program.num_qubits, self.itemsize, backward, self.smem_limit)
        if cfg is None and self.opts.path == "resident":
            raise ValueError(f"{self.program.num_qubits} qubits do not fit the resident path on this device "
                             f"({self.smem_limit} bytes of shared memory per block)")
        return cfg

    # -- forward -----------------------------------------------------------------------------
    def forward(self, want_states: bool):
        out = self.empty((self.batch, self.program.num_observables))
        states = (self.empty((self.batch, 2 ** self.program.num_qubits * 2), self.real_dtype())
                  if want_states else None)
        self.forward_into(out, states)
        return out, (self.complex_view(states) if want_states else None)

    def forward_into(self, out, states=None):
        """out (B, n_obs) float64; states None or (B, 2 * 2^Q) real (interleaved complex)."""
        cfg = self.resident(False)
        if cfg is not None:
            grid = plan.resident_grid(self.batch, cfg, self.sm_count, self.smem_per_sm)
            dummy = states if states is not None else out
            self.launch(f"hq_forward_resident_{self.sfx}", (grid, 1, 1), cfg.block, cfg.smem_bytes,
                        self.dp.args + [self.ptr(self.x), self.ptr(self.w), ("i", self.batch), ("i", self.n_in),
                                        self.ptr(out), self.ptr(dummy), ("i", int(states is not None)),
                                        ("i", cfg.samples_per_block), ("i", cfg.threads_per_sample)])
            return
        from .cuda_blocked import Blocked
        Blocked(self).forward_into(out, states)

    # -- backward ----------------------------------------------------------------------------
    def vjp(self, cotangent, need_inputs: bool):
        cot = self.tensor(cotangent, "cotangent", 2)
        if tuple(cot.shape) != (self.batch, self.program.num_observables):
            raise ValueError(f"cotangent must have shape ({self.batch}, {self.program.num_observables}), "
                             f"got {tuple(cot.shape)}")
        dw = self.empty((self.program.num_weights,))
        dx = self.empty((self.batch, self.n_in)) if need_inputs else None
        self.vjp_into(cot, dw, dx)
        return dw, dx

    def vjp_into(self, cot, dw, dx=None):
        """dw (n_w,) and dx (B, n_in) or None, both float64, written whole."""
        n_w = self.program.num_weights
        dx_arg = dx if dx is not None else self.empty((1,))
        cfg = self.resident(True)
        if cfg is None:
            from .cuda_blocked import Blocked
            Blocked(self).vjp_into(cot, dw, dx)
            return
        grid = plan.resident_grid(self.batch, cfg, self.sm_count, self.smem_per_sm)
        rows = self.empty((grid, max(1, n_w)))
        self.launch(f"hq_vjp_resident_{self.sfx}", (grid, 1, 1), cfg.block, cfg.smem_bytes,
                    self.dp.args + [self.ptr(self.x), self.ptr(self.w), self.ptr(cot), ("i", self.batch),
                                    ("i", self.n_in), ("i", n_w), self.ptr(rows), self.ptr(dx_arg),
                                    ("i", int(dx is not None)), ("i", cfg.samples_per_block),
                                    ("i", cfg.threads_per_sample)])
        self.reduce_rows(rows, grid, dw, accumulate=False)

    def reduce_rows(self, rows, nrows: int, dw, accumulate: bool):
        n_w = self.program.num_weights
        if n_w:
            self.launch("hq_reduce_rows", (-(-n_w // 128), 1, 1), 128, 0,
                        [self.ptr(rows), ("i", nrows), ("i", n_w), self.ptr(dw), ("i", int(accumulate))])
