"""Peer: a plain torch batched statevector with autograd (TorchQuantum's design) on the GPU.

The state is a (B, 2, ..., 2) complex tensor; every gate is one einsum over its target axes
with per-sample matrices built from the (autograd-tracked) angles; CNOT/CZ/SWAP are index
operations. Backward is torch autograd through every gate (it keeps every intermediate
state). Supports the gates of W1 and W2 (RX, RY, RZ, H, CNOT, CZ, SWAP) and Z observables.
"""
from __future__ import annotations

import torch

from hqsim.ir import INPUT, WEIGHT


def _angle(p, x, w):
    if p.source == WEIGHT:
        v = w[p.index].expand(x.shape[0])
    elif p.source == INPUT:
        v = x[:, p.index]
    else:
        v = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    return p.scale * v + p.offset


def _rot(name, a, cdtype):
    c, s = torch.cos(a / 2).to(cdtype), torch.sin(a / 2).to(cdtype)
    z = torch.zeros_like(c)
    if name == "RX":
        rows = [[c, -1j * s], [-1j * s, c]]
    elif name == "RY":
        rows = [[c, -s], [s, c]]
    else:
        e = torch.exp(-0.5j * a.to(cdtype))
        rows = [[e, z], [z, e.conj()]]
    return torch.stack([torch.stack(r, -1) for r in rows], -2)  # (B, 2, 2)


def _apply_1q(psi, m, q):
    psi = torch.movedim(psi, q + 1, -1)
    psi = torch.einsum("b...j,bij->b...i", psi, m)
    return torch.movedim(psi, -1, q + 1)


def _cnot(psi, c, t):
    # axis of the target inside psi.select(c + 1, 1): batch axis 0, then qubits minus c
    axis = t + 1 if t < c else t
    out = psi.clone()
    out.select(c + 1, 1).copy_(psi.select(c + 1, 1).flip(axis))
    return out


def simulate(circuit, x, w, cdtype=torch.complex64):
    """<Z_q> for every qubit, (B, Q), differentiable in x and w."""
    q_n, batch = circuit.num_qubits, x.shape[0]
    enc = circuit.amplitude_encoding
    if enc is None:
        psi = torch.zeros((batch,) + (2,) * q_n, dtype=cdtype, device=x.device)
        psi.view(batch, -1)[:, 0] = 1
    else:
        feats = x[:, enc.start:enc.start + enc.size]
        amp = torch.nn.functional.pad(feats / feats.norm(dim=1, keepdim=True), (0, 2 ** q_n - enc.size))
        psi = amp.to(cdtype).reshape((batch,) + (2,) * q_n)
    for g in circuit.gates:
        if g.name in ("RX", "RY", "RZ"):
            psi = _apply_1q(psi, _rot(g.name, _angle(g.params[0], x, w), cdtype), g.qubits[0])
        elif g.name == "H":
            h = torch.tensor([[1, 1], [1, -1]], dtype=cdtype, device=x.device) / 2 ** 0.5
            psi = _apply_1q(psi, h.expand(batch, 2, 2), g.qubits[0])
        elif g.name == "CNOT":
            psi = _cnot(psi, *g.qubits)
        elif g.name == "CZ":
            a, b = g.qubits
            sign = torch.ones((2,) * q_n, dtype=cdtype, device=x.device)
            idx = [slice(None)] * q_n
            idx[a], idx[b] = 1, 1
            sign[tuple(idx)] = -1
            psi = psi * sign
        elif g.name == "SWAP":
            psi = psi.transpose(g.qubits[0] + 1, g.qubits[1] + 1)
        else:
            raise ValueError(f"torch peer: gate {g.name} not supported")
    prob = (psi.abs() ** 2).reshape(batch, -1).float()
    z = []
    for q in range(q_n):
        p = prob.reshape(batch, 2 ** q, 2, -1)
        z.append(p[:, :, 0].sum((1, 2)) - p[:, :, 1].sum((1, 2)))
    return torch.stack(z, 1)
