"""The CUDA host planning (no GPU needed): paths, shared-memory budgets, blocked passes."""
import dataclasses

import numpy as np
import pytest

from hqsim.ansatz import amplitude_encoder, rpqc, z_all
from hqsim.backends import cuda_plan as cp
from hqsim.backends.cuda_bitmaps import BitMap
from hqsim.compile import compile_circuit
from hqsim.program import OP_CXU1, OP_PERM, OP_U1, OP_U2, OP_UK, expand_fused_cnots

from .helpers import random_case

H100_SMEM = 227 * 1024


def _maps_between(ops, maps_of):
    """The non-PERM ops in order and, before each (and at the end), the composition of the PERM
    ops' bit maps since the previous one."""
    out, pending = [], None
    for row in ops:
        if int(row[0]) == OP_PERM:
            m = maps_of(int(row[3]))
            pending = m if pending is None else pending.then(m)
            continue
        out.append((pending, tuple(int(v) for v in row)))
        pending = None
    out.append((pending, None))
    return out


def _same_map(a, b, q):
    ident = BitMap(tuple(1 << r for r in range(q)))
    a, b = a or ident, b or ident
    return a.rows == b.rows and a.const == b.const


def _covering_ok(program, bp):
    """Every plan op in exactly one pass, in order; each local op's bits (a PERM map's moved
    bits) inside its tile; the plan's ops are the program's, its PERM maps (split into factors,
    identities dropped) composing to the program's between any two other ops."""
    seen = []
    q_n = program.num_qubits
    for p, mrec in zip(bp.passes, bp.mrec):
        if isinstance(p, cp.PermPass):
            assert bp.ops[p.op, 0] == OP_PERM and p.row == bp.ops[p.op, 3]
            seen.append(p.op)
            assert mrec == 0
            continue
        assert bin(p.tmask).count("1") == bp.tile_bits
        assert p.tmask < 2 ** q_n
        low = (~p.tmask & (p.tmask + 1)).bit_length() - 1
        assert low >= min(cp.FIXED_LOW_BITS, bp.tile_bits - cp.widest_op(program))  # coalesced runs kept
        size = 0
        for i in range(p.i0, p.i1):
            kind = int(bp.ops[i, 0])
            bits = bp.maps[bp.ops[i, 3]].moved() if kind == OP_PERM else cp._op_bits(program, bp.ops[i])
            for b in bits:
                assert p.tmask >> b & 1, (i, b, bin(p.tmask))
            if kind in (OP_U1, OP_CXU1, OP_U2):
                assert bp.mofs[i] == size
                size += 32 if kind == OP_U2 else 8
            seen.append(i)
        assert mrec == size
    assert seen == list(range(len(bp.ops)))
    prog_maps = cp.program_maps(program)
    want = _maps_between(program.ops, lambda r: prog_maps[r])
    got = _maps_between(bp.ops, lambda r: bp.maps[r])
    assert [row for _, row in got] == [row for _, row in want]
    for (gm, _), (wm, _) in zip(got, want):
        assert _same_map(gm, wm, q_n)


@pytest.mark.parametrize("q,tile", [(8, 4), (12, 6), (16, 11), (20, 12)])
def test_w1_plan_covers_every_op(q, tile):
    c = rpqc(q)
    prog = expand_fused_cnots(compile_circuit(c, z_all(q)).program)
    bp = cp.plan_blocked(prog, tile)
    _covering_ok(prog, bp)
    # passes per layer, not per gate: ceil(Q / free tile bits) local passes + 1 for the ring (a
    # gather, or the ring's factors' own pass), + 1 for the last layer's leftover factor
    free = tile - min(cp.FIXED_LOW_BITS, tile - 2)
    assert len(bp.passes) <= 4 * 2 * (-(-q // free) + 1) + 1


@pytest.mark.parametrize("seed", range(20))
def test_random_plan_covers_every_op(seed):
    rng = np.random.default_rng(seed)
    prog, *_ = random_case(rng, int(rng.integers(3, 9)), 40, 2)
    for tile in (3, 4, prog.num_qubits):
        bp = cp.plan_blocked(prog, tile)
        _covering_ok(prog, bp)


@pytest.mark.parametrize("seed", range(4))
def test_one_qubit_programs_plan(seed):
    """Q = 1 used to raise (the planner reserved room for a 2-qubit op in a 1-bit tile)."""
    prog, *_ = random_case(np.random.default_rng(seed), 1, 12, 2, amplitude=seed % 2 == 0)
    for tile in (1, 2, 12):
        bp = cp.plan_blocked(prog, tile)
        _covering_ok(prog, bp)
        assert bp.tile_bits == 1


def test_uk_wider_than_tile_is_refused():
    rng = np.random.default_rng(0)
    from hqsim.ir import Circuit
    from .helpers import random_unitary
    c = Circuit(5)
    c.unitary(random_unitary(rng, 8), [0, 2, 4])
    prog = expand_fused_cnots(compile_circuit(c, z_all(5)).program)
    assert (prog.ops[:, 0] == OP_UK).any()
    with pytest.raises(ValueError, match="acts on 3 qubits"):
        cp.plan_blocked(prog, 2)


def test_resident_fits_w1_range_on_h100_budget():
    for q in range(1, 14):
        cfg = cp.resident_config(q, 4, True, H100_SMEM)
        assert cfg is not None, q
        assert cfg.block <= cp.MAX_RESIDENT_THREADS and cfg.block % 32 == 0
        assert 2 ** q <= cfg.threads_per_sample * cp.MAXR
        assert cfg.smem_bytes <= H100_SMEM
    assert cp.resident_config(14, 4, True, H100_SMEM) is None
    assert cp.resident_config(13, 8, True, H100_SMEM) is None  # complex128: a qubit less
    assert cp.resident_config(12, 8, True, H100_SMEM) is not None


def test_tile_fits_shared_memory():
    for itemsize in (4, 8):
        for limit in (48 * 1024, 99 * 1024, H100_SMEM):
            bits = cp.default_tile_bits(20, itemsize, limit)
            assert cp.pass_smem_bytes(bits, (1 << bits) - 1, itemsize, True) <= limit


def test_amplitude_encoder_plan():
    c = amplitude_encoder(10, 384)
    prog = expand_fused_cnots(compile_circuit(c, z_all(10)).program)
    _covering_ok(prog, cp.plan_blocked(prog, 7))


# ---- the blocked path's tile algebra, emulated in NumPy with the Numba gate loops -------------
def _deposit(value, positions):
    out = 0
    for k, pos in enumerate(positions):
        if value >> k & 1:
            out |= 1 << pos
    return out


def _emulate_blocked_forward(program, xb, w, tile_bits):
    """One sample through plan_blocked's passes exactly as kernels/blocked.cuh addresses them:
    tile element j at base | (j & low) | hi_tab[j >> F]; gate bits remapped to tile ranks; CZ
    bits outside the tile read off the tile's base."""
    import torch

    from hqsim.backends.custatevec import TorchFactors  # per-sample op matrices, checked vs Numba
    from hqsim.program import OP_CZ
    bp = cp.plan_blocked(program, tile_bits)
    ops = bp.ops  # the plan's ops: the program's, its PERM ops as the plan's bit maps
    tf = TorchFactors(dataclasses.replace(program, ops=ops), torch.as_tensor(xb[None, :]), torch.as_tensor(w))
    q_n, n = program.num_qubits, 2 ** program.num_qubits
    psi = np.zeros(n, complex)
    if program.amp_size:
        a = xb[program.amp_start:program.amp_start + program.amp_size]
        psi[:program.amp_size] = a / np.linalg.norm(a)
    else:
        psi[0] = 1
    for p in bp.passes:
        if isinstance(p, cp.PermPass):
            psi = psi[bp.maps[p.row].table()]
            continue
        bits = [b for b in range(q_n) if p.tmask >> b & 1]
        f = (~p.tmask & (p.tmask + 1)).bit_length() - 1
        hi, outside = bits[f:], [b for b in range(q_n) if not p.tmask >> b & 1]
        rank = {b: k for k, b in enumerate(bits)}
        for tile in range(2 ** len(outside)):
            base = _deposit(tile, outside)
            idx = np.array([base | (j & ((1 << f) - 1)) | _deposit(j >> f, hi) for j in range(2 ** bp.tile_bits)])
            amp = psi[idx].copy()
            where = {int(g): j for j, g in enumerate(idx)}
            for i in range(p.i0, p.i1):
                kind, q0, q1 = (int(v) for v in ops[i, :3])
                lb = (lambda q: 1 << rank[q_n - 1 - q])  # noqa: E731
                j = np.arange(len(amp))
                if kind in (OP_U1, OP_U2):
                    um = tf.op(i)[0][0].numpy()
                    frame = [lb(q0)] + ([lb(q1)] if kind == OP_U2 else [])
                    mask = sum(frame)
                    base0 = j[(j & mask) == 0]
                    offs = [sum(b for k, b in enumerate(frame) if a >> (len(frame) - 1 - k) & 1)
                            for a in range(2 ** len(frame))]
                    group = amp[base0[:, None] + np.array(offs)[None, :]]
                    amp[base0[:, None] + np.array(offs)[None, :]] = group @ um.T
                elif kind == OP_CZ:
                    both = (1 << (q_n - 1 - q0)) | (1 << (q_n - 1 - q1))
                    out = both & ~p.tmask
                    lm = sum(1 << rank[b] for b in bits if both >> b & 1)
                    if base & out == out:
                        amp[(j & lm) == lm] *= -1
                elif kind == OP_PERM:  # the map's sources must lie in the tile: else KeyError
                    amp = amp[[where[int(v)] for v in bp.maps[int(ops[i, 3])].apply(idx)]]
                else:  # the circuits here have no Unitary gates: any other op is a planning bug
                    raise AssertionError(f"op kind {kind} reached the blocked emulation")
            psi[idx] = amp
    return psi


@pytest.mark.parametrize("seed", range(12))
def test_blocked_tile_algebra_reproduces_the_state(seed):
    from hqsim.backends import numba_cpu
    rng = np.random.default_rng(500 + seed)
    from .helpers import random_args, random_circuit, random_observables
    nq = int(rng.integers(3, 8))
    c = random_circuit(rng, nq, 40, amplitude=seed % 3 == 0, allow_unitary=False)
    for _ in range(3):
        a, b = (int(v) for v in rng.choice(nq, 2, replace=False))
        c.cz(a, b)
    obs = random_observables(rng, nq)
    x, w = random_args(rng, c, 2)
    prog = expand_fused_cnots(compile_circuit(c, obs, optimize=False).program)
    _, want = numba_cpu.forward(prog, x, w, np.float64, True)
    for tile in sorted({2, 3, nq - 1, nq}):
        got = _emulate_blocked_forward(prog, x[0], w, tile)
        np.testing.assert_allclose(got, want[0], atol=1e-10)


def test_w2_module_runs_in_passes_per_layer_at_q18():
    """W2's QPU module at Q = 18 (tiles of 12 bits): its CXU1 ops run inside tiles (a control
    outside the tile only says whether the tile's pairs swap), so no gathers and about one local
    pass per ring; it was 208 local passes and 207 whole-state gathers when every CXU1 was split
    into a PERM gather and a U1. W1's CNOT rings run inside tiles as bit maps split into
    tile-sized factors: 17 local passes and no gathers (it was 16 local passes + 8 gathers)."""
    from hqsim.ansatz import reuploading_module
    from hqsim.ir import Z
    w2 = compile_circuit(reuploading_module(18), [Z(0)]).program
    bp = cp.plan_blocked(w2, 12)
    _covering_ok(w2, bp)
    assert bp.counts() == (21, 0)
    w1 = compile_circuit(rpqc(18), z_all(18)).program
    bp = cp.plan_blocked(w1, 12)
    _covering_ok(w1, bp)
    assert bp.counts() == (17, 0)


def test_gathers_are_kept_where_splitting_costs_more():
    """With tiny tiles a CNOT ring splits into many factors, each needing a pass: the planner
    then keeps one whole-state gather per ring (cheaper at GATHER_COST passes each)."""
    w1 = compile_circuit(rpqc(18), z_all(18)).program
    bp = cp.plan_blocked(w1, 3)
    _covering_ok(w1, bp)
    assert bp.counts() == (72, 8)
    split = cp._Planner(w1, 3, in_tile_maps=True).plan()
    _covering_ok(w1, split)
    local, gathers = split.counts()
    assert local + cp.GATHER_COST * gathers > 72 + cp.GATHER_COST * 8
