"""The gate set and every fact about each gate, in one table (``GateSpec``).

Compile, noise, hybrid, interop and the lowering read gate facts from here: arity, angles,
matrix, generator, class (Clifford, diagonal, permutation), symmetry, the Pauli axis each
qubit commutes with, whether two of a kind merge, the parameter-shift rule, the inverse, the
controlled form, the decomposition into elementary rotations and its names in OpenQASM, Quil,
Qiskit, PennyLane and Cirq (``Spellings``; ``by_spelling`` inverts them for the readers).
tests/ir/test_gate_facts.py checks every declared fact against the matrices;
tests/ir/test_gate_spellings.py that every translation and the lowering find what they need.

``GATES`` are the circuit gates (hqsim.ir.Circuit, every backend runs them); ``FRONTEND_GATES``
add the gates only the hybrid-program front ends accept (``I``, ``Sdg``, ``Tdg``, ``CY``,
``CPhase``, ``CCNOT``, ``CSWAP``); ``ALL_GATES`` is both. Matrices: hqsim/ir/gate_matrices.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import gate_matrices as gm
from .gate_matrices import PAULI
from .params import Param, as_index, as_param

_SQ = math.sqrt(2.0)
# Parameter-shift rules ((shift, coefficient), ...): d<O>/da = sum_k c_k <O>(a + s_k).
TWO_TERM = ((math.pi / 2, 0.5), (-math.pi / 2, -0.5))  # generator eigenvalues differ by 2 (or 1 of 2)
FOUR_TERM = ((math.pi / 2, (_SQ + 1) / (4 * _SQ)), (-math.pi / 2, -(_SQ + 1) / (4 * _SQ)),
             (3 * math.pi / 2, -(_SQ - 1) / (4 * _SQ)), (-3 * math.pi / 2, (_SQ - 1) / (4 * _SQ)))


@dataclass(frozen=True)
class InverseRule:
    """A gate's inverse as a gate: ``name`` with the gate's angles picked by ``angles``
    (1-based indices; negative: negated) followed by the constants ``extra``. ``exact`` is
    False when it equals the inverse only up to a global phase."""

    name: str
    angles: tuple[int, ...] = ()
    extra: tuple[float, ...] = ()
    exact: bool = True

    def apply(self, params, const: Callable) -> tuple:
        """The inverse's angles from the gate's ``params`` (anything with unary minus);
        ``const`` makes an angle of the caller's kind from a float."""
        picked = [params[i - 1] if i > 0 else -params[-i - 1] for i in self.angles]
        return tuple(picked) + tuple(const(c) for c in self.extra)


LANGUAGES = ("qasm", "qasm2", "quil", "qiskit", "pennylane", "cirq")


@dataclass(frozen=True)
class Spellings:
    """A gate's names in other languages and libraries. The first name of each is the one hqsim
    writes; all are read. Empty: the language has no such gate (a translator decomposes it or
    refuses). ``qasm``: OpenQASM 3 (stdgates.inc; ``U`` is the builtin); ``qasm2``: OpenQASM
    2's qelib1.inc; ``qiskit``: ``Instruction.name``; ``pennylane``: the Operation class name;
    ``cirq``: the attribute of the ``cirq`` module (a gate, a rotation builder, a PowGate)."""

    qasm: tuple[str, ...] = ()
    qasm2: tuple[str, ...] = ()
    quil: tuple[str, ...] = ()
    qiskit: tuple[str, ...] = ()
    pennylane: tuple[str, ...] = ()
    cirq: tuple[str, ...] = ()

    def first(self, language: str) -> str | None:
        """The name hqsim writes in ``language`` (one of LANGUAGES), None when there is none."""
        names = getattr(self, language)
        return names[0] if names else None


def _names(**by_language: str) -> Spellings:
    """Spellings from space-separated names per language: _names(qasm="p phase u1")."""
    return Spellings(**{lang: tuple(v.split()) for lang, v in by_language.items()})


def _same(qasm: str, quil: str, pennylane: str, cirq: str = "", qasm2: str | None = None,
          qiskit: str | None = None) -> Spellings:
    """The common case: qelib1 and Qiskit spell it as OpenQASM 3 does."""
    return _names(qasm=qasm, qasm2=qasm if qasm2 is None else qasm2, quil=quil,
                  qiskit=qasm if qiskit is None else qiskit, pennylane=pennylane, cirq=cirq)


@dataclass(frozen=True)
class GateSpec:
    """Everything hqsim knows about one gate (the defaults: a gate with none of the facts)."""

    name: str
    num_qubits: int
    num_params: int
    matrix: Callable                     # (*angles) -> complex128 (2^k, 2^k)
    generator: np.ndarray | None = None  # Hermitian G with U(a) = exp(-i a G / 2) (one angle)
    clifford: bool = False      # constant; conjugation maps Pauli words to Pauli words
    diagonal: bool = False      # diagonal in the computational basis at every angle
    permutation: bool = False   # constant 0/1 permutation of the basis states
    symmetric: bool = False     # the same gate whichever order its qubits are listed in
    axes: str | None = None     # per qubit, a Pauli that commutes with the gate at every angle
    additive: bool = False      # G(a) G(b) = G(a + b) exactly: two of a kind merge into one
    shift_rule: tuple = ()      # parameter-shift rule of its one angle (TWO_TERM / FOUR_TERM)
    inverse: InverseRule | None = None
    control_of: tuple[int, str] | None = None  # (number of controls, gate on the targets)
    # Elementary gates (name, index of the angle) on the same qubits, in application order;
    # their product is the gate exactly (global phase included).
    decomposition: tuple[tuple[str, int], ...] = ()
    names: Spellings = Spellings()  # in OpenQASM, Quil, Qiskit, PennyLane, Cirq

    @property
    def is_pauli(self) -> bool:
        """X, Y or Z: commutes with every Pauli word up to a sign."""
        return (self.num_params == 0 and self.num_qubits == 1
                and any(np.array_equal(self.matrix(), PAULI[p]) for p in "XYZ"))


def _self_inverse(name: str) -> InverseRule:
    return InverseRule(name)


def _negated(name: str) -> InverseRule:
    return InverseRule(name, (-1,))


def _rotation(name, pauli, diagonal=False) -> GateSpec:
    low = name.lower()
    return GateSpec(name, 1, 1, gm.rotation(pauli), PAULI[pauli], diagonal=diagonal, axes=pauli,
                    additive=True, shift_rule=TWO_TERM, inverse=_negated(name),
                    names=_same(low, name, name, cirq=low))


def _controlled_rotation(name, pauli, qasm2: str) -> GateSpec:
    return GateSpec(name, 2, 1, lambda a: gm.controlled(gm.rotation(pauli)(a)),
                    np.kron(gm.P1, PAULI[pauli]), diagonal=pauli == "Z", axes="Z" + pauli,
                    additive=True, shift_rule=FOUR_TERM, inverse=_negated(name),
                    control_of=(1, "R" + pauli), names=_same(name.lower(), "", name, qasm2=qasm2))


def _parity_rotation(name, pauli) -> GateSpec:
    return GateSpec(name, 2, 1, gm.parity_rotation(pauli), np.kron(PAULI[pauli], PAULI[pauli]),
                    diagonal=pauli == "Z", symmetric=True, axes=pauli * 2, additive=True,
                    shift_rule=TWO_TERM, inverse=_negated(name),
                    names=_names(qiskit=name.lower(), pennylane="Ising" + pauli * 2,
                                 cirq=pauli * 2 + "PowGate"))


_CIRCUIT_SPECS = [
    GateSpec("H", 1, 0, gm.constant(np.array([[1, 1], [1, -1]]) / np.sqrt(2)), clifford=True,
             inverse=_self_inverse("H"), names=_same("h", "H", "Hadamard", "H")),
    GateSpec("X", 1, 0, gm.constant(PAULI["X"]), clifford=True, permutation=True, axes="X",
             inverse=_self_inverse("X"), names=_same("x", "X", "PauliX", "X")),
    GateSpec("Y", 1, 0, gm.constant(PAULI["Y"]), clifford=True, axes="Y", inverse=_self_inverse("Y"),
             names=_same("y", "Y", "PauliY", "Y")),
    GateSpec("Z", 1, 0, gm.constant(PAULI["Z"]), clifford=True, diagonal=True, axes="Z",
             inverse=_self_inverse("Z"), names=_same("z", "Z", "PauliZ", "Z")),
    GateSpec("S", 1, 0, gm.constant(np.diag([1, 1j])), clifford=True, diagonal=True, axes="Z",
             inverse=InverseRule("Sdg"), names=_same("s", "S", "S", "S")),
    GateSpec("T", 1, 0, gm.constant(np.diag([1, np.exp(1j * np.pi / 4)])), diagonal=True, axes="Z",
             inverse=InverseRule("Tdg"), names=_same("t", "T", "T", "T")),
    # SX^-1 = RX(-pi/2) up to the phase e^{-i pi/4}
    GateSpec("SX", 1, 0, gm.constant(np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2), clifford=True,
             axes="X", inverse=InverseRule("RX", (), (-np.pi / 2,), exact=False),
             names=_same("sx", "", "SX", qasm2="")),
    _rotation("RX", "X"),
    _rotation("RY", "Y"),
    _rotation("RZ", "Z", diagonal=True),
    # PhaseShift(a) = diag(1, e^{ia}) = e^{ia/2} RZ(a) = exp(-i a G / 2) with G = diag(0, -2)
    GateSpec("PhaseShift", 1, 1, gm.phase_shift, np.diag([0.0, -2.0]).astype(np.complex128),
             diagonal=True, axes="Z", additive=True, shift_rule=TWO_TERM, inverse=_negated("PhaseShift"),
             names=_names(qasm="p phase u1", qasm2="u1", quil="PHASE", qiskit="p u1",
                          pennylane="PhaseShift U1")),
    GateSpec("U3", 1, 3, gm.u3, inverse=InverseRule("U3", (-1, -3, -2)),
             decomposition=(("PhaseShift", 2), ("RY", 0), ("PhaseShift", 1)),
             names=_names(qasm="U u3 u", qasm2="u3", qiskit="u u3", pennylane="U3")),
    GateSpec("Rot", 1, 3, gm.rot, inverse=InverseRule("Rot", (-3, -2, -1)),
             decomposition=(("RZ", 0), ("RY", 1), ("RZ", 2)), names=_names(pennylane="Rot")),
    GateSpec("CNOT", 2, 0, gm.constant(gm.controlled(PAULI["X"])), clifford=True, permutation=True,
             axes="ZX", inverse=_self_inverse("CNOT"), control_of=(1, "X"),
             names=_same("cx CX", "CNOT", "CNOT", "CNOT", qasm2="cx", qiskit="cx")),
    GateSpec("CZ", 2, 0, gm.constant(gm.controlled(PAULI["Z"])), clifford=True, diagonal=True,
             symmetric=True, axes="ZZ", inverse=_self_inverse("CZ"), control_of=(1, "Z"),
             names=_same("cz", "CZ", "CZ", "CZ")),
    GateSpec("SWAP", 2, 0, gm.constant(gm.SWAP), clifford=True, permutation=True, symmetric=True,
             inverse=_self_inverse("SWAP"), names=_same("swap", "SWAP", "SWAP", "SWAP", qasm2="")),
    _controlled_rotation("CRX", "X", qasm2=""),
    _controlled_rotation("CRY", "Y", qasm2=""),
    _controlled_rotation("CRZ", "Z", qasm2="crz"),
    _parity_rotation("RXX", "X"),
    _parity_rotation("RYY", "Y"),
    _parity_rotation("RZZ", "Z"),
]
_FRONTEND_SPECS = [
    GateSpec("I", 1, 0, gm.constant(np.eye(2)), clifford=True, diagonal=True, permutation=True,
             inverse=_self_inverse("I"), names=_names(qasm="id", qasm2="id", quil="I")),
    GateSpec("Sdg", 1, 0, gm.constant(np.diag([1, -1j])), clifford=True, diagonal=True, axes="Z",
             inverse=InverseRule("S"), names=_names(qasm="sdg", qasm2="sdg")),
    GateSpec("Tdg", 1, 0, gm.constant(np.diag([1, np.exp(-1j * np.pi / 4)])), diagonal=True, axes="Z",
             inverse=InverseRule("T"), names=_names(qasm="tdg", qasm2="tdg")),
    GateSpec("CY", 2, 0, gm.constant(gm.controlled(PAULI["Y"])), clifford=True, axes="ZY",
             inverse=_self_inverse("CY"), control_of=(1, "Y"), names=_names(qasm="cy", qasm2="cy")),
    GateSpec("CPhase", 2, 1, gm.controlled_phase, np.diag([0.0, 0.0, 0.0, -2.0]).astype(np.complex128),
             diagonal=True, symmetric=True, axes="ZZ", additive=True, shift_rule=TWO_TERM,
             inverse=_negated("CPhase"), control_of=(1, "PhaseShift"),
             names=_names(qasm="cp cphase", quil="CPHASE")),
    GateSpec("CCNOT", 3, 0, gm.constant(gm.controlled(gm.controlled(PAULI["X"]))), permutation=True,
             axes="ZZX", inverse=_self_inverse("CCNOT"), control_of=(2, "X"),
             names=_names(qasm="ccx", qasm2="ccx", quil="CCNOT")),
    GateSpec("CSWAP", 3, 0, gm.constant(gm.controlled(gm.SWAP)), permutation=True,
             inverse=_self_inverse("CSWAP"), control_of=(1, "SWAP"),
             names=_names(qasm="cswap", quil="CSWAP")),
]
GATES: dict[str, GateSpec] = {s.name: s for s in _CIRCUIT_SPECS}
FRONTEND_GATES: dict[str, GateSpec] = {s.name: s for s in _FRONTEND_SPECS}
ALL_GATES: dict[str, GateSpec] = {**GATES, **FRONTEND_GATES}
ALIASES = {"CX": "CNOT", "P": "PhaseShift", "PHASE": "PhaseShift", "U": "U3", "ROT": "Rot",
           "SQRTX": "SX", "HADAMARD": "H"}


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


def by_spelling(language: str, gates: dict = ALL_GATES) -> dict[str, GateSpec]:
    """Every name ``language`` (one of LANGUAGES) has for a gate of ``gates`` -> its GateSpec."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return {n: s for s in gates.values() for n in getattr(s.names, language)}


# -- rules built on the facts (for circuit gates and hybrid gate instructions alike) ----------
def merge_key(name: str, qubits: tuple) -> tuple:
    """Two gates with equal keys act on the same qubits in the same roles."""
    spec = ALL_GATES.get(name)
    return name, (tuple(sorted(qubits)) if spec is not None and spec.symmetric else tuple(qubits))


def merges(a_name: str, a_qubits: tuple, b_name: str, b_qubits: tuple) -> bool:
    """G(a) then G(b) is G(a + b) exactly: same additive gate on the same qubits and roles."""
    spec = ALL_GATES.get(a_name)
    return spec is not None and spec.additive and merge_key(a_name, a_qubits) == merge_key(b_name, b_qubits)


def decomposition_steps(name: str, params: tuple) -> list[tuple[str, tuple]]:
    """(name, params) of the elementary gates of ``name`` in application order (the gate
    itself when it has no decomposition); ``params`` may be of any angle type."""
    spec = ALL_GATES.get(name)
    if spec is None or not spec.decomposition:
        return [(name, tuple(params))]
    return [(step, (params[i],)) for step, i in spec.decomposition]


def rotation_axis(name: str) -> str | None:
    """The Pauli axis of a one-qubit, one-angle rotation (RX: "X", RZ and PhaseShift: "Z")."""
    spec = ALL_GATES.get(name)
    if spec is None or spec.num_qubits != 1 or spec.num_params != 1:
        return None
    return spec.axes


def controlled_name(name: str, gates: dict = ALL_GATES) -> str | None:
    """The gate of ``gates`` that adds one control to ``name`` (X -> CNOT -> CCNOT), or None."""
    spec = gates.get(name)
    if spec is None:
        return None
    n, base = spec.control_of or (0, name)
    return next((s.name for s in gates.values() if s.control_of == (n + 1, base)), None)


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


def elementary_gates(gates) -> list[Gate]:
    """``gates`` with every gate that has a decomposition (Rot, U3) split into it."""
    out = []
    for g in gates:
        spec = GATES.get(g.name)
        if spec is None or not spec.decomposition:
            out.append(g)
        else:
            out += [Gate(name, g.qubits, params) for name, params in decomposition_steps(g.name, g.params)]
    return out


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
