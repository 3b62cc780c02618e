"""The gate set: names, arities, and their matrices (qubit 0 of a gate is the most significant bit).

Rotations follow the physics convention R_P(a) = exp(-i a P / 2). ``U3(theta, phi, lam)`` is
Qiskit's U gate; ``Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi)`` is PennyLane's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .params import Param, as_index, as_param

_I2 = np.eye(2, dtype=np.complex128)
PAULI = {
    "I": _I2,
    "X": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "Z": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}
_P1 = np.array([[0, 0], [0, 1]], dtype=np.complex128)  # |1><1|


def _rot(p: str) -> Callable:
    gen = PAULI[p]
    return lambda a: np.cos(a / 2) * _I2 - 1j * np.sin(a / 2) * gen


def _rot2(p: str) -> Callable:
    gen = np.kron(PAULI[p], PAULI[p])
    eye = np.eye(4, dtype=np.complex128)
    return lambda a: np.cos(a / 2) * eye - 1j * np.sin(a / 2) * gen


def _controlled(u: np.ndarray) -> np.ndarray:
    k = u.shape[0]
    out = np.eye(2 * k, dtype=np.complex128)
    out[k:, k:] = u
    return out


def _u3(theta, phi, lam):
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array([[c, -np.exp(1j * lam) * s],
                     [np.exp(1j * phi) * s, np.exp(1j * (phi + lam)) * c]], dtype=np.complex128)


def _rot_pl(phi, theta, omega):
    return _rot("Z")(omega) @ _rot("Y")(theta) @ _rot("Z")(phi)


@dataclass(frozen=True)
class GateSpec:
    name: str
    num_qubits: int
    num_params: int
    matrix: Callable  # (*angles) -> complex128 matrix
    # Pauli generator G with U(a) = exp(-i a G / 2) (None: not a single-generator rotation).
    generator: np.ndarray | None = None


def _const(m):
    m = np.asarray(m, dtype=np.complex128)
    return lambda: m


_SPECS = [
    GateSpec("H", 1, 0, _const(np.array([[1, 1], [1, -1]]) / np.sqrt(2))),
    GateSpec("X", 1, 0, _const(PAULI["X"])),
    GateSpec("Y", 1, 0, _const(PAULI["Y"])),
    GateSpec("Z", 1, 0, _const(PAULI["Z"])),
    GateSpec("S", 1, 0, _const(np.diag([1, 1j]))),
    GateSpec("T", 1, 0, _const(np.diag([1, np.exp(1j * np.pi / 4)]))),
    GateSpec("SX", 1, 0, _const(np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2)),
    GateSpec("RX", 1, 1, _rot("X"), PAULI["X"]),
    GateSpec("RY", 1, 1, _rot("Y"), PAULI["Y"]),
    GateSpec("RZ", 1, 1, _rot("Z"), PAULI["Z"]),
    # PhaseShift(a) = diag(1, e^{ia}) = e^{ia/2} RZ(a): generator -2|1><1| up to phase; see adjoint.
    GateSpec("PhaseShift", 1, 1, lambda a: np.diag([1, np.exp(1j * a)]).astype(np.complex128)),
    GateSpec("U3", 1, 3, _u3),
    GateSpec("Rot", 1, 3, _rot_pl),
    GateSpec("CNOT", 2, 0, _const(_controlled(PAULI["X"]))),
    GateSpec("CZ", 2, 0, _const(_controlled(PAULI["Z"]))),
    GateSpec("SWAP", 2, 0, _const(np.eye(4)[[0, 2, 1, 3]])),
    GateSpec("CRX", 2, 1, lambda a: _controlled(_rot("X")(a)), np.kron(_P1, PAULI["X"]) * 1.0),
    GateSpec("CRY", 2, 1, lambda a: _controlled(_rot("Y")(a)), np.kron(_P1, PAULI["Y"])),
    GateSpec("CRZ", 2, 1, lambda a: _controlled(_rot("Z")(a)), np.kron(_P1, PAULI["Z"])),
    GateSpec("RXX", 2, 1, _rot2("X"), np.kron(PAULI["X"], PAULI["X"])),
    GateSpec("RYY", 2, 1, _rot2("Y"), np.kron(PAULI["Y"], PAULI["Y"])),
    GateSpec("RZZ", 2, 1, _rot2("Z"), np.kron(PAULI["Z"], PAULI["Z"])),
]
GATES: dict[str, GateSpec] = {s.name: s for s in _SPECS}
ALIASES = {"CX": "CNOT", "P": "PhaseShift", "PHASE": "PhaseShift", "U": "U3", "ROT": "Rot",
           "SQRTX": "SX", "HADAMARD": "H"}
PARAMETRIC_1Q = ("RX", "RY", "RZ", "PhaseShift")


def canonical_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"gate name must be a string, got {type(name).__name__}")
    if name in GATES or name == "Unitary":
        return name
    up = name.upper()
    for n in GATES:
        if n.upper() == up:
            return n
    if up in ALIASES:
        return ALIASES[up]
    if up == "UNITARY":
        return "Unitary"
    raise ValueError(f"unknown gate {name!r}; known gates: {', '.join(sorted(GATES))}, Unitary")


@dataclass(frozen=True)
class Gate:
    """One gate application. ``matrix`` is set only for ``Unitary`` (a constant 2^k x 2^k)."""

    name: str
    qubits: tuple[int, ...]
    params: tuple[Param, ...] = ()
    matrix: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def spec(self) -> GateSpec | None:
        return GATES.get(self.name)

    @property
    def is_constant(self) -> bool:
        return all(p.is_constant for p in self.params)

    def unitary(self, weights=None, inputs=None) -> np.ndarray:
        """The gate's matrix for one sample (complex128)."""
        if self.name == "Unitary":
            return self.matrix
        angles = [p.value(weights, inputs) for p in self.params]
        return self.spec.matrix(*angles)

    def with_params(self, params) -> "Gate":
        return Gate(self.name, self.qubits, tuple(params), self.matrix)

    def __repr__(self):
        args = ", ".join(repr(p) for p in self.params)
        qs = ", ".join(map(str, self.qubits))
        return f"{self.name}({args})[{qs}]" if args else f"{self.name}[{qs}]"


def make_gate(name: str, qubits, params=(), matrix=None) -> Gate:
    """Build and validate a gate (arity, parameter count, unitary matrix shape)."""
    name = canonical_name(name)
    qubits = tuple(as_index(q, f"gate {name}'s qubit")
                   for q in (qubits if isinstance(qubits, (tuple, list)) else [qubits]))
    if len(set(qubits)) != len(qubits):
        raise ValueError(f"gate {name} acts on repeated qubits {qubits}")
    params = tuple(as_param(p) for p in params)
    if name == "Unitary":
        if params:
            raise ValueError("Unitary takes a constant matrix, not angles")
        m = np.asarray(matrix, dtype=np.complex128)
        k = len(qubits)
        if m.shape != (2 ** k, 2 ** k):
            raise ValueError(f"Unitary on {k} qubit(s) needs a {2**k}x{2**k} matrix, got shape {m.shape}")
        if not np.all(np.isfinite(m)):
            raise ValueError("Unitary matrix contains NaN or inf")
        if not np.allclose(m.conj().T @ m, np.eye(2 ** k), atol=1e-8):
            raise ValueError("Unitary matrix is not unitary (U^dagger U != I within 1e-8)")
        return Gate(name, qubits, (), m)
    spec = GATES[name]
    if len(qubits) != spec.num_qubits:
        raise ValueError(f"gate {name} acts on {spec.num_qubits} qubit(s), got {len(qubits)}: {qubits}")
    if len(params) != spec.num_params:
        raise ValueError(f"gate {name} takes {spec.num_params} angle(s), got {len(params)}")
    if matrix is not None:
        raise ValueError(f"gate {name} takes no matrix")
    return Gate(name, qubits, params)
