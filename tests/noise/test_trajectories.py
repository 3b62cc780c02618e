"""Noisy expectations and gradients by batched trajectories against the exact density-matrix
reference (tests/noise/helpers.py). Each check runs K = 16 independent seeds of T trajectories
and asserts |mean - exact| < 5 SE + 2e-3 (SE estimated from the K runs; the 2e-3 floor covers
components whose spread is ~0)."""
import numpy as np
import pytest
import torch

import hqsim
from hqsim.backends.reference import apply_matrix
from hqsim.ir import PAULI, Gate
from hqsim.noise import (AmplitudeDamping, BitFlip, Depolarizing, NoiseModel, PauliChannel,
                         PhaseDamping, PhaseFlip, ReadoutError)
from hqsim.noise.frames import FrameBuilder

from .helpers import dm_expectations, dm_vjp, seeded_mean_and_error

K, T = 16, 400

MODELS = {
    "depolarizing": NoiseModel(one_qubit=Depolarizing(0.04), two_qubit=Depolarizing(0.08, 2)),
    "bit-flip": NoiseModel(one_qubit=BitFlip(0.05), two_qubit=BitFlip(0.08)),
    "phase-flip": NoiseModel(one_qubit=PhaseFlip(0.06), two_qubit=None),
    "pauli": NoiseModel(one_qubit=PauliChannel({"X": 0.02, "Y": 0.05, "Z": 0.01}),
                        two_qubit=PauliChannel({"XZ": 0.04, "YY": 0.03, "IZ": 0.02})),
    "phase-damping": NoiseModel(one_qubit=PhaseDamping(0.1), two_qubit=PhaseDamping(0.15)),
    "amplitude-damping": NoiseModel(one_qubit=AmplitudeDamping(0.08), two_qubit=AmplitudeDamping(0.1)),
    "mixed+readout": NoiseModel(one_qubit=Depolarizing(0.03), two_qubit=Depolarizing(0.05, 2),
                                per_gate={"RZ": None, "CRY": BitFlip(0.1)},
                                readout=ReadoutError(0.03, 0.07)),
}


def _check(mean, se, exact):
    assert np.all(np.abs(mean - exact) < 5 * se + 2e-3), (mean, exact, se)


@pytest.mark.parametrize("name", list(MODELS))
def test_noisy_expectations_match_density_matrix(name, small_circuit, args, observables):
    x, w = args
    model = MODELS[name]
    exact = dm_expectations(small_circuit, observables, x, w, model)
    clean = hqsim.expectation(small_circuit, x, w, observables=observables)
    assert np.max(np.abs(exact - clean)) > 0.02  # the noise is visible at this strength
    mean, se = seeded_mean_and_error(
        lambda s: hqsim.expectation(small_circuit, x, w, observables=observables, noise=model,
                                    trajectories=T, seed=s), range(K))
    _check(mean, se, exact)


@pytest.mark.parametrize("name", ["depolarizing", "pauli", "phase-damping", "mixed+readout"])
def test_noisy_adjoint_gradients_match_density_matrix(name, small_circuit, args, observables):
    x, w = args
    model = MODELS[name]
    g = np.random.default_rng(1).normal(size=(2, 3))
    dw, dx = dm_vjp(small_circuit, observables, x, w, g, model)
    mean, se = seeded_mean_and_error(
        lambda s: np.concatenate([v.ravel() for v in hqsim.vjp(
            small_circuit, x, w, g, observables=observables, noise=model, trajectories=T, seed=s)]), range(K))
    _check(mean, se, np.concatenate([dw, dx.ravel()]))


def test_noisy_parameter_shift_and_shots_match_density_matrix(small_circuit, args, observables):
    """Parameter shift is exact for noisy expectations; with shots every shifted circuit is
    sampled from its trajectory mixture."""
    x, w = args
    model = MODELS["mixed+readout"]
    g = np.ones((2, 3))
    dw, dx = dm_vjp(small_circuit, observables, x, w, g, model)
    mean, se = seeded_mean_and_error(
        lambda s: np.concatenate([v.ravel() for v in hqsim.vjp(
            small_circuit, x, w, g, observables=observables, noise=model, trajectories=64, shots=2048,
            seed=s, gradient="parameter-shift")]), range(8))
    _check(mean, se, np.concatenate([dw, dx.ravel()]))


def test_amplitude_damping_is_forward_only(small_circuit, args, observables):
    x, w = args
    model = MODELS["amplitude-damping"]
    with pytest.raises(ValueError, match="amplitude damping"):
        hqsim.vjp(small_circuit, x, w, np.ones((2, 3)), observables=observables, noise=model, trajectories=8)
    layer = hqsim.QuantumLayer(small_circuit, observables=observables, noise=model, trajectories=8, seed=0,
                               dtype=torch.float64)
    with torch.no_grad():
        assert layer(torch.tensor(x)).shape == (2, 3)
    out = layer(torch.tensor(x))
    with pytest.raises(ValueError, match="amplitude damping.*gradient='parameter-shift' or 'spsa'"):
        out.sum().backward()
    # hardware-style modes only need forward runs, so they work under amplitude damping
    dw, _ = hqsim.vjp(small_circuit, x, w, np.ones((2, 3)), observables=observables, noise=model,
                      trajectories=8, seed=0, gradient="parameter-shift")
    assert np.all(np.isfinite(dw))


@pytest.mark.parametrize("gradient", ["parameter-shift", "spsa"])
def test_hardware_gradients_under_amplitude_damping_match_density_matrix(gradient, small_circuit, args,
                                                                          observables):
    """The adjoint is unavailable under amplitude damping, but parameter shift (exact for any
    angle-independent channel) and SPSA (unbiased up to O(c^2)) only run forwards: their
    trajectory estimates must match the density-matrix gradient, not just be finite."""
    x, w = args
    model = MODELS["amplitude-damping"]
    g = np.random.default_rng(2).normal(size=(2, 3))
    dw, dx = dm_vjp(small_circuit, observables, x, w, g, model)
    exact = np.concatenate([dw, dx.ravel()])
    if gradient == "spsa":
        from hqsim.noise import SPSA
        mode, seeds, traj = SPSA(epsilon=0.02, directions=32), range(24), 128
    else:
        mode, seeds, traj = gradient, range(8), 128
    mean, se = seeded_mean_and_error(
        lambda s: np.concatenate([v.ravel() for v in hqsim.vjp(
            small_circuit, x, w, g, observables=observables, noise=model, trajectories=traj, seed=s,
            gradient=mode)]), seeds)
    _check(mean, se, exact)
    # the check can tell the noisy gradient from the noiseless one
    clean = np.concatenate([v.ravel() for v in hqsim.vjp(small_circuit, x, w, g, observables=observables)])
    assert np.any(np.abs(clean - exact) > 5 * se + 2e-3)


def test_trajectories_batched_and_reproducible(small_circuit, args, observables):
    x, w = args
    model = MODELS["depolarizing"]
    a = hqsim.expectation(small_circuit, x, w, observables=observables, noise=model, trajectories=16, seed=3)
    b = hqsim.expectation(small_circuit, x, w, observables=observables, noise=model, trajectories=16, seed=3)
    assert a.shape == (2, 3) and np.array_equal(a, b)
    one = hqsim.expectation(small_circuit, x[:1], w, observables=observables, noise=model, trajectories=1, seed=0)
    assert one.shape == (1, 3)


def test_pauli_frames_through_clifford_runs():
    """Errors inside runs of CNOT / SWAP / CZ are pushed to the end of the run (one frame):
    still the exact noisy expectation and gradient, and the run stays one permutation pass."""
    c = hqsim.Circuit(4, num_weights=2)
    c.ry(hqsim.weight(0), 0).rx(hqsim.weight(1), 1).h(2).ry(0.3, 3)
    c.cnot(0, 1).swap(1, 2).cz(2, 3).cnot(3, 0).cnot(1, 3).cz(0, 2)
    c.ry(hqsim.weight(0), 2).cnot(2, 3)
    model = NoiseModel(two_qubit=PauliChannel({"XI": 0.1, "ZY": 0.15, "IX": 0.1, "YZ": 0.15, "ZZ": 0.1}),
                       one_qubit=Depolarizing(0.02))
    obs = [P(q) for q in range(4) for P in (hqsim.X, hqsim.Y, hqsim.Z)] + [hqsim.X(1) @ hqsim.Z(3)]
    x, w = np.zeros((1, 0)), np.array([0.7, -0.4])
    g = np.ones((1, len(obs)))
    exact = np.concatenate([dm_expectations(c, obs, x, w, model)[0], dm_vjp(c, obs, x, w, g, model)[0]])
    mean, se = seeded_mean_and_error(lambda s: np.concatenate([
        hqsim.expectation(c, x, w, observables=obs, noise=model, trajectories=T, seed=s)[0],
        hqsim.vjp(c, x, w, g, observables=obs, noise=model, trajectories=T, seed=s)[0]]), range(K))
    _check(mean, se, exact)
    from hqsim.noise.expand import expand
    ex = expand(c, obs, model)
    assert sum(len(f.members) > 1 for f in ex.frames) == 1  # the 6-gate run became one frame


def _pauli_matrix(letters: dict, nq: int) -> np.ndarray:
    m = np.ones((1, 1))
    for q in range(nq):
        m = np.kron(m, PAULI[letters.get(q, "I")])
    return m


@pytest.mark.parametrize("seed", range(6))
def test_frame_propagation_is_conjugation(seed):
    """The propagated x/z bits of a Pauli pushed through a random CNOT / SWAP / CZ run equal
    C P C^dagger up to a phase (checked on the 16x16 matrices)."""
    rng = np.random.default_rng(seed)
    nq = 4
    word = "".join(rng.choice(list("XYZ"), size=2))
    qs = tuple(int(q) for q in rng.choice(nq, 2, replace=False))
    gates = [Gate(str(rng.choice(["CNOT", "SWAP", "CZ"])), tuple(int(q) for q in rng.choice(nq, 2, replace=False)))
             for _ in range(5)]
    fb = FrameBuilder(nq)
    fb.add(PauliChannel({word: 1.0}), qs)
    for g in gates:
        fb.propagate(g)
    frame = fb.flush(0)
    bits = frame.members[0][1][1]  # outcome 1 = the word
    names = {(0, 0): "I", (1, 0): "X", (1, 1): "Y", (0, 1): "Z"}
    got = _pauli_matrix({q: names[int(bits[2 * i]), int(bits[2 * i + 1])] for i, q in enumerate(frame.qubits)}, nq)
    c = np.eye(2 ** nq, dtype=complex)
    for g in gates:
        c = apply_matrix(c.T.copy(), g.unitary(), g.qubits, nq).T  # g @ c
    want = c @ _pauli_matrix(dict(zip(qs, word)), nq) @ c.conj().T
    phase = np.vdot(got.ravel(), want.ravel()) / 2 ** nq
    assert abs(abs(phase) - 1) < 1e-12 and np.allclose(want, phase * got)
