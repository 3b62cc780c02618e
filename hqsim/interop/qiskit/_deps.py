"""The one place where Qiskit (and qiskit-machine-learning) are imported for hqsim."""
from __future__ import annotations

from .._optional import require

_INSTALL = "pip install 'hqsim[qiskit]'  (or: pip install qiskit qiskit-machine-learning)"

qiskit = require("qiskit", "qiskit", _INSTALL)
primitives = require("qiskit.primitives", "qiskit", _INSTALL)
containers = require("qiskit.primitives.containers", "qiskit", _INSTALL)
circuit_lib = require("qiskit.circuit", "qiskit", _INSTALL)
providers = require("qiskit.providers", "qiskit", _INSTALL)
quantum_info = require("qiskit.quantum_info", "qiskit", _INSTALL)


def require_machine_learning():
    """The ``qiskit_machine_learning.gradients`` module (for the adjoint gradient class)."""
    return require("qiskit_machine_learning.gradients", "qiskit-machine-learning", _INSTALL)
