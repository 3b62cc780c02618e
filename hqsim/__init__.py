"""hqsim: batched statevector simulation with adjoint gradients for hybrid quantum-classical ML.

Public API::

    import hqsim
    c = hqsim.ansatz.rpqc(num_qubits=8)
    out = hqsim.expectation(c, inputs, weights)          # numpy or torch (autograd) in, same out
    layer = hqsim.QuantumLayer(c)                         # torch.nn.Module with trainable weights
"""
from . import ansatz
from .api import compile_circuit, expectation, statevector, vjp
from .ir import (AmplitudeEncoding, Circuit, Observable, PauliString, X, Y, Z, const, input,
                 weight)

__version__ = "0.1.0"


def __getattr__(name):
    # torch is imported lazily so that `import hqsim` stays cheap for the CLI and the compiler.
    if name == "QuantumLayer":
        from .nn.layer import QuantumLayer
        return QuantumLayer
    raise AttributeError(f"module 'hqsim' has no attribute {name!r}")


__all__ = [
    "ansatz", "compile_circuit", "expectation", "statevector", "vjp", "AmplitudeEncoding", "Circuit",
    "Observable", "PauliString", "X", "Y", "Z", "const", "input", "weight", "QuantumLayer",
]
