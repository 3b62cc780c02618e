"""Bad input gets a clear ValueError / TypeError, never a crash inside a kernel."""
import numpy as np
import pytest

import hqsim


@pytest.fixture
def c():
    return hqsim.ansatz.rpqc(3, 1, 1)


def test_wrong_input_shape(c):
    with pytest.raises(ValueError, match=r"inputs must have shape \(batch, 3\), got \(2, 2\)"):
        hqsim.expectation(c, np.zeros((2, 2)), np.zeros(c.num_weights))
    with pytest.raises(ValueError, match="inputs must have shape"):
        hqsim.expectation(c, np.zeros((2, 3, 1)), np.zeros(c.num_weights))


def test_nan_and_inf_inputs_and_weights(c):
    x = np.zeros((2, 3))
    x[1, 2] = np.inf
    with pytest.raises(ValueError, match="sample 1, feature 2"):
        hqsim.expectation(c, x, np.zeros(c.num_weights))
    w = np.zeros(c.num_weights)
    w[4] = np.nan
    with pytest.raises(ValueError, match="weights contain NaN or inf"):
        hqsim.expectation(c, np.zeros((1, 3)), w)


def test_wrong_weight_count(c):
    with pytest.raises(ValueError, match=f"weights must hold {c.num_weights} values"):
        hqsim.expectation(c, np.zeros((1, 3)), np.zeros(5))


def test_non_numeric_inputs(c):
    with pytest.raises(TypeError, match="inputs must be real numbers"):
        hqsim.expectation(c, np.array([["a", "b", "c"]]), np.zeros(c.num_weights))


def test_unknown_backend(c):
    with pytest.raises(ValueError, match="unknown backend 'qpu'"):
        hqsim.expectation(c, np.zeros((1, 3)), np.zeros(c.num_weights), backend="qpu")


def test_state_too_large_names_the_bytes():
    big = hqsim.Circuit(38)
    big.h(0)
    with pytest.raises(ValueError, match=r"needs [\d,]+ bytes .* available"):
        hqsim.statevector(big)


def test_zero_amplitude_vector_is_rejected():
    enc = hqsim.ansatz.amplitude_encoder(2, 3, 1, 1)
    with pytest.raises(ValueError, match="all zero"):
        hqsim.backends.reference.initial_states(enc, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="all zero"):
        hqsim.expectation(enc, np.zeros((1, 3)), np.zeros(enc.num_weights))
