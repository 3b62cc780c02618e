"""Every backend against the complex128 oracle on seeded random circuits."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hqsim
from hqsim.backends import get_backend, reference
from hqsim.compile import compile_circuit, drop_outside_light_cone, fold_constants
from hqsim.ir.validate import default_observables

from backends.available import FAST_IDS as FAST  # numba, cuda on cpu-emulated, GPU backends (marked)
from backends.available import backend_or_skip

from .random_circuits import random_args, random_circuit, random_observables

TOL = {np.float64: 1e-10, np.float32: 2e-4}


def _oracle(circuit, obs, x, w):
    return reference.expectation(circuit, obs, x, w)


@pytest.mark.parametrize("backend", FAST)
@pytest.mark.parametrize("real_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(12))
def test_expectations_match_oracle(backend, real_dtype, seed):
    rng = np.random.default_rng(seed)
    nq = int(rng.integers(1, 7))
    c = random_circuit(rng, nq, int(rng.integers(1, 40)), amplitude=bool(seed % 3 == 0))
    obs = random_observables(rng, nq)
    x, w = random_args(rng, c, int(rng.integers(1, 6)))
    out, _ = backend_or_skip(backend).forward(compile_circuit(c, obs), x, w, real_dtype)
    np.testing.assert_allclose(out, _oracle(c, obs, x, w), atol=TOL[real_dtype] * 10)


@pytest.mark.parametrize("backend", FAST)
@pytest.mark.parametrize("seed", range(6))
def test_statevectors_match_oracle_and_keep_norm(backend, seed):
    backend = backend_or_skip(backend)
    rng = np.random.default_rng(100 + seed)
    nq = int(rng.integers(1, 7))
    c = random_circuit(rng, nq, 30, amplitude=seed % 2 == 1)
    x, w = random_args(rng, c, 3)
    states = hqsim.statevector(c, x, w, backend=backend, dtype="complex128")
    np.testing.assert_allclose(states, reference.statevector(c, x, w), atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(states, axis=1), 1.0, atol=1e-12)
    s32 = hqsim.statevector(c, x, w, backend=backend, dtype="complex64")
    assert s32.dtype == np.complex64
    np.testing.assert_allclose(np.linalg.norm(s32, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("backend", ["reference"] + FAST)
@pytest.mark.parametrize("seed", range(5))
def test_circuit_then_inverse_is_identity(backend, seed):
    rng = np.random.default_rng(200 + seed)
    nq = int(rng.integers(1, 6))
    c = random_circuit(rng, nq, 25)
    full = c.copy().extend(c.inverse().gates)
    x, w = random_args(rng, c, 2)
    states = hqsim.statevector(full, x, w, backend=backend_or_skip(backend), dtype="complex128")
    zero = np.zeros(2 ** nq)
    zero[0] = 1
    np.testing.assert_allclose(np.abs(states), np.broadcast_to(zero, states.shape), atol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_passes_preserve_expectations(seed):
    rng = np.random.default_rng(300 + seed)
    nq = int(rng.integers(2, 6))
    c = random_circuit(rng, nq, 40)
    # add foldable runs: repeated same-axis rotations and zero angles
    c.rz(0.3, 0).rz(hqsim.weight(0), 0).rz(-0.3, 0).rx(0.0, 1).rzz(hqsim.weight(1), 0, 1).rzz(0.2, 1, 0)
    obs = [hqsim.Z(0)]
    x, w = random_args(rng, c, 3)
    want = reference.expectation(c, obs, x, w)
    folded = fold_constants(c)
    assert len(folded) < len(c)
    np.testing.assert_allclose(reference.expectation(folded, obs, x, w), want, atol=1e-10)
    coned = drop_outside_light_cone(c, obs)
    np.testing.assert_allclose(reference.expectation(coned, obs, x, w), want, atol=1e-10)
    # idempotence
    assert fold_constants(folded).gates == fold_constants(fold_constants(folded)).gates
    assert drop_outside_light_cone(coned, obs).gates == coned.gates


def test_light_cone_drops_exactly_the_dead_gates():
    c = hqsim.Circuit(3)
    c.h(2).cnot(1, 2).rx(0.4, 0).ry(hqsim.weight(0), 1).cnot(0, 1).rz(0.3, 2)
    kept = drop_outside_light_cone(c, [hqsim.Z(0)])
    assert [g.name for g in kept] == ["H", "CNOT", "RX", "RY", "CNOT"]  # RZ on 2 is after the cone
    c2 = hqsim.Circuit(3)
    c2.rx(0.4, 0).cnot(1, 2).ry(0.2, 2).cz(0, 1).h(1)
    assert [g.name for g in drop_outside_light_cone(c2, [hqsim.Z(0)])] == ["RX", "CNOT", "CZ"]
    assert [g.name for g in drop_outside_light_cone(c2, [hqsim.Z(2)])] == ["CNOT", "RY"]


def test_fold_merges_and_drops():
    c = hqsim.Circuit(2)
    c.rz(0.25, 0).rz(-0.25, 0).rx(hqsim.weight(0), 1).rx(hqsim.weight(0) + 1.0, 1).cnot(0, 1)
    out = fold_constants(c)
    assert [repr(g) for g in out] == ["RX(2*weight(0)+1)[1]", "CNOT[0, 1]"]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), nq=st.integers(1, 5), ngates=st.integers(0, 30),
       batch=st.integers(1, 4))
def test_hypothesis_numba_matches_oracle(seed, nq, ngates, batch):
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, nq, ngates, amplitude=bool(seed % 2))
    obs = random_observables(rng, nq, count=2)
    x, w = random_args(rng, c, batch)
    out, _ = get_backend("numba").forward(compile_circuit(c, obs), x, w, np.float64)
    np.testing.assert_allclose(out, reference.expectation(c, obs, x, w), atol=1e-9)


def test_default_observables_are_z_on_every_qubit():
    c = hqsim.ansatz.rpqc(3, 1, 1)
    rng = np.random.default_rng(0)
    x, w = random_args(rng, c, 2)
    np.testing.assert_allclose(hqsim.expectation(c, x, w),
                               reference.expectation(c, default_observables(3), x, w), atol=1e-9)
