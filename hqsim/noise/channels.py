"""Noise channels: frozen dataclasses with their Pauli decomposition (mixed-unitary channels) or
their Kraus operators (all channels), and the classical readout (assignment) error.

Conventions (the same as Cirq's ``cirq.depolarize``, ``cirq.bit_flip``, ... so that
``NoiseModel.to_cirq()`` is a one-to-one translation):

- ``Depolarizing(p, n)``: each of the 4^n - 1 non-identity Pauli words with probability
  p / (4^n - 1); ``p`` is the total Pauli error probability (not the average gate infidelity:
  r = p * 2^n / (2^n + 1)).
- ``BitFlip(p)``: X with probability p; ``PhaseFlip(p)``: Z with probability p.
- ``PauliChannel({"X": px, "ZZ": pzz, ...})``: any Pauli words on 1 or 2 qubits.
- ``PhaseDamping(gamma)``: Kraus [[1, 0], [0, sqrt(1-gamma)]], [[0, 0], [0, sqrt(gamma)]]. It
  equals a phase flip with p = (1 - sqrt(1 - gamma)) / 2 (both scale coherences by
  sqrt(1 - gamma)), so it is simulated as that Pauli channel and keeps gradients.
- ``AmplitudeDamping(gamma)``: Kraus [[1, 0], [0, sqrt(1-gamma)]], [[0, sqrt(gamma)], [0, 0]].
  Not mixed-unitary: simulated by quantum jumps, forward only.
- ``ReadoutError(p01, p10)``: a measured 0 is reported as 1 with probability p01, a measured 1
  as 0 with probability p10, independently per qubit and per shot.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from ..ir import PAULI


def check_probability(value, what: str) -> float:
    """``value`` as a float in [0, 1], or a ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{what} must be a real number in [0, 1], got {type(value).__name__}")
    v = float(value)
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ValueError(f"{what} must be a probability in [0, 1], got {value!r}")
    return v


def pauli_word_matrix(word: str) -> np.ndarray:
    """The 2^n x 2^n matrix of a Pauli word such as "XZ" (first letter = first qubit = high bit)."""
    m = np.ones((1, 1), dtype=np.complex128)
    for letter in word:
        m = np.kron(m, PAULI[letter])
    return m


class Channel:
    """Base of the gate-noise channels. ``num_qubits``; ``is_pauli``; ``pauli_probs()`` (word,
    probability) pairs of the non-identity words for mixed-unitary channels; ``kraus()``."""

    num_qubits: int = 1
    is_pauli: bool = True

    def pauli_probs(self) -> tuple[tuple[str, float], ...]:
        raise NotImplementedError

    def kraus(self) -> list[np.ndarray]:
        probs = self.pauli_probs()
        rest = 1.0 - sum(p for _, p in probs)
        ops = [math.sqrt(max(rest, 0.0)) * np.eye(2 ** self.num_qubits, dtype=np.complex128)]
        return ops + [math.sqrt(p) * pauli_word_matrix(w) for w, p in probs if p > 0]


@dataclass(frozen=True)
class PauliChannel(Channel):
    """Applies Pauli word ``w`` with probability ``probs[w]`` and the identity otherwise.

    ``probs``: a dict {word: probability} or a tuple of (word, probability) pairs; words are
    strings over I, X, Y, Z of one common length 1 or 2 (not all "I"); the probabilities must
    lie in [0, 1] and sum to at most 1."""

    probs: tuple[tuple[str, float], ...]

    def __post_init__(self):
        items = self.probs.items() if isinstance(self.probs, dict) else self.probs
        clean = []
        for word, p in items:
            if not isinstance(word, str) or not word or set(word) - set("IXYZ"):
                raise ValueError(f"PauliChannel words are strings over I, X, Y, Z, got {word!r}")
            if set(word) == {"I"}:
                raise ValueError(f"PauliChannel word {word!r} is the identity; give only error words")
            clean.append((word, check_probability(p, f"PauliChannel probability of {word!r}")))
        if not clean:
            raise ValueError("PauliChannel needs at least one Pauli word")
        lengths = {len(w) for w, _ in clean}
        if len(lengths) != 1 or not lengths <= {1, 2}:
            raise ValueError(f"PauliChannel words must all act on 1 or all on 2 qubits, got lengths {sorted(lengths)}")
        if len({w for w, _ in clean}) != len(clean):
            raise ValueError("PauliChannel lists a word twice")
        total = sum(p for _, p in clean)
        if total > 1.0 + 1e-12:
            raise ValueError(f"PauliChannel probabilities sum to {total:g} > 1")
        object.__setattr__(self, "probs", tuple(sorted(clean)))

    @property
    def num_qubits(self) -> int:
        return len(self.probs[0][0])

    def pauli_probs(self):
        return self.probs


@dataclass(frozen=True)
class Depolarizing(Channel):
    """Each non-identity Pauli word on ``num_qubits`` (1 or 2) qubits with probability p / (4^n - 1)."""

    p: float
    num_qubits: int = 1

    def __post_init__(self):
        object.__setattr__(self, "p", check_probability(self.p, "Depolarizing p"))
        if self.num_qubits not in (1, 2):
            raise ValueError(f"Depolarizing num_qubits must be 1 or 2, got {self.num_qubits!r}")

    def pauli_probs(self):
        words = ["".join(w) for w in itertools.product("IXYZ", repeat=self.num_qubits)][1:]
        return tuple((w, self.p / len(words)) for w in words)


@dataclass(frozen=True)
class BitFlip(Channel):
    """X with probability p."""

    p: float

    def __post_init__(self):
        object.__setattr__(self, "p", check_probability(self.p, "BitFlip p"))

    def pauli_probs(self):
        return (("X", self.p),)


@dataclass(frozen=True)
class PhaseFlip(Channel):
    """Z with probability p."""

    p: float

    def __post_init__(self):
        object.__setattr__(self, "p", check_probability(self.p, "PhaseFlip p"))

    def pauli_probs(self):
        return (("Z", self.p),)


@dataclass(frozen=True)
class PhaseDamping(Channel):
    """Dephasing with Kraus operators diag(1, sqrt(1-gamma)) and diag(0, sqrt(gamma)); equal to a
    phase flip with p = (1 - sqrt(1 - gamma)) / 2."""

    gamma: float

    def __post_init__(self):
        object.__setattr__(self, "gamma", check_probability(self.gamma, "PhaseDamping gamma"))

    def pauli_probs(self):
        return (("Z", (1.0 - math.sqrt(1.0 - self.gamma)) / 2.0),)

    def kraus(self):
        g = self.gamma
        return [np.diag([1.0, math.sqrt(1 - g)]).astype(np.complex128),
                np.diag([0.0, math.sqrt(g)]).astype(np.complex128)]


@dataclass(frozen=True)
class AmplitudeDamping(Channel):
    """Energy relaxation |1> -> |0> with probability gamma (not mixed-unitary: forward only)."""

    gamma: float
    is_pauli = False

    def __post_init__(self):
        object.__setattr__(self, "gamma", check_probability(self.gamma, "AmplitudeDamping gamma"))

    def pauli_probs(self):
        raise ValueError("AmplitudeDamping is not a Pauli (mixed-unitary) channel")

    def kraus(self):
        g = self.gamma
        return [np.array([[1, 0], [0, math.sqrt(1 - g)]], dtype=np.complex128),
                np.array([[0, math.sqrt(g)], [0, 0]], dtype=np.complex128)]


@dataclass(frozen=True)
class ReadoutError:
    """Classical assignment error, per qubit and per shot: P(read 1 | 0) = p01, P(read 0 | 1) = p10
    (``p10`` defaults to ``p01``: a symmetric error)."""

    p01: float
    p10: float | None = None

    def __post_init__(self):
        p01 = check_probability(self.p01, "ReadoutError p01")
        p10 = p01 if self.p10 is None else check_probability(self.p10, "ReadoutError p10")
        object.__setattr__(self, "p01", p01)
        object.__setattr__(self, "p10", p10)

    @property
    def confusion(self) -> np.ndarray:
        """2x2 column-stochastic matrix A[reported, true]."""
        return np.array([[1 - self.p01, self.p10], [self.p01, 1 - self.p10]])

    @property
    def is_trivial(self) -> bool:
        return self.p01 == 0.0 and self.p10 == 0.0


GATE_CHANNELS = (PauliChannel, Depolarizing, BitFlip, PhaseFlip, PhaseDamping, AmplitudeDamping)
