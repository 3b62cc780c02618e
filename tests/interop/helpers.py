"""Seeded random hqsim circuits and observables for the interop tests."""
from __future__ import annotations

import numpy as np

from hqsim.ir import GATES, Circuit, PauliString, input, weight

ONE_Q = [n for n, s in GATES.items() if s.num_qubits == 1]
TWO_Q = [n for n, s in GATES.items() if s.num_qubits == 2]


def random_unitary(rng, dim):
    z = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _param(rng, n_w, n_x):
    kind = int(rng.integers(3))
    if kind == 0:
        return float(rng.uniform(-np.pi, np.pi))
    scale, offset = float(rng.uniform(-2, 2)), float(rng.uniform(-1, 1))
    if kind == 1:
        return scale * weight(int(rng.integers(n_w))) + offset
    return scale * input(int(rng.integers(n_x))) + offset


def random_circuit(rng, num_qubits=3, num_gates=20, n_w=4, n_x=3, unitary=True) -> Circuit:
    """Every hqsim gate kind, constant / weight / input angles, some constant unitaries."""
    c = Circuit(num_qubits, num_weights=n_w, num_inputs=n_x)
    names = ONE_Q + TWO_Q
    for _ in range(num_gates):
        if unitary and rng.random() < 0.1:
            k = int(rng.integers(1, 3))
            c.unitary(random_unitary(rng, 2 ** k), [int(q) for q in rng.choice(num_qubits, k, replace=False)])
            continue
        name = names[int(rng.integers(len(names)))]
        spec = GATES[name]
        qs = [int(q) for q in rng.choice(num_qubits, spec.num_qubits, replace=False)]
        c.append(name, qs, [_param(rng, n_w, n_x) for _ in range(spec.num_params)])
    return c


def random_paulis(rng, num_qubits, count=4):
    out = []
    for _ in range(count):
        k = int(rng.integers(1, num_qubits + 1))
        qs = sorted(int(q) for q in rng.choice(num_qubits, k, replace=False))
        out.append(PauliString(tuple((q, "XYZ"[int(rng.integers(3))]) for q in qs), float(rng.uniform(0.5, 1.5))))
    return out


def random_args(rng, circuit, batch=1):
    return (rng.uniform(-np.pi, np.pi, (batch, circuit.num_inputs)),
            rng.uniform(-np.pi, np.pi, circuit.num_weights))
