"""Pauli frames move through the two-qubit Cliffords by the textbook bit maps (the map is read
off the gate's matrix in hqsim/noise/frames.py; these are the rules it must reproduce)."""
import numpy as np
import pytest

from hqsim.ir import Gate
from hqsim.noise.frames import FrameBuilder, carried_through, commuting_axes


def _rules(name, x, z, a, b):
    x, z = x.copy(), z.copy()
    if name == "CNOT":
        x[:, b] ^= x[:, a]
        z[:, a] ^= z[:, b]
    elif name == "CZ":
        z[:, a] ^= x[:, b]
        z[:, b] ^= x[:, a]
    else:  # SWAP
        x[:, [a, b]] = x[:, [b, a]]
        z[:, [a, b]] = z[:, [b, a]]
    return x, z


@pytest.mark.parametrize("name", ["CNOT", "CZ", "SWAP"])
@pytest.mark.parametrize("qubits", [(0, 2), (2, 1)])
def test_two_qubit_cliffords_map_bits_by_the_rules(name, qubits):
    rng = np.random.default_rng(5)
    fb = FrameBuilder(3, 0)
    fb._bits = rng.integers(0, 2, size=(64, 2, 3)).astype(np.uint8)
    want_x, want_z = _rules(name, fb.bits[:, 0], fb.bits[:, 1], *qubits)
    fb.propagate(Gate(name, qubits))
    np.testing.assert_array_equal(fb.bits[:, 0], want_x)
    np.testing.assert_array_equal(fb.bits[:, 1], want_z)


def test_which_gates_carry_a_frame():
    carried = {n for n in ("X", "Y", "Z", "CNOT", "CZ", "SWAP", "H", "S", "RX", "CRZ", "RZZ", "U3")
               if carried_through(n)}
    assert carried == {"X", "Y", "Z", "CNOT", "CZ", "SWAP"}
    assert commuting_axes("CRX") == "ZX" and commuting_axes("H") is None
    with pytest.raises(ValueError, match="cannot propagate"):
        FrameBuilder(2, 0).propagate(Gate("H", (0,)))
