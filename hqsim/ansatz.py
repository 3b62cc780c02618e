"""Circuits of the workloads: W1's re-uploading PQC and the QLLM paper's (W2) building blocks.

Weight layouts are documented per function; all use flat weight vectors indexed in C order.
"""
from __future__ import annotations

from .ir import Circuit, Z, input, weight


def _check_positive(**kwargs):
    for name, v in kwargs.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")


def rpqc(num_qubits: int, reuploads: int = 4, layers: int = 2, connectivity: int = 1) -> Circuit:
    """W1: data re-uploading PQC. Inputs x (B, Q); weights theta (R, L, Q, 3) flattened C-order.

    For r in 0..R-1: RY(x[q]) on every qubit; then L layers of RZ·RY·RZ (RZ first) on every
    qubit followed by CNOT(q -> (q + C) mod Q) for q = 0..Q-1 (skipped when control == target).
    """
    _check_positive(num_qubits=num_qubits, reuploads=reuploads, layers=layers, connectivity=connectivity)
    q_n = num_qubits
    c = Circuit(q_n, num_inputs=q_n, num_weights=reuploads * layers * q_n * 3)
    for r in range(reuploads):
        for q in range(q_n):
            c.ry(input(q), q)
        for l in range(layers):
            for q in range(q_n):
                base = ((r * layers + l) * q_n + q) * 3
                c.rz(weight(base), q)
                c.ry(weight(base + 1), q)
                c.rz(weight(base + 2), q)
            for q in range(q_n):
                t = (q + connectivity) % q_n
                if t != q:
                    c.cnot(q, t)
    return c


def ring_layer(circuit: Circuit, connectivity: int, first_weight: int) -> int:
    """Append one ring-PQC layer (paper Fig. 2-3): for c = 1..C, for j: CNOT(j -> (j+c) mod Q),
    RY(weight) on the target. Returns the next free weight index (Q*C weights used)."""
    q_n, w = circuit.num_qubits, first_weight
    for c in range(1, connectivity + 1):
        for j in range(q_n):
            t = (j + c) % q_n
            if t != j:
                circuit.cnot(j, t)
            circuit.ry(weight(w), t)
            w += 1
    return w


def ring_pqc(num_qubits: int, layers: int, connectivity: int = 1) -> Circuit:
    """The paper's PQC alone: ``layers`` ring layers; weights (layers, C, Q) flattened C-order."""
    _check_positive(num_qubits=num_qubits, layers=layers, connectivity=connectivity)
    c = Circuit(num_qubits, num_weights=layers * connectivity * num_qubits)
    w = 0
    for _ in range(layers):
        w = ring_layer(c, connectivity, w)
    return c


def amplitude_encoder(num_qubits: int, num_features: int, layers: int = 2, connectivity: int = 2) -> Circuit:
    """W2's simulated quantum encoder: amplitude-encode inputs (B, num_features) into Q qubits
    (L2-normalised, zero-padded to 2^Q), then ``layers`` ring layers; measure <Z_q> on all qubits.
    Weights (layers, C, Q) flattened C-order."""
    _check_positive(num_qubits=num_qubits, num_features=num_features, layers=layers,
                    connectivity=connectivity)
    c = Circuit(num_qubits, amplitude_encoding=num_features,
                num_weights=layers * connectivity * num_qubits)
    w = 0
    for _ in range(layers):
        w = ring_layer(c, connectivity, w)
    return c


def reuploading_module(num_qubits: int, blocks: int = 4, pqc1_layers: int = 1, pqc2_layers: int = 2,
                       connectivity: int = 2, num_encoders: int = 1) -> Circuit:
    """W2's QPU module: ``blocks`` x [RY(angle) on each qubit, then PQC1 (weights shared
    between blocks)], then PQC2. Inputs (B, E*Q) angles: block n uploads encoder n mod E's Q
    outputs (E = ``num_encoders``). Weights: PQC1 (L1, C, Q) then PQC2 (L2, C, Q), flattened
    C-order and concatenated. Measure <Z_0> (``observables=[Z(0)]``)."""
    _check_positive(num_qubits=num_qubits, blocks=blocks, pqc1_layers=pqc1_layers,
                    pqc2_layers=pqc2_layers, connectivity=connectivity, num_encoders=num_encoders)
    per_layer = connectivity * num_qubits
    n1 = pqc1_layers * per_layer
    c = Circuit(num_qubits, num_inputs=num_encoders * num_qubits,
                num_weights=n1 + pqc2_layers * per_layer)
    for n in range(blocks):
        e = n % num_encoders
        for q in range(num_qubits):
            c.ry(input(e * num_qubits + q), q)
        w = 0
        for _ in range(pqc1_layers):
            w = ring_layer(c, connectivity, w)
    w = n1
    for _ in range(pqc2_layers):
        w = ring_layer(c, connectivity, w)
    return c


def z_all(num_qubits: int):
    """<Z_q> on every qubit, the default observables."""
    return [Z(q) for q in range(num_qubits)]
