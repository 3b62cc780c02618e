"""hqsim <-> Cirq conversion: exact states, round trips, the gate zoo, clear errors."""
import numpy as np
import pytest

import hqsim
from hqsim import X, Y, Z

cirq = pytest.importorskip("cirq")
sympy = pytest.importorskip("sympy")

from hqsim.interop.cirq import (  # noqa: E402
    export_model,
    export_resolved,
    export_sweep,
    from_cirq,
    observables_from_cirq,
    observables_to_cirq,
    to_cirq,
)

from .helpers import random_args, random_circuit, random_paulis  # noqa: E402

C128 = np.dtype("complex128")


def _cirq_state(circuit, n):
    return cirq.final_state_vector(circuit, qubit_order=cirq.LineQubit.range(n), dtype=np.complex128)


@pytest.mark.parametrize("seed", range(6))
def test_to_cirq_gives_the_same_state_including_global_phase(seed):
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, num_qubits=3, num_gates=25)
    x, w = random_args(rng, c)
    expected = hqsim.statevector(c, x, w, dtype=C128)[0]
    np.testing.assert_allclose(_cirq_state(to_cirq(c, w, x), 3), expected, atol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_round_trip_preserves_expectation_values(seed):
    rng = np.random.default_rng(100 + seed)
    c = random_circuit(rng, num_qubits=4, num_gates=30)
    x, w = random_args(rng, c, batch=5)
    obs = random_paulis(rng, 4) + [Z(0), X(1) @ Y(3)]
    symbolic = to_cirq(c)  # weights and inputs left as symbols
    back = from_cirq(symbolic, inputs=[f"x{j}" for j in range(c.num_inputs)],
                     weights=[f"w{i}" for i in range(c.num_weights)])
    np.testing.assert_allclose(hqsim.expectation(back, x, w, obs, dtype=C128),
                               hqsim.expectation(c, x, w, obs, dtype=C128), atol=1e-10)


def _per_qubit(circuit):
    """Each qubit's sequence of (gate, qubits, params): order up to commuting disjoint gates."""
    return {q: [(g.name, g.qubits, g.params) for g in circuit.gates if q in g.qubits]
            for q in range(circuit.num_qubits)}


def test_round_trip_with_default_symbol_names_is_gate_for_gate():
    c = hqsim.ansatz.rpqc(3, reuploads=2, layers=1)
    back = from_cirq(to_cirq(c))
    assert _per_qubit(back) == _per_qubit(c)
    assert (back.num_inputs, back.num_weights) == (3, c.num_weights)


def test_w1_exports_with_the_documented_gate_count():
    q, r, l = 4, 3, 2
    cc = to_cirq(hqsim.ansatz.rpqc(q, r, l), weights=np.zeros(r * l * q * 3))
    assert len(list(cc.all_operations())) == r * (q + l * 4 * q)
    assert cirq.parameter_names(cc) == {f"x{j}" for j in range(q)}


def _zoo(q, x, y):
    return cirq.Circuit([
        cirq.H(q[0]), cirq.X(q[1]) ** x, cirq.CZ(q[0], q[1]) ** 0.3,
        cirq.YPowGate(exponent=y, global_shift=0.2).on(q[2]), cirq.S(q[0]), cirq.T(q[1]) ** -1,
        cirq.PhasedXZGate(x_exponent=x, z_exponent=0.3, axis_phase_exponent=y).on(q[1]),
        cirq.PhasedXPowGate(phase_exponent=0.2, exponent=2 * x).on(q[2]),
        cirq.ControlledGate(cirq.Y ** y).on(q[2], q[0]), cirq.CNOT(q[1], q[2]) ** x,
        cirq.XX(q[0], q[2]) ** 0.4, cirq.ZZPowGate(exponent=y, global_shift=0.1).on(q[0], q[1]),
        cirq.YY(q[1], q[2]) ** x, cirq.rx(3 * x - 1).on(q[0]), cirq.rz(y).on(q[2]),
        cirq.ZPowGate(exponent=y, global_shift=0.3).on(q[1]), cirq.ms(0.3).on(q[0], q[1]),
        cirq.MatrixGate(cirq.testing.random_unitary(4, random_state=3)).on(q[2], q[1]),
        cirq.GlobalPhaseGate(1j).on(), cirq.ISWAP(q[0], q[1]) ** 0.3, cirq.CCX(q[0], q[1], q[2]),
        cirq.SWAP(q[0], q[2]), cirq.H(q[1]) ** 0.5, cirq.I(q[0]),
        cirq.CircuitOperation(cirq.FrozenCircuit(cirq.CZ(q[0], q[2]), cirq.X(q[1]) ** 0.5)),
    ])


def test_from_cirq_gate_zoo_matches_cirq_up_to_global_phase():
    q = cirq.LineQubit.range(3)
    x, y = sympy.symbols("x y")
    c = _zoo(q, x, y)
    hc = from_cirq(c, inputs=[x, y])
    assert hc.num_inputs == 2
    for vx, vy in [(0.3, -0.7), (1.1, 0.25)]:
        want = _cirq_state(cirq.resolve_parameters(c, {x: vx, y: vy}), 3)
        # the oracle backend: this checks the translation, not a backend
        got = hqsim.statevector(hc, np.array([[vx, vy]]), np.zeros(0), backend="reference", dtype=C128)[0]
        assert cirq.allclose_up_to_global_phase(got, want, atol=1e-10)


def test_from_cirq_keeps_lines_as_qubit_indices_and_orders_other_qubits():
    c = cirq.Circuit(cirq.X(cirq.LineQubit(2)))
    assert from_cirq(c).num_qubits == 3
    g = cirq.Circuit(cirq.X(cirq.GridQubit(5, 1)), cirq.H(cirq.GridQubit(4, 2)))
    hc = from_cirq(g)
    assert [(gate.name, gate.qubits) for gate in hc.gates] == [("X", (1,)), ("H", (0,))]


@pytest.mark.parametrize("make, match", [
    (lambda q, s: cirq.Circuit(cirq.rx(s).on(q[0])), "symbol theta is not bound"),
    (lambda q, s: cirq.Circuit(cirq.rx(s ** 2).on(q[0])), "not affine"),
    (lambda q, s: cirq.Circuit(cirq.rx(s + sympy.Symbol("x0")).on(q[0])), "not affine in one symbol"),
    (lambda q, s: cirq.Circuit(cirq.ISWAP(q[0], q[1]) ** sympy.Symbol("x0")), "parameterised gate"),
    (lambda q, s: cirq.Circuit(cirq.measure(q[0]), cirq.X(q[0])), "mid-circuit measurements"),
    (lambda q, s: cirq.Circuit(cirq.depolarize(0.1).on(q[0])), "not unitary"),
    (lambda q, s: cirq.Circuit(cirq.MatrixGate(np.eye(3), qid_shape=(3,)).on(cirq.LineQid(0, 3))), "qudits"),
])
def test_from_cirq_errors_name_the_problem(make, match):
    q = cirq.LineQubit.range(2)
    with pytest.raises(ValueError, match=match):
        from_cirq(make(q, sympy.Symbol("theta")))


def test_from_cirq_with_explicit_symbols_rejects_unlisted_ones():
    a, b = sympy.symbols("a b")
    c = cirq.Circuit(cirq.rx(a).on(cirq.LineQubit(0)), cirq.ry(b).on(cirq.LineQubit(0)))
    with pytest.raises(ValueError, match="symbol b is not bound: pass it in inputs= or weights="):
        from_cirq(c, inputs=[a])
    hc = from_cirq(c, inputs=[a], weights=[b])
    assert [p.source for g in hc.gates for p in g.params] == [hqsim.ir.INPUT, hqsim.ir.WEIGHT]


def test_to_cirq_input_errors():
    c = hqsim.ansatz.rpqc(2, reuploads=1, layers=1)
    with pytest.raises(ValueError, match="export_resolved or export_sweep"):
        to_cirq(c, np.zeros(c.num_weights), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"weights must have shape \(6,\)"):
        to_cirq(c, np.zeros(5))
    enc = hqsim.ansatz.amplitude_encoder(2, 3, layers=1, connectivity=1)
    with pytest.raises(ValueError, match="needs bound inputs"):
        to_cirq(enc, np.zeros(enc.num_weights))


def test_amplitude_encoded_circuit_exports_as_state_preparation():
    rng = np.random.default_rng(7)
    enc = hqsim.ansatz.amplitude_encoder(3, 6, layers=2, connectivity=2)
    x, w = rng.normal(size=(3, 6)), rng.normal(size=enc.num_weights)
    states = hqsim.statevector(enc, x, w, dtype=C128)
    for k, cc in enumerate(export_resolved(enc, w, x)):
        np.testing.assert_allclose(_cirq_state(cc, 3), states[k], atol=1e-10)


def test_observables_to_and_from_cirq():
    rng = np.random.default_rng(3)
    c = random_circuit(rng, num_qubits=3, num_gates=15)
    x, w = random_args(rng, c)
    obs = [Z(0), 0.5 * X(1) @ Y(2) - 2.0 * Z(2), Y(0)]
    state = _cirq_state(to_cirq(c, w, x), 3)
    qmap = {qq: i for i, qq in enumerate(cirq.LineQubit.range(3))}
    via_cirq = [ps.expectation_from_state_vector(state.astype(np.complex128), qmap).real
                for ps in observables_to_cirq(obs, 3)]
    np.testing.assert_allclose(via_cirq, hqsim.expectation(c, x, w, obs, dtype=C128)[0], atol=1e-10)
    back = observables_from_cirq(observables_to_cirq(obs) + [cirq.PauliSum() + 0.5],
                                 cirq.LineQubit.range(3))
    assert back[1][0].terms == hqsim.ir.as_observable(obs[1]).terms and back[3] == (None, 0.5)
    with pytest.raises(ValueError, match="complex coefficient"):
        observables_from_cirq([1j * cirq.Z(cirq.LineQubit(0))], cirq.LineQubit.range(1))


def test_export_sweep_and_quantum_layer_model():
    torch = pytest.importorskip("torch")
    c = hqsim.ansatz.reuploading_module(3, blocks=2, pqc1_layers=1, pqc2_layers=1, connectivity=1)
    layer = hqsim.QuantumLayer(c, observables=[Z(0)], dtype=torch.float64)
    x = np.random.default_rng(0).uniform(-1, 1, size=(4, 3))
    want = layer(torch.as_tensor(x)).detach().numpy()[:, 0]
    circuit, sweep = export_model(layer, x)
    assert len(sweep) == 4 and not (cirq.parameter_names(circuit) - {"x0", "x1", "x2"})
    got = cirq.Simulator(dtype=np.complex128).simulate_expectation_values_sweep(
        circuit, [cirq.Z(cirq.LineQubit(0))], sweep)
    np.testing.assert_allclose(np.array(got)[:, 0].real, want, atol=1e-10)
    resolved = export_model(layer, x, sweep=False)
    assert len(resolved) == 4 and not any(cirq.is_parameterized(r) for r in resolved)
    with pytest.raises(ValueError, match="amplitude-encoded inputs cannot be swept"):
        export_sweep(hqsim.ansatz.amplitude_encoder(2, 3, 1, 1), np.zeros(2), np.ones((2, 3)))


def test_export_qllm_batch_matches_the_trained_model():
    torch = pytest.importorskip("torch")
    from hqsim.interop.cirq import export_qllm
    from hqsim.models.qllm import QLLMClassifier, QLLMConfig
    torch.manual_seed(0)
    cfg = QLLMConfig(num_features=6, qubits=3, encoders=1, encoder_layers=1, reuploads=2,
                     pqc1_layers=1, pqc2_layers=1, connectivity=1)
    model = QLLMClassifier(cfg, dtype=torch.float64)
    x = torch.as_tensor(np.random.default_rng(1).normal(size=(3, 6)))
    feats = model.quantum_features(x).detach().numpy()
    out = export_qllm(model, x)
    sim = cirq.Simulator(dtype=np.complex128)
    zs = [cirq.Z(q) for q in cirq.LineQubit.range(3)]
    enc = [np.real(sim.simulate_expectation_values(c, zs)) for c in out["encoders"][0]]
    np.testing.assert_allclose(enc, feats[:, :3], atol=1e-10)
    np.testing.assert_allclose(out["encoder_outputs"], feats[:, :3], atol=1e-10)
    circuit, sweep = out["qpu"]
    qpu = sim.simulate_expectation_values_sweep(circuit, [zs[0]], sweep)
    np.testing.assert_allclose(np.real(qpu)[:, 0], feats[:, 3], atol=1e-10)
