"""PERM ops run as bit maps by the CUDA kernels (kernels/program.cuh bit_map_source; in tiles on
the blocked path, kernels/blocked.cuh tile_bit_map): maps with constants (X gates), maps whose
rows read bits outside the tile, wide maps split into tile-sized factors, and the whole-state
gather kept where it is cheaper, on every path, both dtypes, odd batches, with gradients."""
import dataclasses

import numpy as np
import pytest

from hqsim.ansatz import rpqc, z_all
from hqsim.backends import cuda_plan
from hqsim.compile import compile_circuit
from hqsim.program import OP_PERM, inverse_permutations

from .helpers import DEVICES, cuda_backend_or_skip
from .test_cuda_backend import check_forward, check_vjp
from .test_cuda_bitmaps import _random_table

PATHS = [dict(path="resident"), dict(path="blocked", tile_bits=3), dict(path="blocked", tile_bits=4)]
PATH_IDS = ["resident", "blocked-3-bit-tiles", "blocked-4-bit-tiles"]


def _affine_case(seed, nq=7, batch=5):
    """W1's circuit with every CNOT ring's table replaced by a random product of CNOTs, SWAPs
    and X gates (so maps with constants, and wider than small tiles)."""
    rng = np.random.default_rng(3000 + seed)
    c, obs = rpqc(nq, 3, 2, 1), z_all(nq)
    program = compile_circuit(c, obs).program
    assert program.perms.shape[0] >= 2
    perms = np.stack([_random_table(rng, nq, gates=int(rng.integers(2, 7))) for _ in range(program.perms.shape[0])]).astype(np.int32)
    program = dataclasses.replace(program, perms=perms, inv_perms=inverse_permutations(perms))
    x = rng.uniform(-np.pi, np.pi, size=(batch, c.num_inputs))
    w = rng.uniform(-np.pi, np.pi, size=c.num_weights)
    return program, None, c, obs, x, w, rng


def test_affine_cases_reach_every_kind_of_in_tile_map():
    """The cases below do what they claim: maps with constants and maps reading bits outside
    their tile run inside tiles, and some maps are split into factors."""
    consts = outside = split = 0
    for seed in range(3):
        program = _affine_case(seed)[0]
        for tile in (3, 4):
            bp = cuda_plan.plan_blocked(program, tile)
            split += len(bp.maps) > program.perms.shape[0]
            for p in bp.passes:
                if isinstance(p, cuda_plan.LocalPass):
                    for i in range(p.i0, p.i1):
                        if bp.ops[i, 0] == OP_PERM:
                            m = bp.maps[bp.ops[i, 3]]
                            consts += m.const != 0
                            outside += any(m.rows[r] & ~p.tmask for r in m.moved())
    assert consts and outside and split


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("opts", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("real_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(3))
def test_affine_permutations_match_numba(device, opts, real_dtype, seed):
    be = cuda_backend_or_skip(device, **opts)
    *case, rng = _affine_case(seed, batch=[5, 1, 7][seed])
    check_forward(be, case, real_dtype, check_oracle=False)
    check_vjp(be, case, real_dtype, rng, check_oracle=False)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("real_dtype", [np.float32, np.float64])
def test_w1_rings_split_into_tile_factors_against_the_oracle(device, real_dtype):
    """W1 at Q = 10 on 6-bit tiles: each CNOT ring moves all 10 bits, so it runs as factors in
    several passes (no gathers), against the complex128 oracle."""
    rng = np.random.default_rng(11)
    c, obs = rpqc(10, 2, 2, 1), z_all(10)
    program = compile_circuit(c, obs).program
    bp = cuda_plan.plan_blocked(program, 6)
    assert bp.counts()[1] == 0 and len(bp.maps) > program.perms.shape[0]
    be = cuda_backend_or_skip(device, path="blocked", tile_bits=6)
    x = rng.uniform(-np.pi, np.pi, size=(3, c.num_inputs))
    w = rng.uniform(-np.pi, np.pi, size=c.num_weights)
    case = (program, None, c, obs, x, w)
    check_forward(be, case, real_dtype)
    check_vjp(be, case, real_dtype, rng)
