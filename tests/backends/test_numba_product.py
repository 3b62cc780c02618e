"""The Numba backend's product-state prefix (numba_product): the leading single-qubit ops on
|0...0> written in one pass and differentiated from one read of lambda, against the same
program walked op by op (prefix 0), the float64 oracle and finite differences."""
import numpy as np
import pytest

import hqsim
from hqsim.api import compile_circuit
from hqsim.backends import numba_cpu, reference
from hqsim.backends.numba_product import product_prefix
from hqsim.ir import GATES, Circuit
from hqsim.program import OP_PERM, OP_U1, expand_fused_cnots

from core.random_circuits import random_args, random_circuit, random_observables, random_param

ONE_Q = [n for n, s in GATES.items() if s.num_qubits == 1]


def _prefixed_circuit(rng, nq, n_prefix, n_rest, n_inputs=3):
    """Random single-qubit gates (some qubits several, some none), then a random circuit."""
    c = Circuit(nq, num_weights=5, num_inputs=n_inputs)
    for _ in range(n_prefix):
        name = ONE_Q[int(rng.integers(len(ONE_Q)))]
        c.append(name, [int(rng.integers(nq))], [random_param(rng, 5, n_inputs) for _ in range(GATES[name].num_params)])
    rest = random_circuit(rng, nq, n_rest, n_weights=5, n_inputs=n_inputs)
    return c.extend(rest.gates)


def _without_prefix(program, fn):
    """fn() with the program walked op by op from |0...0> (numba_cpu's packed program with
    an empty prefix)."""
    p = numba_cpu.numba_program(program)
    numba_cpu._PROGRAMS[program] = p._replace(prefix_units=p.prefix_units[:0], in_prefix=np.zeros_like(p.in_prefix))
    try:
        return fn()
    finally:
        numba_cpu._PROGRAMS[program] = p


def test_the_prefix_is_the_single_qubit_ops_before_any_multi_qubit_op_on_their_qubit():
    program = compile_circuit(hqsim.ansatz.rpqc(6, 2, 2, 1)).program
    p = numba_cpu.numba_program(program)
    assert list(p.prefix_units) == list(range(6))  # one U1 per qubit before the first ring
    assert p.in_prefix.sum() == 6 and p.in_prefix[:6].all()
    c = Circuit(4).cnot(0, 1).ry(0.3, 2).ry(0.1, 0).rx(0.2, 3).cz(2, 3).rz(0.4, 3)
    prog = compile_circuit(c).program
    walk = [(int(prog.ops[i, 0]), int(prog.ops[i, 1])) for i, _ in numba_cpu.numba_program(prog).units]
    chosen = [walk[u] for u in numba_cpu.numba_program(prog).prefix_units]
    assert sorted(chosen) == [(OP_U1, 2), (OP_U1, 3)]  # q0's RY comes after the CNOT on it
    # a permutation touches a CNOT's target and an X gate's qubit (bit flipped), not a bystander
    expanded = expand_fused_cnots(compile_circuit(Circuit(3).cnot(0, 1).ry(0.3, 1).ry(0.2, 2)).program)
    walk = [(int(expanded.ops[i, 0]), int(expanded.ops[i, 1])) for i, _ in numba_cpu.numba_program(expanded).units]
    assert [walk[u] for u in numba_cpu.numba_program(expanded).prefix_units] == [(OP_U1, 2)]
    rows = np.arange(4)
    flip_q1 = np.array([rows ^ 1])  # X on qubit 1 as a permutation: pairs alike, bit flipped
    ops = np.array([[OP_PERM, -1, -1, 0, 0, -1], [OP_U1, 1, -1, 0, 1, -1], [OP_U1, 0, -1, 1, 1, -1]])
    units = np.array([[0, -1], [1, -1], [2, -1]])
    assert list(product_prefix(ops, np.zeros(1, int), flip_q1, units, 2, 0)) == [2]
    amp = Circuit(3, amplitude_encoding=hqsim.AmplitudeEncoding(0, 8), num_inputs=8).ry(0.3, 0).ry(0.2, 1)
    assert len(numba_cpu.numba_program(compile_circuit(amp).program).prefix_units) == 0  # not |0...0>


@pytest.mark.parametrize("real_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(10))
def test_forward_and_gradients_equal_the_op_by_op_walk(real_dtype, seed):
    rng = np.random.default_rng(seed)
    nq = int(rng.integers(1, 10))
    c = _prefixed_circuit(rng, nq, int(rng.integers(1, 3 * nq + 1)), int(rng.integers(0, 25)))
    obs = random_observables(rng, nq)
    program = compile_circuit(c, obs).program
    assert len(numba_cpu.numba_program(program).prefix_units) > 0
    batch = int(rng.integers(1, 40))  # padding lanes too
    x, w = random_args(rng, c, batch)
    cot = rng.normal(size=(batch, len(obs)))
    tol = 1e-12 if real_dtype == np.float64 else 2e-5

    def run():
        out, states = numba_cpu.forward(program, x, w, real_dtype, want_states=True)
        dw, dx = numba_cpu.vjp(program, x, w, cot, real_dtype)  # the forward recomputed
        dw_kept, dx_kept = numba_cpu.vjp(program, x, w, cot, real_dtype, final_states=states)
        return out, states, dw, dx, dw_kept, dx_kept

    fast, slow = run(), _without_prefix(program, run)
    scale = 1 + np.abs(np.concatenate([np.ravel(a) for a in slow[2:]])).max()
    for a, b in zip(fast[:2], slow[:2]):
        np.testing.assert_allclose(a, b, rtol=0, atol=tol)
    for a, b in zip(fast[2:], slow[2:]):
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale * (1 + nq))
    np.testing.assert_allclose(fast[0], reference.expectation(c, obs, x, w), atol=10 * tol)


@pytest.mark.parametrize("need_inputs", [True, False])
def test_gradients_match_finite_differences(need_inputs):
    rng = np.random.default_rng(7)
    c = _prefixed_circuit(rng, 5, 12, 10)
    obs = random_observables(rng, 5)
    program = compile_circuit(c, obs).program
    x, w = random_args(rng, c, 3)
    cot = rng.normal(size=(3, len(obs)))
    dw, dx = numba_cpu.vjp(program, x, w, cot, np.float64, need_inputs=need_inputs)

    def loss(xx, ww):
        return float(np.sum(cot * reference.expectation(c, obs, xx, ww)))
    eps = 1e-6
    fd_w = [(loss(x, w + eps * e) - loss(x, w - eps * e)) / (2 * eps) for e in np.eye(len(w))]
    np.testing.assert_allclose(dw, fd_w, atol=1e-7)
    if need_inputs:
        fd_x = np.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            d = np.zeros_like(x)
            d[idx] = eps
            fd_x[idx] = (loss(x + d, w) - loss(x - d, w)) / (2 * eps)
        np.testing.assert_allclose(dx, fd_x, atol=1e-7)
    else:
        assert dx is None


@pytest.mark.parametrize("real_dtype", [np.float64, np.float32])
def test_ring_ansatz_after_its_first_layer_matches_the_op_by_op_walk(real_dtype):
    """W1's shape: the first ring's permutation follows the prefix, and the adjoint then undoes
    lambda alone (numba_drivers: first_walked)."""
    rng = np.random.default_rng(4)
    program = compile_circuit(hqsim.ansatz.rpqc(7, 2, 2, 1)).program
    p = numba_cpu.numba_program(program)
    assert p.first_walked == 7 and program.ops[p.units[7, 0], 0] == OP_PERM
    x = rng.uniform(-2, 2, (19, program.num_inputs))
    w = rng.uniform(-2, 2, program.num_weights)
    cot = rng.normal(size=(19, program.num_observables))
    fast = numba_cpu.vjp(program, x, w, cot, real_dtype)
    slow = _without_prefix(program, lambda: numba_cpu.vjp(program, x, w, cot, real_dtype))
    tol = 1e-12 if real_dtype == np.float64 else 1e-4
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * (1 + np.abs(b).max()))


def test_a_permutation_before_a_prefix_op_is_not_folded_into_it():
    """A random 10-qubit case (tests/gpu's seed 2010) where a PERM is followed by a U1 on a
    qubit nothing touched: that U1 runs before the walk, so the PERM must run as its own pass."""
    from gpu.helpers import random_case
    program, _, c, obs, x, w = random_case(np.random.default_rng(2010), 10, 24, 3, amplitude=False)
    p = numba_cpu.numba_program(program)
    followed = [u for u in range(len(p.units) - 1)
                if program.ops[p.units[u, 0], 0] == OP_PERM and p.in_prefix[u + 1]]
    assert followed and all(p.fold[p.units[u, 0]] == -1 for u in followed)
    out, _ = numba_cpu.forward(program, x, w, np.float64)
    np.testing.assert_allclose(out, reference.expectation(c, obs, x, w), atol=1e-12)


def test_a_circuit_of_single_qubit_gates_only_is_all_prefix():
    rng = np.random.default_rng(3)
    c = _prefixed_circuit(rng, 4, 9, 0)
    obs = random_observables(rng, 4)
    program = compile_circuit(c, obs).program
    p = numba_cpu.numba_program(program)
    assert len(p.prefix_units) == p.units.shape[0] == p.first_walked
    x, w = random_args(rng, c, 5)
    out, _ = numba_cpu.forward(program, x, w, np.float64)
    np.testing.assert_allclose(out, reference.expectation(c, obs, x, w), atol=1e-12)
    cot = rng.normal(size=out.shape)
    fast = numba_cpu.vjp(program, x, w, cot, np.float64)
    slow = _without_prefix(program, lambda: numba_cpu.vjp(program, x, w, cot, np.float64))
    np.testing.assert_allclose(fast[0], slow[0], atol=1e-12)
    np.testing.assert_allclose(fast[1], slow[1], atol=1e-12)
