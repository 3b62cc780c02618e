"""Batched quantum trajectories: every circuit setting (a sample, or a shifted / perturbed copy
of one) runs as T trajectory rows, and all rows of all settings go through the backend as one
batch of one program (chunked only to bound memory).

Pauli channels (depolarizing, bit/phase flip, general Pauli, phase damping) are unravelled
into per-row Pauli gates (hqsim.noise.expand), so rows run on the fast backend, and since the
sampled Paulis are constant unitaries the backend's adjoint on each row gives that row's exact
gradient; averaging over the T rows of a setting gives an unbiased estimate of the gradient
of the noisy expectation (the trajectory average is linear). Channels that are not
mixed-unitary (amplitude damping) run on the NumPy quantum-jump engine (forward only).

A setting's estimate is the mean over its T rows of their exact expectations (shots None), or
S shots sampled from the average of the T rows' distributions (S samples of the noisy circuit).

Rows of one setting whose sampled errors are all trivial (every noise column 0: no error, or
only errors that commute with everything after them) are the same circuit: only the first one
runs, weighted by their number (at the QPU module of W2 with T=16 that is ~27 % of the rows
under depolarizing 1e-3 / 1e-2 and ~50 % under the IonQ Aria preset). The results are those of
running every row (same sampled errors, same sums).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compile import compile_circuit
from .expand import ExpandedCircuit
from .frames import sample_frames
from .jumps import run_jumps
from .measure import effective_observables, plan_measurements
from .shots import estimate_from_states

KEEP_STATES_BYTES = 1 << 30  # like hqsim.executor: keep final states for the backward up to this


@dataclass(eq=False)
class RunRecord:
    """What an adjoint backward needs from a forward: the rows that ran (inputs and, if kept,
    states), the setting of each (``setting``) and how many trajectories each stands for
    (``weight``)."""

    x_rows: np.ndarray
    states: np.ndarray | None
    setting: np.ndarray
    weight: np.ndarray
    num_settings: int


def compact_rows(x: np.ndarray, traj: int, first_noise: int):
    """Among each setting's ``traj`` adjacent rows of ``x``, those whose noise columns (from
    ``first_noise`` on) are all 0 collapse into their first one. Returns (rows to run, setting
    of each, weight of each, position of each original row's representative among them)."""
    n = x.shape[0] // traj
    clean = ~x[:, first_noise:].any(axis=1).reshape(n, traj)
    first_clean = clean & (np.cumsum(clean, axis=1) == 1)
    keep = ~clean | first_clean
    weight = np.where(first_clean, clean.sum(axis=1, keepdims=True), 1)[keep]
    setting = np.repeat(np.arange(n), traj).reshape(n, traj)[keep]
    pos = (np.cumsum(keep.ravel()) - 1).reshape(n, traj)      # position among the kept rows
    first_pos = np.where(first_clean, pos, 0).sum(axis=1)      # each setting's clean representative
    rep = np.where(clean, first_pos[:, None], pos).ravel()
    return x[keep.ravel()], setting, weight.astype(np.float64), rep


class Runner:
    """Runs settings of one expanded circuit (see module docstring) on ``backend``."""

    def __init__(self, expanded: ExpandedCircuit, observables, options, backend):
        self.expanded, self.options, self.backend = expanded, options, backend
        self.observables = tuple(observables)
        noisy = expanded.has_noise
        self.traj = options.trajectories if noisy else 1
        self.jumps = noisy and not expanded.unravelled
        self.readout = options.readout
        self.plan = plan_measurements(self.observables, expanded.circuit.num_qubits)
        self._compiled = {}

    def compiled(self, effective: bool):
        """The expanded circuit compiled for the base (False) or readout-effective observables."""
        if effective not in self._compiled:
            obs = effective_observables(self.observables, self.readout) if effective else self.observables
            self._compiled[effective] = compile_circuit(self.expanded.circuit, list(obs))
        return self._compiled[effective]

    @property
    def needs_states(self) -> bool:
        return self.options.shots is not None or self.jumps

    def _row_bytes(self, real_dtype, states: bool) -> int:
        amp = 2 * np.dtype(real_dtype).itemsize * 2 ** self.expanded.circuit.num_qubits
        return 64 + self.expanded.num_inputs * 8 * 2 + (amp if states else 0)

    def chunk_size(self, n_settings: int, real_dtype, states: bool) -> int:
        per_setting = self.traj * self._row_bytes(real_dtype, states)
        return max(1, min(n_settings, self.options.max_chunk_bytes // per_setting))

    def rows(self, settings: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(N * T, n_cols) inputs: each setting (N, setting_columns) repeated T times, noise
        frame columns sampled."""
        ex = self.expanded
        n = settings.shape[0]
        x = np.zeros((n * self.traj, ex.num_inputs))
        x[:, :ex.setting_columns] = np.repeat(settings, self.traj, axis=0)
        if ex.frames:
            sample_frames(ex.frames, x.shape[0], rng, x)
        return x

    @property
    def compacts(self) -> bool:
        """True when trivial-error rows are collapsed (unravelled noise, T > 1)."""
        return self.traj > 1 and not self.jumps and bool(self.expanded.frames)

    def run(self, settings: np.ndarray, w: np.ndarray, rng: np.random.Generator, real_dtype,
            keep: bool = False):
        """Estimates (N, n_obs) for ``settings`` (N, expanded.setting_columns); with ``keep``,
        also the RunRecord an adjoint backward needs (else None)."""
        n = settings.shape[0]
        keep_states = keep and not self.jumps and getattr(self.backend, "keeps_states", False) and \
            n * self.traj * self._row_bytes(real_dtype, True) <= KEEP_STATES_BYTES
        want_states = self.needs_states or keep_states
        step = n if keep_states else self.chunk_size(n, real_dtype, want_states)
        out, xs, segs, weights, kept = [], [], [], [], []
        for start in range(0, n, step):
            x = self.rows(settings[start:start + step], rng)
            if self.compacts:
                x, seg, wt, rep = compact_rows(x, self.traj, self.expanded.setting_columns)
            else:
                seg = np.repeat(np.arange(x.shape[0] // self.traj), self.traj)
                wt, rep = np.ones(x.shape[0]), None
            out.append(self._estimate(x, seg, wt, rep, w, rng, real_dtype, want_states,
                                      kept if keep_states else None))
            if keep:
                xs.append(x)
                segs.append(seg + start)
                weights.append(wt)
        record = None
        if keep:
            record = RunRecord(np.concatenate(xs), kept[0] if kept else None, np.concatenate(segs),
                               np.concatenate(weights), n)
        return np.concatenate(out), record

    def _estimate(self, x, seg, wt, rep, w, rng, real_dtype, want_states, kept):
        shots = self.options.shots
        if self.jumps:
            states = run_jumps(self.expanded, x, w, rng)
            return estimate_from_states(states, self.plan, shots, rng, self.traj, self.readout)
        compiled = self.compiled(effective=shots is None)
        values, states = self.backend.forward(compiled, x, w, real_dtype, want_states)
        if kept is not None:
            kept.append(states)
        if shots is None:
            n = int(seg[-1]) + 1 if seg.size else 0
            total = np.zeros((n, values.shape[1]))
            np.add.at(total, seg, values * wt[:, None])
            return total / self.traj
        full = states if rep is None else states[rep]   # every trajectory's state, for sampling
        return estimate_from_states(full, self.plan, shots, rng, self.traj, self.readout)

    def adjoint_vjp(self, record: RunRecord, w, cotangent, real_dtype, need_x: bool):
        """Exact gradient of the trajectory-averaged exact expectation of the recorded rows:
        (dweights (n_w,), dinputs (N, n_base_inputs) or None)."""
        if self.jumps:
            raise ValueError("adjoint gradients are not available under amplitude damping (a non-unitary "
                             "channel simulated by quantum jumps, forward only); use "
                             "gradient='parameter-shift' or 'spsa' (they only run forwards), remove "
                             "AmplitudeDamping from the noise model, or compute outputs under "
                             "torch.no_grad()")
        compiled = self.compiled(effective=True)
        reuse = record.states is not None and (
            self.options.shots is None or
            tuple(compiled.optimized.gates) == tuple(self.compiled(False).optimized.gates))
        cot_rows = np.asarray(cotangent, np.float64)[record.setting] * (record.weight / self.traj)[:, None]
        # The adjoint is linear in the cotangent: run it on a cotangent of order 1 and scale the
        # gradients back (by a power of two: exact). A training loss's cotangents are ~1e-3, and
        # the sampled Paulis' RX(pi) leave ~1e-16 residues (cos(pi/2) in floating point); at
        # that scale their products land among float32 subnormals, which cost the adjoint 3-5x.
        peak = float(np.max(np.abs(cot_rows))) if cot_rows.size else 0.0
        unit = 2.0 ** round(np.log2(peak)) if peak > 0 and np.isfinite(peak) else 1.0
        cot_rows = cot_rows / unit
        rows = record.x_rows.shape[0]
        step = rows if reuse else self.chunk_size(max(1, rows // self.traj), real_dtype, False) * self.traj
        dw = np.zeros(self.expanded.circuit.num_weights)
        dxs = []
        for s in range(0, rows, step):
            extra = {"final_states": record.states[s:s + step]} if reuse else {}
            dws, dx = self.backend.vjp(compiled, record.x_rows[s:s + step], w, cot_rows[s:s + step],
                                       real_dtype, need_x, **extra)
            dw += dws
            if need_x:
                dxs.append(dx[:, :self.expanded.num_base_inputs])
        if not need_x:
            return dw * unit, None
        dx = np.concatenate(dxs)
        total = np.zeros((record.num_settings, dx.shape[1]))
        np.add.at(total, record.setting, dx)
        return dw * unit, total * unit
