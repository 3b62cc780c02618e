"""One helper for the optional packages of hqsim.interop: import by name, or fail with the
install command. Each optional package is imported through it in exactly one ``_deps`` module
(``hqsim.interop._deps`` for Cirq, ``hqsim.interop.pennylane._deps``, ``hqsim.interop.qiskit._deps``)."""
from __future__ import annotations

import importlib


def require(module: str, what: str, install: str):
    """``import module``; a missing package raises ModuleNotFoundError naming ``install``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"hqsim.interop needs the {what} package ({module!r} is not installed); "
            f"install it with: {install}", name=exc.name) from exc
