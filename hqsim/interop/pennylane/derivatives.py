"""Device derivatives of expectation-value tapes by hqsim's batched adjoint (``hqsim.vjp``).

VJP: the cotangents of all tapes of one structure fill one (rows, n_obs) matrix and one adjoint
pass returns every tape's gradient: an input column's per-row gradient (summed over a tape's
rows for an unbroadcast parameter), or a weight's gradient (groups of one tape only, see
batching). Jacobian: every row is repeated once per observable with a one-hot cotangent, so one
adjoint pass gives every (observable, parameter) entry per row.

Parameter s of a tape is slot s of its layout; a trainable parameter that no gate uses (a
GlobalPhase angle) has derivative zero.
"""
from __future__ import annotations

import numpy as np

from ... import api
from ...ir import WEIGHT
from .batching import JACOBIAN, VJP
from .execute import run_groups


class ParameterGradients(tuple):
    """One tape's VJP: a gradient per trainable parameter, each shaped like its parameter (a
    broadcast parameter (B,), a plain one a scalar). PennyLane's torch interface probes a VJP
    with ``np.squeeze(vjp)`` only to skip empty ones, which fails on such mixed shapes; this
    ``squeeze`` answers that probe with the number of entries instead."""

    def squeeze(self, axis=None):
        return np.empty(len(self))


def _cotangent_rows(cot, lay, n_obs: int) -> np.ndarray:
    """(rows, n_obs) float64 from one tape's cotangent (a value, or one per measurement)."""
    parts = [cot] if n_obs == 1 else list(cot)
    out = np.zeros((lay.rows, n_obs))
    for k, c in enumerate(parts):
        out[:, k] = np.real(np.asarray(c, dtype=np.complex128)).reshape(-1) if lay.batch else float(np.real(c))
    return out


def _param_grad(per_row: np.ndarray, lay, param: int):
    """A parameter's gradient from its per-row values: a (B,) array for a broadcast parameter,
    else the sum over the tape's rows."""
    if lay.batch is not None and isinstance(lay.values[param], np.ndarray):
        return per_row
    return np.float64(per_row.sum())


def _zero(lay, param: int):
    return np.zeros(lay.batch) if lay.batch is not None and isinstance(lay.values[param], np.ndarray) \
        else np.float64(0.0)


def vjp_tapes(tapes, cotangents, options) -> tuple:
    """Per tape: a tuple with one gradient per trainable parameter (tape.trainable_params order)."""
    trainable = [set(t.trainable_params) for t in tapes]
    _, groups = run_groups(tapes, VJP, trainable)
    results = {}
    for group in groups:
        first = group.layouts[0]
        n_obs = len(first.observables)
        cot = np.concatenate([_cotangent_rows(cotangents[i], lay, n_obs)
                              for i, lay in zip(group.indices, group.layouts)])
        dw, dx = api.vjp(group.circuit, group.inputs, group.weights, cot, list(first.observables),
                         backend=options.backend, dtype=options.dtype)
        for i, lay, rows in zip(group.indices, group.layouts, group.rows):
            grads = []
            for p in tapes[i].trainable_params:
                kind, idx = group.slots.get(p, (None, None))
                if kind is None:
                    grads.append(_zero(lay, p))
                elif kind == WEIGHT:
                    grads.append(np.float64(dw[idx]))
                else:
                    grads.append(_param_grad(dx[rows, idx], lay, p))
            results[i] = ParameterGradients(grads)
    return tuple(results[i] for i in range(len(tapes)))


def _tape_jacobian(tape, lay, dx_rows: np.ndarray, slots: dict):
    """PennyLane's jacobian structure from (rows, n_obs, n_inputs) per-row derivatives."""
    n_obs = dx_rows.shape[1]
    jac = []
    for k in range(n_obs):
        row = []
        for p in tape.trainable_params:
            kind, idx = slots.get(p, (None, None))
            if kind is None:
                row.append(np.zeros(lay.batch) if lay.batch is not None else np.float64(0.0))
            else:
                d = dx_rows[:, k, idx]
                row.append(d.copy() if lay.batch is not None else np.float64(d[0]))
        jac.append(row[0] if len(row) == 1 else tuple(row))
    return jac[0] if n_obs == 1 else tuple(jac)


def jacobian_tapes(tapes, options) -> tuple:
    """Per tape: d(measurement)/d(trainable parameter) in PennyLane's nesting (measurements
    outer, parameters inner, length-one levels dropped); broadcast tapes give (B,) per entry."""
    trainable = [set(t.trainable_params) for t in tapes]
    _, groups = run_groups(tapes, JACOBIAN, trainable)
    results = {}
    for group in groups:
        first = group.layouts[0]
        n_obs, rows_total = len(first.observables), group.inputs.shape[0]
        if not any(tapes[i].trainable_params for i in group.indices):
            for i in group.indices:
                results[i] = ()
            continue
        inputs = np.repeat(group.inputs, n_obs, axis=0)
        cot = np.tile(np.eye(n_obs), (rows_total, 1))
        _, dx = api.vjp(group.circuit, inputs, group.weights, cot, list(first.observables),
                        backend=options.backend, dtype=options.dtype)
        dx = dx.reshape(rows_total, n_obs, group.inputs.shape[1])
        for i, lay, rows in zip(group.indices, group.layouts, group.rows):
            results[i] = _tape_jacobian(tapes[i], lay, dx[rows], group.slots) if tapes[i].trainable_params else ()
    return tuple(results[i] for i in range(len(tapes)))
