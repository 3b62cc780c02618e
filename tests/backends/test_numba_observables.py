"""The Numba backend's one-pass diagonal observables (numba_observables) against the general
one-pass-per-term loops (numba_lane_kernels) on random states and random Pauli strings, and
the forward's folded permutations (numba_cpu.fold_permutations) against the unfolded walk."""
import numpy as np
import pytest

import hqsim
from hqsim.api import compile_circuit
from hqsim.backends import numba_cpu, numba_lane_kernels as lk, numba_observables as obs
from hqsim.backends.numba_lane_kernels import LANES
from hqsim.program import OP_PERM


def _random_terms(rng, nq, count, diagonal_share):
    """Rows (obs, flip, sign, nY mod 4) as hqsim/program.py lays them out."""
    rows = []
    for t in range(count):
        word = rng.choice(list("IXYZ") if rng.random() > diagonal_share else list("IZ"), size=nq)
        flip = sign = ny = 0
        for q, p in enumerate(word):
            bit = 1 << (nq - 1 - q)
            flip |= bit if p in "XY" else 0
            sign |= bit if p in "YZ" else 0
            ny += p == "Y"
        rows.append((t % 3, flip, sign, ny % 4))
    return np.asarray(rows, np.int64), rng.normal(size=count)


def _state(rng, nq, dtype):
    n = 1 << nq
    return (rng.normal(size=n * LANES).astype(dtype), rng.normal(size=n * LANES).astype(dtype))


@pytest.mark.parametrize("nq", [1, 2, 3, 5, 7, 11])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_diagonal_terms_match_the_per_term_loops(nq, dtype):
    rng = np.random.default_rng(nq)
    terms, coeff = _random_terms(rng, nq, 9, diagonal_share=0.6)
    plan = obs.plan_diagonal_terms(terms, coeff, nq)
    assert len(plan.terms) + len(plan.others) == len(terms)
    assert np.all(plan.others[:, 1] != 0)
    n = 1 << nq
    re, im = _state(rng, nq, dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10

    want = np.zeros((LANES, 3))
    lk.pauli_expectations(re, im, n, terms, coeff, want, np.zeros(LANES), np.zeros(LANES), 0, n)
    got = np.zeros((LANES, 3))
    lk.pauli_expectations(re, im, n, plan.others, plan.others_coeff, got, np.zeros(LANES), np.zeros(LANES), 0, n)
    obs.diagonal_expectations(re, im, plan.k, plan.signs, plan.terms, plan.hmasks, plan.coeff, got, 0, n)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())

    g = rng.normal(size=(LANES, 3))
    lre, lim = np.zeros_like(re), np.zeros_like(im)
    lk.apply_weighted_observable(re, im, n, terms, coeff, g, lre, lim, 0, n)
    gre, gim = np.zeros_like(re), np.zeros_like(im)
    lk.apply_weighted_observable(re, im, n, plan.others, plan.others_coeff, g, gre, gim, 0, n)
    obs.add_diagonal_weighted(re, im, plan.k, plan.signs, plan.terms, plan.hmasks, plan.coeff, g, gre, gim, 0, n)
    scale = max(np.abs(lre).max(), np.abs(lim).max())
    np.testing.assert_allclose(gre, lre, atol=tol * scale)
    np.testing.assert_allclose(gim, lim, atol=tol * scale)


def test_diagonal_terms_in_halves_add_up_to_the_whole():
    """The split path runs rows [0, n/2) and [n/2, n) separately."""
    rng = np.random.default_rng(7)
    nq, n = 6, 64
    terms, coeff = _random_terms(rng, nq, 6, diagonal_share=1.0)
    plan = obs.plan_diagonal_terms(terms, coeff, nq)
    re, im = _state(rng, nq, np.float64)
    whole, halves = np.zeros((LANES, 3)), np.zeros((LANES, 3))
    obs.diagonal_expectations(re, im, plan.k, plan.signs, plan.terms, plan.hmasks, plan.coeff, whole, 0, n)
    for lo, hi in ((0, n // 2), (n // 2, n)):
        obs.diagonal_expectations(re, im, plan.k, plan.signs, plan.terms, plan.hmasks, plan.coeff, halves, lo, hi)
    np.testing.assert_allclose(halves, whole, rtol=1e-12, atol=1e-12)


def test_every_ring_permutation_but_the_last_is_folded_and_the_forward_is_unchanged():
    program = compile_circuit(hqsim.ansatz.rpqc(5, 2, 2, 1)).program
    p = numba_cpu.numba_program(program)
    perms = int(np.sum(program.ops[:, 0] == OP_PERM))
    assert perms >= 2
    assert np.sum(p.fold == -2) == perms - 1  # the last ring is followed only by the observables
    assert np.sum(p.fold >= 0) == perms - 1
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, (20, program.num_inputs))
    w = rng.uniform(-2, 2, program.num_weights)
    folded = numba_cpu.forward(program, x, w, np.float64, want_states=True)
    unfolded_p = p._replace(fold=np.full_like(p.fold, -1))
    numba_cpu._PROGRAMS[program] = unfolded_p
    try:
        unfolded = numba_cpu.forward(program, x, w, np.float64, want_states=True)
    finally:
        numba_cpu._PROGRAMS[program] = p
    np.testing.assert_allclose(folded[0], unfolded[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(folded[1], unfolded[1], rtol=0, atol=1e-13)


def test_parity_counts_the_set_bits_of_signed_and_unsigned_words():
    """numba_lane_kernels.parity (one POPCNT) on int64 and uint64 words, the top bit included."""
    from numba import njit, uint64

    @njit
    def parities(words):
        out = np.empty((words.shape[0], 2), np.int64)
        for i in range(words.shape[0]):
            out[i, 0] = lk.parity(words[i])
            out[i, 1] = lk.parity(uint64(words[i]))
        return out

    rng = np.random.default_rng(7)
    words = np.concatenate([[0, 1, 3, -1, np.iinfo(np.int64).min, np.iinfo(np.int64).max],
                            rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, 200)]).astype(np.int64)
    want = np.array([bin(int(w) & (2 ** 64 - 1)).count("1") & 1 for w in words])
    got = parities(words)
    np.testing.assert_array_equal(got[:, 0], want)
    np.testing.assert_array_equal(got[:, 1], want)
