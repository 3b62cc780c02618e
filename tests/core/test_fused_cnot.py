"""CNOT + single-qubit run on the target lowered as one CXU1 op: where the lowering fuses,
that the order of everything around it is kept, and that the Numba backend (which runs CXU1)
and the expanded program (which the CUDA kernels run) both agree with the oracle, forward
and adjoint."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hqsim import ansatz
from hqsim.api import compile_circuit
from hqsim.backends import get_backend, numba_cpu
from hqsim.compile import CompiledCircuit
from hqsim.ir import Circuit, X, Z, input, weight
from hqsim.program import OP_CXU1, OP_PERM, OP_U1, expand_fused_cnots

from .random_circuits import random_observables


def _kinds(program):
    return [int(k) for k in program.ops[:, 0]]


def _oracle(circ, obs, x, w, cot):
    compiled = compile_circuit(circ, obs)
    ref = get_backend("reference")
    out, _ = ref.forward(compiled, x, w, np.float64, False)
    dw, dx = ref.vjp(compiled, x, w, cot, np.float64, True)
    return out, dw, dx


def _numba_on(program, x, w, cot):
    out, _ = numba_cpu.forward(program, x, w, np.float64)
    dw, dx = numba_cpu.vjp(program, x, w, cot, np.float64, True)
    return out, dw, dx


def _check(circ, obs, batch=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(batch, circ.num_inputs))
    w = rng.uniform(-2, 2, size=circ.num_weights)
    compiled = compile_circuit(circ, obs)
    cot = rng.normal(size=(batch, len(compiled.observables)))
    want = _oracle(circ, obs, x, w, cot)
    for program in (compiled.program, expand_fused_cnots(compiled.program)):
        got = _numba_on(program, x, w, cot)
        for g, e in zip(got, want):
            np.testing.assert_allclose(g, e, atol=1e-10)
    return compiled.program


def test_ring_pqc_lowers_to_cxu1_ops_only():
    circ = ansatz.ring_pqc(5, layers=2, connectivity=2)
    program = compile_circuit(circ).program
    assert set(_kinds(program)) == {OP_CXU1}  # every CNOT carries its target's RY
    assert _kinds(expand_fused_cnots(program)).count(OP_PERM) == program.num_ops
    _check(circ, None)


def test_w2_qpu_module_matches_oracle_with_fused_cnots():
    circ = ansatz.reuploading_module(4, 2, 1, 1, 2)
    program = _check(circ, [Z(0), X(1)])
    assert OP_CXU1 in _kinds(program)


def test_cnot_not_followed_by_a_gate_on_its_target_stays_a_permutation():
    c = Circuit(3, num_weights=2)
    c.ry(weight(0), 0).ry(weight(1), 1).cnot(0, 1).cnot(1, 2).cnot(2, 0)
    program = _check(c, [Z(0), Z(1), Z(2)])
    assert OP_CXU1 not in _kinds(program)
    assert OP_PERM in _kinds(program)


def test_order_kept_around_fused_cnots():
    # gates on the control after the CNOT must come after it; a later CNOT out of the
    # target ends the run; a parametric two-qubit gate on the control flushes the fused op
    c = Circuit(4, num_weights=6, num_inputs=2)
    c.h(0).cnot(0, 1).ry(weight(0), 0).rx(input(0), 1)
    c.cnot(1, 2).cnot(1, 3).rz(weight(1), 2).ry(weight(2), 3)
    c.cnot(3, 0).crx(weight(3), 0, 2).ry(weight(4), 0)
    c.cnot(2, 1).rxx(1.1 * input(1) + 0.2, 1, 3).cnot(0, 3).cz(3, 2).ry(weight(5), 3)
    program = _check(c, [Z(0), Z(1) @ Z(2), X(3)])
    assert OP_CXU1 in _kinds(program)


def test_two_qubit_gate_on_the_control_waits_for_the_fused_cnot():
    # RXX on the control does not commute with the CNOT: the fused op must be emitted first
    c = Circuit(3, num_weights=3)
    c.ry(0.4, 0).rx(0.9, 1).cnot(0, 1).rxx(weight(0), 0, 2).ry(weight(1), 1).crx(weight(2), 2, 0).ry(0.3, 0)
    program = _check(c, [Z(0), Z(1), X(2)])
    assert OP_CXU1 in _kinds(program)


def test_fused_cnot_whose_run_folds_away_keeps_the_cnot():
    c = Circuit(2, num_weights=1)
    c.ry(weight(0), 0).cnot(0, 1).rz(0.0, 1)  # the RZ(0) folds to nothing
    _check(c, [Z(1)])


def test_amplitude_encoder_with_fused_cnots_gives_input_gradients():
    circ = ansatz.amplitude_encoder(3, 6, layers=2, connectivity=1)
    program = _check(circ, None, batch=4)
    assert OP_CXU1 in _kinds(program) and OP_U1 not in _kinds(program)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), nq=st.integers(2, 4), ngates=st.integers(1, 24))
def test_hypothesis_cnot_heavy_circuits_match_oracle(seed, nq, ngates):
    rng = np.random.default_rng(seed)
    c = Circuit(nq, num_weights=3, num_inputs=2)
    for _ in range(ngates):
        r = rng.random()
        a, b = (int(q) for q in rng.choice(nq, size=2, replace=False))
        if r < 0.4:
            c.cnot(a, b)
        elif r < 0.75:
            p = weight(int(rng.integers(3))) if rng.random() < 0.5 else 0.7 * input(int(rng.integers(2))) - 0.1
            getattr(c, ["rx", "ry", "rz"][int(rng.integers(3))])(p, a)
        elif r < 0.85:
            c.crz(weight(int(rng.integers(3))), a, b)
        elif r < 0.92:
            c.swap(a, b)
        else:
            c.cz(a, b)
    _check(c, random_observables(rng, nq, 2), batch=2, seed=seed)


@pytest.mark.parametrize("batch", [1, 17, 40])
def test_fused_program_float32_batches_match_oracle(batch):
    circ = ansatz.reuploading_module(5, 2, 1, 2, 2)
    rng = np.random.default_rng(batch)
    x = rng.uniform(-2, 2, size=(batch, circ.num_inputs))
    w = rng.uniform(-2, 2, size=circ.num_weights)
    compiled: CompiledCircuit = compile_circuit(circ)
    want, _ = get_backend("reference").forward(compiled, x, w, np.float64, False)
    got, _ = numba_cpu.forward(compiled.program, x, w, np.float32)
    np.testing.assert_allclose(got, want, atol=2e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bit,cbit", [(1, 0), (8, 0), (4, 1), (1, 16), (16, 2)])
def test_one_pass_adjoint_kernel_equals_the_three_pass_kernels(dtype, bit, cbit):
    from hqsim.backends import numba_lane_kernels as lanes
    assert lanes.HAVE_FUSED_UNDO  # Numba's flag hook is there; without it the backend falls back
    n, L = 32, lanes.LANES
    rng = np.random.default_rng(bit * 31 + cbit)
    arrays = [rng.normal(size=n * L).astype(dtype) for _ in range(4)]
    c = rng.normal(size=32 * L).astype(dtype)
    want = [a.copy() for a in arrays]
    got = [a.copy() for a in arrays]
    m_want, m_got = np.zeros(lanes.PAULI_SUMS * L, dtype), np.zeros(lanes.PAULI_SUMS * L, dtype)
    lanes.undo_1q_three_pass(*want, n, bit, cbit, c, m_want, 0, 1)
    lanes.undo_1q(*got, n, bit, cbit, c, m_got, 0, 1)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    np.testing.assert_allclose(m_got, m_want, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("bit,cbit", [(16, 0), (16, 2), (8, 16), (1, 0), (2, 16)])
def test_a_pass_in_two_parts_equals_the_whole_pass(bit, cbit):
    """The two threads of numba_drivers' split path each run one part of a pass
    (numba_lane_kernels.pair_span): both parts, one after the other, must be the whole pass, for
    a pass on the top qubit (bit n/2, split on the next bit) and below it (split on the top bit)."""
    from hqsim.backends import numba_lane_kernels as lanes
    n, L = 32, lanes.LANES
    rng = np.random.default_rng(bit * 7 + cbit)
    arrays = [rng.normal(size=n * L) for _ in range(4)]
    c = rng.normal(size=8 * L)
    runs = {
        "apply_1q_cx": lambda a, part, parts: lanes.apply_1q_cx(a[0], a[1], n, bit, cbit, c, True, False,
                                                                part, parts),
        "undo_ry": lambda a, part, parts: lanes.undo_ry(*a[:4], n, bit, cbit, c, a[4], part, parts),
        "undo_1q": lambda a, part, parts: lanes.undo_1q(*a[:4], n, bit, cbit, c, a[4], part, parts),
        "undo_1q_three_pass": lambda a, part, parts: lanes.undo_1q_three_pass(*a[:4], n, bit, cbit, c, a[4],
                                                                              part, parts),
    }
    for name, run in runs.items():
        whole = [a.copy() for a in arrays] + [np.zeros(8 * L)]
        run(whole, 0, 1)
        halves = [a.copy() for a in arrays] + [np.zeros(8 * L)]
        run(halves, 0, 2)
        assert not np.array_equal(halves[0], whole[0]), name  # one part alone is not the pass
        run(halves, 1, 2)
        for g, w in zip(halves, whole):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, err_msg=name)


def test_every_lane_kernel_is_compiled_noalias():
    """Without the noalias flag LLVM guards each lane loop with run-time overlap checks (5x
    slower passes on low qubits): a Numba upgrade that drops the hook must show up here."""
    from hqsim.backends import numba_jit
    from hqsim.backends import numba_lane_kernels as lanes
    assert numba_jit.HAVE_FLAG_HOOK
    for name in ("apply_1q", "apply_1q_cx", "accumulate_pauli_1q", "undo_1q", "undo_ry", "apply_2q",
                 "accumulate_outer_2q", "gather_rows", "apply_cz", "apply_uk",
                 "pauli_expectations", "apply_weighted_observable"):
        assert numba_jit.is_noalias(getattr(lanes, name)), name
