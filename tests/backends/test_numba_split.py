"""Both cores on one group of samples (numba_drivers' split path): at 2 threads a batch of at
most LANES samples on >= SPLIT_MIN_QUBITS qubits runs each pass in two halves, on two threads
or both on one. It must give what 1 thread gives (and the oracle), forward, kept states and
adjoint, for every kind of op: passes on qubit 0 (split on qubit 1) and below it,
permutations (whole-state gathers), ops one thread runs alone (2-qubit, CZ, dense),
observables pairing rows, and amplitude-encoded inputs with their gradients; and the same bits
whether the halves ran on two threads, on one after the second did not come, or without a
parallel region (so a run at 2 threads is reproducible whichever way each call went)."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from hqsim import ansatz
from hqsim.api import compile_circuit
from hqsim.backends import get_backend, numba_cpu
from hqsim.ir import Circuit, X, Y, Z, input, weight
from hqsim.ansatz import amplitude_encoder
from hqsim.models.qllm import qpu_circuit

Q = 8

pytestmark = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                                reason="Numba has one thread (NUMBA_NUM_THREADS=1): no split path")


@pytest.fixture(autouse=True)
def _always_join(monkeypatch):
    """Two threads always: a parallel region for every split call, whose first thread waits (up
    to seconds) for the second (on a loaded machine the default wait can run out and the call
    runs on one thread, and the timing choice would pick no region at all)."""
    monkeypatch.setattr(numba_cpu, "SPLIT_MIN_QUBITS", Q)  # off by default (numba_cpu)
    monkeypatch.setattr(numba_cpu, "split_arrival_spins", 50_000_000)
    monkeypatch.setattr(numba_cpu, "split_region", True)
    yield
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def _mixed_circuit(q):
    """Every op kind the walks treat differently: U1 on qubit 0 and below, CXU1 with qubit 0 as
    target and as control, a CNOT left as a permutation, CZ, a 2-qubit parametrised gate,
    a dense constant gate (SWAP), inputs and weights."""
    c = Circuit(q, num_inputs=q, num_weights=3 * q)
    for j in range(q):
        c.rx(input(j), j)
        c.rz(weight(j), j)
    for j in range(q):
        c.cnot(j, (j + 1) % q)
        c.ry(weight(q + j), (j + 1) % q)
    c.cnot(q - 1, 0)  # nothing on its target after it: stays a permutation
    c.cz(0, q // 2)
    c.crx(weight(2 * q), 0, 1)
    c.swap(0, q - 1)
    for j in range(q):
        c.ry(weight(2 * q + j), j)
    return c


def _run(program, x, w, cot, threads, dtype):
    numba.set_num_threads(threads)
    before = numba_cpu.split_counts["joined"]
    out, states = numba_cpu.forward(program, x, w, dtype, True)
    dw, dx = numba_cpu.vjp(program, x, w, cot, dtype, True, states)   # from the kept states
    dw2, dx2 = numba_cpu.vjp(program, x, w, cot, dtype, True, None)   # forward recomputed
    out3, kept = numba_cpu.forward_kept(program, x, w, dtype)         # kept in the kernels' layout
    dw3, dx3 = numba_cpu.vjp(program, x, w, cot, dtype, True, kept)
    return (out, states, dw, dx, dw2, dx2, out3, dw3, dx3), numba_cpu.split_counts["joined"] - before


SPLIT_CALLS = 5  # per _run: two forwards and three adjoints


CASES = {
    "w1_rpqc": lambda: (ansatz.rpqc(num_qubits=Q, reuploads=2, layers=2), [Z(i) for i in range(Q)]),
    "w2_qpu": lambda: (qpu_circuit(Q), [Z(0)]),
    "w2_encoder": lambda: (amplitude_encoder(Q, 200, 2, 2), [Z(i) for i in range(Q)]),
    "mixed": lambda: (_mixed_circuit(Q), [Z(0), X(1) @ Y(Q - 1), X(0) @ Z(2), Y(Q // 2)]),
}


@pytest.mark.parametrize("batch", [1, 5, 16])
@pytest.mark.parametrize("case", sorted(CASES))
def test_two_threads_give_what_one_thread_gives_and_the_oracle(case, batch):
    circ, obs = CASES[case]()
    compiled = compile_circuit(circ, obs)
    program = compiled.program
    rng = np.random.default_rng(batch)
    x = rng.uniform(-1.5, 1.5, size=(batch, circ.num_inputs))
    w = rng.uniform(-3, 3, size=circ.num_weights)
    cot = rng.normal(size=(batch, len(compiled.observables)))
    one, joined1 = _run(program, x, w, cot, 1, np.float64)
    two, joined2 = _run(program, x, w, cot, 2, np.float64)
    assert joined1 == 0 and joined2 == SPLIT_CALLS  # every forward and adjoint ran on two threads
    for a, b in zip(one, two):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    ref = get_backend("reference")
    want_out, _ = ref.forward(compiled, x, w, np.float64, False)
    want_dw, want_dx = ref.vjp(compiled, x, w, cot, np.float64, True)
    np.testing.assert_allclose(two[0], want_out, atol=1e-10)
    np.testing.assert_allclose(two[2], want_dw, atol=1e-10)
    np.testing.assert_allclose(two[3], want_dx, atol=1e-10)


def test_two_threads_in_float32_match_one_thread():
    circ, obs = CASES["w2_qpu"]()
    program = compile_circuit(circ, obs).program
    rng = np.random.default_rng(1)
    x = rng.uniform(-1.5, 1.5, size=(16, circ.num_inputs))
    w = rng.uniform(-3, 3, size=circ.num_weights)
    cot = rng.normal(size=(16, 1))
    one, _ = _run(program, x, w, cot, 1, np.float32)
    two, joined = _run(program, x, w, cot, 2, np.float32)
    assert joined == SPLIT_CALLS
    for a, b in zip(one, two):  # the same sums in another order: float32 rounding only
        np.testing.assert_allclose(b, a, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("case", ["mixed", "w2_encoder"])
def test_two_threads_one_thread_and_no_region_give_the_same_bits(case, monkeypatch):
    circ, obs = CASES[case]()
    compiled = compile_circuit(circ, obs)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1.5, 1.5, size=(16, circ.num_inputs))
    w = rng.uniform(-3, 3, size=circ.num_weights)
    cot = rng.normal(size=(16, len(compiled.observables)))
    joined, n_joined = _run(compiled.program, x, w, cot, 2, np.float32)
    assert n_joined == SPLIT_CALLS
    monkeypatch.setattr(numba_cpu, "split_region", False)
    before = numba_cpu.split_counts["direct"]
    direct, n_joined = _run(compiled.program, x, w, cot, 2, np.float32)
    assert n_joined == 0 and numba_cpu.split_counts["direct"] == before + SPLIT_CALLS
    for a, b in zip(joined, direct):
        np.testing.assert_array_equal(a, b)


def test_a_second_thread_that_never_comes_leaves_the_first_to_run_alone():
    """One Numba thread runs the region's two iterations one after the other: the first must
    not wait for the second forever but claim both parts (solo), with the same bits."""
    circ, obs = CASES["mixed"]()
    compiled = compile_circuit(circ, obs)
    program = compiled.program
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=(4, circ.num_inputs))
    w = rng.uniform(-3, 3, size=circ.num_weights)
    cot = rng.normal(size=(4, len(compiled.observables)))
    want, _ = _run(program, x, w, cot, 2, np.float64)
    from hqsim.backends import numba_drivers
    from hqsim.backends.numba_sync import SOLO, STATE, new_sync
    numba.set_num_threads(1)  # numba_cpu would not split now; call the split drivers directly
    p = numba_cpu.numba_program(program)
    batch = numba_cpu._batch(p, program, x, w, np.float64)
    out = np.zeros((4, len(compiled.observables)))
    states = np.zeros((4, 2 ** Q), np.complex128)
    no_lanes = np.zeros((1, 2, 1))  # no KeptStates
    sync = new_sync(1000)
    numba_drivers.forward_split(p, batch, numba_cpu.ForwardOut(out, states, True, no_lanes, False), sync, True)
    assert sync[STATE] == SOLO
    np.testing.assert_array_equal(out, want[0])
    np.testing.assert_array_equal(states, want[1])
    dw, dx = np.zeros((2, program.num_weights)), np.zeros((4, circ.num_inputs))
    sync = new_sync(1000)
    numba_drivers.adjoint_split(p, batch, numba_cpu.AdjointOut(cot, dw, dx, True, states, True, no_lanes, False), sync, True)
    assert sync[STATE] == SOLO
    np.testing.assert_array_equal(dw.sum(axis=0), want[2])
    np.testing.assert_array_equal(dx, want[3])


def test_the_runner_follows_the_faster_way_and_tries_the_other_less_and_less_often():
    r = numba_cpu._Runner()
    picks = []
    for _ in range(200):
        region = r.pick()
        picks.append(region)
        r.record(region, 5e-3 if region else 1e-3)  # a busy machine: the region is slower
    assert picks[:2] == [True, False]
    tries = [i for i, region in enumerate(picks) if region][1:]
    assert 4 <= len(tries) <= 9  # ~log2(200) tries of the slower way
    assert tries[-1] - tries[-2] > tries[1] - tries[0]  # the gap grows
    for _ in range(300):  # the machine becomes quiet: the region wins at its next try
        region = r.pick()
        r.record(region, 0.5e-3 if region else 1e-3)
    assert sum(r.pick() for _ in range(20)) >= 18
