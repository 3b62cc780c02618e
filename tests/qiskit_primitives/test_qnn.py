"""qiskit-machine-learning's EstimatorQNN + TorchConnector trains on HQSimEstimator exactly as on
Qiskit's StatevectorEstimator, with the parameter-shift gradient and with hqsim's adjoint."""
import numpy as np
import pytest
import torch
from qiskit.circuit import ParameterVector, QuantumCircuit
from qiskit.primitives import StatevectorEstimator
from qiskit.quantum_info import SparsePauliOp
from qiskit_machine_learning.connectors import TorchConnector
from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
from qiskit_machine_learning.neural_networks import EstimatorQNN

from hqsim.interop.qiskit import HQSimEstimator, HQSimEstimatorGradient


def _qnn(estimator, gradient_cls):
    x, w = ParameterVector("x", 3), ParameterVector("w", 6)
    qc = QuantumCircuit(3)
    for q in range(3):
        qc.ry(x[q], q)
    for layer in range(2):
        for q in range(3):
            qc.rz(w[3 * layer + q], q)
            qc.cx(q, (q + 1) % 3)
        qc.rxx(0.5 * w[3 * layer] + 0.1, 0, 2)
    obs = [SparsePauliOp("IIZ"), SparsePauliOp(["ZZI", "XII"], [0.5, 0.5])]
    # default_precision=0: exact expectations (EstimatorQNN's default 1/64 asks for shot noise)
    return EstimatorQNN(circuit=qc, observables=obs, input_params=list(x), weight_params=list(w),
                        estimator=estimator, gradient=gradient_cls(estimator), default_precision=0.0)


def _train(qnn, steps=2):
    torch.manual_seed(0)
    model = TorchConnector(qnn, initial_weights=np.linspace(-1, 1, qnn.num_weights))
    x = torch.linspace(-1, 1, 24, dtype=torch.float64).reshape(8, 3)
    y = torch.sin(x[:, :2])
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    return model.weight.detach().numpy(), float(loss.detach())


@pytest.fixture(scope="module")
def reference():
    return _train(_qnn(StatevectorEstimator(), ParamShiftEstimatorGradient))


@pytest.mark.parametrize("gradient_cls", [ParamShiftEstimatorGradient, HQSimEstimatorGradient])
def test_estimator_qnn_trains_like_statevector_estimator(gradient_cls, reference):
    w_ref, loss_ref = reference
    w, loss = _train(_qnn(HQSimEstimator(dtype=np.complex128), gradient_cls))
    np.testing.assert_allclose(w, w_ref, atol=1e-6)  # TorchConnector keeps float32 weights
    assert abs(loss - loss_ref) < 1e-6
    assert not np.allclose(w, np.linspace(-1, 1, 6))  # it did train
