"""Gradients of hqsim.qubit (adjoint: VJP and Jacobian paths; PennyLane's parameter shift on
the device) against default.qubit backprop, TorchLayer training, and one hqsim call per batch."""
import numpy as np
import pennylane as qml
import pytest
import torch

import hqsim.api
from hqsim.interop.pennylane import HQSimQubit

from .helpers import apply_ops, num_angles, random_observables, random_ops

WIRES = 4


def _loss_and_grads(dev, diff_method, ops, obs, params, weights_in_all=True, **kw):
    p = torch.tensor(params, dtype=torch.float64, requires_grad=True)

    @qml.qnode(dev, diff_method=diff_method, interface="torch", **kw)
    def circuit(angles):
        apply_ops(ops, angles)
        return [qml.expval(o) for o in obs]
    out = circuit(p)
    out = torch.stack(out) if isinstance(out, (list, tuple)) else out
    coeffs = torch.linspace(0.5, 1.5, out.numel(), dtype=torch.float64).reshape(out.shape)
    (out * coeffs).sum().backward()
    return out.detach().numpy(), p.grad.numpy()


@pytest.mark.parametrize("device_vjp", [True, False])
@pytest.mark.parametrize("broadcast", [None, 3])
@pytest.mark.parametrize("seed", range(3))
def test_adjoint_matches_backprop(device_vjp, broadcast, seed):
    rng = np.random.default_rng(10 + seed)
    # default.qubit's torch backprop (PennyLane 0.45) fails on a broadcast PauliRot or IsingXY and on some
    # adjoint(broadcast op): the broadcast cases leave them out
    ops = random_ops(rng, WIRES, 20, adjoint_rate=0.0 if broadcast else 0.2,
                     exclude=(qml.PauliRot, qml.IsingXY) if broadcast else ())
    obs = random_observables(rng, WIRES, 3)
    n = num_angles(ops)
    params = rng.uniform(-np.pi, np.pi, n)
    if broadcast:  # broadcast half of the angles (inputs), keep the rest shared (weights)
        params = np.array([rng.uniform(-np.pi, np.pi, broadcast) if k % 2 else np.full(broadcast, v)
                           for k, v in enumerate(params)])
    mine = _loss_and_grads(HQSimQubit(wires=WIRES, dtype=np.complex128), "adjoint", ops, obs, params,
                           device_vjp=device_vjp)
    ref = _loss_and_grads(qml.device("default.qubit", wires=WIRES), "backprop", ops, obs, params)
    np.testing.assert_allclose(mine[0], ref[0], atol=1e-10)
    np.testing.assert_allclose(mine[1], ref[1], atol=1e-9)


def test_unbroadcast_weights_in_a_broadcast_tape_get_summed_gradients(rng):
    x = torch.tensor(rng.uniform(0, np.pi, (5, 2)), requires_grad=True)
    w = torch.tensor(rng.uniform(0, np.pi, 3), requires_grad=True)

    def circuit(x, w):
        qml.RY(x[:, 0], 0)
        qml.RX(x[:, 1], 1)
        qml.Rot(w[0], w[1], w[2], 0)
        qml.CNOT([0, 1])
        return qml.expval(qml.Z(1)), qml.expval(qml.Y(0))
    grads = []
    for dev, dm, vjp in [(HQSimQubit(wires=2, dtype=np.complex128), "adjoint", True),
                         (qml.device("default.qubit", wires=2), "backprop", False)]:
        out = qml.QNode(circuit, dev, diff_method=dm, device_vjp=vjp)(x, w)
        (out[0] * 2 + out[1]).sum().backward()
        grads.append((x.grad.clone(), w.grad.clone()))
        x.grad, w.grad = None, None
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_jacobian_through_autograd_and_parameter_shift(rng):
    ops = random_ops(rng, WIRES, 16)
    obs = random_observables(rng, WIRES, 2)
    params = qml.numpy.array(rng.uniform(-np.pi, np.pi, num_angles(ops)), requires_grad=True)

    def circuit(p):
        apply_ops(ops, p)
        return qml.expval(obs[0]), qml.expval(obs[1])
    ref = qml.jacobian(lambda p: qml.math.stack(qml.QNode(circuit, qml.device("default.qubit", wires=WIRES))(p)))(params)
    for method in ("adjoint", "device", "parameter-shift"):
        qnode = qml.QNode(circuit, HQSimQubit(wires=WIRES, dtype=np.complex128), diff_method=method)
        got = qml.jacobian(lambda p: qml.math.stack(qnode(p)))(params)
        np.testing.assert_allclose(got, ref, atol=1e-9, err_msg=method)


def test_torch_layer_trains_like_default_qubit():
    n_qubits, steps = 3, 4
    shapes = {"weights": (2, n_qubits, 3)}

    def make(dev, diff_method, vjp):
        @qml.qnode(dev, diff_method=diff_method, interface="torch", device_vjp=vjp)
        def circuit(inputs, weights):
            qml.AngleEmbedding(inputs, wires=range(n_qubits))
            qml.StronglyEntanglingLayers(weights, wires=range(n_qubits))
            return [qml.expval(qml.Z(q)) for q in range(n_qubits)]
        torch.manual_seed(0)
        return torch.nn.Sequential(qml.qnn.TorchLayer(circuit, shapes), torch.nn.Linear(n_qubits, 1)).double()

    torch.manual_seed(1)
    x, y = torch.rand(16, n_qubits, dtype=torch.float64), torch.rand(16, 1, dtype=torch.float64)
    final = []
    for dev, dm, vjp in [(HQSimQubit(wires=n_qubits, dtype=np.complex128), "adjoint", True),
                         (qml.device("default.qubit", wires=n_qubits), "backprop", False)]:
        model = make(dev, dm, vjp)
        opt = torch.optim.Adam(model.parameters(), lr=0.1)
        for _ in range(steps):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
        final.append([p.detach().clone() for p in model.parameters()] + [loss.detach()])
    for a, b in zip(*final):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=0)


class _Calls:
    def __init__(self, monkeypatch):
        self.count = {}
        for name in ("expectation", "statevector", "vjp"):
            original = getattr(hqsim.api, name)
            monkeypatch.setattr(hqsim.api, name, self._wrap(name, original))

    def _wrap(self, name, fn):
        def counted(*a, **k):
            self.count[name] = self.count.get(name, 0) + 1
            return fn(*a, **k)
        return counted


def test_one_hqsim_call_per_batch(monkeypatch):
    calls = _Calls(monkeypatch)
    dev = HQSimQubit(wires=3)
    x = torch.rand(32, 3, dtype=torch.float64)
    w = torch.rand(2, 3, 3, dtype=torch.float64, requires_grad=True)

    @qml.qnode(dev, diff_method="adjoint", device_vjp=True)
    def circuit(x, w):
        qml.AngleEmbedding(x, wires=range(3), rotation="Y")
        qml.StronglyEntanglingLayers(w, wires=range(3))
        return [qml.expval(qml.Z(q)) for q in range(3)]
    torch.stack(circuit(x, w)).sum().backward()  # a broadcast batch of 32 samples
    assert calls.count == {"expectation": 1, "vjp": 1}

    calls.count.clear()  # five tapes of one structure and two of another: two calls
    tapes = [qml.tape.QuantumScript([qml.RX(a, 0), qml.CNOT([0, 1])], [qml.expval(qml.Z(1))])
             for a in np.linspace(0, 1, 5)]
    tapes += [qml.tape.QuantumScript([qml.RY(a, 1)], [qml.probs(wires=[0, 1])]) for a in (0.2, 0.4)]
    res = qml.execute(tapes, dev)
    assert calls.count == {"expectation": 1, "statevector": 1}
    np.testing.assert_allclose([res[i] for i in range(5)], np.cos(np.linspace(0, 1, 5)), atol=1e-6)

    calls.count.clear()  # parameter shift: all shifted tapes in one call
    p = qml.numpy.array([0.3, 0.5, 0.7], requires_grad=True)
    qnode = qml.QNode(lambda p: (qml.RX(p[0], 0), qml.RY(p[1], 1), qml.CRZ(p[2], [0, 1]),
                                 qml.expval(qml.X(1)))[-1], dev, diff_method="parameter-shift")
    qml.grad(qnode)(p)
    assert calls.count == {"expectation": 2}  # the forward, then every shifted tape at once
