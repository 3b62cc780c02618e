"""Every fact a GateSpec declares (hqsim/ir/gates.py), checked against the gate's matrix.

One test per fact, parametrised over every gate of ALL_GATES (circuit and front-end gates), so
a new gate with a wrong flag fails here before a pass, the noise frames or the hybrid folder
trusts it. Both directions where the fact is a class: a flag set must hold, and a flag unset
must not hold at generic angles (else a pass misses an optimisation it was promised).
"""
import itertools

import numpy as np
import pytest
from scipy.linalg import expm

from hqsim.ir.gate_matrices import PAULI
from hqsim.ir.gates import (ALL_GATES, FRONTEND_GATES, GATES, decomposition_steps, merge_key,
                            merges)

NAMES = sorted(ALL_GATES)
RNG_SEED = 1234


def _angles(spec, seed=0):
    return np.random.default_rng(RNG_SEED + seed).uniform(-np.pi, np.pi, size=spec.num_params)


def _m(spec, seed=0):
    return spec.matrix(*_angles(spec, seed))


def _on(p: np.ndarray, qubit: int, n: int) -> np.ndarray:
    out = np.eye(1)
    for q in range(n):
        out = np.kron(out, p if q == qubit else np.eye(2))
    return out


def _pauli_words(n):
    for letters in itertools.product("IXYZ", repeat=n):
        w = np.eye(1)
        for a in letters:
            w = np.kron(w, PAULI[a])
        yield w


def _proportional(a, b, atol=1e-10):
    k = np.vdot(b, a) / np.vdot(b, b)
    return abs(abs(k) - 1) < 1e-9 and np.allclose(a, k * b, atol=atol)


def test_circuit_and_front_end_gates_are_disjoint():
    assert not set(GATES) & set(FRONTEND_GATES)


@pytest.mark.parametrize("name", NAMES)
def test_matrix_is_unitary_of_the_declared_arity(name):
    spec = ALL_GATES[name]
    m = _m(spec)
    d = 2 ** spec.num_qubits
    assert m.shape == (d, d) and m.dtype == np.complex128
    np.testing.assert_allclose(m.conj().T @ m, np.eye(d), atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_generator(name):
    """One-angle gates have a generator G: U(a) = exp(-i a G / 2), dU/da = -i/2 G U."""
    spec = ALL_GATES[name]
    if spec.num_params != 1:
        assert spec.generator is None
        return
    g = spec.generator
    assert g is not None, f"{name} has one angle but no generator"
    np.testing.assert_allclose(g, g.conj().T)
    a, h = _angles(spec)[0], 1e-6
    np.testing.assert_allclose(spec.matrix(a), expm(-0.5j * a * g), atol=1e-12)
    fd = (spec.matrix(a + h) - spec.matrix(a - h)) / (2 * h)
    np.testing.assert_allclose(fd, -0.5j * g @ spec.matrix(a), atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_diagonal(name):
    spec = ALL_GATES[name]
    m = _m(spec)
    assert spec.diagonal == bool(np.allclose(m, np.diag(np.diag(m)), atol=1e-12))


@pytest.mark.parametrize("name", NAMES)
def test_permutation(name):
    spec = ALL_GATES[name]
    m = _m(spec)
    is_perm = (spec.num_params == 0 and np.allclose(m, np.round(m.real), atol=1e-12)
               and np.all(np.isin(np.round(m.real), (0, 1))))
    assert spec.permutation == bool(is_perm)


@pytest.mark.parametrize("name", NAMES)
def test_clifford(name):
    spec = ALL_GATES[name]
    n, m = spec.num_qubits, _m(spec)
    words = list(_pauli_words(n))
    maps = all(any(_proportional(m @ _on(PAULI[p], q, n) @ m.conj().T, w) for w in words)
               for q in range(n) for p in "XZ")
    assert spec.clifford == (spec.num_params == 0 and maps)


@pytest.mark.parametrize("name", NAMES)
def test_symmetric(name):
    spec = ALL_GATES[name]
    if spec.num_qubits != 2:
        assert not spec.symmetric
        return
    swap = ALL_GATES["SWAP"].matrix()
    m = _m(spec)
    assert spec.symmetric == bool(np.allclose(swap @ m @ swap, m, atol=1e-12))


@pytest.mark.parametrize("name", NAMES)
def test_axes_commute(name):
    """Each declared axis commutes with the gate at every angle; a one-angle one-qubit
    rotation declares its axis."""
    spec = ALL_GATES[name]
    if spec.axes is None:
        assert not (spec.num_qubits == 1 and spec.num_params == 1)
        return
    assert len(spec.axes) == spec.num_qubits
    for seed in range(3):
        m = _m(spec, seed)
        for q, p in enumerate(spec.axes):
            pq = _on(PAULI[p], q, spec.num_qubits)
            np.testing.assert_allclose(m @ pq, pq @ m, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_additive(name):
    spec = ALL_GATES[name]
    if spec.num_params != 1:
        assert not spec.additive
        return
    a, b = _angles(spec, 0)[0], _angles(spec, 1)[0]
    adds = np.allclose(spec.matrix(b) @ spec.matrix(a), spec.matrix(a + b), atol=1e-12)
    assert spec.additive == bool(adds)


@pytest.mark.parametrize("name", NAMES)
def test_shift_rule(name):
    """The declared rule gives d<O>/da for a random state and observable (vs finite differences)."""
    spec = ALL_GATES[name]
    if spec.num_params != 1:
        assert spec.shift_rule == ()
        return
    assert spec.shift_rule, f"{name} has one angle but no shift rule"
    rng = np.random.default_rng(7)
    d = 2 ** spec.num_qubits
    psi = rng.normal(size=d) + 1j * rng.normal(size=d)
    psi /= np.linalg.norm(psi)
    o = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    o = o + o.conj().T

    def f(a):
        phi = spec.matrix(a) @ psi
        return float(np.real(phi.conj() @ o @ phi))

    a, h = 0.37, 1e-6
    rule = sum(c * f(a + s) for s, c in spec.shift_rule)
    np.testing.assert_allclose(rule, (f(a + h) - f(a - h)) / (2 * h), atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_inverse(name):
    spec = ALL_GATES[name]
    rule = spec.inverse
    if rule is None:
        return
    angles = tuple(_angles(spec))
    inv = ALL_GATES[rule.name].matrix(*rule.apply(angles, float))
    want = np.linalg.inv(spec.matrix(*angles))
    if rule.exact:
        np.testing.assert_allclose(inv, want, atol=1e-12)
    else:
        assert _proportional(inv, want)


@pytest.mark.parametrize("name", NAMES)
def test_controlled_form(name):
    spec = ALL_GATES[name]
    if spec.control_of is None:
        return
    n, base = spec.control_of
    angles = _angles(spec)
    u = ALL_GATES[base].matrix(*angles)
    for _ in range(n):
        k = u.shape[0]
        u = np.block([[np.eye(k), np.zeros((k, k))], [np.zeros((k, k)), u]])
    np.testing.assert_allclose(spec.matrix(*angles), u, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_decomposition_is_exact(name):
    spec = ALL_GATES[name]
    angles = tuple(_angles(spec))
    u = np.eye(2 ** spec.num_qubits, dtype=np.complex128)
    for step, params in decomposition_steps(name, angles):
        assert ALL_GATES[step].num_qubits == spec.num_qubits
        u = ALL_GATES[step].matrix(*params) @ u
    np.testing.assert_allclose(u, spec.matrix(*angles), atol=1e-12)


def test_is_pauli():
    assert {n for n, s in ALL_GATES.items() if s.is_pauli} == {"X", "Y", "Z"}


def test_merge_rule_follows_the_facts():
    assert merges("RZZ", (0, 1), "RZZ", (1, 0))        # symmetric and additive
    assert merges("CPhase", (2, 0), "CPhase", (0, 2))
    assert not merges("CRX", (0, 1), "CRX", (1, 0))     # control and target differ
    assert not merges("RX", (0,), "RY", (0,))
    assert not merges("CZ", (0, 1), "CZ", (0, 1))       # self-inverse, not additive
    assert merge_key("SWAP", (3, 1)) == ("SWAP", (1, 3))
