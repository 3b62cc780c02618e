"""One call of the CUDA backend: inputs on the device, the path chosen, the kernels launched.

Every launch goes on torch's current stream of the inputs' device (stream 0 on the
cpu-emulated device, whose "device memory" is ordinary CPU tensors). ``forward_into`` and
``vjp_into`` write into caller-provided buffers (the GPU tests poison them first to prove that
every element is written).
"""
from __future__ import annotations

import numpy as np
import torch

from ..ir.validate import unit_amplitudes
from . import cuda_plan as plan
from .cuda_blocked import Blocked
from .cuda_device import DeviceProgram, as_device_tensor, give, tensor_kind, upload


class Run:
    def __init__(self, backend, program, x, w, itemsize: int):
        self.torch = torch
        self.kind = tensor_kind(x)
        self.itemsize, self.sfx = itemsize, plan.suffix(itemsize)
        dev = backend.device
        self.device = dev.place(x)
        self.x = self.tensor(x, "inputs", 2)
        self.w = self.tensor(w, "weights", 1)
        if self.x.shape[1] < program.num_inputs:
            raise ValueError(f"inputs must have shape (batch, {program.num_inputs}), got {tuple(self.x.shape)}")
        if self.w.numel() != program.num_weights:
            raise ValueError(f"weights must hold {program.num_weights} values, got {self.w.numel()}")
        self.batch, self.n_in = int(self.x.shape[0]), int(self.x.shape[1])
        if self.batch < 1:
            raise ValueError("inputs must hold at least one sample (batch >= 1)")
        self.program = program
        self.dp: DeviceProgram = upload(program, self.device)
        self.opts = backend.options
        self.launcher = backend.launcher(self.device)
        self.stream = dev.stream(self.device)
        lim = dev.limits(self.device)
        self.sm_count, self.smem_limit, self.smem_per_sm = lim.sm_count, lim.smem_optin, lim.smem_per_sm
        if program.amp_size and self.kind == "numpy":  # device arrays: checked by the executor
            # as the kernels read them (float32 for complex64 runs): a block too small for float32
            # is all zero there and gets this error rather than NaN states
            unit_amplitudes(np.asarray(x, np.float32 if itemsize == 4 else np.float64).reshape(self.batch, -1)
                            [:, program.amp_start:program.amp_start + program.amp_size])

    # -- data in and out -----------------------------------------------------------------
    def tensor(self, a, what: str, ndim: int):
        """x, w or the cotangent as the kernels read them: in the run's real type, in place when
        the caller's tensor already is one (no host copy, no up-cast)."""
        return as_device_tensor(a, what, ndim, self.device, self.real_dtype())

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
        """dw (n_w,) and dx (B, n_in) or None, both float64, written whole; cot (B, n_obs) in the
        run's real type (the kernels read it as that: see tensor())."""
        if cot.dtype != self.real_dtype():
            raise ValueError(f"the cotangent must be {self.real_dtype()} for this run, got {cot.dtype}")
        n_w = self.program.num_weights
        dx_arg = dx if dx is not None else self.empty((1,))
        cfg = self.resident(True)
        if cfg is None:
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
