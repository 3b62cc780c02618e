"""A training step's kept states (numba_cpu.forward_kept -> KeptStates -> vjp): the forward's
final states in the kernels' own layout, restored by one copy per group. The vjp from them must
give what the vjp from the (B, 2^Q) states and the recomputed forward give (the same bits: the
same walk from the same state), for one and several groups, padded last groups, both
precisions, permutations and amplitude-encoded inputs; a KeptStates of another call is refused
with an error naming final_states; the executor's training path keeps them this way."""
from __future__ import annotations

import gc

import numba
import numpy as np
import pytest

from hqsim import ansatz
from hqsim.ansatz import amplitude_encoder
from hqsim.api import compile_circuit
from hqsim.backends import get_backend, numba_cpu
from hqsim.executor import ExactExecutor
from hqsim.ir import Z

Q = 6
CASES = {
    "w1_rpqc": lambda: (ansatz.rpqc(num_qubits=Q, reuploads=2, layers=2), [Z(i) for i in range(Q)]),
    "w2_encoder": lambda: (amplitude_encoder(Q, 40, 2, 2), [Z(i) for i in range(Q)]),
}


def _inputs(circ, n_obs, batch, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=(batch, circ.num_inputs))
    w = rng.uniform(-3, 3, size=circ.num_weights)
    return x, w, rng.normal(size=(batch, n_obs))


@pytest.mark.parametrize("real_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 16, 37])
@pytest.mark.parametrize("case", sorted(CASES))
def test_vjp_from_kept_states_equals_the_other_two_ways(case, batch, real_dtype):
    circ, obs = CASES[case]()
    program = compile_circuit(circ, obs).program
    x, w, cot = _inputs(circ, len(obs), batch, batch)
    out, states = numba_cpu.forward(program, x, w, real_dtype, True)
    out_kept, kept = numba_cpu.forward_kept(program, x, w, real_dtype)
    assert isinstance(kept, numba_cpu.KeptStates)
    assert kept.lanes.shape == ((batch + 15) // 16, 2, 2 ** Q * 16) and kept.lanes.dtype == real_dtype
    np.testing.assert_array_equal(out_kept, out)
    from_kept = numba_cpu.vjp(program, x, w, cot, real_dtype, True, kept)
    from_rows = numba_cpu.vjp(program, x, w, cot, real_dtype, True, states)
    recomputed = numba_cpu.vjp(program, x, w, cot, real_dtype, True)
    for a, b, c in zip(from_kept, from_rows, recomputed):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    # and the kept lanes hold the final states: lane l of group g is sample 16 g + l
    lanes = kept.lanes.reshape(kept.lanes.shape[0], 2, 2 ** Q, 16)
    rows = (lanes[:, 0] + 1j * lanes[:, 1]).transpose(0, 2, 1).reshape(-1, 2 ** Q)[:batch]
    p = numba_cpu.numba_program(program)
    if p.has_out_perm:  # they hold the state before the trailing permutation the walk leaves out
        assert case == "w1_rpqc"
        rows = rows[:, p.out_perm]
    np.testing.assert_array_equal(rows, states)


def test_vjp_from_kept_states_at_two_threads_matches_the_oracle():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has one thread (NUMBA_NUM_THREADS=1)")
    circ, obs = CASES["w1_rpqc"]()
    compiled = compile_circuit(circ, obs)
    x, w, cot = _inputs(circ, len(obs), 40, 7)
    numba.set_num_threads(2)
    try:
        _, kept = numba_cpu.forward_kept(compiled.program, x, w, np.float64)
        dw, dx = numba_cpu.vjp(compiled.program, x, w, cot, np.float64, True, kept)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    want_dw, want_dx = get_backend("reference").vjp(compiled, x, w, cot, np.float64, True)
    np.testing.assert_allclose(dw, want_dw, atol=1e-10)
    np.testing.assert_allclose(dx, want_dx, atol=1e-10)


def test_kept_states_of_another_call_are_refused():
    circ, obs = CASES["w1_rpqc"]()
    program = compile_circuit(circ, obs).program
    x, w, cot = _inputs(circ, len(obs), 20, 1)
    _, kept = numba_cpu.forward_kept(program, x, w, np.float32)
    with pytest.raises(ValueError, match="final_states: kept states of 20 samples.*this vjp has 19"):
        numba_cpu.vjp(program, x[:19], w, cot[:19], np.float32, True, kept)
    other = compile_circuit(ansatz.rpqc(num_qubits=Q + 1, reuploads=1, layers=1), [Z(0)]).program
    xo = np.zeros((20, other.num_inputs))
    with pytest.raises(ValueError, match=f"on {Q} qubits, but this vjp has 20 samples on {Q + 1} qubits"):
        numba_cpu.vjp(other, xo, np.zeros(other.num_weights), np.zeros((20, 1)), np.float32, True, kept)
    with pytest.raises(ValueError, match="final_states: kept states are float32, this vjp runs float64"):
        numba_cpu.vjp(program, x, w, cot, np.float64, True, kept)


def test_the_executors_training_path_keeps_states_in_the_kernels_layout(monkeypatch):
    circ, obs = CASES["w1_rpqc"]()
    executor = ExactExecutor(compile_circuit(circ, obs), get_backend("numba"))
    x, w, cot = _inputs(circ, len(obs), 5, 3)
    values, saved = executor.forward(x, w, np.float64, keep=True)
    assert isinstance(saved, numba_cpu.KeptStates) and saved.nbytes == saved.lanes.nbytes
    np.testing.assert_array_equal(values, executor.forward(x, w, np.float64)[0])
    dw, dx = executor.vjp(x, w, cot, np.float64, saved)
    want_dw, want_dx = executor.vjp(x, w, cot, np.float64)
    np.testing.assert_array_equal(dw, want_dw)
    np.testing.assert_array_equal(dx, want_dx)
    states = executor.states(x, w, np.float64)  # what users ask for stays (B, 2^Q)
    assert states.shape == (5, 2 ** Q) and states.dtype == np.complex128


def test_a_kept_array_is_reused_only_after_its_kept_states_are_dropped():
    circ, obs = CASES["w1_rpqc"]()
    program = compile_circuit(circ, obs).program
    x, w, cot = _inputs(circ, len(obs), 20, 4)
    _, first = numba_cpu.forward_kept(program, x, w, np.float32)
    _, second = numba_cpu.forward_kept(program, x + 0.5, w, np.float32)
    assert first.lanes is not second.lanes  # both alive: two arrays
    reused = first.lanes
    del first
    gc.collect()
    _, third = numba_cpu.forward_kept(program, x, w, np.float32)
    assert third.lanes is reused  # the dropped one's array, refilled
    for a, b in zip(numba_cpu.vjp(program, x, w, cot, np.float32, True, third),
                    numba_cpu.vjp(program, x, w, cot, np.float32, True)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(numba_cpu.vjp(program, x + 0.5, w, cot, np.float32, True, second),
                    numba_cpu.vjp(program, x + 0.5, w, cot, np.float32, True)):
        np.testing.assert_array_equal(a, b)


def test_state_arrays_are_placed_whatever_malloc_returns():
    """numba_lane_kernels.state_block: each state array starts on a page (a row of 16 float32
    lanes is one 64-byte line; Numba aligns to 32 bytes only), all at the same offset modulo
    4 KiB, at least a page apart (no 4K aliasing, spread over the L2's sets), none overlapping."""
    from hqsim.backends import numba_lane_kernels as lk

    @numba.njit
    def make(count, rows, proto, churn):
        keep = [np.empty(1, proto.dtype)]
        for k in range(churn):  # move malloc's heap around
            keep.append(np.empty(8 + 24 * k, proto.dtype))
        blk = lk.state_block(count, rows, proto)
        arrays = [lk.state_in_block(blk, i, rows) for i in range(count)]
        for i in range(count):
            arrays[i][:] = i
        return arrays
    for proto in (np.zeros(0, np.float32), np.zeros(0, np.float64)):
        for count, rows, churn in ((4, 1, 0), (6, 64, 3), (4, 1 << 12, 7), (6, 1 << 14, 2)):
            arrays = make(count, rows, proto, churn)
            starts = [a.ctypes.data for a in arrays]
            size = rows * 16 * proto.itemsize
            for i, a in enumerate(arrays):
                assert a.shape == (rows * 16,) and a.dtype == proto.dtype and a.flags.c_contiguous
                assert starts[i] % lk.PAGE == 0 and np.all(a == i)  # nothing overwrote it
                if i:
                    assert starts[i] - starts[i - 1] >= size + lk.PAGE
