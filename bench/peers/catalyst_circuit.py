"""The Catalyst peer: an hqsim Circuit as a PennyLane QNode on ``lightning.qubit`` with
``diff_method="adjoint"``, compiled whole by Catalyst's ``qjit``: the batch runs in a compiled
loop (``catalyst.for_loop``); the backward is, per sample inside the same loop, the QNode's
outputs and ``catalyst.grad`` of g_b . f(x_b, w) (lightning's adjoint method). Tried and
dropped (Catalyst 0.15, W1 Q=8, 16 samples, 2026-12-05): ``catalyst.vjp`` per sample, 3.6 s
per call (grad: 0.5 s) and 113 s to compile (grad: 30 s); ``catalyst.vjp`` of a
``catalyst.vmap``-ed QNode and ``catalyst.grad`` of a whole-batch loss both crash the compiler
(an MLIR Liveness assertion). Catalyst and lightning compute in float64 (complex128 states);
<Z_q> for q in ``measured``.
"""
from __future__ import annotations

import catalyst
import jax.numpy as jnp
import numpy as np
import pennylane as qml

from hqsim.ir import CONST, INPUT


def _angle(p, x, w):
    if p.source == CONST:
        return p.offset
    v = x[p.index] if p.source == INPUT else w[p.index]
    return p.scale * v + p.offset


def sample_qnode(circuit, measured):
    """One sample's QNode: f(x (n_in,), w (n_w,)) -> (len(measured),)."""
    nq = circuit.num_qubits
    enc = circuit.amplitude_encoding
    dev = qml.device("lightning.qubit", wires=nq)

    @qml.qnode(dev, diff_method="adjoint")
    def qnode(x, w):
        if enc is not None:
            qml.AmplitudeEmbedding(x[enc.start:enc.start + enc.size], wires=range(nq), pad_with=0.0,
                                   normalize=True)
        for g in circuit.gates:
            if g.name in ("CNOT", "H"):
                getattr(qml, g.name)(wires=list(g.qubits))
            elif g.name in ("RX", "RY", "RZ"):
                getattr(qml, g.name)(_angle(g.params[0], x, w), wires=g.qubits[0])
            else:
                raise ValueError(f"Catalyst peer: unsupported gate {g.name} (supported: RX, RY, RZ, H, CNOT)")
        return [qml.expval(qml.PauliZ(q)) for q in measured]

    return lambda x, w: jnp.stack(qnode(x, w))


class CatalystCircuit:
    """forward(x, w) -> (B, n_obs); forward_backward(x, w, g) -> (out, dx (B, n_in), dw (n_w,))."""

    def __init__(self, circuit, measured):
        if circuit.amplitude_encoding is not None:
            # measured 2026-12-05: grad through AmplitudeEmbedding fails to compile (Enzyme/LLVM
            # errors), with respect to the inputs and with respect to the weights alone
            raise ValueError("Catalyst peer: amplitude encoding is not supported (Catalyst 0.15 cannot compile its gradient)")
        one = sample_qnode(circuit, list(measured))
        n_obs = len(measured)

        @catalyst.qjit
        def forward(x, w):
            @catalyst.for_loop(0, x.shape[0], 1)
            def body(b, out):
                return out.at[b].set(one(x[b], w))
            return body(jnp.zeros((x.shape[0], n_obs)))

        @catalyst.qjit
        def forward_backward(x, w, g):
            @catalyst.for_loop(0, x.shape[0], 1)
            def body(b, carry):
                out, dx, dw = carry
                gx, gw = catalyst.grad(lambda xb, wb: jnp.dot(g[b], one(xb, wb)), argnums=[0, 1])(x[b], w)
                return out.at[b].set(one(x[b], w)), dx.at[b].set(gx), dw + gw
            return body((jnp.zeros((x.shape[0], n_obs)), jnp.zeros_like(x), jnp.zeros_like(w)))

        self._fwd, self._fwd_bwd = forward, forward_backward

    def forward(self, x, w):
        return np.asarray(self._fwd(np.asarray(x, np.float64), np.asarray(w, np.float64)))

    def forward_backward(self, x, w, g):
        out, dx, dw = self._fwd_bwd(np.asarray(x, np.float64), np.asarray(w, np.float64), np.asarray(g, np.float64))
        return np.asarray(out), np.asarray(dx), np.asarray(dw)
