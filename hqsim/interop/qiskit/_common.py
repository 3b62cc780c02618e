"""What the estimator, sampler and gradient share: options, a cache of converted circuits,
and parameter values flattened to rows."""
from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

from .convert import Program, to_program


class ProgramCache:
    """Converted circuits by object identity (a circuit is converted once, however many pubs
    use it; QuantumCircuit is unhashable, so entries hold a weak reference to check identity);
    a circuit changed since its conversion (instructions, parameters) is converted again."""

    MAX_ENTRIES = 32

    def __init__(self, allow_measurements: bool):
        """allow_measurements False (estimator): final measurements are removed first."""
        self.allow_measurements = allow_measurements
        self._programs: "OrderedDict[int, tuple]" = OrderedDict()

    def get(self, qc) -> Program:
        stamp = (len(qc.data), qc.num_parameters, qc.num_qubits)
        hit = self._programs.get(id(qc))
        if hit is None or hit[0]() is not qc or hit[1] != stamp:
            source = qc if self.allow_measurements else qc.remove_final_measurements(inplace=False)
            hit = (weakref.ref(qc), stamp, to_program(source, allow_measurements=self.allow_measurements))
            self._programs[id(qc)] = hit
            if len(self._programs) > self.MAX_ENTRIES:
                self._programs.popitem(last=False)
        return hit[2]


def flat_values(bindings, parameters) -> np.ndarray:
    """(R, n_params) float64 rows of a BindingsArray (R = its size, at least 1)."""
    arr = np.asarray(bindings.as_array(parameters), dtype=np.float64)
    return arr.reshape(-1, len(parameters)) if len(parameters) else np.zeros((max(1, bindings.size), 0))
