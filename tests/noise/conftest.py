"""Fixtures for the noise tests: small circuits (Q <= 4) so the density-matrix reference stays exact."""
import numpy as np
import pytest

import hqsim


@pytest.fixture
def small_circuit():
    """3 qubits, every kind of parametric gate the noise code treats specially."""
    c = hqsim.Circuit(3, num_weights=6, num_inputs=2)
    c.ry(hqsim.input(0), 0).ry(hqsim.input(1), 1).h(2)
    c.rot(hqsim.weight(0), 0.4, hqsim.weight(1), 0)
    c.cnot(0, 1).cry(hqsim.weight(2), 1, 2).rzz(hqsim.weight(3), 0, 2)
    c.u3(hqsim.weight(4), 0.3, -0.2, 1).rx(2.0 * hqsim.weight(0) + 0.1, 2).cz(1, 2)
    c.phase(hqsim.weight(5), 0).crx(0.5 * hqsim.input(0), 2, 0)
    return c


@pytest.fixture
def args():
    rng = np.random.default_rng(7)
    return rng.uniform(-1.5, 1.5, (2, 2)), rng.uniform(-1.5, 1.5, 6)


@pytest.fixture
def observables():
    return [hqsim.Z(0), hqsim.Z(1) @ hqsim.Z(2), 0.5 * hqsim.X(1) + hqsim.Y(2)]
