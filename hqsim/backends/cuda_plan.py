"""Host-side planning for the CUDA kernels (kernels/): pure NumPy, no GPU needed.

Decides which path runs a program (resident: one sample's state in shared memory; blocked:
states in device memory, tiles of 2^L amplitudes), the launch shapes, the shared-memory bytes
each kernel carves (these formulas mirror the kernels' layouts and are checked by the tests),
and the blocked path's passes. The constants mirror kernels/resident.cuh and program.cuh.
"""
from __future__ import annotations

import bisect
import weakref
from dataclasses import dataclass

import numpy as np

from ..program import OP_CXU1, OP_FIELDS, OP_PERM, OP_U1, OP_U2, OP_UK, OpProgram
from . import cuda_bitmaps as bitmaps

WIN = 16                   # op matrices staged per window (resident.cuh)
MAT_SLOT = 32              # reals per staged matrix
MAXR = 16                  # amplitudes per thread held in registers by a permutation
MAX_RESIDENT_THREADS = 512  # __launch_bounds__ of the resident kernels
MAX_UK_QUBITS = 6          # program.cuh
PASS_THREADS = 256         # block size of the blocked path's tile kernels
FIXED_LOW_BITS = 5         # a tile always holds the low 5 bits: 32 contiguous amplitudes per run
MAP_ROWS = 64              # unsigned words of a local pass's scratch for a PERM op's tile map
GATHER_COST = 2            # local passes one whole-state gather is taken to cost (an estimate, not yet
                           # measured on a GPU: both read and write every state once, but the gather's
                           # reads scatter over 32-byte sectors)

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
    """Plan ops [i0, i1) (U1/CXU1/U2/CZ/UK, and PERM maps moving only tile bits) applied to tiles
    whose bits are ``tmask``."""
    i0: int
    i1: int
    tmask: int


@dataclass(frozen=True)
class PermPass:
    """A whole-state gather by the plan's bit map ``row`` (plan op ``op``): the fallback for a
    map that no split into tile-sized factors fits."""
    op: int
    row: int


@dataclass(frozen=True)
class BlockedPlan:
    tile_bits: int
    passes: tuple
    ops: np.ndarray      # int32 (n_plan_ops, OP_FIELDS): the program's ops, PERM ops as the plan's maps
    maps: tuple          # BitMap per plan PERM op (fstart indexes it)
    mofs: np.ndarray     # int32 (n_plan_ops,): offset of op's M partials in its pass's tile record
    mrec: tuple          # doubles per tile record, one per pass (0 for PermPass)

    def tiles(self, num_qubits: int) -> int:
        return 2 ** (num_qubits - self.tile_bits)

    def device_maps(self, num_qubits: int) -> np.ndarray:
        """(n_maps, 2, Q + 1) uint32 as the kernels read them (bitmaps.device_rows)."""
        return stack_device_maps(self.maps, num_qubits)

    def counts(self) -> tuple[int, int]:
        """(local passes, whole-state gathers): each reads and writes every state once."""
        gathers = sum(isinstance(p, PermPass) for p in self.passes)
        return len(self.passes) - gathers, gathers


def stack_device_maps(maps, num_qubits: int) -> np.ndarray:
    if not maps:
        return np.zeros((1, 2, num_qubits + 1), dtype=np.uint32)
    return np.stack([m.device_rows() for m in maps])


def program_maps(program: OpProgram) -> tuple:
    """The bit map of every PERM table of the program (cached per program)."""
    cached = _MAPS.get(program)
    if cached is None:
        cached = _MAPS[program] = tuple(bitmaps.from_table(t, program.num_qubits) for t in program.perms)
    return cached


_MAPS: "weakref.WeakKeyDictionary[OpProgram, tuple]" = weakref.WeakKeyDictionary()


def _op_bits(program: OpProgram, row) -> set[int]:
    """Global bit positions a local op needs inside the tile (CZ needs none: it is diagonal; a
    CXU1 only its target: a control outside the tile is fixed for the whole tile)."""
    q_n = program.num_qubits
    kind, q0, q1, fs, fc, _ = (int(v) for v in row)
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
    return max([min(2, program.num_qubits)] + [len(_op_bits(program, row)) for row in program.ops])


class _Planner:
    """Cuts the program into local passes, greedily: as many consecutive ops per pass as fit in
    the tile's bits. A PERM op's bit map joins the pass when the bits it moves fit too; when
    they do not, the map is split (BitMap.split) into a factor that fills the current pass and
    one for the next (split again while it is too wide); a map no split fits is a gather."""

    def __init__(self, program: OpProgram, tile_bits: int, in_tile_maps: bool):
        self.program, self.q_n, self.tile_bits = program, program.num_qubits, tile_bits
        kmax = widest_op(program)
        if kmax > tile_bits:
            raise ValueError(f"an op acts on {kmax} qubits but tiles hold only {tile_bits}")
        self.fixed = set(range(max(0, min(FIXED_LOW_BITS, tile_bits - kmax))))
        # the tile's permute goes through registers: at most PASS_THREADS * MAXR amplitudes
        self.in_tile_maps = in_tile_maps and 2 ** tile_bits <= PASS_THREADS * MAXR
        self.ops, self.maps, self.passes, self.need, self.i0 = [], [], [], set(), 0

    def fits(self, bits: set) -> bool:
        return len(self.need | bits | self.fixed) <= self.tile_bits

    def close(self):
        if len(self.ops) <= self.i0:
            return
        bits = self.need | self.fixed
        free = (b for b in range(self.q_n) if b not in bits)
        while len(bits) < self.tile_bits:  # fill with the lowest unused bits: longer contiguous runs
            bits.add(next(free))
        self.passes.append(LocalPass(self.i0, len(self.ops), sum(1 << b for b in bits)))
        self.need, self.i0 = set(), len(self.ops)

    def local_op(self, row):
        bits = _op_bits(self.program, row)
        if not self.fits(bits):
            self.close()
        self.need |= bits
        self.ops.append(row)

    def emit_map(self, m: bitmaps.BitMap):
        self.ops.append(np.array([OP_PERM, -1, -1, len(self.maps), 0, -1], dtype=np.int32))
        self.maps.append(m)

    def place_map(self, m: bitmaps.BitMap, k: int):
        """Place the bit map of program op ``k`` (or a factor of it)."""
        moved = m.moved()
        if not moved:
            return
        if self.in_tile_maps and self.fits(moved):
            self.need |= moved
            self.emit_map(m)
            return
        if self.in_tile_maps:
            for fresh in (False, True):  # fill this pass, else try again from an empty one
                if fresh:
                    self.close()
                first = self.first_factor_bits(moved, k)
                parts = m.split(first) if first else None
                if parts is not None:
                    head, tail = parts
                    if not head.is_identity():
                        self.need |= head.moved()
                        self.emit_map(head)
                    if not tail.is_identity():
                        self.close()
                        self.place_map(tail, k)
                    return
        self.close()
        self.emit_map(m)
        self.passes.append(PermPass(len(self.ops) - 1, len(self.maps) - 1))
        self.i0 = len(self.ops)

    def first_factor_bits(self, moved: set, k: int) -> set:
        """The moved bits the factor run in the current pass takes: those the pass holds already,
        then as many more as there is room for, those the ops after op ``k`` need latest first
        (the bits needed soonest go with the second factor into the next pass)."""
        held = moved & (self.need | self.fixed)
        room = self.tile_bits - len(self.need | self.fixed)
        later = sorted(moved - held, key=lambda b: (-self.next_use(b, k), b))
        return held | set(later[:max(0, room)])

    def next_use(self, bit: int, k: int) -> int:
        """Index of the first op after op ``k`` that needs ``bit`` in its tile (n_ops if none)."""
        at = self.uses.get(bit, [])
        j = bisect.bisect_right(at, k)
        return at[j] if j < len(at) else self.program.num_ops

    def plan(self) -> BlockedPlan:
        maps = program_maps(self.program)
        self.uses = {}  # bit -> indices of the program's ops that need it in the tile, ascending
        for k, row in enumerate(self.program.ops):
            perm = int(row[0]) == OP_PERM
            for b in (maps[int(row[3])].moved() if perm else _op_bits(self.program, row)):
                self.uses.setdefault(b, []).append(k)
        for k, row in enumerate(self.program.ops):
            if int(row[0]) == OP_PERM:
                self.place_map(maps[int(row[3])], k)
            else:
                self.local_op(row)
        self.close()
        ops = np.asarray(self.ops, dtype=np.int32).reshape(-1, OP_FIELDS)
        mofs = np.zeros(max(1, len(ops)), dtype=np.int32)
        mrec = []
        for p in self.passes:
            size = 0
            if isinstance(p, LocalPass):
                for i in range(p.i0, p.i1):
                    kind = int(ops[i, 0])
                    mofs[i] = size
                    size += 8 if kind in (OP_U1, OP_CXU1) else (32 if kind == OP_U2 else 0)
            mrec.append(size)
        return BlockedPlan(self.tile_bits, tuple(self.passes), ops, tuple(self.maps), mofs, tuple(mrec))


def plan_blocked(program: OpProgram, tile_bits: int) -> BlockedPlan:
    """The blocked path's passes for tiles of ``tile_bits`` bits (see _Planner): PERM maps run
    inside tiles, unless a whole-state gather per map makes the cheaper plan (small tiles, where
    splitting a wide map costs many passes); a gather counts as GATHER_COST passes."""
    check_supported(program)
    bits = min(tile_bits, program.num_qubits)
    in_tiles = _Planner(program, bits, in_tile_maps=True).plan()
    if not in_tiles.maps:
        return in_tiles
    gathers = _Planner(program, bits, in_tile_maps=False).plan()
    return min((in_tiles, gathers), key=lambda bp: bp.counts()[0] + GATHER_COST * bp.counts()[1])


def pass_smem_bytes(tile_bits: int, tmask: int, itemsize: int, backward: bool) -> int:
    """Dynamic shared memory of hq_local_pass / hq_adjoint_pass (layout in kernels/blocked.cuh)."""
    low = (~tmask & (tmask + 1)).bit_length() - 1  # number of trailing one bits
    nt = 2 ** tile_bits
    return (8 * PASS_THREADS + itemsize * (WIN * MAT_SLOT + (4 if backward else 2) * nt)
            + 4 * 2 ** (tile_bits - low) + 4 * MAP_ROWS)


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
    bad = [k for k, m in enumerate(program_maps(program)) if m is None]
    if bad:
        raise ValueError(f"the CUDA kernels run PERM tables that are affine maps of the index bits (products "
                         f"of CNOT, SWAP and X); permutation row {bad[0]} is not")
