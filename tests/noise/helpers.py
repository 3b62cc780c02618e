"""Test helpers: an exact NumPy density-matrix simulator (Q <= 6) for noisy circuits, written
independently of hqsim.noise (its own Kraus operators, Rot/U3 split, readout convolution), and
small statistics helpers."""
from __future__ import annotations

import itertools

import numpy as np

from hqsim.backends.reference import apply_matrix, initial_states
from hqsim.ir import PAULI, Gate
from hqsim.ir.observables import as_observable
from hqsim.noise import (AmplitudeDamping, BitFlip, Depolarizing, PauliChannel, PhaseDamping,
                         PhaseFlip)

MAX_DM_QUBITS = 6


def kraus_operators(ch) -> list[np.ndarray]:
    """Textbook Kraus operators of each hqsim channel type."""
    eye = np.eye(2, dtype=complex)
    if isinstance(ch, Depolarizing):
        n = ch.num_qubits
        words = list(itertools.product("IXYZ", repeat=n))[1:]
        ops = [np.sqrt(1 - ch.p) * np.eye(2 ** n, dtype=complex)]
        for wd in words:
            m = np.ones((1, 1), dtype=complex)
            for letter in wd:
                m = np.kron(m, PAULI[letter])
            ops.append(np.sqrt(ch.p / len(words)) * m)
        return ops
    if isinstance(ch, BitFlip):
        return [np.sqrt(1 - ch.p) * eye, np.sqrt(ch.p) * PAULI["X"]]
    if isinstance(ch, PhaseFlip):
        return [np.sqrt(1 - ch.p) * eye, np.sqrt(ch.p) * PAULI["Z"]]
    if isinstance(ch, PauliChannel):
        n = ch.num_qubits
        total = sum(p for _, p in ch.probs)
        ops = [np.sqrt(1 - total) * np.eye(2 ** n, dtype=complex)]
        for wd, p in ch.probs:
            m = np.ones((1, 1), dtype=complex)
            for letter in wd:
                m = np.kron(m, PAULI[letter])
            ops.append(np.sqrt(p) * m)
        return ops
    if isinstance(ch, AmplitudeDamping):
        g = ch.gamma
        return [np.array([[1, 0], [0, np.sqrt(1 - g)]], complex), np.array([[0, np.sqrt(g)], [0, 0]], complex)]
    if isinstance(ch, PhaseDamping):
        g = ch.gamma
        return [np.array([[1, 0], [0, np.sqrt(1 - g)]], complex), np.array([[0, 0], [0, np.sqrt(g)]], complex)]
    raise TypeError(ch)


def split_gates(gates):
    """Rot / U3 as their three rotations (noise models count them as three gates)."""
    out = []
    for g in gates:
        if g.name == "Rot":
            phi, theta, omega = g.params
            out += [Gate("RZ", g.qubits, (phi,)), Gate("RY", g.qubits, (theta,)), Gate("RZ", g.qubits, (omega,))]
        elif g.name == "U3":
            theta, phi, lam = g.params
            out += [Gate("PhaseShift", g.qubits, (lam,)), Gate("RY", g.qubits, (theta,)),
                    Gate("PhaseShift", g.qubits, (phi,))]
        else:
            out.append(g)
    return out


def _conj_apply(rho, op, qubits, nq):
    """op rho op^dagger for a (d, d) density matrix."""
    left = apply_matrix(rho.T.copy(), op, qubits, nq).T       # op @ rho (columns are states)
    return apply_matrix(left.conj().copy(), op, qubits, nq).conj()  # (op @ left^dagger)^dagger


def density_matrix(circuit, x, w, model=None):
    """Final density matrix (d, d) of one sample: inputs x (n_in,), weights w (n_w,)."""
    nq = circuit.num_qubits
    assert nq <= MAX_DM_QUBITS
    psi = initial_states(circuit, x[None, :])[0]
    rho = np.outer(psi, psi.conj())
    for g in split_gates(circuit.gates):
        rho = _conj_apply(rho, g.unitary(w, x), g.qubits, nq)
        if model is None:
            continue
        for ch, qs in model.channels_after(g):
            rho = sum(_conj_apply(rho, k, qs, nq) for k in kraus_operators(ch))
    return rho


def _term_expectation(rho, term, nq, readout):
    """<P> with readout error: rotate to the Z basis, convolve the diagonal, average the parity."""
    to_z = {"X": np.array([[1, 1], [1, -1]]) / np.sqrt(2),
            "Y": np.array([[1, 1], [1, -1]]) / np.sqrt(2) @ np.diag([1, -1j])}
    r = rho
    for q, p in term.paulis:
        if p != "Z":
            r = _conj_apply(r, to_z[p], (q,), nq)
    probs = np.real(np.diag(r)).reshape((2,) * nq)
    if readout is not None:
        conf = np.array([[1 - readout.p01, readout.p10], [readout.p01, 1 - readout.p10]])
        for q, _ in term.paulis:
            probs = np.moveaxis(np.tensordot(conf, probs, axes=([1], [q])), 0, q)
    signs = np.ones((2,) * nq)
    for q, _ in term.paulis:
        shape = [1] * nq
        shape[q] = 2
        signs = signs * np.array([1, -1]).reshape(shape)
    return term.coeff * float(np.sum(probs * signs))


def dm_expectations(circuit, observables, x, w, model=None):
    """(B, n_obs) exact noisy expectations (readout error of the model included)."""
    readout = model.readout if model is not None else None
    out = np.zeros((x.shape[0], len(observables)))
    for b in range(x.shape[0]):
        rho = density_matrix(circuit, x[b], w, model)
        for k, o in enumerate(observables):
            out[b, k] = sum(_term_expectation(rho, t, circuit.num_qubits, readout) for t in as_observable(o).terms)
    return out


def dm_vjp(circuit, observables, x, w, cotangent, model=None, h=1e-5):
    """Central finite differences of sum(cotangent * dm_expectations)."""
    def loss(xx, ww):
        return float(np.sum(cotangent * dm_expectations(circuit, observables, xx, ww, model)))
    dw = np.zeros_like(w)
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = h
        dw[i] = (loss(x, w + e) - loss(x, w - e)) / (2 * h)
    dx = np.zeros_like(x)
    for b in range(x.shape[0]):
        for j in range(x.shape[1]):
            e = np.zeros_like(x)
            e[b, j] = h
            dx[b, j] = (loss(x + e, w) - loss(x - e, w)) / (2 * h)
    return dw, dx


def seeded_mean_and_error(fn, seeds):
    """Mean and standard error over independent seeded runs of ``fn(seed)`` (arrays)."""
    vals = np.stack([np.asarray(fn(s), dtype=np.float64) for s in seeds])
    return vals.mean(axis=0), vals.std(axis=0, ddof=1) / np.sqrt(len(seeds))
