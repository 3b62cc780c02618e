import math

import numpy as np
import pytest

import hqsim
from hqsim.ir import Circuit, PauliString, X, Z, const, input, weight


def test_param_affine_arithmetic():
    p = 2 * weight(3) + 1
    assert (p.scale, p.offset, p.index) == (2.0, 1.0, 3)
    assert (p - 1).offset == 0.0
    assert (weight(1) + weight(1)).scale == 2.0
    assert (input(0) + 0.5).value(inputs=[1.0]) == 1.5
    with pytest.raises(ValueError, match="at most one weight or input"):
        weight(0) + input(0)


def test_gate_validation_errors():
    c = Circuit(2)
    with pytest.raises(ValueError, match="qubits 0..1"):
        c.rx(0.1, 2)
    with pytest.raises(ValueError, match="unknown gate 'FOO'"):
        c.append("FOO", 0)
    with pytest.raises(ValueError, match="acts on 2 qubit"):
        c.append("CNOT", [0])
    with pytest.raises(ValueError, match="takes 1 angle"):
        c.append("RX", 0, [0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        c.rx(float("nan"), 0)
    with pytest.raises(ValueError, match="finite"):
        c.ry(math.inf, 0)
    with pytest.raises(ValueError, match="not unitary"):
        c.unitary(np.ones((2, 2)), [0])
    with pytest.raises(ValueError, match="4x4"):
        c.unitary(np.eye(2), [0, 1])
    with pytest.raises(ValueError, match="repeated qubits"):
        c.cnot(1, 1)
    with pytest.raises(TypeError, match="angle must be a number"):
        c.rx("0.3", 0)


def test_circuit_size_validation():
    with pytest.raises(ValueError, match="num_qubits must be between"):
        Circuit(0)
    with pytest.raises(TypeError):
        Circuit(2.0)
    with pytest.raises(ValueError, match="needs at least 3 qubits"):
        Circuit(2, amplitude_encoding=5)


def test_counts_and_aliases():
    c = Circuit(3)
    c.append("cx", [0, 1]).append("rot", 2, [weight(0), 1.0, input(4)])
    assert c.gates[0].name == "CNOT" and c.gates[1].name == "Rot"
    assert c.num_weights == 1 and c.num_inputs == 5


def test_observable_algebra():
    o = 0.5 * Z(0) + X(1) @ Z(2)
    assert len(o.terms) == 2 and o.qubits == (0, 1, 2)
    with pytest.raises(ValueError, match="qubit 0"):
        Z(0) @ X(0)
    with pytest.raises(ValueError):
        PauliString(((0, "Q"),))


def test_observable_out_of_range_is_rejected():
    c = hqsim.ansatz.rpqc(2, 1, 1)
    with pytest.raises(ValueError, match="acts on qubit 5"):
        hqsim.expectation(c, np.zeros((1, 2)), np.zeros(c.num_weights), observables=[Z(5)])


def test_ansatz_weight_counts():
    assert hqsim.ansatz.rpqc(5, 4, 2, 1).num_weights == 4 * 2 * 5 * 3
    assert hqsim.ansatz.ring_pqc(4, 3, 2).num_weights == 3 * 2 * 4
    m = hqsim.ansatz.reuploading_module(4, blocks=3, pqc1_layers=1, pqc2_layers=2, connectivity=2)
    assert m.num_weights == (1 + 2) * 2 * 4 and m.num_inputs == 4
    e = hqsim.ansatz.amplitude_encoder(9, 384, 2, 2)
    assert e.num_inputs == 384 and e.amplitude_encoding.size == 384
    with pytest.raises(ValueError, match="reuploads must be a positive int"):
        hqsim.ansatz.rpqc(3, 0)
