"""Observables: Pauli strings with real coefficients, and real sums of them.

``Z(0)``, ``X(1) @ Y(2)`` (tensor product), ``0.5 * Z(0) + Z(1)`` (a sum). Measuring a list
of observables yields one expectation per observable (batch-first: (B, n_observables)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from .params import as_index


@dataclass(frozen=True)
class PauliString:
    """``coeff * P_{q1} P_{q2} ...``; ``paulis`` is a sorted tuple of (qubit, 'X'|'Y'|'Z')."""

    paulis: tuple[tuple[int, str], ...]
    coeff: float = 1.0

    def __post_init__(self):
        seen = set()
        for q, p in self.paulis:
            if p not in ("X", "Y", "Z"):
                raise ValueError(f"Pauli must be 'X', 'Y' or 'Z', got {p!r}")
            if not isinstance(q, int) or q < 0:
                raise ValueError(f"Pauli qubit must be a non-negative int, got {q!r}")
            if q in seen:
                raise ValueError(f"qubit {q} appears twice in one Pauli string; multiply first")
            seen.add(q)
        if not math.isfinite(self.coeff):
            raise ValueError(f"Pauli string coefficient must be finite, got {self.coeff}")

    @property
    def qubits(self) -> tuple[int, ...]:
        return tuple(q for q, _ in self.paulis)

    def __matmul__(self, other: "PauliString") -> "PauliString":
        if not isinstance(other, PauliString):
            return NotImplemented
        mine = dict(self.paulis)
        for q, p in other.paulis:
            if q in mine:
                raise ValueError(f"both factors act on qubit {q}; only disjoint products are supported")
            mine[q] = p
        return PauliString(tuple(sorted(mine.items())), self.coeff * other.coeff)

    def __mul__(self, c):
        if not isinstance(c, Real):
            return NotImplemented
        return PauliString(self.paulis, self.coeff * float(c))

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __add__(self, other):
        return Observable((self,)) + other

    def __sub__(self, other):
        return Observable((self,)) + (-1.0) * other

    def __repr__(self):
        body = " ".join(f"{p}{q}" for q, p in self.paulis) or "I"
        return body if self.coeff == 1.0 else f"{self.coeff:g}*{body}"


@dataclass(frozen=True)
class Observable:
    """A real linear combination of Pauli strings."""

    terms: tuple[PauliString, ...]

    def __add__(self, other):
        if isinstance(other, PauliString):
            other = Observable((other,))
        if not isinstance(other, Observable):
            return NotImplemented
        return Observable(self.terms + other.terms)

    __radd__ = __add__

    def __mul__(self, c):
        if not isinstance(c, Real):
            return NotImplemented
        return Observable(tuple(t * c for t in self.terms))

    __rmul__ = __mul__

    @property
    def qubits(self) -> tuple[int, ...]:
        return tuple(sorted({q for t in self.terms for q in t.qubits}))

    def __repr__(self):
        return " + ".join(map(repr, self.terms)) or "0"


def _single(p: str, q: int) -> PauliString:
    return PauliString(((as_index(q, f"{p}'s qubit"), p),))


def X(q: int) -> PauliString:
    return _single("X", q)


def Y(q: int) -> PauliString:
    return _single("Y", q)


def Z(q: int) -> PauliString:
    return _single("Z", q)


def identity(coeff: float = 1.0) -> PauliString:
    return PauliString((), float(coeff))


def as_observable(obs) -> Observable:
    if isinstance(obs, Observable):
        return obs
    if isinstance(obs, PauliString):
        return Observable((obs,))
    raise TypeError(f"an observable must be a PauliString or Observable, got {type(obs).__name__}")


def pauli_terms(observables) -> list[tuple[int, PauliString]]:
    """Flatten a list of observables to (observable index, Pauli string) pairs."""
    return [(k, t) for k, o in enumerate(observables) for t in as_observable(o).terms]
