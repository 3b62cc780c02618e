"""Hardware-style gradients: parameter shift and SPSA, each circuit also estimated from S shots.

Parameter shift. For an occurrence with angle a = scale * v + offset of a gate
G(a) = exp(-i a P / 2) (P^2 = 1: RX, RY, RZ, PhaseShift up to a global phase, RXX, RYY, RZZ),

    dE/da = [E(a + pi/2) - E(a - pi/2)] / 2,

and for the controlled rotations (generator eigenvalues 0, +-1/2) the four-term rule

    dE/da = c+ [E(a + pi/2) - E(a - pi/2)] - c- [E(a + 3pi/2) - E(a - 3pi/2)],
    c+- = (sqrt 2 +- 1) / (4 sqrt 2).

dE/dv sums scale * dE/da over every occurrence of v (a weight shared by several gates gets one
shifted circuit per gate: hqsim.noise.expand gives each occurrence its own shift column). The
rules are exact for noisy expectations too (the channels do not depend on a). The VJP folds
the cotangent per sample: L_b = sum_k g_bk E_bk. All shifted circuits of all samples form one
batch (chunked by memory only); amplitude-encoded inputs have no shift rule.

SPSA. For a random direction D in {-1, +1}^n over the weights (and, per sample, over that
sample's inputs): g_hat = [L(theta + c D) - L(theta - c D)] / (2c) * D, averaged over
``directions``; it is unbiased up to O(c^2) and costs 2 circuits per direction and sample
whatever the number of parameters. Every row carries its own weight perturbation (weight-offset
columns, hqsim.noise.expand), so all directions of all samples run as one batch; weights outside
the observables' light cone get no perturbation and a zero gradient.
"""
from __future__ import annotations

import numpy as np

from ..ir import WEIGHT


def _plan_rows(occurrences):
    """Per shifted row: (occurrence index, shift, coefficient * scale)."""
    rows = []
    for j, o in enumerate(occurrences):
        for shift, coef in o.rule:
            rows.append((j, shift, coef * o.scale))
    return rows


def parameter_shift_vjp(runner, x, w, cotangent, rng, real_dtype, need_x: bool):
    """(dweights (n_w,), dinputs (B, n_in) or None) of sum(cotangent * E) by the shift rules."""
    ex = runner.expanded
    occs = ex.occurrences
    batch, n_base = x.shape
    dw = np.zeros(ex.circuit.num_weights)
    dx = np.zeros((batch, n_base)) if need_x else None
    rows = _plan_rows(occs)
    if not rows:
        return dw, dx
    occ_of = np.array([j for j, _, _ in rows])
    coef = np.array([c for _, _, c in rows])
    is_w = np.array([occs[j].source == WEIGHT for j in occ_of])
    index = np.array([occs[j].index for j in occ_of])
    template = np.zeros((len(rows), len(occs)))
    template[np.arange(len(rows)), occ_of] = [s for _, s, _ in rows]
    per_sample = len(rows) * (n_base + len(occs)) * 8
    block = max(1, min(batch, runner.options.max_chunk_bytes // max(per_sample, 1)))
    for b0 in range(0, batch, block):
        xb = x[b0:b0 + block]
        nb = xb.shape[0]
        settings = np.concatenate([np.repeat(xb, len(rows), axis=0), np.tile(template, (nb, 1))], axis=1)
        est, _ = runner.run(settings, w, rng, real_dtype)
        folded = (est.reshape(nb, len(rows), -1) * cotangent[b0:b0 + nb, None, :]).sum(axis=2)
        contrib = folded * coef  # (nb, rows): d(L_b)/d(v) parts
        np.add.at(dw, index[is_w], contrib[:, is_w].sum(axis=0))
        if need_x and (~is_w).any():
            for r in np.flatnonzero(~is_w):
                dx[b0:b0 + nb, index[r]] += contrib[:, r]
    return dw, dx


def spsa_vjp(runner, x, w, cotangent, rng, real_dtype, need_w: bool, need_x: bool, spsa):
    """(dweights, dinputs or None) of sum(cotangent * E) by simultaneous perturbation; all
    2 x directions perturbed copies of all samples run as one batch (``runner`` expanded with
    weight-offset columns, so every row carries its own weight perturbation)."""
    ex = runner.expanded
    c, k = float(spsa.epsilon), spsa.directions
    batch, n_base = x.shape
    wcols = np.asarray(ex.weight_columns, dtype=np.int64)
    used = wcols >= 0
    n_cols = ex.setting_columns
    d_w = rng.choice([-1.0, 1.0], size=(k, w.size)) * used if need_w else np.zeros((k, w.size))
    sign = np.array([1.0, -1.0])
    dw = np.zeros(w.size)
    dx = np.zeros(x.shape) if need_x else None
    block = max(1, min(batch, runner.options.max_chunk_bytes // (2 * k * n_cols * 8)))
    for b0 in range(0, batch, block):
        xb = x[b0:b0 + block]
        nb = xb.shape[0]
        d_x = rng.choice([-1.0, 1.0], size=(nb, k, n_base)) if need_x else np.zeros((nb, k, n_base))
        settings = np.zeros((nb, k, 2, n_cols))
        settings[..., :n_base] = xb[:, None, None, :] + c * sign[:, None] * d_x[:, :, None, :]
        settings[..., wcols[used]] = c * sign[:, None] * d_w[:, None, used]
        est, _ = runner.run(settings.reshape(nb * k * 2, n_cols), w, rng, real_dtype)
        est = est.reshape(nb, k, 2, -1)
        diff = ((est[:, :, 0] - est[:, :, 1]) * cotangent[b0:b0 + nb, None, :]).sum(axis=2) / (2 * c)
        dw += diff.sum(axis=0) @ d_w / k
        if need_x:
            dx[b0:b0 + nb] = (diff[:, :, None] * d_x).sum(axis=1) / k
    return dw, dx
