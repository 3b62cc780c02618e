"""Public functions: expectation values and statevectors, numpy or torch in, same kind out."""
from __future__ import annotations

import numpy as np

from .backends import reference
from .ir.validate import check_inputs, check_observables, check_weights, default_observables


def compile_circuit(circuit, observables=None):
    raise NotImplementedError  # filled in with the compiler


def _prepare(circuit, inputs, weights, observables):
    obs = check_observables(observables if observables is not None else default_observables(circuit.num_qubits),
                            circuit.num_qubits)
    if inputs is None:
        inputs = np.zeros((1, circuit.num_inputs))
    x = check_inputs(inputs, circuit.num_inputs)
    w = check_weights(weights, circuit.num_weights)
    return obs, x, w


def expectation(circuit, inputs=None, weights=None, observables=None, backend="auto", dtype=None):
    obs, x, w = _prepare(circuit, inputs, weights, observables)
    return reference.expectation(circuit, obs, x, w)


def statevector(circuit, inputs=None, weights=None, backend="auto", dtype=None):
    _, x, w = _prepare(circuit, inputs, weights, None)
    return reference.statevector(circuit, x, w)
