"""Finite-shot estimates of Pauli-string observables from final states, by joint sampling.

For each measurement group (hqsim.noise.measure: qubit-wise commuting Pauli strings), the
states are rotated into the Z basis and S bitstrings are drawn from |psi|^2 (averaged over the
trajectories of a sample, with readout error applied); each Pauli string's estimate is the
mean parity of its qubits' bits over those S bitstrings, times its coefficient. Outputs whose
strings share a group therefore share bitstrings and get the physical covariance, e.g.
Cov(Z0_hat, Z1_hat) = (<Z0 Z1> - <Z0><Z1>) / S; an output made of strings in several groups
costs S shots per group. Var(P_hat) = (1 - <P>^2) / S for one string.

Reproducibility: every estimate draws its seeds from the numpy Generator it is given, one
SplitMix64 stream per circuit setting, so the same seed gives the same estimates whatever the
thread count.
"""
from __future__ import annotations

import numpy as np

from ._sampling import estimate_parities
from .measure import MeasurementPlan, plan_measurements, rotate_to_z


def _seeds(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.int64).max, size=n, dtype=np.int64).astype(np.uint64)


def estimate_from_states(states: np.ndarray, plan: MeasurementPlan, shots: int | None,
                         rng: np.random.Generator | None, traj: int = 1, readout=None) -> np.ndarray:
    """Estimates (n, n_obs) float64 from ``states`` (n * traj, 2^Q), trajectories of a setting
    adjacent: exact (``shots`` None) or from ``shots`` joint samples per group and setting.
    ``readout``: ReadoutError or None. ``states`` is not mutated."""
    nq = plan.num_qubits
    n = states.shape[0] // traj
    out = np.tile(plan.constant, (n, 1))
    for g in plan.groups:
        rotated = rotate_to_z(states, g, nq)
        p01 = np.zeros(nq)
        p10 = np.zeros(nq)
        if readout is not None:
            for q, _ in g.basis:
                p01[nq - 1 - q], p10[nq - 1 - q] = readout.p01, readout.p10
        seeds = _seeds(rng, n) if shots else np.zeros(n, np.uint64)
        par = estimate_parities(rotated, traj, shots, seeds, g.masks, p01, p10)
        weights = np.zeros((len(g.masks), plan.num_observables))
        weights[np.arange(len(g.masks)), g.obs_index] = g.coeffs
        out += par @ weights
    return out


def sample_expectations(states, observables, shots: int, seed=None, readout=None) -> np.ndarray:
    """Shot estimates (B, n_obs) of ``observables`` on the final states (B, 2^Q) of a batch.

    shots: S >= 1 bitstrings per measurement group and sample; seed: None, int or numpy
    Generator; readout: hqsim.noise.ReadoutError or None. Inputs are not mutated."""
    from .options import make_options, make_rng
    states = np.asarray(states)
    if states.ndim != 2 or states.shape[1] & (states.shape[1] - 1):
        raise ValueError(f"states must have shape (batch, 2**num_qubits), got {states.shape}")
    opts = make_options(shots=shots)
    nq = states.shape[1].bit_length() - 1
    from ..ir.validate import check_observables
    plan = plan_measurements(check_observables(observables, nq), nq)
    return estimate_from_states(states, plan, opts.shots, make_rng(seed), 1, readout)


def sample_basis_states(probs, shots: int, rng: np.random.Generator) -> np.ndarray:
    """(B, shots) int64 basis-state indices drawn i.i.d. from each row of ``probs`` (B, 2^Q)
    (rows are renormalised): multinomial counts per row, expanded and shuffled, vectorised
    over the batch. ``rng``: a numpy Generator (hqsim.noise.make_rng). Nothing is mutated."""
    p = np.asarray(probs, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    counts = rng.multinomial(int(shots), p)
    idx = np.repeat(np.tile(np.arange(p.shape[1]), p.shape[0]), counts.ravel())
    return rng.permuted(idx.reshape(p.shape[0], int(shots)), axis=1)
