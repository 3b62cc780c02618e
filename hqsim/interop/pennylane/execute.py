"""Running preprocessed tapes on hqsim: one batched call per group of tapes of one structure.

- analytic expectation values of Pauli-representable observables: ``hqsim.expectation``;
- every other analytic measurement: ``hqsim.statevector``, then PennyLane measures the final
  states (``measure_final_state``: the measurement semantics stay PennyLane's own);
- finite shots: ``hqsim.statevector``, then every measurement of a tape is computed from one
  set of bitstrings drawn from |psi|^2 by ``hqsim.noise.sample_basis_states`` (the device's
  preprocess has already rotated every observable into the computational basis).
"""
from __future__ import annotations

import numpy as np

from ... import api
from ...noise.shots import sample_basis_states
from ._deps import qml
from .batching import EXECUTE, build_group, group_layouts
from .translate import EXPVAL, layout

_measure_final_state = qml.devices.qubit.measure_final_state


def run_groups(tapes, mode: str, trainable=None):
    """(layouts, groups): every tape translated, groups built for ``mode``."""
    layouts = [layout(t) for t in tapes]
    trainable = trainable or [set() for _ in tapes]
    groups = [build_group(idx, [layouts[i] for i in idx], [trainable[i] for i in idx], mode)
              for idx in group_layouts(layouts).values()]
    return layouts, groups


def _per_measurement(values: list, tape):
    return values[0] if len(tape.measurements) == 1 else tuple(values)


def _expval_results(group, tapes, options) -> dict:
    out = api.expectation(group.circuit, group.inputs, group.weights, list(group.layouts[0].observables),
                          backend=options.backend, dtype=options.dtype)
    results = {}
    for i, lay, rows in zip(group.indices, group.layouts, group.rows):
        vals = out[rows]
        cols = [vals[0, k] if lay.batch is None else vals[:, k].copy() for k in range(vals.shape[1])]
        results[i] = _per_measurement(cols, tapes[i])
    return results


def final_states(group, options) -> np.ndarray:
    """(rows, 2^Q) complex128 final states of the group, GlobalPhase included."""
    states = np.asarray(api.statevector(group.circuit, group.inputs, group.weights,
                                        backend=options.backend, dtype=options.dtype), dtype=np.complex128)
    phase = group.phase()
    return states if phase is None else states * phase[:, None]


def _analytic(tape, lay, states: np.ndarray):
    (mapped,), _ = qml.map_wires(tape, {w: q for q, w in enumerate(lay.wires)})
    batched = lay.batch is not None
    shape = ((lay.batch,) if batched else ()) + (2,) * lay.num_qubits
    return _measure_final_state(mapped, states.reshape(shape), batched)


def _sampled(tape, lay, states: np.ndarray, rng):
    shots = tape.shots
    n = lay.num_qubits
    idx = sample_basis_states(np.abs(states) ** 2, shots.total_shots, rng)
    bits = ((idx[..., None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.int64)  # qubit 0 = MSB
    wire_order = qml.wires.Wires(lay.wires)
    per_bin = []
    for lower, upper in shots.bins():
        s = bits[:, lower:upper] if lay.batch is not None else bits[0, lower:upper]
        per_bin.append(_per_measurement([m.process_samples(s, wire_order) for m in tape.measurements], tape))
    return tuple(per_bin) if shots.has_partitioned_shots else per_bin[0]


def _state_results(group, tapes, options, rng) -> dict:
    states = final_states(group, options)
    results = {}
    for i, lay, rows in zip(group.indices, group.layouts, group.rows):
        tape = tapes[i]
        results[i] = (_sampled(tape, lay, states[rows], rng) if tape.shots
                      else _analytic(tape, lay, states[rows]))
    return results


def execute_tapes(tapes, options, rng) -> tuple:
    """Results of ``tapes`` in PennyLane's return structure; ``rng``: numpy Generator for shots."""
    _, groups = run_groups(tapes, EXECUTE)
    results = {}
    for group in groups:
        if group.layouts[0].mode == EXPVAL:
            results.update(_expval_results(group, tapes, options))
        else:
            results.update(_state_results(group, tapes, options, rng))
    return tuple(results[i] for i in range(len(tapes)))
