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
    """Errors inside runs of CNOT / SWAP / CZ are carried past the run: still the exact noisy
    expectation and gradient, and the run stays contiguous (one permutation pass)."""
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
    names = [g.name for g in ex.circuit.gates]
    i = names.index("SWAP") - 1
    assert names[i:i + 6] == ["CNOT", "SWAP", "CZ", "CNOT", "CNOT", "CZ"]


def test_ring_pqc_noise_costs_one_input_factor_per_rotation():
    """W2's CNOT + RY rings under depolarizing noise: the errors are carried, so the lowered
    program has the noiseless op structure and one noise factor per RY (X part only: the Y part
    commutes with RY), and nothing is applied for errors no observable can see."""
    from hqsim.ansatz import amplitude_encoder
    from hqsim.compile import compile_circuit
    from hqsim.models.qllm import qpu_circuit
    from hqsim.noise import depolarizing_model
    from hqsim.noise.expand import expand
    model = depolarizing_model(1e-3, 1e-2)
    circ = qpu_circuit(6, 1, 2, 1, 1, 2)
    obs = [hqsim.Z(0)]
    ex = expand(circ, obs, model)
    exact, noisy = compile_circuit(circ, obs).program, compile_circuit(ex.circuit, obs).program
    assert noisy.num_ops == exact.num_ops
    n_ry = sum(g.name == "RY" for g in ex.circuit.gates)
    frame = [g for g in ex.circuit.gates if g.name != "RY" and g.name != "CNOT"]
    assert frame and all(g.name == "RX" for g in frame) and len(frame) <= n_ry
    assert ex.frames.num_columns == len(frame) == ex.num_inputs - circ.num_inputs
    enc = amplitude_encoder(4, 16, 1, 1)
    ex = expand(enc, [hqsim.Z(1)], model)   # only qubit 1 read: one end flush, on qubit 1
    assert [g.qubits for g in ex.circuit.gates[-1:]] == [(1,)]


@pytest.mark.parametrize("axis", ["X", "Y", "Z", None])
@pytest.mark.parametrize("word", ["X", "Y", "Z"])
def test_frame_flush_splits_off_the_non_commuting_part(word, axis):
    """Before a rotation about ``axis`` the applied part F and the carried part R satisfy
    R F = P up to a phase, and R commutes with the axis (all of P is applied for axis None)."""
    fb = FrameBuilder(1, 0)
    site = fb.add(PauliChannel({word: 1.0}), (0,))
    gates = fb.flush(0, axis)
    f = np.eye(2, dtype=complex)
    for name, col in gates:
        c = fb.columns[col][fb.offsets[site] + 1]          # outcome 1 = the word
        f = hqsim.ir.GATES[name].matrix(np.pi * c) @ f
    x, z = (int(v) for v in fb.site_bits(site)[1, :, 0])
    r = _pauli_matrix({0: {(0, 0): "I", (1, 0): "X", (1, 1): "Y", (0, 1): "Z"}[x, z]}, 1)
    p = PAULI[word]
    phase = np.vdot((r @ f).ravel(), p.ravel()) / 2
    assert abs(abs(phase) - 1) < 1e-12 and np.allclose(p, phase * (r @ f))
    if axis is None:
        assert (x, z) == (0, 0)
    else:
        a = PAULI[axis]
        assert np.allclose(r @ a, a @ r)


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
    fb = FrameBuilder(nq, 0)
    site = fb.add(PauliChannel({word: 1.0}), qs)
    for g in gates:
        fb.propagate(g)
    bits = fb.site_bits(site)[1]  # outcome 1 = the word; (2, nq): x row, z row
    names = {(0, 0): "I", (1, 0): "X", (1, 1): "Y", (0, 1): "Z"}
    got = _pauli_matrix({q: names[int(bits[0, q]), int(bits[1, q])] for q in range(nq)}, nq)
    c = np.eye(2 ** nq, dtype=complex)
    for g in gates:
        c = apply_matrix(c.T.copy(), g.unitary(), g.qubits, nq).T  # g @ c
    want = c @ _pauli_matrix(dict(zip(qs, word)), nq) @ c.conj().T
    phase = np.vdot(got.ravel(), want.ravel()) / 2 ** nq
    assert abs(abs(phase) - 1) < 1e-12 and np.allclose(want, phase * got)


def _axes_circuit():
    c = hqsim.Circuit(3, num_weights=5, num_inputs=1)
    c.h(0).ry(hqsim.weight(0), 1).rx(hqsim.input(0), 2).cnot(0, 1).sx(2).rxx(hqsim.weight(1), 0, 2)
    c.x(1).rz(hqsim.weight(2), 0).ryy(hqsim.weight(3), 1, 2).s(1).cry(hqsim.weight(4), 2, 0)
    c.phase(hqsim.weight(2), 2).y(0).crx(hqsim.weight(0), 1, 2).rzz(hqsim.weight(1), 0, 1)
    c.crz(hqsim.weight(3), 2, 1).t(0).cz(0, 1).ry(0.3, 1)
    return c, np.array([[0.4], [-1.1]]), np.array([0.7, -0.4, 1.2, 1.5, -0.9])


@pytest.mark.parametrize("one,two", [("X", "XY"), ("Y", "ZX"), ("Z", "YY"), ("X", "IZ"), ("Y", "XI"),
                                     ("Z", "YX")])
def test_carried_errors_exact_for_certain_errors(one, two):
    """Channels that always strike the same Pauli make every trajectory the same circuit, so
    carrying the errors through every rotation axis the frames split on (RX RY RZ PhaseShift SX
    S T, RXX RYY RZZ CRX CRY CRZ, Pauli gates passed through, CNOT / CZ conjugation) and the end
    flushes in the X, Y and Z bases must give the density matrix's values exactly."""
    c, x, w = _axes_circuit()
    model = NoiseModel(one_qubit=PauliChannel({one: 1.0}), two_qubit=PauliChannel({two: 1.0}))
    for obs in ([hqsim.X(0), hqsim.Y(1) @ hqsim.Z(2), hqsim.Z(2)], [hqsim.Y(0), hqsim.X(1), hqsim.Z(1) @ hqsim.X(2)]):
        g = np.random.default_rng(2).normal(size=(2, 3))
        got = hqsim.expectation(c, x, w, observables=obs, noise=model, trajectories=2, seed=0)
        dw, dx = hqsim.vjp(c, x, w, g, observables=obs, noise=model, trajectories=2, seed=0)
        want_dw, want_dx = dm_vjp(c, obs, x, w, g, model)
        np.testing.assert_allclose(got, dm_expectations(c, obs, x, w, model), atol=1e-9)
        np.testing.assert_allclose(dw, want_dw, atol=1e-9)
        np.testing.assert_allclose(dx, want_dx, atol=1e-9)


def test_carried_errors_with_single_basis_measurements():
    """The same circuit under random Pauli errors against the density matrix (statistical)."""
    c, x, w = _axes_circuit()
    model = NoiseModel(one_qubit=PauliChannel({"X": 0.05, "Y": 0.04, "Z": 0.06}),
                       two_qubit=Depolarizing(0.1, 2))
    obs = [hqsim.X(0), hqsim.Y(1) @ hqsim.Z(2), hqsim.Z(2)]
    g = np.random.default_rng(2).normal(size=(2, 3))
    dw, dx = dm_vjp(c, obs, x, w, g, model)
    exact = np.concatenate([dm_expectations(c, obs, x, w, model).ravel(), dw, dx.ravel()])
    mean, se = seeded_mean_and_error(lambda s: np.concatenate([
        hqsim.expectation(c, x, w, observables=obs, noise=model, trajectories=T, seed=s).ravel(),
        *(v.ravel() for v in hqsim.vjp(c, x, w, g, observables=obs, noise=model, trajectories=T, seed=s))]),
        range(K))
    _check(mean, se, exact)


@pytest.mark.parametrize("shots", [None, 500])
def test_trivial_error_rows_run_once_with_the_same_results(shots, small_circuit, args, observables, monkeypatch):
    """Rows of a sample whose sampled errors are all trivial collapse into one weighted row:
    estimates and adjoint gradients equal running every row (same seed), with fewer rows."""
    from hqsim.backends import get_backend
    from hqsim.noise import make_options
    from hqsim.noise.estimator import Estimator
    from hqsim.noise.trajectories import Runner
    x, w = args
    model = NoiseModel(one_qubit=Depolarizing(0.01), two_qubit=Depolarizing(0.02, 2), readout=ReadoutError(0.02))
    est = Estimator(hqsim.compile_circuit(small_circuit, observables),
                    make_options(shots=shots, noise=model, trajectories=64), get_backend("numba"))
    g = np.random.default_rng(4).normal(size=(2, 3))

    def run():
        values, record = est.forward(x, w, np.random.default_rng(9), np.float64, keep=True)
        dw, dx = est.vjp(x, w, g, np.random.default_rng(9), np.float64, record=record)
        return values, dw, dx, record.x_rows.shape[0]
    compact = run()
    monkeypatch.setattr(Runner, "compacts", property(lambda self: False))
    full = run()
    assert full[3] == 2 * 64 and compact[3] < 0.8 * full[3]
    for a, b in zip(compact[:3], full[:3]):
        np.testing.assert_allclose(a, b, atol=1e-12)
