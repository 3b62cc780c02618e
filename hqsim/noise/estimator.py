"""The Estimator: one compiled circuit + EstimatorOptions -> finite-shot / noisy forward passes
and gradients in the chosen mode. Framework-free (numpy in, numpy out); hqsim.executor's
NoisyExecutor makes it the noisy path behind the public functions and the torch Function.

Gradient modes:

- "adjoint": the exact gradient of the exact expectation (of the trajectory average under
  gate noise: the adjoint of each recorded trajectory, averaged; readout error enters as an
  effective observable). Shot noise does not enter this gradient; it is the gradient of the
  quantity the shot estimate is an unbiased estimate of. One adjoint pass per backward.
- "parameter-shift": every shifted circuit estimated like the forward (S shots, T
  trajectories); as on hardware. Amplitude-encoded inputs cannot be differentiated this way.
- "spsa": two perturbed batches per direction, each estimated like the forward.

Randomness (shots, trajectories, perturbations) is drawn from the numpy Generator passed in.
"""
from __future__ import annotations

import numpy as np

from .expand import expand
from .gradients import parameter_shift_vjp, spsa_vjp
from .options import EstimatorOptions
from .trajectories import Runner


_CACHE: dict = {}


class Estimator:
    """Forward and VJP of ``compiled`` (hqsim.compile.CompiledCircuit) under ``options``."""

    @classmethod
    def cached(cls, compiled, options: EstimatorOptions, backend) -> "Estimator":
        """The Estimator of this compiled circuit, options and backend object, built once (its
        expanded circuits and their compilations are reused by every later call)."""
        key = (id(compiled), options, id(backend))
        hit = _CACHE.get(key)
        if hit is not None and hit.compiled is compiled and hit.backend is backend:
            return hit
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = est = cls(compiled, options, backend)
        return est

    def __init__(self, compiled, options: EstimatorOptions, backend):
        self.compiled, self.options, self.backend = compiled, options, backend
        self.source = compiled.source
        self.observables = tuple(compiled.observables)
        self.model = options.noise if options.gate_noise else None
        self.unravel = self.model is None or self.model.is_pauli
        self.forward_runner = Runner(expand(self.source, self.observables, self.model, self.unravel),
                                     self.observables, options, backend)
        self._shift_runners: dict = {}
        self._spsa_runner: Runner | None = None

    @property
    def num_outputs(self) -> int:
        return len(self.observables)

    @property
    def forward_only(self) -> bool:
        """True when no gradient can be computed in the chosen mode (adjoint under amplitude damping)."""
        return self.options.gradient == "adjoint" and not self.unravel

    def _shift_runner(self, need_w: bool, need_x: bool) -> Runner:
        key = (need_w, need_x)
        if key not in self._shift_runners:
            ex = expand(self.source, self.observables, self.model, self.unravel,
                        shift_weights=need_w, shift_inputs=need_x)
            self._shift_runners[key] = Runner(ex, self.observables, self.options, self.backend)
        return self._shift_runners[key]

    def forward(self, x: np.ndarray, w: np.ndarray, rng: np.random.Generator, real_dtype,
                keep: bool = False):
        """(estimates (B, n_obs) float64, record for an adjoint backward or None).

        x: (B, n_inputs) float64; w: (n_weights,) float64; keep: the caller will ask for an
        adjoint gradient of this very forward (the trajectories and states are kept)."""
        keep = keep and self.options.gradient == "adjoint" and not self.forward_only
        return self.forward_runner.run(x, w, rng, real_dtype, keep=keep)

    def vjp(self, x, w, cotangent, rng, real_dtype, need_w: bool = True, need_x: bool = True,
            record=None):
        """(dweights (n_w,), dinputs (B, n_in) or None) of sum(cotangent * estimates)."""
        cot = np.asarray(cotangent, dtype=np.float64)
        if cot.shape != (x.shape[0], self.num_outputs):
            raise ValueError(f"cotangent must have shape {(x.shape[0], self.num_outputs)}, got {cot.shape}")
        mode = self.options.gradient
        if mode == "adjoint":
            if self.forward_only:
                return self.forward_runner.adjoint_vjp(record, w, cot, real_dtype, need_x)  # raises
            if record is None:
                _, record = self.forward_runner.run(x, w, rng, real_dtype, keep=True)
            return self.forward_runner.adjoint_vjp(record, w, cot, real_dtype, need_x)
        if mode == "parameter-shift":
            enc = self.source.amplitude_encoding
            if need_x and enc is not None:
                raise ValueError(
                    "gradient='parameter-shift' cannot differentiate amplitude-encoded inputs "
                    f"(columns {enc.start}..{enc.start + enc.size - 1}: a state preparation has no "
                    "shift rule); use gradient='adjoint' or 'spsa', or do not require input gradients")
            runner = self._shift_runner(need_w, need_x)
            return parameter_shift_vjp(runner, x, w, cot, rng, real_dtype, need_x)
        if self._spsa_runner is None:
            ex = expand(self.source, self.observables, self.model, self.unravel, weight_offsets=True)
            self._spsa_runner = Runner(ex, self.observables, self.options, self.backend)
        return spsa_vjp(self._spsa_runner, x, w, cot, rng, real_dtype, need_w, need_x, self.options.spsa)
