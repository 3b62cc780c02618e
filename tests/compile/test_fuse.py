"""The fusion pass (hqsim/compile/fuse.py) and the lowering of its blocks: the reordered circuit
means the same, blocks respect their size, the exact expected blocks on a ring, idempotence,
and the program's blocks table (members only U1/CXU1/CZ on the block's qubits)."""
from __future__ import annotations

import numpy as np
import pytest

from hqsim import ansatz
from hqsim.backends import reference
from hqsim.compile import compile_for_expectation, fuse_gates, lower
from hqsim.ir import Circuit, Z, input, weight
from hqsim.program import OP_CXU1, OP_CZ, OP_U1

from core.random_circuits import random_args, random_circuit


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [2, 3, 4])
def test_fused_circuit_has_the_same_state(seed, k):
    rng = np.random.default_rng(seed)
    circ = random_circuit(rng, int(rng.integers(2, 6)), 40)
    x, w = random_args(rng, circ, 3)
    fused = fuse_gates(circ, max_qubits=k)
    assert sorted(map(repr, fused.circuit.gates)) == sorted(map(repr, circ.gates))
    np.testing.assert_allclose(reference.statevector(fused.circuit, x, w), reference.statevector(circ, x, w),
                               atol=1e-12)
    for blk in fused.blocks:
        gates = fused.circuit.gates[blk.start:blk.stop]
        assert len(blk.qubits) <= k
        assert set().union(*(g.qubits for g in gates)) <= set(blk.qubits)
        assert all(len(g.qubits) == 1 or g.name in ("CNOT", "CZ") for g in gates)


def test_ring_blocks_are_the_expected_ones():
    c = Circuit(4, num_weights=4)
    for q in range(4):
        c.ry(weight(q), q)
    for q in range(4):
        c.cnot(q, (q + 1) % 4)
    fused = fuse_gates(c, max_qubits=3)
    got = [(blk.qubits, [(g.name, g.qubits) for g in fused.circuit.gates[blk.start:blk.stop]])
           for blk in fused.blocks]
    assert got == [
        ((0, 1, 2), [("RY", (0,)), ("RY", (1,)), ("CNOT", (0, 1)), ("RY", (2,)), ("CNOT", (1, 2))]),
        ((0, 2, 3), [("RY", (3,)), ("CNOT", (2, 3)), ("CNOT", (3, 0))]),
    ]


def test_gates_that_do_not_fuse_stand_alone_and_close_blocks():
    c = Circuit(3, num_weights=2)
    c.ry(weight(0), 0).ry(weight(1), 1).crx(0.3, 0, 1).cnot(1, 2)
    fused = fuse_gates(c, max_qubits=3)
    assert [g.name for g in fused.circuit.gates] == ["RY", "RY", "CRX", "CNOT"]
    assert all("CRX" not in [g.name for g in fused.circuit.gates[b.start:b.stop]] for b in fused.blocks)


def test_fusion_is_idempotent():
    circ = ansatz.rpqc(6, 2, 2)
    once = fuse_gates(circ, max_qubits=3)
    twice = fuse_gates(once.circuit, max_qubits=3)
    assert [repr(g) for g in twice.circuit.gates] == [repr(g) for g in once.circuit.gates]
    assert twice.blocks == once.blocks


@pytest.mark.parametrize("bad", [1, 0, 2.5, True, "3"])
def test_max_qubits_is_checked(bad):
    with pytest.raises(ValueError, match="max_qubits"):
        fuse_gates(ansatz.rpqc(3, 1, 1), max_qubits=bad)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_lowered_blocks_hold_only_members_on_their_qubits(k):
    circ = ansatz.rpqc(7, 2, 2)
    obs = [Z(q) for q in range(7)]
    program = lower(fuse_gates(compile_for_expectation(circ, obs), max_qubits=k), obs)
    assert program.blocks.shape[0] > 0
    for first, count, ws, kk in program.blocks:
        wires = set(program.wires[ws:ws + kk].tolist())
        assert count >= 2 and kk <= k and len(wires) == kk
        for op in program.ops[first:first + count]:
            assert op[0] in (OP_U1, OP_CXU1, OP_CZ)
            assert {int(op[1])} | ({int(op[2])} if op[2] >= 0 else set()) <= wires
    spans = sorted((int(first), int(first + count)) for first, count, _, _ in program.blocks)
    assert all(stop <= nxt for (_, stop), (nxt, _) in zip(spans, spans[1:]))


def test_a_block_of_input_and_weight_rotations_lowers_to_one_block():
    c = Circuit(2, num_weights=1, num_inputs=2)
    c.ry(input(0), 0).ry(input(1), 1).cnot(0, 1).ry(weight(0), 1)
    program = lower(fuse_gates(c, max_qubits=2), [Z(1)])
    assert program.blocks.tolist() == [[0, 3, 0, 2]]
    assert [int(k) for k in program.ops[:, 0]] == [OP_U1, OP_U1, OP_CXU1]


def test_cost_model_picks_the_cheapest_block_per_replaced_pass_or_none():
    from hqsim.compile.fuse import FusionCosts, choose_fusion_qubits
    assert choose_fusion_qubits(FusionCosts(5.0, {2: 8.0, 3: 9.0, 4: 19.0})) == 3  # 0.8, 0.6, 0.95
    assert choose_fusion_qubits(FusionCosts(5.0, {2: 10.0, 3: 16.0})) is None  # 1.0 and 1.07: no gain
    assert choose_fusion_qubits(FusionCosts(5.0, {})) is None
