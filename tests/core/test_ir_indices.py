"""Qubit, weight and input indices are ints (issue 17, item 8): a float such as 1.7 (or even
1.0) or a bool is a TypeError naming what it indexes, never truncated; numpy integers work."""
import numpy as np
import pytest

import hqsim


@pytest.mark.parametrize("make, what", [
    (lambda c: c.h(1.7), "gate H's qubit must be an int, got float 1.7"),
    (lambda c: c.cnot(0, 1.0), "gate CNOT's qubit must be an int, got float 1.0"),
    (lambda c: c.rx(0.3, True), "gate RX's qubit must be an int, got bool True"),
    (lambda c: hqsim.input(1.5), "input index must be an int, got float 1.5"),
    (lambda c: hqsim.weight(np.float64(2.0)), "weight index must be an int, got float64"),
    (lambda c: hqsim.Z(0.5), "Z's qubit must be an int, got float 0.5"),
    (lambda c: c.ry(hqsim.input("0"), 0), "input index must be an int, got str '0'"),
])
def test_non_integer_indices_are_refused(make, what):
    with pytest.raises(TypeError, match=what.replace("(", r"\(").replace(")", r"\)")):
        make(hqsim.Circuit(3))


def test_numpy_integers_are_indices():
    c = hqsim.Circuit(3).h(np.int64(1)).ry(hqsim.input(np.int32(2)), np.uint8(0))
    c.rz(hqsim.weight(np.int16(0)), 2)
    assert [g.qubits for g in c.gates] == [(1,), (0,), (2,)]
    assert c.num_inputs == 3 and c.num_weights == 1
    out = hqsim.expectation(c, np.zeros((1, 3)), np.zeros(1), observables=[hqsim.Z(np.int64(1))])
    np.testing.assert_allclose(out, [[0.0]], atol=1e-12)
