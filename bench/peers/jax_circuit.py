"""The JAX-jit statevector peer: an hqsim Circuit interpreted the way TensorCircuit and qujax
work — the state is a (2,)*Q tensor, every gate one tensordot on its axes (gate by gate, no
fusion), the whole per-sample forward jitted and vmapped over the batch, the backward by
``jax.vjp`` of the same function (one jitted call returns the outputs and both gradients).

Outputs are <Z_q> for q in ``measured``. Inputs, weights and cotangents travel as numpy; the
state is complex64 for float32 inputs (W1's precision), complex128 for float64.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from hqsim.ir import CONST, INPUT

_CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]).reshape(2, 2, 2, 2)
_H = np.array([[1, 1], [1, -1]]) / math.sqrt(2)


def _angle(p, x, w):
    if p.source == CONST:
        return jnp.asarray(p.offset, x.dtype)
    v = x[p.index] if p.source == INPUT else w[p.index]
    return p.scale * v + p.offset


def _rotation(name, theta, cdtype):
    c, s = jnp.cos(theta / 2).astype(cdtype), jnp.sin(theta / 2).astype(cdtype)
    if name == "RY":
        return jnp.stack([jnp.stack([c, -s]), jnp.stack([s, c])])
    if name == "RX":
        return jnp.stack([jnp.stack([c, -1j * s]), jnp.stack([-1j * s, c])])
    if name == "RZ":
        e = jnp.exp(-0.5j * theta.astype(cdtype))
        return jnp.stack([jnp.stack([e, jnp.zeros_like(e)]), jnp.stack([jnp.zeros_like(e), jnp.conj(e)])])
    raise ValueError(f"JAX peer: unsupported gate {name} (supported: RX, RY, RZ, H, CNOT)")


def _apply(psi, mat, axes):
    """mat (2^k as (2,)*2k) on the state's ``axes``: contract, then put the new axes back."""
    k = len(axes)
    out = jnp.tensordot(mat, psi, axes=(list(range(k, 2 * k)), list(axes)))
    return jnp.moveaxis(out, list(range(k)), list(axes))


def sample_function(circuit, measured, real_dtype):
    """f(x (n_in,), w (n_w,)) -> (len(measured),) <Z_q>, traceable by jax.jit/vmap/vjp."""
    nq = circuit.num_qubits
    cdtype = jnp.complex64 if real_dtype == np.float32 else jnp.complex128
    enc = circuit.amplitude_encoding
    cnot, had = jnp.asarray(_CNOT, cdtype), jnp.asarray(_H, cdtype)

    def f(x, w):
        if enc is not None:
            a = x[enc.start:enc.start + enc.size]
            a = jnp.pad(a / jnp.linalg.norm(a), (0, 2 ** nq - enc.size))
            psi = a.astype(cdtype).reshape((2,) * nq)
        else:
            psi = jnp.zeros((2,) * nq, cdtype).at[(0,) * nq].set(1)
        for g in circuit.gates:
            if g.name == "CNOT":
                psi = _apply(psi, cnot, g.qubits)
            elif g.name == "H":
                psi = _apply(psi, had, g.qubits)
            else:
                psi = _apply(psi, _rotation(g.name, _angle(g.params[0], x, w), cdtype), g.qubits)
        probs = jnp.abs(psi) ** 2
        return jnp.stack([jnp.sum(probs.take(0, axis=q)) - jnp.sum(probs.take(1, axis=q)) for q in measured])

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
