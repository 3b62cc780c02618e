"""The walk leaves out a trailing permutation (numba_cpu.trailing_permutation) when every
observable is diagonal: the observables become Z strings on the state before it. Expectations,
the (B, 2^Q) states handed out and taken back, kept states and gradients must all be what the
oracle gives, for CNOT rings, SWAPs and X gates (an affine map: signs flip), one and several
groups, both precisions; a non-diagonal observable or a non-affine permutation keeps the op."""
from __future__ import annotations

import numpy as np
import pytest

from hqsim import ansatz
from hqsim.api import compile_circuit
from hqsim.backends import get_backend, numba_cpu
from hqsim.backends.cuda_bitmaps import from_table
from hqsim.ir import Circuit, X, Z, input, weight
from hqsim.program import OP_PERM

Q = 5


def _ring_with_tail(tail):
    c = ansatz.rpqc(num_qubits=Q, reuploads=1, layers=2).copy()
    tail(c)
    return c


def _x_and_swap_tail(t):
    t.x(1)
    t.swap(0, 3)
    t.cnot(2, 4)
    t.x(4)


CASES = {
    "w1": lambda: ansatz.rpqc(num_qubits=Q, reuploads=2, layers=2),
    "x_swap_cnot_tail": lambda: _ring_with_tail(_x_and_swap_tail),
}
OBSERVABLES = [Z(0), Z(1) @ Z(3), Z(4), 0.5 * Z(0) @ Z(2) @ Z(4) + 0.25 * Z(1)]


def _data(circ, batch, seed):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1.5, 1.5, size=(batch, circ.num_inputs)), rng.uniform(-3, 3, size=circ.num_weights),
            rng.normal(size=(batch, len(OBSERVABLES))))


@pytest.mark.parametrize("real_dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize("batch", [3, 21])
@pytest.mark.parametrize("case", sorted(CASES))
def test_without_the_trailing_permutation_everything_matches_the_oracle(case, batch, real_dtype, tol):
    circ = CASES[case]()
    compiled = compile_circuit(circ, OBSERVABLES)
    program = compiled.program
    last = int(numba_cpu.numba_program(program).units[-1, 0]) if len(numba_cpu.numba_program(program).units) else -1
    assert program.ops[-1, 0] == OP_PERM and numba_cpu.numba_program(program).has_out_perm
    assert last != program.num_ops - 1  # the walk ends before it
    x, w, cot = _data(circ, batch, batch)
    ref = get_backend("reference")
    want_out, want_states = ref.forward(compiled, x, w, np.float64, True)
    want_dw, want_dx = ref.vjp(compiled, x, w, cot, np.float64, True)
    out, states = numba_cpu.forward(program, x, w, real_dtype, True)
    np.testing.assert_allclose(out, want_out, atol=tol)
    np.testing.assert_allclose(states, want_states, atol=tol)  # handed out after the permutation
    _, kept = numba_cpu.forward_kept(program, x, w, real_dtype)
    scale = 1 + np.abs(want_dw).max()
    for final in (states, kept, None):  # taken back, kept, recomputed
        dw, dx = numba_cpu.vjp(program, x, w, cot, real_dtype, True, final)
        np.testing.assert_allclose(dw, want_dw, atol=tol * scale * 10)
        np.testing.assert_allclose(dx, want_dx, atol=tol * scale * 10)


def test_a_non_diagonal_observable_keeps_the_permutation():
    circ = CASES["w1"]()
    compiled = compile_circuit(circ, [Z(0), X(1)])
    p = numba_cpu.numba_program(compiled.program)
    assert not p.has_out_perm and int(p.units[-1, 0]) == compiled.program.num_ops - 1
    x, w, cot = _data(circ, 4, 0)
    ref = get_backend("reference")
    np.testing.assert_allclose(numba_cpu.forward(compiled.program, x, w, np.float64)[0],
                               ref.forward(compiled, x, w, np.float64, False)[0], atol=1e-10)


def test_terms_before_an_affine_permutation():
    rng = np.random.default_rng(5)
    n = 1 << 4
    # psi'[i] = psi[perm[i]] with perm(i) = A i ^ c, A invertible over GF(2)
    a = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1]])
    bits = (np.arange(n)[:, None] >> np.arange(4)) & 1
    perm = ((bits @ a.T) % 2) @ (1 << np.arange(4)) ^ 0b0110
    assert sorted(perm) == list(range(n))  # A is invertible
    inv = from_table(np.argsort(perm), 4)
    assert inv is not None and from_table(rng.permutation(n), 4) is None
    psi = rng.normal(size=n) + 1j * rng.normal(size=n)
    after = psi[perm]
    terms = np.array([[0, 0, m, 0] for m in (0b0001, 0b1010, 0b1111, 0b0100)])
    coeff = np.array([1.0, -0.5, 2.0, 0.25])
    new_terms, new_coeff = numba_cpu.terms_before_permutation(terms, coeff, inv)
    idx = np.arange(n)

    def z(mask, state):
        signs = 1 - 2 * (np.array([bin(int(v)).count("1") for v in idx & mask]) & 1)
        return float(np.sum(signs * np.abs(state) ** 2))
    for t in range(len(terms)):
        assert np.isclose(new_coeff[t] * z(new_terms[t, 2], psi), coeff[t] * z(terms[t, 2], after))


def test_a_circuit_that_is_only_a_permutation():
    c = Circuit(3)
    c.x(0)
    c.cnot(0, 2)
    c.ry(input(0), 1)
    c.cnot(1, 0)
    c.rz(weight(0), 2)
    c.swap(1, 2)
    compiled = compile_circuit(c, [Z(0), Z(1) @ Z(2)])
    x, w = np.array([[0.3], [1.1]]), np.array([0.7])
    ref = get_backend("reference")
    for want, got in zip(ref.forward(compiled, x, w, np.float64, True),
                         numba_cpu.forward(compiled.program, x, w, np.float64, True)):
        np.testing.assert_allclose(got, want, atol=1e-12)
