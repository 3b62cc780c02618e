"""hqsim.qubit against default.qubit: random circuits over every supported operation (broadcast
and not), every measurement kind, shots, and the errors PennyLane users expect."""
import numpy as np
import pennylane as qml
import pytest

from hqsim.interop.pennylane import HQSimQubit

from .helpers import apply_ops, num_angles, random_observables, random_ops

WIRES = 4


def _qnodes(ops, observables, measure):
    def circuit(params):
        apply_ops(ops, params)
        return measure(observables)
    mine = qml.QNode(circuit, HQSimQubit(wires=WIRES, dtype=np.complex128))
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=WIRES))
    return mine, ref


MEASURES = {
    "expvals": lambda obs: [qml.expval(o) for o in obs],
    "var_probs": lambda obs: (qml.var(obs[0]), qml.probs(wires=[0, 2]), qml.expval(qml.Hermitian(
        np.array([[1.0, 0.5j], [-0.5j, 2.0]]), wires=1))),
    "state": lambda obs: qml.state(),
    "density": lambda obs: (qml.density_matrix(wires=[1, 3]), qml.purity(wires=[0])),
}


@pytest.mark.parametrize("measure", sorted(MEASURES))
@pytest.mark.parametrize("broadcast", [None, 3])
@pytest.mark.parametrize("seed", range(3))
def test_random_circuits_match_default_qubit(measure, broadcast, seed):
    rng = np.random.default_rng(seed)
    ops = random_ops(rng, WIRES, 24)
    shape = (num_angles(ops),) if broadcast is None else (num_angles(ops), broadcast)
    params = rng.uniform(-np.pi, np.pi, shape)
    mine, ref = _qnodes(ops, random_observables(rng, WIRES, 3), MEASURES[measure])
    got, want = mine(params), ref(params)
    for g, w in zip(np.atleast_1d(*[got]) if not isinstance(got, tuple) else got,
                    np.atleast_1d(*[want]) if not isinstance(want, tuple) else want):
        np.testing.assert_allclose(g, w, atol=1e-10)


def test_complex64_default_is_single_precision_accurate(rng):
    ops = random_ops(rng, WIRES, 30)
    params = rng.uniform(-np.pi, np.pi, num_angles(ops))
    obs = random_observables(rng, WIRES, 4)

    def circuit(p):
        apply_ops(ops, p)
        return [qml.expval(o) for o in obs]
    dev = HQSimQubit(wires=WIRES)
    assert dev.options.dtype is np.complex64
    got = qml.QNode(circuit, dev)(params)
    want = qml.QNode(circuit, qml.device("default.qubit", wires=WIRES))(params)
    np.testing.assert_allclose(got, want, atol=2e-6)


def test_global_phase_reaches_the_state():
    def circuit(a):
        qml.Hadamard(0)
        qml.GlobalPhase(a)
        qml.ctrl(qml.GlobalPhase(0.4), control=0)
        return qml.state()
    got = qml.QNode(circuit, HQSimQubit(wires=2, dtype=np.complex128))(np.array([0.3, 1.1]))
    want = qml.QNode(circuit, qml.device("default.qubit", wires=2))(np.array([0.3, 1.1]))
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_wire_labels_and_unused_wires():
    def circuit(x):
        qml.RY(x, wires="b")
        qml.CNOT(wires=["b", 7])
        return qml.expval(qml.Z(7)), qml.probs(wires=["a", 7]), qml.state()
    got = qml.QNode(circuit, HQSimQubit(wires=["a", "b", 7], dtype=np.complex128))(0.7)
    want = qml.QNode(circuit, qml.device("default.qubit", wires=["a", "b", 7]))(0.7)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-12)


# -- shots ----------------------------------------------------------------------------------
def _shots_circuit(dev, shots):
    @qml.set_shots(shots)
    @qml.qnode(dev)
    def circuit(x):
        qml.RX(x, 0)
        qml.CNOT([0, 1])
        qml.RY(0.4, 2)
        return (qml.expval(qml.Z(0)), qml.expval(qml.X(2)), qml.var(qml.Y(1)), qml.probs(wires=[0, 1]),
                qml.counts(wires=[0, 2]), qml.sample(wires=[1]))
    return circuit


def test_shots_are_seeded_and_within_standard_errors():
    s = 20000
    a = _shots_circuit(HQSimQubit(wires=3, seed=7), s)(0.9)
    b = _shots_circuit(HQSimQubit(wires=3, seed=7), s)(0.9)
    exact = _shots_circuit(qml.device("default.qubit", wires=3), None)
    c0, x2 = np.cos(0.9), np.sin(0.4)
    for got, want in [(a[0], c0), (a[1], x2)]:
        assert abs(got - want) < 5 * np.sqrt((1 - want ** 2) / s)
    np.testing.assert_allclose(a[3], [np.cos(0.45) ** 2, 0, 0, np.sin(0.45) ** 2], atol=5 * 0.5 / np.sqrt(s))
    assert sum(a[4].values()) == s and a[5].shape == (s, 1)
    assert np.array_equal(a[5], b[5]) and a[0] == b[0]
    assert exact is not None


def test_shot_vectors_and_broadcasting():
    circuit = _shots_circuit(HQSimQubit(wires=3, seed=1), [100, (50, 2)])
    res = circuit(np.array([0.1, 2.0]))
    assert len(res) == 3  # one entry per shot bin
    for (ez, _, _, probs, counts, samples), n in zip(res, [100, 50, 50]):
        assert ez.shape == (2,) and probs.shape == (2, 4) and samples.shape == (2, n, 1)
        assert [sum(c.values()) for c in counts] == [n, n]


# -- errors -----------------------------------------------------------------------------------
def test_mid_circuit_measurement_is_declined():
    @qml.qnode(HQSimQubit(wires=2))
    def circuit():
        m = qml.measure(0)
        qml.cond(m, qml.PauliX)(1)
        return qml.expval(qml.Z(1))
    with pytest.raises(qml.exceptions.DeviceError, match="not supported"):
        circuit()


def test_bad_options_name_the_argument():
    with pytest.raises(ValueError, match="dtype must be complex64 or complex128"):
        HQSimQubit(wires=1, dtype=np.float32)
    with pytest.raises(ValueError, match="backend must be one of"):
        HQSimQubit(wires=1, backend="tpu")


def test_backprop_is_pennylanes_usual_error():
    with pytest.raises(qml.exceptions.QuantumFunctionError, match="backprop"):
        qml.QNode(lambda: qml.expval(qml.Z(0)), HQSimQubit(wires=1), diff_method="backprop")()


def test_adjoint_of_probabilities_is_declined():
    @qml.qnode(HQSimQubit(wires=1), diff_method="adjoint")
    def circuit(x):
        qml.RX(x, 0)
        return qml.probs(wires=0)
    with pytest.raises(qml.exceptions.QuantumFunctionError, match="does not support adjoint"):
        qml.jacobian(circuit)(qml.numpy.array(0.3, requires_grad=True))


def test_entry_point_finds_the_device():
    dev = qml.device("hqsim.qubit", wires=2, dtype="complex128", seed=3)
    assert isinstance(dev, HQSimQubit) and dev.options.dtype is np.complex128


@pytest.mark.parametrize("broadcast", [None, 3])
def test_observable_parameters_are_not_a_broadcast(broadcast):
    """A Projector's basis state is a 1-d parameter of the observable, not a batch of angles:
    the result keeps the shape default.qubit gives, broadcast or not."""
    def circuit(x):
        qml.RX(x, wires=0)
        qml.RY(0.3, wires=1)
        qml.CNOT(wires=[0, 1])
        return qml.expval(qml.Projector(np.array([1, 1]), wires=[0, 1]))
    x = 0.4 if broadcast is None else np.linspace(0.1, 0.9, broadcast)
    mine = qml.QNode(circuit, HQSimQubit(wires=2, dtype=np.complex128))(x)
    ref = qml.QNode(circuit, qml.device("default.qubit", wires=2))(x)
    assert np.shape(mine) == np.shape(ref)
    np.testing.assert_allclose(mine, ref, atol=1e-12)
