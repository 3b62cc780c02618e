"""The one place where the Cirq packages are imported, each with a clear error when missing.

``cirq`` and ``sympy`` are needed by every interop module; ``cirq_ionq`` and ``cirq_google``
take seconds to import, so they are loaded on first use only.
"""
from __future__ import annotations

from ._optional import require

_INSTALL = ("pip install 'hqsim[cirq]'  (or: pip install cirq-core==1.7.0 cirq-ionq==1.7.0 "
            "cirq-google==1.7.0)")


def _require(module: str, what: str):
    return require(module, what, _INSTALL)


cirq = _require("cirq", "cirq-core")
sympy = _require("sympy", "sympy")


def require_ionq():
    """The ``cirq_ionq`` module (IonQ client, gatesets, serializer)."""
    return _require("cirq_ionq", "cirq-ionq")


def require_google():
    """The ``cirq_google`` module (Google devices and engines)."""
    return _require("cirq_google", "cirq-google")
