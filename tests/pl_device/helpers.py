"""Seeded random PennyLane circuits over every operation hqsim.qubit runs natively (plus a few
it decomposes), for comparisons with default.qubit."""
import numpy as np
import pennylane as qml

# (constructor, number of angles, number of wires)
PARAMETRIC = [(qml.RX, 1, 1), (qml.RY, 1, 1), (qml.RZ, 1, 1), (qml.PhaseShift, 1, 1), (qml.U1, 1, 1),
              (qml.Rot, 3, 1), (qml.U3, 3, 1), (qml.U2, 2, 1), (qml.CRX, 1, 2), (qml.CRY, 1, 2),
              (qml.CRZ, 1, 2), (qml.IsingXX, 1, 2), (qml.IsingYY, 1, 2), (qml.IsingZZ, 1, 2),
              (qml.ControlledPhaseShift, 1, 2),
              # decomposed by the device's preprocess:
              (qml.CRot, 3, 2), (qml.IsingXY, 1, 2), (qml.MultiRZ, 1, 3), (qml.PauliRot, 1, 2)]
FIXED = [(qml.PauliX, 1), (qml.PauliY, 1), (qml.PauliZ, 1), (qml.Hadamard, 1), (qml.S, 1), (qml.T, 1),
         (qml.SX, 1), (qml.CNOT, 2), (qml.CZ, 2), (qml.SWAP, 2), (qml.CY, 2), (qml.Toffoli, 3),
         (qml.ISWAP, 2), (qml.ECR, 2)]


def random_ops(rng, num_wires: int, depth: int, adjoint_rate: float = 0.2, exclude=()):
    """A list of (constructor, n_angles, wires, adjoint): the circuit's skeleton."""
    ops = []
    for _ in range(depth):
        if rng.random() < 0.6:
            ctor, n, k = PARAMETRIC[rng.integers(len(PARAMETRIC))]
        else:
            (ctor, k), n = FIXED[rng.integers(len(FIXED))], 0
        if k > num_wires or ctor in exclude:
            continue
        wires = [int(w) for w in rng.choice(num_wires, size=k, replace=False)]
        ops.append((ctor, n, wires, bool(rng.random() < adjoint_rate)))
    return ops


def apply_ops(ops, params):
    """Queue the skeleton with angles ``params`` (a flat sequence, scalars or broadcast)."""
    j = 0
    for ctor, n, wires, adj in ops:
        args = [params[j + i] for i in range(n)]
        j += n
        if ctor is qml.PauliRot:
            op = lambda: qml.PauliRot(args[0], "XY", wires=wires)  # noqa: E731
        else:
            op = lambda: ctor(*args, wires=wires)  # noqa: E731
        qml.adjoint(op)() if adj else op()


def num_angles(ops) -> int:
    return sum(n for _, n, _, _ in ops)


def random_observables(rng, num_wires: int, count: int):
    paulis = [qml.PauliX, qml.PauliY, qml.PauliZ, qml.Hadamard]
    out = []
    for _ in range(count):
        w = rng.choice(num_wires, size=2, replace=False)
        a, b = paulis[rng.integers(4)](int(w[0])), paulis[rng.integers(3)](int(w[1]))
        out.append([a @ b, 0.7 * a - 0.3 * b, a][rng.integers(3)])
    return out
