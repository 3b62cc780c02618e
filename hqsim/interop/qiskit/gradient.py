"""``HQSimEstimatorGradient``: qiskit-machine-learning's estimator gradient by hqsim's adjoint.

    est = HQSimEstimator()
    qnn = EstimatorQNN(circuit=qc, observables=obs, input_params=x, weight_params=w,
                       estimator=est, gradient=HQSimEstimatorGradient(est))

The gradient entries that share a circuit (all the parameter sets and observables
EstimatorQNN sends for a batch) are ONE ``hqsim.vjp`` call, a row per entry with a one-hot
cotangent on its observable: the adjoint gives d<O>/d(column) for every input column, and the chain rule through each column's
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
        by_circuit: "OrderedDict[int, list[int]]" = OrderedDict()
        for i, qc in enumerate(circuits):
            by_circuit.setdefault(id(qc), []).append(i)
        for idx in by_circuit.values():
            program = est._programs.get(circuits[idx[0]])
            obs_index: dict = {}  # one hqsim observable per distinct observable object
            for i in idx:
                obs_index.setdefault(id(observables[i]), (len(obs_index), observables[i]))
            cot = np.zeros((len(idx), len(obs_index)))
            cot[np.arange(len(idx)), [obs_index[id(observables[i])][0] for i in idx]] = 1.0
            values = np.asarray([parameter_values[i] for i in idx], dtype=np.float64).reshape(len(idx), -1)
            _, dcols = api.vjp(program.circuit, program.inputs(values), np.zeros(0), cot,
                               [as_observable(_observable_terms(o)) for _, o in obs_index.values()],
                               backend=est.options.backend, dtype=est.options.dtype)
            for group in _same_parameters(idx, parameters):
                rows = [idx.index(i) for i in group]
                grads = program.parameter_gradients(dcols[rows], values[rows], parameters[group[0]])
                for i, g in zip(group, grads):
                    gradients[i] = g
        metadata = [{"parameters": p} for p in parameters]
        return _qml_gradients.EstimatorGradientResult(gradients=gradients, metadata=metadata,
                                                      options=providers.Options(**options))


def _same_parameters(idx: list[int], parameters) -> list[list[int]]:
    """Entries grouped by the parameters they ask for (EstimatorQNN asks the same for all)."""
    groups: "OrderedDict[tuple, list[int]]" = OrderedDict()
    for i in idx:
        groups.setdefault(tuple(parameters[i]), []).append(i)
    return list(groups.values())
