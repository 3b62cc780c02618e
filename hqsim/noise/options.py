"""Typed options for finite-shot and noisy estimation, validated once with clear errors."""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .models import NoiseModel

GRADIENT_MODES = ("adjoint", "parameter-shift", "spsa")
DEFAULT_TRAJECTORIES = 64
# Shots per circuit and call. Beyond 1e8 the standard error 1/sqrt(S) is below 1e-4, finer than
# float32 training notices, and one sample costs ~0.5 s per measurement group: ask for the
# exact expectation (shots=None) instead. Sampling is drawn in interruptible pieces (_sampling).
MAX_SHOTS = 10**8


@dataclass(frozen=True)
class SPSA:
    """Simultaneous-perturbation gradient: ``epsilon`` is the perturbation size c (radians for
    angles), ``directions`` the number of random +-1 directions averaged (2 circuits each)."""

    epsilon: float = 0.1
    directions: int = 1

    def __post_init__(self):
        if isinstance(self.epsilon, bool) or not isinstance(self.epsilon, Real) or \
                not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise ValueError(f"SPSA epsilon must be a positive finite number, got {self.epsilon!r}")
        if isinstance(self.directions, bool) or not isinstance(self.directions, Integral) or self.directions < 1:
            raise ValueError(f"SPSA directions must be a positive int, got {self.directions!r}")


@dataclass(frozen=True)
class EstimatorOptions:
    """shots: None (exact expectations) or S >= 1 samples per circuit; gradient: one of
    GRADIENT_MODES; spsa: SPSA settings; noise: NoiseModel or None; trajectories: T per sample
    (1 without gate noise); max_chunk_bytes: state + input memory per backend call."""

    shots: int | None = None
    gradient: str = "adjoint"
    spsa: SPSA = SPSA()
    noise: NoiseModel | None = None
    trajectories: int = 1
    max_chunk_bytes: int = 1 << 28

    @property
    def gate_noise(self) -> bool:
        return self.noise is not None and self.noise.has_gate_noise

    @property
    def readout(self):
        return self.noise.readout if self.noise is not None and self.noise.has_readout_error else None


def _check_count(value, what: str, allowed: str):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{what} must be {allowed}, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be {allowed}, got {value!r}")
    return int(value)


def make_options(shots=None, gradient=None, noise=None, trajectories=None) -> EstimatorOptions:
    """Validate the user-facing keyword options into EstimatorOptions."""
    if shots is not None:
        shots = _check_count(shots, "shots", "a positive int (samples per circuit) or None (exact)")
        if shots > MAX_SHOTS:
            raise ValueError(f"shots must be at most {MAX_SHOTS:,} per circuit, got {shots:,}: the "
                             "standard error 1/sqrt(shots) is below 1e-4 there; for the exact "
                             "expectation pass shots=None")
    spsa = SPSA()
    if gradient is None:
        gradient = "adjoint"
    elif isinstance(gradient, SPSA):
        gradient, spsa = "spsa", gradient
    elif not isinstance(gradient, str) or gradient not in GRADIENT_MODES:
        raise ValueError(f"gradient must be one of {', '.join(map(repr, GRADIENT_MODES))} "
                         f"or an hqsim.noise.SPSA(...), got {gradient!r}")
    if noise is not None and not isinstance(noise, NoiseModel):
        raise TypeError(f"noise must be an hqsim.noise.NoiseModel or None, got {type(noise).__name__}")
    gate_noise = noise is not None and noise.has_gate_noise
    if trajectories is None:
        trajectories = DEFAULT_TRAJECTORIES if gate_noise else 1
    else:
        trajectories = _check_count(trajectories, "trajectories", "a positive int")
        if not gate_noise and trajectories != 1:
            raise ValueError("trajectories only applies with a noise model that has gate channels "
                             f"(noise={noise!r}); leave it unset")
    return EstimatorOptions(shots=shots, gradient=gradient, spsa=spsa, noise=noise,
                            trajectories=trajectories)


def make_rng(seed) -> np.random.Generator:
    """A Generator from None (fresh entropy), a non-negative int, or a Generator (used as is)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be None, a non-negative int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))
