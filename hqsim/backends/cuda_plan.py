"""Host-side planning for the CUDA kernels (kernels/): pure NumPy, no GPU needed.

Decides which path runs a program (resident: one sample's state in shared memory; blocked:
states in device memory, tiles of 2^L amplitudes), the launch shapes, the shared-memory bytes
each kernel carves (these formulas mirror the kernels' layouts and are checked by the tests),
and the blocked path's passes. The constants mirror kernels/resident.cuh and program.cuh.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..program import OP_CXU1, OP_CZ, OP_PERM, OP_U1, OP_U2, OP_UK, OpProgram

WIN = 16                   # op matrices staged per window (resident.cuh)
MAT_SLOT = 32              # reals per staged matrix
MAXR = 16                  # amplitudes per thread held in registers by a permutation
MAX_RESIDENT_THREADS = 512  # __launch_bounds__ of the resident kernels
MAX_UK_QUBITS = 6          # program.cuh
PASS_THREADS = 256         # block size of the blocked path's tile kernels
FIXED_LOW_BITS = 5         # a tile always holds the low 5 bits: 32 contiguous amplitudes per run

REAL_KERNELS = ["hq_forward_resident", "hq_vjp_resident", "hq_init_states", "hq_op_matrices", "hq_local_pass",
                "hq_adjoint_pass", "hq_permute_states", "hq_weighted_observable",
                "hq_expect_partial", "hq_amp_grad", "hq_chain_pass", "hq_amp_norms"]
SHARED_KERNELS = ["hq_expect_finish", "hq_reduce_rows"]
KERNELS = [f"{k}_{s}" for s in ("f32", "f64") for k in REAL_KERNELS] + SHARED_KERNELS


def suffix(itemsize: int) -> str:
    """Kernel-name suffix for a real itemsize (4: complex64 states, 8: complex128)."""
    return {4: "f32", 8: "f64"}[itemsize]


# ---------------------------------------------------------------- resident path
@dataclass(frozen=True)
class ResidentConfig:
    threads_per_sample: int
    samples_per_block: int
    smem_bytes: int

    @property
    def block(self) -> int:
        return self.threads_per_sample * self.samples_per_block


def resident_smem_bytes(num_qubits: int, itemsize: int, backward: bool, samples: int, threads: int) -> int:
    """Bytes of dynamic shared memory of a resident block (layout in kernels/resident.cuh)."""
    n = 2 ** num_qubits
    block = samples * threads
    doubles = block + samples * 16 + (samples * WIN * MAT_SLOT if backward else 0)
    reals = samples * WIN * MAT_SLOT + samples * (4 if backward else 2) * n
    return 8 * doubles + itemsize * reals


def resident_config(num_qubits: int, itemsize: int, backward: bool, smem_limit: int) -> ResidentConfig | None:
    """The resident launch shape, or None when the state (and lambda) do not fit on chip."""
    n = 2 ** num_qubits
    threads = min(MAX_RESIDENT_THREADS, max(32, n // 8))
    if n > threads * MAXR:
        return None
    samples = max(1, 256 // threads)
    smem = resident_smem_bytes(num_qubits, itemsize, backward, samples, threads)
    while smem > smem_limit and samples > 1:
        samples //= 2
        smem = resident_smem_bytes(num_qubits, itemsize, backward, samples, threads)
    if smem > smem_limit:
        return None
    return ResidentConfig(threads, samples, smem)


def resident_grid(batch: int, cfg: ResidentConfig, sm_count: int, smem_per_sm: int) -> int:
    """Blocks of the persistent resident grid: enough to fill every SM, never more than needed."""
    groups = -(-batch // cfg.samples_per_block)
    per_sm = max(1, min(2048 // cfg.block, smem_per_sm // max(1, cfg.smem_bytes + 1024)))
    return max(1, min(groups, sm_count * per_sm))


# ---------------------------------------------------------------- blocked path
@dataclass(frozen=True)
class LocalPass:
    """Ops [i0, i1) (U1/CXU1/U2/CZ/UK) applied to tiles whose bits are ``tmask``."""
    i0: int
    i1: int
    tmask: int


@dataclass(frozen=True)
class PermPass:
    """One PERM op (index ``op``) using permutation row ``row``."""
    op: int
    row: int


@dataclass(frozen=True)
class BlockedPlan:
    tile_bits: int
    passes: tuple
    mofs: np.ndarray     # int32 (n_ops,): offset of op's M partials in its pass's tile record
    mrec: tuple          # doubles per tile record, one per pass (0 for PermPass)

    def tiles(self, num_qubits: int) -> int:
        return 2 ** (num_qubits - self.tile_bits)


def _op_bits(program: OpProgram, i: int) -> set[int]:
    """Global bit positions a local op needs inside the tile (CZ needs none: it is diagonal; a
    CXU1 only its target: a control outside the tile is fixed for the whole tile)."""
    q_n = program.num_qubits
    kind, q0, q1, fs, fc, _ = (int(v) for v in program.ops[i])
    if kind in (OP_U1, OP_CXU1):
        return {q_n - 1 - q0}
    if kind == OP_U2:
        return {q_n - 1 - q0, q_n - 1 - q1}
    if kind == OP_UK:
        return {q_n - 1 - int(q) for q in program.wires[fs:fs + fc]}
    return set()


def widest_op(program: OpProgram) -> int:
    """Tile bits the widest local op needs; at least 2 (room for a U2) unless the state has
    fewer qubits (a 1-qubit state has 1-bit tiles)."""
    return max([min(2, program.num_qubits)] + [len(_op_bits(program, i)) for i in range(program.num_ops)])


def _close(passes, i0, i1, need, fixed, tile_bits, q_n):
    if i1 <= i0:
        return
    bits = set(need) | set(range(fixed))
    free = (b for b in range(q_n) if b not in bits)
    while len(bits) < tile_bits:  # fill with the lowest unused bits: longer contiguous runs
        bits.add(next(free))
    passes.append(LocalPass(i0, i1, sum(1 << b for b in bits)))


def plan_blocked(program: OpProgram, tile_bits: int) -> BlockedPlan:
    """Cut the program into local passes (as many consecutive ops per pass as fit in the
    tile's bits) and permutation passes."""
    check_supported(program)
    q_n = program.num_qubits
    tile_bits = min(tile_bits, q_n)
    kmax = widest_op(program)
    if kmax > tile_bits:
        raise ValueError(f"an op acts on {kmax} qubits but tiles hold only {tile_bits}")
    fixed = max(0, min(FIXED_LOW_BITS, tile_bits - kmax))
    passes, need, i0 = [], set(), 0
    for i in range(program.num_ops):
        if int(program.ops[i, 0]) == OP_PERM:
            _close(passes, i0, i, need, fixed, tile_bits, q_n)
            passes.append(PermPass(i, int(program.ops[i, 3])))
            need, i0 = set(), i + 1
            continue
        bits = _op_bits(program, i)
        if len(need | bits | set(range(fixed))) > tile_bits:
            _close(passes, i0, i, need, fixed, tile_bits, q_n)
            need, i0 = set(), i
        need |= bits
    _close(passes, i0, program.num_ops, need, fixed, tile_bits, q_n)
    mofs = np.zeros(max(1, program.num_ops), dtype=np.int32)
    mrec = []
    for p in passes:
        size = 0
        if isinstance(p, LocalPass):
            for i in range(p.i0, p.i1):
                kind = int(program.ops[i, 0])
                mofs[i] = size
                size += 8 if kind in (OP_U1, OP_CXU1) else (32 if kind == OP_U2 else 0)
        mrec.append(size)
    return BlockedPlan(tile_bits, tuple(passes), mofs, tuple(mrec))


def pass_smem_bytes(tile_bits: int, tmask: int, itemsize: int, backward: bool) -> int:
    """Dynamic shared memory of hq_local_pass / hq_adjoint_pass (layout in kernels/blocked.cuh)."""
    low = (~tmask & (tmask + 1)).bit_length() - 1  # number of trailing one bits
    nt = 2 ** tile_bits
    return (8 * PASS_THREADS + itemsize * (WIN * MAT_SLOT + (4 if backward else 2) * nt)
            + 4 * 2 ** (tile_bits - low))


def default_tile_bits(num_qubits: int, itemsize: int, smem_limit: int) -> int:
    """The largest tile (<= 12 bits) whose backward pass fits the shared-memory limit."""
    for bits in range(min(12, num_qubits), 1, -1):
        if pass_smem_bytes(bits, (1 << bits) - 1, itemsize, True) <= smem_limit:
            return bits
    return min(2, num_qubits)


def expect_chunks(num_qubits: int) -> int:
    """Chunks per sample of the blocked expectation (one block each, ~8k amplitudes)."""
    return max(1, 2 ** num_qubits // 8192)


def check_supported(program: OpProgram) -> None:
    """Raise a clear error for programs the kernels cannot run."""
    if program.num_qubits > 30:
        raise ValueError(f"the CUDA backend addresses at most 30 qubits per state, got {program.num_qubits}")
    uk = program.ops[program.ops[:, 0] == OP_UK] if program.num_ops else program.ops
    if len(uk) and int(uk[:, 4].max()) > MAX_UK_QUBITS:
        raise ValueError(f"the CUDA backend applies dense Unitary gates on at most {MAX_UK_QUBITS} qubits, "
                         f"got one on {int(uk[:, 4].max())}")
    if program.num_ops and int(program.ops[:, 0].max()) > OP_CXU1:
        raise ValueError("the CUDA kernels interpret U1, U2, PERM, CZ, UK and CXU1 ops only, got op kind "
                         f"{int(program.ops[:, 0].max())}")
