"""The oracle: a deliberately simple NumPy complex128 simulator, gate by gate, with a stored tape.

It interprets the *uncompiled* circuit (no fusion, no light cone, no lowering) so that every
other backend and every compiler pass is checked against something that shares none of their
code. Speed is not a goal here.
"""
from __future__ import annotations

import numpy as np

from ..ir import PAULI, Circuit
from ..ir.observables import as_observable
from ..ir.validate import unit_amplitudes


def initial_states(circuit: Circuit, inputs: np.ndarray) -> np.ndarray:
    """(B, 2^Q) complex128 initial states: |0...0> or the normalised, padded amplitudes."""
    batch, dim = inputs.shape[0], 2 ** circuit.num_qubits
    psi = np.zeros((batch, dim), dtype=np.complex128)
    enc = circuit.amplitude_encoding
    if enc is None:
        psi[:, 0] = 1.0
        return psi
    psi[:, :enc.size] = unit_amplitudes(inputs[:, enc.start:enc.start + enc.size])[0]
    return psi


def apply_matrix(psi: np.ndarray, mats: np.ndarray, qubits, num_qubits: int) -> np.ndarray:
    """Apply per-sample (B, 2^k, 2^k) or shared (2^k, 2^k) matrices on ``qubits``."""
    batch, k = psi.shape[0], len(qubits)
    t = psi.reshape((batch,) + (2,) * num_qubits)
    axes = [1 + q for q in qubits]
    t = np.moveaxis(t, axes, list(range(1, k + 1))).reshape(batch, 2 ** k, -1)
    t = (mats @ t) if mats.ndim == 3 else np.einsum("ij,bjr->bir", mats, t)
    t = t.reshape((batch,) + (2,) * num_qubits)
    return np.moveaxis(t, list(range(1, k + 1)), axes).reshape(batch, -1)


def gate_matrices(gate, inputs, weights) -> np.ndarray:
    return np.stack([gate.unitary(weights, x) for x in inputs])


def gate_derivatives(gate, inputs, weights, param_index: int) -> np.ndarray:
    """d U / d angle_k per sample, by a 5-point stencil on the (analytic) gate matrix."""
    h = 1e-3
    out = []
    for x in inputs:
        angles = [p.value(weights, x) for p in gate.params]

        def at(delta):
            a = list(angles)
            a[param_index] += delta
            return gate.spec.matrix(*a)
        out.append((-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h))
    return np.stack(out)


def apply_pauli_string(psi: np.ndarray, term, num_qubits: int) -> np.ndarray:
    out = psi
    for q, p in term.paulis:
        out = apply_matrix(out, PAULI[p], [q], num_qubits)
    return term.coeff * out


def apply_observable(psi, observable, num_qubits: int) -> np.ndarray:
    obs = as_observable(observable)
    return sum((apply_pauli_string(psi, t, num_qubits) for t in obs.terms), np.zeros_like(psi))


def statevector(circuit: Circuit, inputs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    psi = initial_states(circuit, inputs)
    for g in circuit.gates:
        psi = apply_matrix(psi, gate_matrices(g, inputs, weights), g.qubits, circuit.num_qubits)
    return psi


def expectation(circuit, observables, inputs, weights) -> np.ndarray:
    """(B, n_obs) float64 expectation values."""
    psi = statevector(circuit, inputs, weights)
    cols = [np.einsum("bi,bi->b", psi.conj(), apply_observable(psi, o, circuit.num_qubits)).real
            for o in observables]
    return np.stack(cols, axis=1)


def vjp(circuit, observables, inputs, weights, cotangent):
    """Gradients of sum(cotangent * expectation): (dweights (n_w,), dinputs (B, n_in)).

    Textbook adjoint with a stored tape of every intermediate state.
    """
    n_q = circuit.num_qubits
    psi0 = initial_states(circuit, inputs)
    tape = [psi0]
    for g in circuit.gates:
        tape.append(apply_matrix(tape[-1], gate_matrices(g, inputs, weights), g.qubits, n_q))
    lam = sum(cotangent[:, k, None] * apply_observable(tape[-1], o, n_q) for k, o in enumerate(observables))
    dweights = np.zeros(circuit.num_weights)
    dinputs = np.zeros(inputs.shape)
    for i in range(len(circuit.gates) - 1, -1, -1):
        g, before = circuit.gates[i], tape[i]
        for k, p in enumerate(g.params):
            if p.is_constant:
                continue
            d_psi = apply_matrix(before, gate_derivatives(g, inputs, weights, k), g.qubits, n_q)
            dangle = 2 * np.einsum("bi,bi->b", lam.conj(), d_psi).real * p.scale
            if p.is_trainable:
                dweights[p.index] += dangle.sum()
            else:
                dinputs[:, p.index] += dangle
        mats = gate_matrices(g, inputs, weights)
        lam = apply_matrix(lam, np.conj(np.swapaxes(mats, -1, -2)), g.qubits, n_q)
    enc = circuit.amplitude_encoding
    if enc is not None:
        unit, norms = unit_amplitudes(inputs[:, enc.start:enc.start + enc.size])
        dpsi0 = 2 * lam[:, :enc.size].real
        dinputs[:, enc.start:enc.start + enc.size] += (
            dpsi0 - unit * np.sum(dpsi0 * unit, axis=1, keepdims=True)) / norms[:, None]
    return dweights, dinputs
