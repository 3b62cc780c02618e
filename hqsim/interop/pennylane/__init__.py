"""PennyLane integration: the ``hqsim.qubit`` device (``pip install 'hqsim[pennylane]'``).

``qml.device("hqsim.qubit", wires=...)`` finds it through the ``pennylane.plugins`` entry point.
Modules: translate (operations, observables, tapes as hqsim IR), batching (tapes of one
structure as one call), execute, derivatives (batched adjoint VJP and Jacobian), preprocess
(the PennyLane transform program), options, device.
"""
from .device import HQSimQubit

__all__ = ["HQSimQubit"]
