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

KEEP_STATES_BYTES = 1 << 30  # like hqsim.autodiff: keep final states for the backward up to this


@dataclass(eq=False)
class RunRecord:
    """What an adjoint backward needs from a forward: the rows' inputs and, if kept, states."""

    x_rows: np.ndarray
    states: np.ndarray | None


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

    def run(self, settings: np.ndarray, w: np.ndarray, rng: np.random.Generator, real_dtype,
            keep: bool = False):
        """Estimates (N, n_obs) for ``settings`` (N, expanded.setting_columns); with ``keep``,
        also the RunRecord an adjoint backward needs (else None)."""
        n = settings.shape[0]
        keep_states = keep and not self.jumps and getattr(self.backend, "keeps_states", False) and \
            n * self.traj * self._row_bytes(real_dtype, True) <= KEEP_STATES_BYTES
        want_states = self.needs_states or keep_states
        step = n if keep_states else self.chunk_size(n, real_dtype, want_states)
        out, xs, kept = [], [], []
        for start in range(0, n, step):
            x = self.rows(settings[start:start + step], rng)
            out.append(self._estimate(x, w, rng, real_dtype, want_states, kept if keep_states else None))
            if keep:
                xs.append(x)
        record = None
        if keep:
            record = RunRecord(np.concatenate(xs), kept[0] if kept else None)
        return np.concatenate(out), record

    def _estimate(self, x, w, rng, real_dtype, want_states, kept):
        shots = self.options.shots
        if self.jumps:
            states = run_jumps(self.expanded, x, w, rng)
            return estimate_from_states(states, self.plan, shots, rng, self.traj, self.readout)
        compiled = self.compiled(effective=shots is None)
        values, states = self.backend.forward(compiled, x, w, real_dtype, want_states)
        if kept is not None:
            kept.append(states)
        if shots is None:
            return values.reshape(values.shape[0] // self.traj, self.traj, values.shape[1]).mean(axis=1)
        return estimate_from_states(states, self.plan, shots, rng, self.traj, self.readout)

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
        cot_rows = np.repeat(np.asarray(cotangent, np.float64), self.traj, axis=0) / self.traj
        rows = record.x_rows.shape[0]
        step = rows if reuse else self.chunk_size(rows // self.traj, real_dtype, False) * self.traj
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
            return dw, None
        dx = np.concatenate(dxs)
        return dw, dx.reshape(rows // self.traj, self.traj, dx.shape[1]).sum(axis=1)
