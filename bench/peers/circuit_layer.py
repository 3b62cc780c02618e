"""A torch module around a circuit peer (bench/peers/jax_circuit.py, catalyst_circuit.py): the
peer's drop-in for hqsim.QuantumLayer in the W2 model (bench/w2_cpu.py). Forward calls the
peer's jitted forward; backward calls its jitted forward+backward (outputs and both gradients
in one compiled call), so the forward runs twice per training step — the price of bridging a
compiled JAX/Catalyst function into a torch model whose loss is only known after the forward.
"""
from __future__ import annotations

import numpy as np
import torch


class _PeerFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inputs, weights, peer):
        ctx.save_for_backward(inputs, weights)
        ctx.peer = peer
        out = peer.forward(inputs.detach().numpy(), weights.detach().numpy())
        return torch.as_tensor(np.asarray(out), dtype=inputs.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        inputs, weights = ctx.saved_tensors
        _, dx, dw = ctx.peer.forward_backward(inputs.numpy(), weights.detach().numpy(), grad_out.numpy())
        dx = torch.as_tensor(np.asarray(dx), dtype=inputs.dtype) if ctx.needs_input_grad[0] else None
        return dx, torch.as_tensor(np.asarray(dw), dtype=weights.dtype), None


class PeerCircuitLayer(torch.nn.Module):
    """<Z> outputs of ``peer`` (built for one circuit and its measured qubits) with trainable
    weights initialised from ``init_weights``."""

    def __init__(self, peer, init_weights):
        super().__init__()
        self.peer = peer
        self.weights = torch.nn.Parameter(init_weights.detach().clone())

    def forward(self, inputs):
        return _PeerFunction.apply(inputs, self.weights, self.peer)
