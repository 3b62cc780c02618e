"""The JAX-jit statevector peer: an hqsim Circuit interpreted as a hand-written JAX program,
the way TensorCircuit and qujax work: one sample's forward, gate by gate (no fusion), jitted and
vmapped over the batch; the backward by ``jax.vjp`` of the same function (one jitted call
returns the outputs and both gradients).

A gate on qubit k views the flat state as (2^k, 2, 2^(Q-k-1)) and combines the two halves with
its 2x2 matrix as elementwise multiply-adds (RZ as its diagonal), which XLA fuses into one loop
per gate; a CNOT flips the target axis of the control's |1> half. Measured at W1 Q=10 B=256,
one thread (2026-12-05, load ~9): 1.1k samples/s forward against 0.4k for the tensordot +
moveaxis formulation of qujax, so the faster one is the peer.

Outputs are <Z_q> for q in ``measured``. Inputs, weights and cotangents travel as numpy; the
state is complex64 for float32 inputs (W1's precision), complex128 for float64.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from hqsim.ir import CONST, INPUT

SUPPORTED = ("RX", "RY", "RZ", "H", "CNOT")


def _angle(p, x, w):
    if p.source == CONST:
        return jnp.asarray(p.offset, x.dtype)
    v = x[p.index] if p.source == INPUT else w[p.index]
    return p.scale * v + p.offset


def _halves(psi, k, nq):
    p = psi.reshape(2 ** k, 2, 2 ** (nq - k - 1))
    return p[:, 0], p[:, 1]


def _join(a, b, shape):
    return jnp.stack([a, b], 1).reshape(shape)


def _one_qubit(psi, name, theta, k, nq, cdtype):
    p0, p1 = _halves(psi, k, nq)
    if name == "RZ":
        e = jnp.exp(-0.5j * theta.astype(cdtype))
        return _join(e * p0, jnp.conj(e) * p1, psi.shape)
    if name == "H":
        h = 1 / math.sqrt(2)
        return _join(h * (p0 + p1), h * (p0 - p1), psi.shape)
    c, s = jnp.cos(theta / 2).astype(cdtype), jnp.sin(theta / 2).astype(cdtype)
    if name == "RY":
        return _join(c * p0 - s * p1, s * p0 + c * p1, psi.shape)
    if name == "RX":
        return _join(c * p0 - 1j * s * p1, -1j * s * p0 + c * p1, psi.shape)
    raise ValueError(f"JAX peer: unsupported gate {name} (supported: {', '.join(SUPPORTED)})")


def _cnot(psi, control, target, nq):
    p = psi.reshape((2,) * nq)
    p0 = jax.lax.index_in_dim(p, 0, control, keepdims=False)
    p1 = jax.lax.index_in_dim(p, 1, control, keepdims=False)
    p1 = jnp.flip(p1, axis=target if target < control else target - 1)
    return jnp.stack([p0, p1], axis=control).reshape(psi.shape)


def sample_function(circuit, measured, real_dtype):
    """f(x (n_in,), w (n_w,)) -> (len(measured),) <Z_q>, traceable by jax.jit/vmap/vjp."""
    nq = circuit.num_qubits
    cdtype = jnp.complex64 if real_dtype == np.float32 else jnp.complex128
    enc = circuit.amplitude_encoding
    for g in circuit.gates:
        if g.name not in SUPPORTED:
            raise ValueError(f"JAX peer: unsupported gate {g.name} (supported: {', '.join(SUPPORTED)})")

    def f(x, w):
        if enc is not None:
            a = x[enc.start:enc.start + enc.size]
            psi = jnp.pad(a / jnp.linalg.norm(a), (0, 2 ** nq - enc.size)).astype(cdtype)
        else:
            psi = jnp.zeros(2 ** nq, cdtype).at[0].set(1)
        for g in circuit.gates:
            if g.name == "CNOT":
                psi = _cnot(psi, g.qubits[0], g.qubits[1], nq)
            else:
                theta = _angle(g.params[0], x, w) if g.params else None
                psi = _one_qubit(psi, g.name, theta, g.qubits[0], nq, cdtype)
        probs = jnp.abs(psi) ** 2
        return jnp.stack([jnp.sum(_halves(probs, q, nq)[0]) - jnp.sum(_halves(probs, q, nq)[1]) for q in measured])

    return f


class JaxCircuit:
    """forward(x, w) -> (B, n_obs); forward_backward(x, w, g) -> (out, dx (B, n_in), dw (n_w,))."""

    def __init__(self, circuit, measured, real_dtype=np.float32):
        self.real_dtype = np.dtype(real_dtype)
        if self.real_dtype == np.float64 and not jax.config.jax_enable_x64:
            raise ValueError("JAX peer: real_dtype float64 needs jax_enable_x64 (else JAX computes in float32)")
        batched = jax.vmap(sample_function(circuit, list(measured), self.real_dtype), in_axes=(0, None))

        def value_and_vjp(x, w, g):
            out, pull = jax.vjp(batched, x, w)
            dx, dw = pull(g.astype(out.dtype))
            return out, dx, dw

        self._fwd = jax.jit(batched)
        self._fwd_bwd = jax.jit(value_and_vjp)

    def forward(self, x, w):
        return np.asarray(self._fwd(self._cast(x), self._cast(w)))

    def forward_backward(self, x, w, g):
        out, dx, dw = self._fwd_bwd(self._cast(x), self._cast(w), self._cast(g))
        return np.asarray(out), np.asarray(dx), np.asarray(dw)

    def _cast(self, a):
        return np.asarray(a, self.real_dtype)
