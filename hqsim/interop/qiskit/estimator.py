"""``HQSimEstimator``: Qiskit's EstimatorV2 primitive on hqsim.

    from hqsim.interop.qiskit import HQSimEstimator
    est = HQSimEstimator(seed=0)                               # complex64, backend "auto"
    job = est.run([(circuit, observables, parameter_values)])  # any broadcastable shapes
    evs = job.result()[0].data.evs                             # shape: the pub's broadcast shape

Each circuit is converted once (convert); the pubs of one run that share a circuit and a
precision run as ONE hqsim call: every parameter set is a row, every distinct Pauli term of
their observables an output, and each observable is a coefficient-weighted sum of its terms.

Precision, as Qiskit documents it for EstimatorV2: 0 gives the exact expectation and stds 0;
precision p > 0 estimates with S = ceil(1/p^2) shots per measurement group by hqsim's joint
sampling (hqsim.expectation(..., shots=S)), so the standard error of a single Pauli term is at
most p; ``stds`` reports sqrt(sum_t c_t^2 (1 - <P_t>^2) / S) from the estimates, the standard
error for terms sampled independently (terms of one qubit-wise commuting group share bitstrings,
whose covariance this leaves out).
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from ... import api
from ...noise.options import make_rng
from ..sim_options import make_options
from ._common import ProgramCache, flat_values
from ._deps import containers, primitives
from .convert import pauli_term, real_coefficient


def _term_table(pubs):
    """(labels, coefficient matrix per pub (K_pub, T)): the distinct Pauli terms of the pubs."""
    labels: dict = {}
    mats = []
    for pub in pubs:
        flat = [pub.observables[idx] for idx in np.ndindex(*pub.observables.shape)]
        for terms in flat:
            for label in terms:
                labels.setdefault(label, len(labels))
        mats.append(flat)
    coeffs = []
    for flat in mats:
        m = np.zeros((len(flat), len(labels)))
        for k, terms in enumerate(flat):
            for label, c in terms.items():
                m[k, labels[label]] += real_coefficient(label, c)
        coeffs.append(m)
    return list(labels), coeffs


def _broadcast_take(values: np.ndarray, pub) -> np.ndarray:
    """values (R, K) for R parameter sets x K observables -> the pub's broadcast shape."""
    shape = pub.shape
    rows = np.broadcast_to(np.arange(max(values.shape[0], 1)).reshape(pub.parameter_values.shape), shape)
    obs = np.broadcast_to(np.arange(values.shape[1]).reshape(pub.observables.shape), shape)
    return values[rows, obs]


class HQSimEstimator(primitives.BaseEstimatorV2):
    """EstimatorV2 on hqsim's batched statevector (see the module docstring for semantics).

    default_precision: used when neither ``run`` nor the pub sets one (0 = exact); seed: None,
    int or numpy Generator for the shot sampling; backend: hqsim backend name; dtype:
    np.complex64 (default) or np.complex128.
    """

    def __init__(self, *, default_precision: float = 0.0, seed=None, backend: str = "auto",
                 dtype=np.complex64):
        if not (isinstance(default_precision, (int, float)) and default_precision >= 0):
            raise ValueError(f"default_precision must be a non-negative number, got {default_precision!r}")
        self._default_precision = float(default_precision)
        self.options = make_options(backend, dtype)
        self._rng = make_rng(seed)
        self._programs = ProgramCache(allow_measurements=False)  # final measurements are dropped

    @property
    def default_precision(self) -> float:
        return self._default_precision

    def run(self, pubs, *, precision: float | None = None):
        if precision is None:
            precision = self._default_precision
        coerced = [containers.EstimatorPub.coerce(pub, precision) for pub in pubs]
        job = primitives.PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs) -> "containers.PrimitiveResult":
        results: dict = {}
        batches: "OrderedDict[tuple, list[int]]" = OrderedDict()
        for i, pub in enumerate(pubs):
            batches.setdefault((id(pub.circuit), pub.precision), []).append(i)
        for idx in batches.values():
            for i, res in zip(idx, self._run_batch([pubs[i] for i in idx])):
                results[i] = res
        return containers.PrimitiveResult([results[i] for i in range(len(pubs))], metadata={"version": 2})

    def _run_batch(self, pubs) -> list:
        """One hqsim call for pubs sharing a circuit and a precision."""
        prog = self._programs.get(pubs[0].circuit)
        rows = [flat_values(p.parameter_values, prog.parameters) for p in pubs]
        labels, coeffs = _term_table(pubs)
        precision = pubs[0].precision
        shots = math.ceil(1.0 / precision ** 2) if precision > 0 else None
        terms = api.expectation(prog.circuit, prog.inputs(np.concatenate(rows)), np.zeros(0),
                                [pauli_term(label) for label in labels], backend=self.options.backend,
                                dtype=self.options.dtype, shots=shots, seed=self._rng if shots else None)
        out, start = [], 0
        for pub, r, c in zip(pubs, rows, coeffs):
            t = np.asarray(terms[start:start + r.shape[0]], dtype=np.float64)
            start += r.shape[0]
            evs = _broadcast_take(t @ c.T, pub)
            stds = (_broadcast_take(np.sqrt(np.clip(1.0 - t ** 2, 0, None) @ (c ** 2).T / shots), pub)
                    if shots else np.zeros_like(evs))
            data = containers.DataBin(evs=evs, stds=stds, shape=evs.shape)
            out.append(containers.PubResult(data, metadata={
                "target_precision": precision, "shots": shots, "circuit_metadata": pub.circuit.metadata}))
        return out
