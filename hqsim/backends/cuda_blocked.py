"""The blocked path's driver: states in device memory, the program run as passes
(hqsim/backends/cuda_plan.py plan_blocked; kernels/blocked.cuh).

The batch is cut into chunks whose states and scratch fit ``CudaOptions.scratch_bytes`` (and
at most 65,535 samples: the grid's y dimension). Per chunk, forward: norms, initial states,
every op's matrix per sample (once, for all the passes' tiles), the passes, expectations.
Backward: the forward again, lambda = O_g psi, the passes in reverse (adjoint pass then chain
pass per local pass; inverse gathers per permutation), the amplitude gradients, and the
weight-gradient rows summed into dw.
"""
from __future__ import annotations

from . import cuda_plan as plan

BLOCK = plan.PASS_THREADS


class Blocked:
    def __init__(self, run):
        self.r = run
        prog = run.program
        self.q = prog.num_qubits
        self.n = 2 ** self.q
        bits = run.opts.tile_bits or plan.default_tile_bits(self.q, run.itemsize, run.smem_limit)
        self.dev = run.dp.blocked_plan(min(bits, self.q))
        self.plan, self.mofs, self.args = self.dev.plan, self.dev.mofs, self.dev.args
        self.n_ops = len(self.plan.ops)  # the plan's ops: PERM ops may be split in tile-sized factors
        self.tiles = self.plan.tiles(self.q)
        self.has_perm = any(isinstance(p, plan.PermPass) for p in self.plan.passes)
        self.chunks = plan.expect_chunks(self.q)

    def chunk_size(self, backward: bool) -> int:
        state = self.n * 2 * self.r.itemsize
        per = state * (2 if self.has_perm else 1) * (2 if backward else 1)
        per += max(1, self.n_ops) * plan.MAT_SLOT * self.r.itemsize  # op_matrices
        if backward:
            per += 8 * self.tiles * max(self.plan.mrec + (0,)) + 8 * max(1, self.r.program.num_weights)
        return max(1, min(self.r.batch, 65535, self.r.opts.scratch_bytes // per))

    def grid1(self, count: int) -> tuple:
        return (max(1, min(-(-count // BLOCK), 65535 * 8)), 1, 1)

    # -- pieces ------------------------------------------------------------------------------
    def init(self, x, psi):
        r, bsz = self.r, x.shape[0]
        norms = r.empty((bsz, 2))  # (m, |x / m|) per sample: kernels/state_ops.cuh amp_scale
        if r.program.amp_size:
            r.launch(f"hq_amp_norms_{r.sfx}", (bsz, 1, 1), BLOCK, 0, self.args + [r.ptr(x), ("i", r.n_in), r.ptr(norms)])
        r.launch(f"hq_init_states_{r.sfx}", self.grid1(bsz * self.n), BLOCK, 0,
                 self.args + [r.ptr(x), ("i", r.n_in), ("i", bsz), r.ptr(norms), r.ptr(psi)])

    def permute(self, row: int, inverse: bool, src, dst, bsz: int):
        """A whole-state gather by the plan's bit map ``row`` (or its inverse)."""
        r = self.r
        r.launch(f"hq_permute_states_{r.sfx}", self.grid1(bsz * self.n), BLOCK, 0,
                 [r.ptr(self.dev.maps), ("i", row), ("i", int(inverse)), ("i", self.q), ("i", bsz), r.ptr(src),
                  r.ptr(dst)])

    def op_matrices(self, x):
        """(bsz, n_ops, MAT_SLOT) reals: every op's matrix for every sample, computed once per
        sample (not once per (tile, sample) block of every pass)."""
        r, bsz, n_ops = self.r, x.shape[0], max(1, self.n_ops)
        mats = r.empty((bsz * n_ops * plan.MAT_SLOT,), r.real_dtype())
        if self.n_ops:
            r.launch(f"hq_op_matrices_{r.sfx}", self.grid1(bsz * n_ops), BLOCK, 0,
                     self.args + [r.ptr(x), r.ptr(r.w), ("i", r.n_in), ("i", bsz), r.ptr(mats)])
        return mats

    def run_passes(self, mats, psi, tmp, bsz: int):
        """Forward passes on psi; returns the buffer holding the final states."""
        r = self.r
        for p in self.plan.passes:
            if isinstance(p, plan.PermPass):
                self.permute(p.row, False, psi, tmp, bsz)
                psi, tmp = tmp, psi
                continue
            smem = plan.pass_smem_bytes(self.plan.tile_bits, p.tmask, r.itemsize, False)
            r.launch(f"hq_local_pass_{r.sfx}", (self.tiles, bsz, 1), BLOCK, smem,
                     self.args + [r.ptr(mats), r.ptr(psi), ("i", p.i0), ("i", p.i1), ("u", p.tmask),
                                  ("i", self.plan.tile_bits)])
        return psi

    def expectations(self, psi, out, bsz: int):
        r = self.r
        if r.program.terms.shape[0] == 0:
            out.zero_()
            return
        partial = r.empty((bsz * self.chunks * r.program.terms.shape[0] * 2,))
        r.launch(f"hq_expect_partial_{r.sfx}", (self.chunks, bsz, 1), BLOCK, 0,
                 self.args + [r.ptr(psi), ("i", self.chunks), r.ptr(partial)])
        r.launch("hq_expect_finish", (-(-bsz // 128), 1, 1), 128, 0,
                 self.args + [r.ptr(partial), ("i", bsz), ("i", self.chunks), r.ptr(out)])

    def buffers(self, bsz: int, count: int):
        return [self.r.empty((bsz, self.n * 2), self.r.real_dtype()) for _ in range(count)]

    # -- forward -----------------------------------------------------------------------------
    def forward_into(self, out, states=None):
        r, step = self.r, self.chunk_size(False)
        for b0 in range(0, r.batch, step):
            b1 = min(r.batch, b0 + step)
            x = r.x[b0:b1]
            psi, tmp = self.buffers(b1 - b0, 2 if self.has_perm else 1) + [None] * (0 if self.has_perm else 1)
            self.init(x, psi)
            psi = self.run_passes(self.op_matrices(x), psi, tmp, b1 - b0)
            self.expectations(psi, out[b0:b1], b1 - b0)
            if states is not None:
                states[b0:b1].copy_(psi)

    # -- backward ----------------------------------------------------------------------------
    def vjp_into(self, cot, dw, dx=None):
        r, step = self.r, self.chunk_size(True)
        n_w = r.program.num_weights
        if dx is not None:
            dx.zero_()
        for b0 in range(0, r.batch, step):
            b1 = min(r.batch, b0 + step)
            bsz, x = b1 - b0, r.x[b0:b1]
            nbuf = 4 if self.has_perm else 2
            bufs = self.buffers(bsz, nbuf)
            psi, lam = bufs[0], bufs[1]
            spare = bufs[2:] if self.has_perm else [None, None]
            self.init(x, psi)
            mats = self.op_matrices(x)
            psi = self.run_passes(mats, psi, spare[0], bsz)
            spare[0] = bufs[0] if psi is not bufs[0] else spare[0]
            r.launch(f"hq_weighted_observable_{r.sfx}", self.grid1(bsz * self.n), BLOCK, 0,
                     self.args + [r.ptr(cot[b0:b1]), ("i", bsz), r.ptr(psi), r.ptr(lam)])
            rows = r.empty((bsz, max(1, n_w)))
            rows.zero_()
            dxc = dx[b0:b1] if dx is not None else r.empty((bsz, max(1, r.n_in)))
            mpart = r.empty((max(1, bsz * self.tiles * max(self.plan.mrec + (0,))),))
            psi, lam = self.reverse(x, mats, psi, lam, spare, mpart, rows, dxc, dx is not None)
            if r.program.amp_size and dx is not None:
                r.launch(f"hq_amp_grad_{r.sfx}", (bsz, 1, 1), BLOCK, 0,
                         self.args + [r.ptr(x), ("i", r.n_in), r.ptr(lam), r.ptr(dxc)])
            r.reduce_rows(rows, bsz, dw, accumulate=b0 > 0)
        if n_w == 0:
            dw.zero_()

    def reverse(self, x, mats, psi, lam, spare, mpart, rows, dxc, need_x: bool):
        r, bsz = self.r, x.shape[0]
        for p, mrec in zip(reversed(self.plan.passes), reversed(self.plan.mrec)):
            if isinstance(p, plan.PermPass):
                self.permute(p.row, True, psi, spare[0], bsz)
                self.permute(p.row, True, lam, spare[1], bsz)
                psi, spare[0] = spare[0], psi
                lam, spare[1] = spare[1], lam
                continue
            smem = plan.pass_smem_bytes(self.plan.tile_bits, p.tmask, r.itemsize, True)
            r.launch(f"hq_adjoint_pass_{r.sfx}", (self.tiles, bsz, 1), BLOCK, smem,
                     self.args + [r.ptr(mats), r.ptr(psi), r.ptr(lam), ("i", p.i0), ("i", p.i1), ("u", p.tmask),
                                  ("i", self.plan.tile_bits), r.ptr(self.mofs), ("i", mrec), r.ptr(mpart)])
            if mrec:
                r.launch(f"hq_chain_pass_{r.sfx}", (bsz, 1, 1), BLOCK, 0,
                         self.args + [r.ptr(x), r.ptr(r.w), ("i", r.n_in), ("i", self.tiles), ("i", p.i0),
                                      ("i", p.i1), r.ptr(self.mofs), ("i", mrec), r.ptr(mpart), r.ptr(rows),
                                      ("i", max(1, r.program.num_weights)), r.ptr(dxc), ("i", int(need_x))])
        return psi, lam
