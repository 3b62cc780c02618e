"""Seeded random circuits over every gate, parameter kind and observable kind (test helper)."""
from __future__ import annotations

import numpy as np

import hqsim
from hqsim.ir import GATES, Circuit, PauliString, X, Y, Z, const, input, weight

ONE_Q = [n for n, s in GATES.items() if s.num_qubits == 1]
TWO_Q = [n for n, s in GATES.items() if s.num_qubits == 2]


def random_unitary(rng, dim):
    z = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_param(rng, n_weights, n_inputs):
    kind = rng.integers(4) if n_inputs else rng.integers(3)
    if kind == 0:
        return float(rng.uniform(-np.pi, np.pi))
    if kind == 1:
        return weight(int(rng.integers(n_weights)))
    if kind == 2:
        return float(rng.uniform(-2, 2)) * weight(int(rng.integers(n_weights))) + float(rng.uniform(-1, 1))
    return float(rng.uniform(-2, 2)) * input(int(rng.integers(n_inputs))) + float(rng.uniform(-1, 1))


def random_circuit(rng, num_qubits, num_gates, n_weights=5, n_inputs=3, amplitude=False,
                   allow_unitary=True):
    n_amp = int(rng.integers(1, 2 ** num_qubits + 1)) if amplitude else 0
    c = Circuit(num_qubits, amplitude_encoding=(hqsim.AmplitudeEncoding(n_inputs, n_amp) if n_amp else None),
                num_weights=n_weights, num_inputs=n_inputs + n_amp)
    names = ONE_Q + (TWO_Q if num_qubits > 1 else [])
    for _ in range(num_gates):
        r = rng.random()
        if allow_unitary and r < 0.08:
            k = int(rng.integers(1, min(3, num_qubits) + 1))
            qs = [int(q) for q in rng.choice(num_qubits, size=k, replace=False)]
            c.unitary(random_unitary(rng, 2 ** k), qs)
            continue
        name = names[int(rng.integers(len(names)))]
        spec = GATES[name]
        qs = [int(q) for q in rng.choice(num_qubits, size=spec.num_qubits, replace=False)]
        params = [random_param(rng, n_weights, n_inputs) for _ in range(spec.num_params)]
        c.append(name, qs, params)
    return c


def random_observables(rng, num_qubits, count=3):
    out = []
    for _ in range(count):
        terms = []
        for _ in range(int(rng.integers(1, 3))):
            k = int(rng.integers(1, num_qubits + 1))
            qs = rng.choice(num_qubits, size=k, replace=False)
            p = PauliString(tuple(sorted((int(q), "XYZ"[int(rng.integers(3))]) for q in qs)),
                            float(rng.uniform(-1.5, 1.5)))
            terms.append(p)
        o = terms[0]
        for t in terms[1:]:
            o = o + t
        out.append(o)
    out.append(Z(0))
    if num_qubits > 1:
        out.append(X(0) @ Y(1))
    return out


def random_args(rng, circuit, batch):
    x = rng.uniform(-np.pi, np.pi, size=(batch, circuit.num_inputs))
    w = rng.uniform(-np.pi, np.pi, size=circuit.num_weights)
    return x, w
