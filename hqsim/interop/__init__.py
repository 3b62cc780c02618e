"""Cirq bridge: conversion to and from ``cirq.Circuit``, IonQ and Google targets, hqsim as a
Cirq simulator, and OpenQASM export.

Modules (Cirq is imported by them, never by ``import hqsim`` or ``import hqsim.interop``):

- ``hqsim.interop.cirq``: ``to_cirq``, ``from_cirq``, observables, ``export_sweep`` /
  ``export_resolved`` / ``export_model`` for trained models;
- ``hqsim.interop.simulator``: ``HqsimSimulator`` (expectation values, final states, samples;
  a parameter sweep is one batched hqsim call);
- ``hqsim.interop.ionq``: ``compile_for_ionq``, ``submit`` through ``cirq_ionq.Service``;
- ``hqsim.interop.google``: ``compile_for_google``, ``simulated_engine``, ``submit``;
- ``hqsim.interop.qasm``: ``to_qasm`` (OpenQASM 3.0 / 2.0);
- ``hqsim.interop.jsonfmt``: hqsim's JSON circuit description; ``hqsim.interop.cli``: the
  ``hqsim export`` command.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "to_cirq": "cirq", "from_cirq": "cirq", "observables_to_cirq": "cirq",
    "observables_from_cirq": "cirq", "export_sweep": "cirq", "export_resolved": "cirq",
    "export_model": "cirq", "HqsimSimulator": "simulator", "compile_for_ionq": "ionq",
    "compile_for_google": "google", "simulated_engine": "google", "to_qasm": "qasm",
    "compute_circuit_stats": "stats",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # the lazy names above
    "HqsimSimulator", "compile_for_google", "compile_for_ionq", "compute_circuit_stats",
    "export_model", "export_resolved", "export_sweep", "from_cirq", "observables_from_cirq",
    "observables_to_cirq", "simulated_engine", "to_cirq", "to_qasm",
]
