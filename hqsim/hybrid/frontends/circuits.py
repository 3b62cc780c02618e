"""Export an hqsim circuit (``hqsim.ir.Circuit``) as a hybrid program.

Angles ``scale * inputs[j] + offset`` read the program input ``x`` (an array of
``circuit.num_inputs`` floats); weights are either baked in as constants (``weights`` given,
as for a trained model at inference time) or read from a second input ``w``. The named qubits
are measured at the end into the output bit array ``m``. Amplitude encodings are rejected
(a state preparation is not a gate sequence).
"""
from __future__ import annotations

import numpy as np

from ...ir.gates import decomposition_steps
from ...ir.params import INPUT, WEIGHT
from ..gateset import GATESET
from ..ir import Const, Ref, ScalarType
from .builder import ProgramBuilder



def _angle(p, weights):
    if p.is_constant:
        return Const(float(p.offset))
    if p.source == WEIGHT and weights is not None:
        return Const(float(p.scale * weights[p.index] + p.offset))
    base = Ref("x" if p.source == INPUT else "w", Const(p.index))
    expr = base if p.scale == 1.0 else Const(float(p.scale)) * base
    return expr if p.offset == 0.0 else expr + Const(float(p.offset))


def from_circuit(circuit, measure=(0,), weights=None, name: str = "circuit"):
    """A ``Program``: inputs ``x`` (and ``w`` unless ``weights``), output ``m[len(measure)]``
    (no output and no measurement when ``measure`` is empty)."""
    if circuit.amplitude_encoding is not None:
        raise ValueError("a circuit with an amplitude encoding cannot be exported as gates")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        if weights.size != circuit.num_weights:
            raise ValueError(f"weights must have {circuit.num_weights} values, got {weights.size}")
    b = ProgramBuilder(name)
    q = b.qubits(circuit.num_qubits)
    if circuit.num_inputs:
        b.input("x", ScalarType.FLOAT, circuit.num_inputs)
    if circuit.num_weights and weights is None:
        b.input("w", ScalarType.FLOAT, circuit.num_weights)
    m = b.output("m", ScalarType.BIT, len(measure)) if measure else None
    for g in circuit.gates:
        angles = [_angle(p, weights) for p in g.params]
        # a gate hybrid programs lack is written as its decomposition (Rot: RZ, RY, RZ)
        steps = [(g.name, tuple(angles))] if g.name in GATESET else decomposition_steps(g.name, tuple(angles))
        if any(name not in GATESET for name, _ in steps):
            raise ValueError(f"gate {g.name} has no hybrid-program equivalent")
        for name, params in steps:
            b.gate(name, *[q[i] for i in g.qubits], params=params)
    for k, qubit in enumerate(measure):
        b.measure(q[qubit], m[k])
    return b.build()



