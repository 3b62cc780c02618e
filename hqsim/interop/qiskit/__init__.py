"""Qiskit primitives on hqsim (``pip install 'hqsim[qiskit]'``).

- ``HQSimEstimator`` (EstimatorV2) and ``HQSimSampler`` (SamplerV2): each pub's parameter sets,
  of any broadcast shape, run as one batched hqsim call; circuits converted once (convert).
- ``HQSimEstimatorGradient``: a qiskit-machine-learning estimator gradient served by hqsim's
  batched adjoint (one pass for all parameter sets), for ``EstimatorQNN(gradient=...)``.
"""
from __future__ import annotations

from .estimator import HQSimEstimator
from .sampler import HQSimSampler


def __getattr__(name):
    # qiskit-machine-learning is imported only when its gradient class is asked for
    if name == "HQSimEstimatorGradient":
        from .gradient import HQSimEstimatorGradient
        return HQSimEstimatorGradient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["HQSimEstimator", "HQSimSampler", "HQSimEstimatorGradient"]
