"""Bad options and channel parameters fail early with errors naming the argument and what is allowed."""
import numpy as np
import pytest
import torch

import hqsim
from hqsim.noise import (SPSA, AmplitudeDamping, BitFlip, Depolarizing, NoiseModel, PauliChannel,
                         ReadoutError, sample_expectations)


@pytest.fixture
def c():
    return hqsim.ansatz.rpqc(2, reuploads=1, layers=1)


@pytest.fixture
def xw(c):
    return np.zeros((2, 2)), np.zeros(c.num_weights)


@pytest.mark.parametrize("shots, err, msg", [(-5, ValueError, "shots must be a positive int"),
                                             (0, ValueError, "shots must be a positive int"),
                                             (1.5, TypeError, "shots must be a positive int"),
                                             (True, TypeError, "shots")])
def test_bad_shots(c, xw, shots, err, msg):
    with pytest.raises(err, match=msg):
        hqsim.expectation(c, *xw, shots=shots)


def test_unknown_gradient_mode(c, xw):
    with pytest.raises(ValueError, match="gradient must be one of 'adjoint', 'parameter-shift', 'spsa'"):
        hqsim.expectation(c, *xw, gradient="finite-difference")
    with pytest.raises(ValueError, match="gradient must be one of"):
        hqsim.QuantumLayer(c, gradient="backprop")


@pytest.mark.parametrize("make, msg", [
    (lambda: Depolarizing(1.5), r"Depolarizing p must be a probability in \[0, 1\], got 1.5"),
    (lambda: Depolarizing(-0.1, 2), r"in \[0, 1\]"),
    (lambda: BitFlip(float("nan")), r"BitFlip p must be a probability"),
    (lambda: AmplitudeDamping(2), r"AmplitudeDamping gamma must be a probability"),
    (lambda: ReadoutError(0.1, 1.2), r"ReadoutError p10 must be a probability"),
    (lambda: PauliChannel({"X": 0.7, "Z": 0.6}), r"sum to 1.3 > 1"),
    (lambda: PauliChannel({"X": -0.1}), r"probability of 'X' must be a probability"),
    (lambda: PauliChannel({"Q": 0.1}), r"strings over I, X, Y, Z"),
    (lambda: PauliChannel({"X": 0.1, "XX": 0.1}), r"all act on 1 or all on 2 qubits"),
    (lambda: Depolarizing(0.1, 3), r"num_qubits must be 1 or 2"),
])
def test_bad_channel_parameters(make, msg):
    with pytest.raises(ValueError, match=msg):
        make()


def test_bad_model_and_option_combinations(c, xw):
    with pytest.raises(TypeError, match="NoiseModel.one_qubit must be None or one of"):
        NoiseModel(one_qubit=0.01)
    with pytest.raises(ValueError, match="NoiseModel.one_qubit must act on 1 qubit"):
        NoiseModel(one_qubit=Depolarizing(0.01, 2))
    with pytest.raises(TypeError, match="noise must be an hqsim.noise.NoiseModel"):
        hqsim.expectation(c, *xw, noise=Depolarizing(0.01))
    with pytest.raises(ValueError, match="trajectories only applies with a noise model"):
        hqsim.expectation(c, *xw, trajectories=8)
    with pytest.raises(ValueError, match="trajectories must be a positive int"):
        hqsim.expectation(c, *xw, noise=NoiseModel(one_qubit=BitFlip(0.1)), trajectories=0)
    with pytest.raises(ValueError, match="seed must be None, a non-negative int"):
        hqsim.expectation(c, *xw, shots=10, seed=-1)
    with pytest.raises(ValueError, match="SPSA epsilon must be a positive"):
        SPSA(epsilon=0.0)
    with pytest.raises(ValueError, match="states must have shape"):
        sample_expectations(np.ones((2, 3)), [hqsim.Z(0)], shots=10)


def test_parameter_shift_refuses_amplitude_input_gradients():
    enc = hqsim.ansatz.amplitude_encoder(2, 3, layers=1, connectivity=1)
    x = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    w = torch.rand(enc.num_weights, dtype=torch.float64, requires_grad=True)
    out = hqsim.expectation(enc, x, w, gradient="parameter-shift", shots=100, seed=0)
    with pytest.raises(ValueError, match="cannot differentiate amplitude-encoded inputs"):
        out.sum().backward()
    w.grad = None
    hqsim.expectation(enc, x.detach(), w, gradient="parameter-shift", shots=100, seed=0).sum().backward()
    assert w.grad is not None and torch.all(torch.isfinite(w.grad))


def test_bad_inputs_still_checked(c):
    with pytest.raises(ValueError, match="NaN or inf"):
        hqsim.expectation(c, np.full((1, 2), np.nan), np.zeros(c.num_weights), shots=10)
    with pytest.raises(ValueError, match="cotangent must have shape"):
        hqsim.vjp(c, np.zeros((2, 2)), np.zeros(c.num_weights), np.ones((3, 2)), shots=10)
