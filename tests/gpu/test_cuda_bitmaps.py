"""PERM tables as GF(2) bit maps (hqsim/backends/cuda_bitmaps.py), checked against the tables."""
import dataclasses

import numpy as np
import pytest

from hqsim.backends import cuda_bitmaps as bm
from hqsim.backends import cuda_plan
from hqsim.compile import compile_circuit
from hqsim.ir import Circuit, Z
from hqsim.program import OP_PERM, cnot_permutation, inverse_permutations


def _random_table(rng, q, gates=12):
    """A PERM table made of random CNOTs, SWAPs and X gates, composed as the lowering composes
    them (psi[before[gate[i]]])."""
    idx = np.arange(2 ** q, dtype=np.int64)
    table = idx.copy()
    for _ in range(gates):
        kind = rng.integers(3)
        a, b = (int(v) for v in rng.choice(q, 2, replace=False)) if q > 1 else (0, 0)
        if kind == 0 and q > 1:
            gate = cnot_permutation(q, a, b)
        elif kind == 1 and q > 1:
            ba, bb = 1 << (q - 1 - a), 1 << (q - 1 - b)
            differ = ((idx & ba) != 0) != ((idx & bb) != 0)
            gate = np.where(differ, idx ^ ba ^ bb, idx)
        else:
            gate = idx ^ (1 << (q - 1 - a))
        table = table[gate]
    return table


@pytest.mark.parametrize("seed", range(6))
def test_a_z_string_pulled_back_through_a_map_has_the_same_signs(seed):
    rng = np.random.default_rng(100 + seed)
    q = 2 + seed
    m = bm.from_table(_random_table(rng, q), q)
    idx = np.arange(2 ** q, dtype=np.int64)
    src = m.apply(idx)
    for mask in rng.integers(0, 2 ** q, size=8):
        pulled, flip = m.pull_back(int(mask))
        np.testing.assert_array_equal(bm._parity(src & int(mask)), bm._parity(idx & pulled) ^ flip)


@pytest.mark.parametrize("seed", range(12))
def test_tables_round_trip_through_maps(seed):
    rng = np.random.default_rng(seed)
    q = 1 + seed % 7
    table = _random_table(rng, q)
    m = bm.from_table(table, q)
    assert m is not None
    np.testing.assert_array_equal(m.table(), table)
    np.testing.assert_array_equal(m.apply(np.arange(2 ** q)), table)
    np.testing.assert_array_equal(m.inverse().table(), inverse_permutations(table[None, :])[0])
    other = bm.from_table(_random_table(rng, q), q)
    np.testing.assert_array_equal(m.then(other).table(), table[other.table()])  # psi[m(other(i))]
    rows = m.device_rows()
    assert rows.shape == (2, q + 1) and rows.dtype == np.uint32
    assert tuple(int(v) for v in rows[0, :q]) == m.rows and int(rows[0, q]) == m.const


def test_a_table_that_is_no_affine_map_is_refused():
    assert bm.from_table(np.array([0, 2, 1, 3, 4, 6, 5, 7]), 3) is not None  # a SWAP
    assert bm.from_table(np.array([1, 0, 2, 3, 4, 5, 6, 7]), 3) is None      # swaps two basis states only
    with pytest.raises(ValueError, match="holds 8 entries"):
        bm.from_table(np.arange(4), 3)
    c = Circuit(3)
    c.cnot(0, 1)
    prog = compile_circuit(c, [Z(0)]).program
    assert prog.ops[0, 0] == OP_PERM
    bad = np.array([[1, 0, 2, 3, 4, 5, 6, 7]], dtype=np.int32)
    prog = dataclasses.replace(prog, perms=bad, inv_perms=inverse_permutations(bad))
    with pytest.raises(ValueError, match="permutation row 0 is not"):
        cuda_plan.check_supported(prog)


@pytest.mark.parametrize("seed", range(20))
def test_split_factors_the_map(seed):
    """head then tail is the map; head moves only the chosen bits, tail only the others (None
    where the map's block on the other bits is singular: a SWAP's two bits cannot be parted)."""
    rng = np.random.default_rng(100 + seed)
    q = 3 + seed % 6
    m = bm.from_table(_random_table(rng, q, gates=20), q)
    assert m.const or seed % 4  # constants (X gates) too
    for subset in range(1, 2 ** q - 1):
        first = {b for b in range(q) if subset >> b & 1}
        parts = m.split(first)
        if parts is None:
            continue
        head, tail = parts
        assert head.moved() <= first and tail.moved() <= m.moved() - first
        np.testing.assert_array_equal(head.then(tail).table(), m.table())
    swap = bm.from_table(np.array([0, 2, 1, 3]), 2)
    assert swap.split({0}) is None and swap.split({0, 1}) is not None


def test_split_of_a_cnot_ring():
    """W1's entangler: a ring of CNOTs moves every bit; split so each factor fits a tile."""
    q = 8
    table = np.arange(2 ** q)
    for c in range(q):
        table = table[cnot_permutation(q, c, (c + 1) % q)]
    m = bm.from_table(table, q)
    assert m.moved() == set(range(q))
    head, tail = m.split({0, 1, 2, 3})
    assert head.moved() <= {0, 1, 2, 3} and tail.moved() <= {4, 5, 6, 7}
    np.testing.assert_array_equal(head.then(tail).table(), table)
