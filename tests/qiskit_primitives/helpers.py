"""Seeded random parameterised Qiskit circuits (gates hqsim has, gates Qiskit's transpiler
decomposes, affine and non-affine parameter expressions) and Pauli observables."""
import numpy as np
from qiskit.circuit import QuantumCircuit, ParameterVector
from qiskit.quantum_info import SparsePauliOp

ONE_ANGLE = ["rx", "ry", "rz", "p"]
TWO_ANGLE = ["crx", "cry", "crz", "rxx", "ryy", "rzz", "cp"]
FIXED_1 = ["h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx", "sxdg"]
FIXED_2 = ["cx", "cz", "swap", "cy", "ch", "ecr"]  # the last three are transpiled


def random_circuit(rng, num_qubits: int, depth: int, num_params: int):
    theta = ParameterVector("t", num_params)
    qc = QuantumCircuit(num_qubits)
    for _ in range(depth):
        kind = rng.integers(6)
        q = [int(v) for v in rng.choice(num_qubits, size=2, replace=False)]
        a, b = theta[rng.integers(num_params)], theta[rng.integers(num_params)]
        angle = [a, 2 * a - 0.3, a * b, a + 0.5][rng.integers(4)]
        if kind == 0:
            getattr(qc, ONE_ANGLE[rng.integers(len(ONE_ANGLE))])(angle, q[0])
        elif kind == 1:
            getattr(qc, TWO_ANGLE[rng.integers(len(TWO_ANGLE))])(angle, q[0], q[1])
        elif kind == 2:
            getattr(qc, FIXED_1[rng.integers(len(FIXED_1))])(q[0])
        elif kind == 3:
            getattr(qc, FIXED_2[rng.integers(len(FIXED_2))])(q[0], q[1])
        elif kind == 4:
            qc.u(angle, a, 0.4, q[0])
        else:
            qc.ccx(*[int(v) for v in rng.choice(num_qubits, size=3, replace=False)]) if num_qubits > 2 else qc.cx(*q)
    for p in theta:  # every parameter used at least once
        qc.ry(p, int(rng.integers(num_qubits)))
    return qc


def random_observable(rng, num_qubits: int, terms: int = 3) -> SparsePauliOp:
    labels = ["".join(rng.choice(list("IXYZ"), size=num_qubits)) for _ in range(terms)]
    return SparsePauliOp(labels, rng.normal(size=terms))
