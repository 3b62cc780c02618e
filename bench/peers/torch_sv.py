"""A plain torch batched statevector with autograd (TorchQuantum's design): one tensor op per
gate on a (B, 2, ..., 2) complex state, per-sample gate matrices, backward by autograd."""
from __future__ import annotations

import torch


def _ry(theta):
    c, s = torch.cos(theta / 2), torch.sin(theta / 2)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2).to(torch.complex64)


def _rz(theta):
    e = torch.exp(-0.5j * theta.to(torch.complex64))
    z = torch.zeros_like(e)
    return torch.stack([torch.stack([e, z], -1), torch.stack([z, e.conj()], -1)], -2)


def _apply(state, mat, q, nq):
    # state (B, 2, ..., 2); mat (B, 2, 2) or (2, 2)
    state = state.movedim(q + 1, -1)
    state = torch.einsum("b...j,bij->b...i", state, mat) if mat.ndim == 3 else state @ mat.T
    return state.movedim(-1, q + 1)


def _cnot(state, c, t):
    state = state.clone()
    idx = [slice(None)] * state.ndim
    idx[c + 1] = 1
    sub = state[tuple(idx)]
    tt = t if t < c else t - 1
    state[tuple(idx)] = sub.flip(tt + 1)
    return state


def rpqc_expectations(x, theta, nq, reuploads, layers, conn):
    """x (B, Q) float, theta (R, L, Q, 3) → (B, Q) <Z_q>."""
    b = x.shape[0]
    state = torch.zeros((b,) + (2,) * nq, dtype=torch.complex64)
    state[(slice(None),) + (0,) * nq] = 1
    for r in range(reuploads):
        for q in range(nq):
            state = _apply(state, _ry(x[:, q]), q, nq)
        for l in range(layers):
            for q in range(nq):
                m = _rz(theta[r, l, q, 2]) @ _ry(theta[r, l, q, 1]) @ _rz(theta[r, l, q, 0])
                state = _apply(state, m, q, nq)
            for q in range(nq):
                t = (q + conn) % nq
                if t != q:
                    state = _cnot(state, q, t)
    probs = (state.abs() ** 2).reshape(b, -1)
    idx = torch.arange(2 ** nq)
    signs = torch.stack([1 - 2 * ((idx >> (nq - 1 - q)) & 1) for q in range(nq)], 1).to(probs.dtype)
    return probs @ signs
