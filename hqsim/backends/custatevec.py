"""cuStateVec backend (registry name "custatevec"): NVIDIA's batched statevector primitives
driven over hqsim's op program, as a user-selectable backend and as the vendor baseline.

NOT YET RUN ON A GPU: written against the cuquantum-python documentation on a machine without
a GPU or cuquantum; tests/gpu/test_custatevec.py must pass on a GPU before it is trusted.

Forward: per-sample U1/U2 matrices are built on the GPU with torch (batched over samples) and
applied with ``apply_matrix_batched`` (MATRIX_INDEXED: matrix b on state b); CZ and dense UK
ops are one shared matrix (BROADCAST); a PERM op (a whole CNOT/SWAP run) is one torch gather,
since cuStateVec has no batched permutation. Expectations: ``compute_expectation_batched`` with
each Pauli term as a dense matrix on its qubits (so terms act on at most MAX_TERM_QUBITS).

Adjoint from the same primitives: psi_n is kept, lambda = sum_k g_k O_k psi_n is built with
broadcast Pauli applications, and for each op in reverse, psi <- U^dagger psi; for each
parametric factor k, d/da_k <psi|O_g|psi> = 2 Re <lambda| dU_k psi_prev> with
dU_k = A_k (-i/2 G_k) F_k C_{k-1} applied by ``apply_matrix_batched`` to a copy of psi_prev;
then lambda <- U^dagger lambda. That is one extra state pass per parametric factor, which is
what an adjoint built from apply/inner-product primitives costs (hqsim's kernels fuse it).

Bit order: hqsim qubit q is cuStateVec index bit Q-1-q, and cuStateVec reads targets[0] as the
least significant bit of a matrix index, so a frame listed high-to-low is passed reversed.
"""
from __future__ import annotations

import numpy as np

from ..program import (F_CONST, F_CRX, F_CRY, F_PHASE, F_RX, F_RXX, F_RY, F_RYY, INPUT, OP_CZ, OP_PERM,
                       OP_U1, OP_U2, OP_UK, WEIGHT, OpProgram, expand_fused_cnots)
from .cuda import _op_program
from .cuda_device import GpuDevice, as_device_tensor, give, tensor_kind

MAX_TERM_QUBITS = 10
_PAULI = {1: ((0, 1), (1, 0)), 2: ((0, -1j), (1j, 0)), 3: ((1, 0), (0, -1))}


def _import_custatevec():
    try:
        from cuquantum.bindings import custatevec as cusv  # cuquantum-python >= 24.11
    except ImportError:
        try:
            from cuquantum import custatevec as cusv
        except ImportError as exc:  # the one place hqsim imports cuquantum
            raise ImportError("the custatevec backend needs cuquantum-python "
                              "(pip install cuquantum-python-cu13)") from exc
    return cusv


# cudaDataType_t and custatevecComputeType_t values (stable C enums)
CUDA_C_32F, CUDA_C_64F = 4, 5
COMPUTE_32F, COMPUTE_64F = 1 << 2, 1 << 4
MATRIX_LAYOUT_ROW = 1
MAP_BROADCAST, MAP_MATRIX_INDEXED = 0, 1


class TorchFactors:
    """Per-sample factor matrices (B, D, D) complex128 on the device, mirroring
    hqsim/backends/numba_matrices.py (factor_matrix, factor_generator, _embed)."""

    def __init__(self, program: OpProgram, x, w):
        import torch
        self.t, self.p, self.x, self.w = torch, program, x, w
        self.dev = x.device
        self.batch = x.shape[0]

    def _pauli(self, code):
        axis = 1 if code in (F_RX, F_CRX, F_RXX) else (2 if code in (F_RY, F_CRY, F_RYY) else 3)
        return self.t.tensor(_PAULI[axis], dtype=self.t.complex128, device=self.dev)

    def angle(self, f):
        src, idx = int(self.p.factors[f, 1]), int(self.p.factors[f, 2])
        v = self.w[idx].expand(self.batch) if src == WEIGHT else (
            self.x[:, idx] if src == INPUT else self.t.zeros(self.batch, dtype=self.t.float64, device=self.dev))
        return self.p.fcoef[f, 0] * v + self.p.fcoef[f, 1]

    def _embed(self, m2, wire, controlled, generator):
        t = self.t
        eye2 = t.eye(2, dtype=t.complex128, device=self.dev)
        if controlled:  # control q0 (wire 2) or q1 (wire 3)
            p0 = t.tensor([[1, 0], [0, 0]], dtype=t.complex128, device=self.dev)
            p1 = t.tensor([[0, 0], [0, 1]], dtype=t.complex128, device=self.dev)
            rest = 0 if generator else t.kron(p0, eye2) if wire == 2 else t.kron(eye2, p0)
            blk = (t.einsum("ij,bkl->bikjl", p1, m2) if wire == 2 else t.einsum("bij,kl->bikjl", m2, p1))
            return blk.reshape(-1, 4, 4) + rest
        if wire == 0:
            return t.einsum("bij,kl->bikjl", m2, eye2).reshape(-1, 4, 4)
        return t.einsum("ij,bkl->bikjl", eye2, m2).reshape(-1, 4, 4)

    def matrix(self, f, dim):
        t, code = self.t, int(self.p.factors[f, 0])
        if code == F_CONST:
            off = int(self.p.factors[f, 4])
            m = t.as_tensor(self.p.const_mats[off:off + dim * dim].reshape(dim, dim), device=self.dev)
            return m.expand(self.batch, dim, dim)
        th = self.angle(f)
        c, s = t.cos(th / 2)[:, None, None], t.sin(th / 2)[:, None, None]
        if code >= F_RXX:
            pp = t.kron(self._pauli(code), self._pauli(code))
            return c * t.eye(4, dtype=t.complex128, device=self.dev) - 1j * s * pp
        if code == F_PHASE:
            m2 = t.zeros(self.batch, 2, 2, dtype=t.complex128, device=self.dev)
            m2[:, 0, 0] = 1
            m2[:, 1, 1] = t.exp(1j * th)
        else:
            m2 = c * t.eye(2, dtype=t.complex128, device=self.dev) - 1j * s * self._pauli(code)
        return m2 if dim == 2 else self._embed(m2, int(self.p.factors[f, 3]), code >= F_CRX, False)

    def generator(self, f, dim):
        t, code = self.t, int(self.p.factors[f, 0])
        if code >= F_RXX:
            return t.kron(self._pauli(code), self._pauli(code))
        g = (t.tensor([[0, 0], [0, -2]], dtype=t.complex128, device=self.dev) if code == F_PHASE
             else self._pauli(code))
        if dim == 2:
            return g
        return self._embed(g.expand(1, 2, 2), int(self.p.factors[f, 3]), code >= F_CRX, True)[0]

    def op(self, i):
        """(U (B, D, D), [(factor, dU/da (B, D, D))] for every parametric factor)."""
        kind, fs, fc = int(self.p.ops[i, 0]), int(self.p.ops[i, 3]), int(self.p.ops[i, 4])
        dim = 2 if kind == OP_U1 else 4
        fm = [self.matrix(f, dim) for f in range(fs, fs + fc)]
        eye = self.t.eye(dim, dtype=self.t.complex128, device=self.dev).expand(self.batch, dim, dim)
        prefix = [eye]
        for m in fm:
            prefix.append(m @ prefix[-1])
        suffix = [eye]
        for m in reversed(fm):
            suffix.append(suffix[-1] @ m)
        derivs = []
        for k in range(fc):
            if int(self.p.factors[fs + k, 1]) in (WEIGHT, INPUT):
                g = self.generator(fs + k, dim)
                derivs.append((fs + k, suffix[fc - 1 - k] @ (-0.5j * g) @ prefix[k + 1]))
        return prefix[-1], derivs


class _Call:
    """Where one call's results go back to (the inputs' kind and device)."""

    def __init__(self, kind, device):
        self.kind, self.device = kind, device

    def tensor(self, a, what, ndim):
        return as_device_tensor(a, what, ndim, self.device)

    def give(self, t):
        return give(t, self.kind)


class CuStateVecBackend:
    """cuStateVec over the op program; same Python signatures as CudaBackend."""

    name = "custatevec"
    arrays = "torch"

    def __init__(self, place=GpuDevice.place):
        self._handles: dict = {}
        self._place = place  # inputs -> torch device (the CPU tests pass a CPU placement)

    @staticmethod
    def is_available() -> bool:
        try:
            import torch
            if not torch.cuda.is_available():
                return False
            _import_custatevec()
        except ImportError:
            return False
        return True

    # -- plumbing --------------------------------------------------------------------------
    def _setup(self, program, x, w, real_dtype):
        import torch
        self.cusv = _import_custatevec()
        program = expand_fused_cnots(_op_program(program))  # cuStateVec has no fused CNOT+U1
        device = self._place(x)
        run = _Call(tensor_kind(x), device)
        xt, wt = as_device_tensor(x, "inputs", 2, device), as_device_tensor(w, "weights", 1, device)
        dev = device.index
        if dev not in self._handles:
            self._handles[dev] = self.cusv.create()
        handle = self._handles[dev]
        self.cusv.set_stream(handle, torch.cuda.current_stream(device).cuda_stream if device.type == "cuda" else 0)
        single = np.dtype(real_dtype) == np.float32
        ctx = dict(handle=handle, ctype=torch.complex64 if single else torch.complex128,
                   dtype=CUDA_C_32F if single else CUDA_C_64F, compute=COMPUTE_32F if single else COMPUTE_64F,
                   idx=torch.arange(xt.shape[0], dtype=torch.int32, device=device))
        return program, run, xt, wt, ctx

    def _apply(self, ctx, psi, mats, bits, adjoint=False):
        """Apply (B, d, d) per-sample or (d, d) shared matrices on index ``bits`` (high first)."""
        t, cusv = psi, self.cusv
        batch, n = psi.shape
        q = n.bit_length() - 1
        mats = mats.to(ctx["ctype"]).contiguous()
        shared = mats.ndim == 2
        targets = list(reversed(bits))
        args = (ctx["handle"], ctx["dtype"], q, batch, n, MAP_BROADCAST if shared else MAP_MATRIX_INDEXED,
                0 if shared else ctx["idx"].data_ptr(), mats.data_ptr(), ctx["dtype"], MATRIX_LAYOUT_ROW,
                int(adjoint), 1 if shared else batch)
        size = cusv.apply_matrix_batched_get_workspace_size(*args, len(targets), 0, ctx["compute"])
        ws = t.new_empty(max(1, size // t.element_size() + 1)) if size else None
        cusv.apply_matrix_batched(ctx["handle"], psi.data_ptr(), ctx["dtype"], q, batch, n, args[5], args[6],
                                  mats.data_ptr(), ctx["dtype"], MATRIX_LAYOUT_ROW, int(adjoint), args[11],
                                  targets, len(targets), [], [], 0, ctx["compute"],
                                  ws.data_ptr() if ws is not None else 0, size)

    def _apply_op(self, program, ctx, tf, psi, i, adjoint=False, cache=None):
        import torch
        kind, q_n = int(program.ops[i, 0]), program.num_qubits
        bit = lambda q: q_n - 1 - int(q)  # noqa: E731
        if kind in (OP_U1, OP_U2):
            u, derivs = cache if cache is not None else tf.op(i)
            bits = [bit(program.ops[i, 1])] + ([bit(program.ops[i, 2])] if kind == OP_U2 else [])
            self._apply(ctx, psi, u, bits, adjoint)
            return bits, derivs
        if kind == OP_PERM:
            table = program.inv_perms if adjoint else program.perms
            perm = torch.as_tensor(table[int(program.ops[i, 3])], dtype=torch.int64, device=psi.device)
            psi.copy_(psi[:, perm])
        elif kind == OP_CZ:
            cz = torch.diag(torch.tensor([1, 1, 1, -1], dtype=torch.complex128, device=psi.device))
            self._apply(ctx, psi, cz, [bit(program.ops[i, 1]), bit(program.ops[i, 2])])
        elif kind == OP_UK:
            k, off, ws = int(program.ops[i, 4]), int(program.ops[i, 5]), int(program.ops[i, 3])
            m = torch.as_tensor(program.const_mats[off:off + 4 ** k].reshape(2 ** k, 2 ** k), device=psi.device)
            self._apply(ctx, psi, m, [bit(q) for q in program.wires[ws:ws + k]], adjoint)
        return None, []

    def _initial(self, program, xt, ctype):
        import torch
        psi = torch.zeros(xt.shape[0], 2 ** program.num_qubits, dtype=ctype, device=xt.device)
        if program.amp_size:
            feats = xt[:, program.amp_start:program.amp_start + program.amp_size]
            feats = feats / feats.abs().amax(dim=1, keepdim=True)  # scaled norm: no over/underflow
            psi[:, :program.amp_size] = (feats / feats.norm(dim=1, keepdim=True)).to(ctype)
        else:
            psi[:, 0] = 1
        return psi

    def _terms(self, program, psi, ctx):
        """(B, n_terms) float64: Re(<psi|P_t|psi>) per term, by compute_expectation_batched."""
        import torch
        batch, n = psi.shape
        q_n = program.num_qubits
        out = torch.zeros(batch, program.terms.shape[0], dtype=torch.float64, device=psi.device)
        for t, (_, flip, sign, _) in enumerate(program.terms):
            qubits = [q for q in range(q_n) if (int(flip) | int(sign)) >> (q_n - 1 - q) & 1]
            if len(qubits) > MAX_TERM_QUBITS:
                raise ValueError(f"custatevec backend: a Pauli term on {len(qubits)} qubits exceeds "
                                 f"{MAX_TERM_QUBITS} (it is applied as a dense matrix)")
            if not qubits:
                out[:, t] = psi.abs().pow(2).sum(1).double()
                continue
            m = pauli_matrix(int(flip), int(sign), qubits, q_n).to(ctx["ctype"]).to(psi.device)
            vals = torch.empty(batch, dtype=torch.complex128, device=psi.device)
            args = (ctx["handle"], ctx["dtype"], q_n, batch, n, m.data_ptr(), ctx["dtype"], MATRIX_LAYOUT_ROW, 1)
            bits = list(reversed([q_n - 1 - q for q in qubits]))
            size = self.cusv.compute_expectation_batched_get_workspace_size(*args, len(bits), ctx["compute"])
            ws = torch.empty(max(1, size), dtype=torch.uint8, device=psi.device)
            self.cusv.compute_expectation_batched(ctx["handle"], psi.data_ptr(), ctx["dtype"], q_n, batch, n,
                                                  vals.data_ptr(), m.data_ptr(), ctx["dtype"], MATRIX_LAYOUT_ROW,
                                                  1, bits, len(bits), ctx["compute"], ws.data_ptr(), size)
            out[:, t] = vals.real
        return out

    # -- the backend protocol -----------------------------------------------------------------
    def forward(self, program, x, w, real_dtype=np.float32, want_states=False):
        """Same contract as CudaBackend.forward."""
        program, run, xt, wt, ctx = self._setup(program, x, w, real_dtype)
        tf = TorchFactors(program, xt, wt)
        psi = self._initial(program, xt, ctx["ctype"])
        for i in range(program.num_ops):
            self._apply_op(program, ctx, tf, psi, i)
        vals = self._terms(program, psi, ctx)
        out = self._combine(program, vals)
        return run.give(out), (run.give(psi) if want_states else None)

    def _combine(self, program, vals):
        import torch
        out = torch.zeros(vals.shape[0], program.num_observables, dtype=torch.float64, device=vals.device)
        coeff = torch.as_tensor(program.term_coeff, device=vals.device)
        obs = torch.as_tensor(program.terms[:, 0], dtype=torch.int64, device=vals.device)
        return out.index_add_(1, obs, vals * coeff)

    def vjp(self, program, x, w, cotangent, real_dtype=np.float32, need_inputs=True):
        """Same contract as CudaBackend.vjp (adjoint from cuStateVec primitives, see module doc)."""
        import torch
        program, run, xt, wt, ctx = self._setup(program, x, w, real_dtype)
        cot = run.tensor(cotangent, "cotangent", 2)
        if tuple(cot.shape) != (xt.shape[0], program.num_observables):
            raise ValueError(f"cotangent must have shape ({xt.shape[0]}, {program.num_observables}), "
                             f"got {tuple(cot.shape)}")
        tf = TorchFactors(program, xt, wt)
        psi = self._initial(program, xt, ctx["ctype"])
        cache = [None] * program.num_ops
        for i in range(program.num_ops):
            if int(program.ops[i, 0]) in (OP_U1, OP_U2):
                cache[i] = tf.op(i)
            self._apply_op(program, ctx, tf, psi, i, cache=cache[i])
        lam = self._weighted_observable(program, psi, cot, ctx)
        dw = torch.zeros(program.num_weights, dtype=torch.float64, device=xt.device)
        dx = torch.zeros_like(xt)
        for i in range(program.num_ops - 1, -1, -1):
            bits, derivs = self._apply_op(program, ctx, tf, psi, i, adjoint=True, cache=cache[i])
            for f, du in derivs:
                phi = psi.clone()
                self._apply(ctx, phi, du, bits)
                g = 2 * (lam.conj() * phi).sum(1).real.double() * program.fcoef[f, 0]
                idx = int(program.factors[f, 2])
                if int(program.factors[f, 1]) == WEIGHT:
                    dw[idx] += g.sum()
                else:
                    dx[:, idx] += g
            self._apply_op(program, ctx, tf, lam, i, adjoint=True, cache=cache[i])
        if program.amp_size:
            feats = xt[:, program.amp_start:program.amp_start + program.amp_size]
            nrm = feats.norm(dim=1, keepdim=True)
            unit, d0 = feats / nrm, 2 * lam[:, :program.amp_size].real.double()
            dx[:, program.amp_start:program.amp_start + program.amp_size] += (
                d0 - unit * (d0 * unit).sum(1, keepdim=True)) / nrm
        return run.give(dw), (run.give(dx) if need_inputs else None)

    def _weighted_observable(self, program, psi, cot, ctx):
        """lambda = sum_t cot[:, obs_t] coeff_t P_t psi, each P_t by broadcast Pauli applications."""
        import torch
        lam = torch.zeros_like(psi)
        q_n = program.num_qubits
        for t, (obs, flip, sign, _) in enumerate(program.terms):
            phi = psi.clone()
            for q in range(q_n):
                b = 1 << (q_n - 1 - q)
                axis = (2 if sign & b else 1) if flip & b else (3 if sign & b else 0)
                if axis:
                    m = torch.tensor(_PAULI[axis], dtype=torch.complex128, device=psi.device)
                    self._apply(ctx, phi, m, [q_n - 1 - q])
            lam += (cot[:, int(obs)] * program.term_coeff[t]).to(psi.dtype)[:, None] * phi
        return lam


def pauli_matrix(flip: int, sign: int, qubits, num_qubits: int):
    """Dense matrix of the Pauli string on ``qubits`` (first = high bit), complex128 torch."""
    import torch
    m = torch.ones(1, 1, dtype=torch.complex128)
    for q in qubits:
        b = 1 << (num_qubits - 1 - q)
        axis = (2 if sign & b else 1) if flip & b else 3
        m = torch.kron(m, torch.tensor(_PAULI[axis], dtype=torch.complex128))
    return m
