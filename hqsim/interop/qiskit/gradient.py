"""``HQSimEstimatorGradient``: qiskit-machine-learning's estimator gradient by hqsim's adjoint.

    est = HQSimEstimator()
    qnn = EstimatorQNN(circuit=qc, observables=obs, input_params=x, weight_params=w,
                       estimator=est, gradient=HQSimEstimatorGradient(est))

The gradient entries that share a circuit and an observable (all the parameter sets
EstimatorQNN sends for a batch) are ONE ``hqsim.vjp`` call with cotangent 1 per row: the
adjoint gives d<O>/d(column) for every input column, and the chain rule through each column's
expression (convert: a Parameter, or an expression of Parameters) gives d<O>/d(parameter).
The gradients are exact (analytic): the estimator's precision does not apply to them.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ... import api
from ._deps import providers, quantum_info, require_machine_learning
from .convert import as_observable

_qml_gradients = require_machine_learning()


def _observable_terms(op) -> dict:
    spo = quantum_info.SparsePauliOp.from_operator(op) if not isinstance(op, quantum_info.SparsePauliOp) else op
    terms: dict = {}
    for label, coeff in spo.to_list():
        terms[label] = terms.get(label, 0.0) + coeff
    return terms


class HQSimEstimatorGradient(_qml_gradients.BaseEstimatorGradient):
    """Adjoint gradients of an ``HQSimEstimator``'s expectation values (same backend and dtype)."""

    def _run(self, circuits, observables, parameter_values, parameters, **options):
        est = self._estimator
        gradients: list = [None] * len(circuits)
        groups: "OrderedDict[tuple, list[int]]" = OrderedDict()
        for i, (qc, obs) in enumerate(zip(circuits, observables)):
            groups.setdefault((id(qc), id(obs)), []).append(i)
        for idx in groups.values():
            qc, obs = circuits[idx[0]], observables[idx[0]]
            program = est._programs.get(qc)
            values = np.asarray([parameter_values[i] for i in idx], dtype=np.float64).reshape(len(idx), -1)
            _, dcols = api.vjp(program.circuit, program.inputs(values), np.zeros(0), np.ones((len(idx), 1)),
                               [as_observable(_observable_terms(obs))], backend=est.options.backend,
                               dtype=est.options.dtype)
            for row, i in enumerate(idx):
                wanted = parameters[i]
                gradients[i] = np.array([
                    float(dcols[row] @ program.column_derivatives(values[row:row + 1], p)[0]) for p in wanted])
        metadata = [{"parameters": p} for p in parameters]
        return _qml_gradients.EstimatorGradientResult(gradients=gradients, metadata=metadata,
                                                      options=providers.Options(**options))
