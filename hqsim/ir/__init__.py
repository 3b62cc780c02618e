"""Circuit IR: parameter expressions, gates, circuits, observables."""
from .circuit import MAX_QUBITS, AmplitudeEncoding, Circuit
from .gates import GATES, PAULI, Gate, GateSpec, canonical_name, make_gate
from .observables import Observable, PauliString, X, Y, Z, as_observable, identity, pauli_terms
from .params import CONST, INPUT, WEIGHT, Param, as_param, const, input, weight

__all__ = [
    "AmplitudeEncoding", "Circuit", "MAX_QUBITS", "GATES", "PAULI", "Gate", "GateSpec",
    "canonical_name", "make_gate", "Observable", "PauliString", "X", "Y", "Z", "as_observable",
    "identity", "pauli_terms", "CONST", "INPUT", "WEIGHT", "Param", "as_param", "const", "input",
    "weight",
]
