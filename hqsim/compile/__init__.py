"""The circuit compiler: passes (fold, light cone) then lowering to the op program."""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Circuit
from ..program import OpProgram
from .lower import lower
from .passes import compile_for_expectation, drop_outside_light_cone, fold_constants


@dataclass(frozen=True, eq=False)
class CompiledCircuit:
    """What a backend receives: the source circuit (for the oracle), the observables, the
    optimised circuit and its lowered op program."""

    source: Circuit
    observables: tuple
    optimized: Circuit
    program: OpProgram

    @property
    def num_qubits(self) -> int:
        return self.source.num_qubits


def compile_circuit(circuit: Circuit, observables, *, optimize: bool = True) -> CompiledCircuit:
    """Compile for expectation values of ``observables``; ``optimize=False`` skips the passes
    (the statevector API uses that: the light cone changes the state, not the expectations)."""
    optimized = compile_for_expectation(circuit, observables) if optimize else circuit
    return CompiledCircuit(circuit, tuple(observables), optimized, lower(optimized, observables))


__all__ = ["CompiledCircuit", "compile_circuit", "compile_for_expectation", "drop_outside_light_cone",
           "fold_constants", "lower"]
