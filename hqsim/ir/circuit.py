"""The circuit IR: ``num_qubits``, a sequence of gates, an optional amplitude encoding.

A circuit is built with methods named after gates (``c.ry(input(0), 0)``, ``c.cnot(0, 1)``)
or ``c.append(name, qubits, params)``; every call validates immediately. Passes never mutate a
circuit: they return a new one (see ``Circuit.replace_gates``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .gates import Gate, make_gate
from .params import INPUT, WEIGHT, Param

MAX_QUBITS = 40  # beyond this 2^Q amplitudes cannot be addressed by any backend here


@dataclass(frozen=True)
class AmplitudeEncoding:
    """``inputs[:, start:start+size]``, L2-normalised and zero-padded to 2^Q, is the initial state."""

    start: int
    size: int


class Circuit:
    """A parameterised circuit on ``num_qubits`` qubits (qubit 0 = most significant bit)."""

    def __init__(self, num_qubits: int, *, amplitude_encoding: AmplitudeEncoding | int | None = None,
                 num_weights: int | None = None, num_inputs: int | None = None):
        if isinstance(num_qubits, bool) or not isinstance(num_qubits, int):
            raise TypeError(f"num_qubits must be an int, got {type(num_qubits).__name__}")
        if not 1 <= num_qubits <= MAX_QUBITS:
            raise ValueError(f"num_qubits must be between 1 and {MAX_QUBITS}, got {num_qubits}")
        self.num_qubits = num_qubits
        self.gates: list[Gate] = []
        if isinstance(amplitude_encoding, int) and not isinstance(amplitude_encoding, bool):
            amplitude_encoding = AmplitudeEncoding(0, amplitude_encoding)
        if amplitude_encoding is not None:
            if amplitude_encoding.size < 1 or amplitude_encoding.start < 0:
                raise ValueError(f"amplitude encoding needs start >= 0 and size >= 1, got {amplitude_encoding}")
            if amplitude_encoding.size > 2 ** num_qubits:
                raise ValueError(
                    f"amplitude encoding of {amplitude_encoding.size} features needs at least "
                    f"{(amplitude_encoding.size - 1).bit_length()} qubits, circuit has {num_qubits}")
        self.amplitude_encoding = amplitude_encoding
        self._declared_weights = num_weights
        self._declared_inputs = num_inputs

    # -- building -----------------------------------------------------------------------
    def append(self, name: str, qubits, params: Sequence = (), matrix=None) -> "Circuit":
        gate = make_gate(name, qubits, params, matrix)
        for q in gate.qubits:
            if not 0 <= q < self.num_qubits:
                raise ValueError(
                    f"gate {gate.name} acts on qubit {q}, but the circuit has qubits 0..{self.num_qubits - 1}")
        self.gates.append(gate)
        return self

    def extend(self, gates: Iterable[Gate]) -> "Circuit":
        for g in gates:
            self.append(g.name, g.qubits, g.params, g.matrix)
        return self

    def h(self, q): return self.append("H", q)
    def x(self, q): return self.append("X", q)
    def y(self, q): return self.append("Y", q)
    def z(self, q): return self.append("Z", q)
    def s(self, q): return self.append("S", q)
    def t(self, q): return self.append("T", q)
    def sx(self, q): return self.append("SX", q)
    def rx(self, a, q): return self.append("RX", q, [a])
    def ry(self, a, q): return self.append("RY", q, [a])
    def rz(self, a, q): return self.append("RZ", q, [a])
    def phase(self, a, q): return self.append("PhaseShift", q, [a])
    def u3(self, theta, phi, lam, q): return self.append("U3", q, [theta, phi, lam])
    def rot(self, phi, theta, omega, q): return self.append("Rot", q, [phi, theta, omega])
    def cnot(self, c, t): return self.append("CNOT", (c, t))
    def cz(self, a, b): return self.append("CZ", (a, b))
    def swap(self, a, b): return self.append("SWAP", (a, b))
    def crx(self, a, c, t): return self.append("CRX", (c, t), [a])
    def cry(self, a, c, t): return self.append("CRY", (c, t), [a])
    def crz(self, a, c, t): return self.append("CRZ", (c, t), [a])
    def rxx(self, a, q0, q1): return self.append("RXX", (q0, q1), [a])
    def ryy(self, a, q0, q1): return self.append("RYY", (q0, q1), [a])
    def rzz(self, a, q0, q1): return self.append("RZZ", (q0, q1), [a])
    def unitary(self, matrix, qubits): return self.append("Unitary", qubits, (), matrix)

    # -- queries ------------------------------------------------------------------------
    def _params(self) -> list[Param]:
        return [p for g in self.gates for p in g.params]

    @property
    def num_weights(self) -> int:
        used = max((p.index + 1 for p in self._params() if p.source == WEIGHT), default=0)
        if self._declared_weights is not None:
            if self._declared_weights < used:
                raise ValueError(f"circuit declares {self._declared_weights} weights but uses weight({used - 1})")
            return self._declared_weights
        return used

    @property
    def num_inputs(self) -> int:
        used = max((p.index + 1 for p in self._params() if p.source == INPUT), default=0)
        if self.amplitude_encoding is not None:
            used = max(used, self.amplitude_encoding.start + self.amplitude_encoding.size)
        if self._declared_inputs is not None:
            if self._declared_inputs < used:
                raise ValueError(f"circuit declares {self._declared_inputs} inputs but uses input({used - 1})")
            return self._declared_inputs
        return used

    def replace_gates(self, gates: Iterable[Gate]) -> "Circuit":
        """A copy with other gates (same qubits, encoding and declared sizes); no re-validation."""
        out = Circuit(self.num_qubits, amplitude_encoding=self.amplitude_encoding,
                      num_weights=self.num_weights, num_inputs=self.num_inputs)
        out.gates = list(gates)
        return out

    def copy(self) -> "Circuit":
        return self.replace_gates(self.gates)

    def inverse(self) -> "Circuit":
        """U^dagger as a circuit (constant gates only need a matrix; angles are negated)."""
        from .inverse import inverse_gate
        if self.amplitude_encoding is not None:
            raise ValueError("a circuit with an amplitude encoding has no inverse circuit")
        return self.replace_gates(inverse_gate(g) for g in reversed(self.gates))

    def __len__(self):
        return len(self.gates)

    def __iter__(self):
        return iter(self.gates)

    def __repr__(self):
        enc = f", amplitude_encoding={self.amplitude_encoding}" if self.amplitude_encoding else ""
        return f"Circuit(num_qubits={self.num_qubits}, {len(self.gates)} gates{enc})"

    def draw(self) -> str:
        return "\n".join(repr(g) for g in self.gates)
