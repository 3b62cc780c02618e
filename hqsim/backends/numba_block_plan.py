"""The tables numba_block_kernels runs a program's fused blocks from (plain NumPy, built once
per program by numba_cpu.numba_program): per block its tile row offsets, its bits and its final
slot map; per member op its kind, whether its matrix is real, and its slots.

Local index r of a block on wires w_0 .. w_{k-1}: bit k-1-j of r is wire w_j's bit. ``slot[r]``
is the tile slot that holds logical row r; it starts as the identity, and a member CXU1's CNOT
(control c, target t) changes it to ``slot[cnot(r)]`` (psi'[r] = psi[cnot(r)]): no data moves.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..program import F_CONST, F_RY, OP_CXU1, OP_CZ, OP_U1, OpProgram
from .numba_block_kernels import MEMBER_MAP, MEMBER_PAIRS, MEMBER_SIGN

BLOCK_COLUMNS = 6  # first op, op count, k, offs/final start, bits start, fix (final != identity)


@dataclass(frozen=True)
class BlockPlan:
    units: np.ndarray          # int32 (n_units, 2): op index, block index or -1
    blocks: np.ndarray         # int64 (n_blocks, BLOCK_COLUMNS)
    offs: np.ndarray           # int64: 2^k row offsets per block
    bits: np.ndarray           # int64: k bits per block, ascending
    final: np.ndarray          # int32: 2^k final slots per block
    ident: np.ndarray          # int32: 0 .. 2^max_k - 1
    member_kind: np.ndarray    # int32 (n_ops,)
    member_real: np.ndarray    # bool (n_ops,)
    member_pstart: np.ndarray  # int64 (n_ops,)
    member_pairs: np.ndarray   # int32: the members' slots
    max_k: int
    max_members: int


def _is_identity(program: OpProgram, i: int) -> bool:
    fs, fc = int(program.ops[i, 3]), int(program.ops[i, 4])
    if fc != 1 or program.factors[fs, 0] != F_CONST:
        return False
    off = int(program.factors[fs, 4])
    return bool(np.array_equal(program.const_mats[off:off + 4], np.eye(2).reshape(-1)))


def _member_slots(program: OpProgram, i: int, local: dict, slot: list, pairs: list):
    """Kind of member op i; appends its slots to ``pairs`` and updates ``slot`` (its CNOT)."""
    kind, q0, q1 = (int(v) for v in program.ops[i, :3])
    dim = len(slot)
    if kind == OP_CZ:
        both = local[q0] | local[q1]
        pairs.extend(slot[r] for r in range(dim) if r & both == both)
        return MEMBER_SIGN
    if kind not in (OP_U1, OP_CXU1):
        raise ValueError(f"op {i} ({kind}) cannot be a block member")
    t = local[q0]
    if kind == OP_CXU1:
        c = local[q1]
        slot[:] = [slot[r ^ t] if r & c else slot[r] for r in range(dim)]
        if _is_identity(program, i):
            return MEMBER_MAP
    for r in range(dim):
        if not r & t:
            pairs.extend((slot[r], slot[r | t]))
    return MEMBER_PAIRS


def plan_blocks(program: OpProgram) -> BlockPlan:
    n_ops, nq = program.num_ops, program.num_qubits
    kind = np.full(n_ops, MEMBER_MAP, np.int32)
    real = np.zeros(n_ops, np.bool_)
    pstart = np.zeros(n_ops, np.int64)
    rows, offs, bits, final, pairs, units = [], [], [], [], [], []
    block_at = {int(b[0]): j for j, b in enumerate(program.blocks)}
    i = 0
    while i < n_ops:
        j = block_at.get(i)
        if j is None:
            units.append((i, -1))
            i += 1
            continue
        first, count, ws, k = (int(v) for v in program.blocks[j])
        wires = [int(w) for w in program.wires[ws:ws + k]]
        local = {w: 1 << (k - 1 - n) for n, w in enumerate(wires)}
        gbit = [1 << (nq - 1 - w) for w in wires]
        rows.append([first, count, k, len(offs), len(bits), 0])
        offs.extend(sum(g for n, g in enumerate(gbit) if r & (1 << (k - 1 - n))) for r in range(1 << k))
        bits.extend(sorted(gbit))
        slot = list(range(1 << k))
        for m in range(first, first + count):
            pstart[m] = len(pairs)
            kind[m] = _member_slots(program, m, local, slot, pairs)
            fs, fc = int(program.ops[m, 3]), int(program.ops[m, 4])
            real[m] = bool(np.all(program.factors[fs:fs + fc, 0] == F_RY))
        final.extend(slot)
        rows[-1][5] = int(slot != list(range(1 << k)))
        units.append((first, j))
        i = first + count
    max_k = max([int(r[2]) for r in rows], default=1)
    return BlockPlan(
        units=np.asarray(units, np.int32).reshape(-1, 2),
        blocks=np.asarray(rows, np.int64).reshape(-1, BLOCK_COLUMNS),
        offs=np.asarray(offs or [0], np.int64), bits=np.asarray(bits or [1], np.int64),
        final=np.asarray(final or [0], np.int32), ident=np.arange(1 << max_k, dtype=np.int32),
        member_kind=kind, member_real=real, member_pstart=pstart,
        member_pairs=np.asarray(pairs or [0], np.int32), max_k=max_k,
        max_members=max([int(r[1]) for r in rows], default=1))
