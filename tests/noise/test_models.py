"""NoiseModel placement rules, device-like presets, and the Cirq export checked against the
density-matrix reference and Cirq's own simulators."""
import numpy as np
import pytest

import hqsim
from hqsim.ir import Gate, input, weight
from hqsim.noise import (AmplitudeDamping, BitFlip, Depolarizing, NoiseModel, PauliChannel,
                         ReadoutError, google_sycamore_like, google_weber_2021_like, ionq_aria_like)
from hqsim.noise.models import PRESETS, WEBER_2021_METRICS

from .helpers import dm_expectations


def test_channels_after_placement():
    m = NoiseModel(one_qubit=BitFlip(0.1), two_qubit=Depolarizing(0.2, 2), per_gate={"rz": None, "CZ": BitFlip(0.3)})
    assert m.channels_after(Gate("RY", (1,), (weight(0),))) == [(BitFlip(0.1), (1,))]
    assert m.channels_after(Gate("RZ", (1,), (weight(0),))) == []
    assert m.channels_after(Gate("CNOT", (0, 2))) == [(Depolarizing(0.2, 2), (0, 2))]
    assert m.channels_after(Gate("CZ", (0, 2))) == [(BitFlip(0.3), (0,)), (BitFlip(0.3), (2,))]
    with pytest.raises(ValueError, match="2-qubit channel cannot follow"):
        m.channels_after(Gate("Unitary", (0, 1, 2), (), np.eye(8)))
    assert m.is_pauli and m.has_gate_noise and not m.has_readout_error
    assert not NoiseModel(one_qubit=AmplitudeDamping(0.1)).is_pauli


def test_channel_conventions():
    words = Depolarizing(0.3).pauli_probs()
    assert [w for w, _ in words] == ["X", "Y", "Z"] and np.allclose([p for _, p in words], 0.1)
    assert len(Depolarizing(0.15, 2).pauli_probs()) == 15
    for ch in (Depolarizing(0.2), Depolarizing(0.3, 2), PauliChannel({"XY": 0.1, "ZI": 0.2}),
               AmplitudeDamping(0.3), BitFlip(0.4)):
        ks = ch.kraus()
        np.testing.assert_allclose(sum(k.conj().T @ k for k in ks), np.eye(ks[0].shape[0]), atol=1e-12)


def test_presets_use_the_cited_rates():
    aria = ionq_aria_like()
    assert aria.one_qubit == Depolarizing(7.5e-4) and aria.two_qubit == Depolarizing(5.0e-3, 2)
    assert aria.readout == ReadoutError(0.0039)
    syc = google_sycamore_like()
    assert syc.one_qubit == Depolarizing(0.0016) and syc.two_qubit == Depolarizing(0.0062, 2)
    assert syc.readout == ReadoutError(0.038)
    for m in (aria, syc):
        assert m.channels_after(Gate("RZ", (0,), (weight(0),))) == []  # virtual Z
    assert "learn.microsoft.com" in ionq_aria_like.__doc__ and "Nature 574" in google_sycamore_like.__doc__
    # the unconfirmed figures say so
    assert "NOT confirmed" in google_sycamore_like.__doc__


def test_weber_preset_is_the_published_calibration():
    """google_weber_2021_like uses the chip means of Google's Weber calibration (2021-11-03) as
    published in cirq-google; recomputed here from that file."""
    m = google_weber_2021_like()
    assert m.one_qubit == Depolarizing(WEBER_2021_METRICS["single_qubit_rb_pauli_error_per_gate"])
    assert m.two_qubit == Depolarizing(
        WEBER_2021_METRICS["two_qubit_parallel_sycamore_gate_xeb_pauli_error_per_cycle"], 2)
    assert m.readout == ReadoutError(WEBER_2021_METRICS["parallel_p00_error"],
                                     WEBER_2021_METRICS["parallel_p11_error"])
    assert m.channels_after(Gate("RZ", (0,), (weight(0),))) == []
    assert PRESETS["google-weber-2021"] is google_weber_2021_like
    cirq_google = pytest.importorskip("cirq_google")
    import json
    from pathlib import Path
    path = Path(cirq_google.__file__).parent / "devices" / "calibrations" / "weber_2021_11_03_calibration.json"
    if not path.exists():
        pytest.skip(f"this cirq-google has no {path.name}")
    metrics = json.loads(path.read_text())["metrics"]["metrics"]
    counts = {"single_qubit_rb_pauli_error_per_gate": 53, "parallel_p00_error": 53, "parallel_p11_error": 53,
              "two_qubit_parallel_sycamore_gate_xeb_pauli_error_per_cycle": 86}
    for name, value in WEBER_2021_METRICS.items():
        vals = [next(iter(m["values"][0].values())) for m in metrics if m["name"] == name]
        assert len(vals) == counts[name], name
        assert np.mean(vals) == pytest.approx(value, rel=1e-3), name


@pytest.fixture
def bridge_circuit():
    c = hqsim.Circuit(3, num_weights=3, num_inputs=1)
    c.h(0).rot(weight(0), 0.3, weight(1), 1).cnot(0, 1).crx(weight(2), 1, 2)
    c.u3(0.1, 0.2, 0.3, 2).rz(0.4, 0).ry(input(0), 2).cz(0, 2)
    return c


def test_to_cirq_matches_density_matrix(bridge_circuit):
    cirq = pytest.importorskip("cirq")
    from hqsim.interop import observables_to_cirq, to_cirq
    model = NoiseModel(one_qubit=Depolarizing(0.05), two_qubit=PauliChannel({"XZ": 0.05, "YY": 0.02}),
                       per_gate={"RZ": None, "H": AmplitudeDamping(0.1), "CZ": BitFlip(0.07)})
    w, x = np.array([0.3, -0.7, 1.1]), np.array([[0.5]])
    obs = [hqsim.Z(0), hqsim.Z(1) @ hqsim.X(2), hqsim.Y(2)]
    want = dm_expectations(bridge_circuit, obs, x, w, model)[0]
    sim = cirq.DensityMatrixSimulator(noise=model.to_cirq())
    got = sim.simulate_expectation_values(to_cirq(bridge_circuit, weights=w, inputs=x[0]),
                                          observables_to_cirq(obs, 3), qubit_order=cirq.LineQubit.range(3))
    np.testing.assert_allclose(np.real(got), want, atol=1e-6)
    clean = hqsim.expectation(bridge_circuit, x, w, observables=obs)[0]
    assert np.max(np.abs(clean - want)) > 0.02


def test_to_cirq_readout_confusion():
    cirq = pytest.importorskip("cirq")
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.X(q[1]), cirq.measure(*q, key="m"))
    model = NoiseModel(readout=ReadoutError(0.1, 0.3))
    bits = cirq.Simulator(seed=3, noise=model.to_cirq()).run(circuit, repetitions=2000).measurements["m"]
    # qubit 0 prepared 0 -> reads 1 w.p. 0.1; qubit 1 prepared 1 -> reads 0 w.p. 0.3 (4 SE)
    assert abs(bits[:, 0].mean() - 0.1) < 4 * 0.0067 and abs(1 - bits[:, 1].mean() - 0.3) < 4 * 0.0103


def test_qsimcirq_checks_hqsim_noisy_results(bridge_circuit):
    """qsimcirq samples noisy trajectories of the exported model; its <Z0 Z1> agrees with
    hqsim's trajectories within 5 combined SE."""
    cirq = pytest.importorskip("cirq")
    qsimcirq = pytest.importorskip("qsimcirq")
    from hqsim.interop import to_cirq
    model = NoiseModel(one_qubit=Depolarizing(0.05), two_qubit=Depolarizing(0.1, 2))
    w, x = np.array([0.3, -0.7, 1.1]), np.array([[0.5]])
    cc = to_cirq(bridge_circuit, weights=w, inputs=x[0])
    cc = cc + cirq.measure(*cirq.LineQubit.range(3), key="m")
    n = 4000
    bits = qsimcirq.QSimSimulator(seed=5).run(cc.with_noise(model.to_cirq()), repetitions=n).measurements["m"]
    qsim_zz = np.mean((1 - 2 * bits[:, 0]) * (1 - 2 * bits[:, 1]))
    ours = hqsim.expectation(bridge_circuit, x, w, observables=[hqsim.Z(0) @ hqsim.Z(1)], noise=model,
                             trajectories=4000, shots=n, seed=1)[0, 0]
    assert abs(qsim_zz - ours) < 5 * np.sqrt(2 / n)


@pytest.mark.parametrize("preset", [ionq_aria_like, google_sycamore_like, google_weber_2021_like])
def test_presets_run_with_gradients(preset):
    """The presets (Pauli channels + readout) train: forward and adjoint gradients are finite and
    the gate noise pulls expectations towards 0 (readout is left out of that check: an
    asymmetric readout error, as in google_weber_2021_like, biases <Z> towards +1)."""
    import dataclasses
    c = hqsim.ansatz.rpqc(3, reuploads=2, layers=1)
    rng = np.random.default_rng(0)
    x, w = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, c.num_weights)
    gates_only = dataclasses.replace(preset(), readout=None)
    noisy = hqsim.expectation(c, x, w, noise=gates_only, trajectories=32, seed=0)
    clean = hqsim.expectation(c, x, w)
    assert np.mean(np.abs(noisy)) < np.mean(np.abs(clean))
    dw, dx = hqsim.vjp(c, x, w, np.ones((2, 3)), noise=preset(), trajectories=32, seed=0)
    assert np.all(np.isfinite(dw)) and np.all(np.isfinite(dx))
