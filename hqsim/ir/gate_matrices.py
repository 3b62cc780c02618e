"""Matrices of the gate set (complex128; qubit 0 of a gate is the most significant bit).

Rotations follow the physics convention R_P(a) = exp(-i a P / 2). ``U3(theta, phi, lam)`` is
Qiskit's U gate; ``Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)`` is PennyLane's.
hqsim/ir/gates.py attaches each builder to its GateSpec; ``proportional`` (equal up to a global
phase) is the one such comparison the passes use.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

_I2 = np.eye(2, dtype=np.complex128)
PAULI = {
    "I": _I2,
    "X": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "Z": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}
P1 = np.array([[0, 0], [0, 1]], dtype=np.complex128)  # |1><1|
SWAP = np.eye(4, dtype=np.complex128)[[0, 2, 1, 3]]
PHASE_ATOL = 1e-9  # below this an amplitude counts as zero when comparing up to a phase


def proportional(a: np.ndarray, b: np.ndarray) -> bool:
    """a = e^{i phi} b for some phase (vectors or matrices)."""
    i = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    if abs(b[i]) < PHASE_ATOL:
        return bool(np.allclose(a, 0, atol=PHASE_ATOL))
    phase = a[i] / b[i]
    return bool(abs(abs(phase) - 1) < 1e-7 and np.allclose(a, phase * b, atol=1e-7))


def is_identity_up_to_phase(m: np.ndarray) -> bool:
    return proportional(m, np.eye(m.shape[0], dtype=np.complex128))


def rotation(p: str) -> Callable:
    """exp(-i a P / 2) for a Pauli letter P."""
    gen = PAULI[p]
    return lambda a: np.cos(a / 2) * _I2 - 1j * np.sin(a / 2) * gen


def parity_rotation(p: str) -> Callable:
    """exp(-i a P(x)P / 2)."""
    gen = np.kron(PAULI[p], PAULI[p])
    eye = np.eye(4, dtype=np.complex128)
    return lambda a: np.cos(a / 2) * eye - 1j * np.sin(a / 2) * gen


def controlled(u: np.ndarray) -> np.ndarray:
    """|0><0| (x) I + |1><1| (x) u (the control is the first, most significant, qubit)."""
    k = u.shape[0]
    out = np.eye(2 * k, dtype=np.complex128)
    out[k:, k:] = u
    return out


def constant(m) -> Callable:
    m = np.asarray(m, dtype=np.complex128)
    return lambda: m


def phase_shift(a):
    return np.diag([1, np.exp(1j * a)]).astype(np.complex128)


def controlled_phase(a):
    return np.diag([1, 1, 1, np.exp(1j * a)]).astype(np.complex128)


def u3(theta, phi, lam):
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array([[c, -np.exp(1j * lam) * s],
                     [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]], dtype=np.complex128)


def rot(phi, theta, omega):
    return rotation("Z")(omega) @ rotation("Y")(theta) @ rotation("Z")(phi)
