"""The circuit compiler: passes (fold, light cone), gate fusion, then lowering to the op program."""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Circuit
from ..program import OpProgram
from .fuse import FUSION_QUBITS, FusedCircuit, fuse_gates
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


def compile_circuit(circuit: Circuit, observables, *, optimize: bool = True,
                    fuse: int | None = FUSION_QUBITS) -> CompiledCircuit:
    """Compile for expectation values of ``observables``; ``optimize=False`` skips the passes
    (the statevector API uses that: the light cone changes the state, not the expectations).
    ``fuse``: the most qubits of a fused block (hqsim/compile/fuse.py), None for no blocks."""
    optimized = compile_for_expectation(circuit, observables) if optimize else circuit
    if fuse is None:
        return CompiledCircuit(circuit, tuple(observables), optimized, lower(optimized, observables))
    fused = fuse_gates(optimized, max_qubits=fuse)
    return CompiledCircuit(circuit, tuple(observables), fused.circuit, lower(fused, observables))


__all__ = ["CompiledCircuit", "FusedCircuit", "compile_circuit", "compile_for_expectation",
           "drop_outside_light_cone", "fold_constants", "fuse_gates", "lower"]
