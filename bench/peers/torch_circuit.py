"""A plain torch batched statevector that interprets an hqsim Circuit of RY / RX / RZ / H /
CNOT gates, with amplitude encoding (TorchQuantum's design: one tensor op per gate, per-sample
angles, backward by autograd). The W2 peer of bench/w2_cpu.py; the W1 peer is torch_sv.py."""
from __future__ import annotations

import math

import torch

from hqsim.ir import CONST, INPUT, WEIGHT


def _rot(name, theta):
    c, s = torch.cos(theta / 2), torch.sin(theta / 2)
    z = torch.zeros_like(c)
    if name == "RY":
        m = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)
        return torch.complex(m, torch.zeros_like(m))
    if name == "RX":
        re = torch.stack([torch.stack([c, z], -1), torch.stack([z, c], -1)], -2)
        im = torch.stack([torch.stack([z, -s], -1), torch.stack([-s, z], -1)], -2)
        return torch.complex(re, im)
    if name == "RZ":
        re = torch.stack([torch.stack([c, z], -1), torch.stack([z, c], -1)], -2)
        im = torch.stack([torch.stack([-s, z], -1), torch.stack([z, s], -1)], -2)
        return torch.complex(re, im)
    raise ValueError(f"torch peer: unsupported gate {name}")


def _apply(state, mat, q):
    # state (B, 2, ..., 2); mat (B, 2, 2) per sample or (2, 2)
    state = state.movedim(q + 1, -1)
    state = torch.einsum("b...j,bij->b...i", state, mat) if mat.ndim == 3 else state @ mat.T
    return state.movedim(-1, q + 1)


def _cnot(state, c, t):
    # the control's |1> half has the target axis flipped (narrow keeps every axis in place)
    return torch.cat([state.narrow(c + 1, 0, 1), state.narrow(c + 1, 1, 1).flip(t + 1)], c + 1)


def _angle(p, inputs, weights):
    if p.source == CONST:
        return torch.full((inputs.shape[0],), p.offset, dtype=inputs.dtype)
    v = inputs[:, p.index] if p.source == INPUT else weights[p.index].expand(inputs.shape[0])
    return p.scale * v + p.offset


def expectations_z(circuit, inputs, weights, measured):
    """<Z_q> for q in ``measured``: inputs (B, n_in) real, weights (n_w,) real → (B, len)."""
    nq, b = circuit.num_qubits, inputs.shape[0]
    cdtype = torch.complex64 if inputs.dtype == torch.float32 else torch.complex128
    enc = circuit.amplitude_encoding
    if enc is not None:
        a = inputs[:, enc.start:enc.start + enc.size]
        a = torch.nn.functional.pad(a / a.norm(dim=1, keepdim=True), (0, 2 ** nq - enc.size))
        state = a.to(cdtype).reshape((b,) + (2,) * nq)
    else:
        state = torch.zeros((b,) + (2,) * nq, dtype=cdtype)
        state[(slice(None),) + (0,) * nq] = 1
    for g in circuit.gates:
        if g.name == "CNOT":
            state = _cnot(state, *g.qubits)
        elif g.name == "H":
            h = torch.tensor([[1, 1], [1, -1]], dtype=cdtype) / math.sqrt(2)
            state = _apply(state, h, g.qubits[0])
        else:
            state = _apply(state, _rot(g.name, _angle(g.params[0], inputs, weights)).to(cdtype), g.qubits[0])
    probs = (state.abs() ** 2).reshape(b, -1)
    idx = torch.arange(2 ** nq)
    signs = torch.stack([1 - 2 * ((idx >> (nq - 1 - q)) & 1) for q in measured], 1).to(probs.dtype)
    return probs @ signs


class TorchCircuitLayer(torch.nn.Module):
    """The peer's drop-in for hqsim.QuantumLayer (<Z> observables only)."""

    def __init__(self, circuit, measured, init_weights):
        super().__init__()
        self.circuit, self.measured = circuit, list(measured)
        self.weights = torch.nn.Parameter(init_weights.detach().clone())

    def forward(self, inputs):
        return expectations_z(self.circuit, inputs, self.weights, self.measured)
