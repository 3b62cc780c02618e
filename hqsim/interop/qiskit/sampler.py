"""``HQSimSampler``: Qiskit's SamplerV2 primitive on hqsim.

    sampler = HQSimSampler(seed=0)
    res = sampler.run([(circuit, parameter_values)], shots=1000).result()[0]
    res.data.meas.get_counts()          # one BitArray per classical register, the pub's shape

All parameter sets of a pub are one ``hqsim.statevector`` call; ``shots`` bitstrings per set are
drawn from |psi|^2 by hqsim.noise.sample_basis_states (seeded). Measurements must be terminal
(no gate on a qubit after its measurement, no classical control or reset); a clbit never
measured reads 0; a clbit measured twice keeps the last measurement, as on hardware.
"""
from __future__ import annotations

import numpy as np

from ... import api
from ...noise.options import make_rng
from ...noise.shots import sample_basis_states
from ..sim_options import make_options
from ._common import ProgramCache, flat_values
from ._deps import containers, primitives


def _register_bits(idx: np.ndarray, program, qc, creg) -> np.ndarray:
    """(R, S, ceil(m/8)) uint8 of register ``creg`` (m clbits) in BitArray's byte order: big-
    endian bytes, clbit 0 the least significant bit of the last byte. ``idx``: (R, S) basis
    indices whose bit k is Qiskit qubit k."""
    m = len(creg)
    value = np.zeros(idx.shape, dtype=np.uint64)
    source = {clbit: qubit for qubit, clbit in program.measurements}  # the last measurement wins
    for j, bit in enumerate(creg):
        qubit = source.get(qc.find_bit(bit).index)
        if qubit is not None:
            value |= ((idx >> qubit) & 1).astype(np.uint64) << np.uint64(j)
    nbytes = max(1, (m + 7) // 8)
    shifts = np.arange(nbytes - 1, -1, -1, dtype=np.uint64) * np.uint64(8)
    return ((value[..., None] >> shifts) & np.uint64(0xFF)).astype(np.uint8)


class HQSimSampler(primitives.BaseSamplerV2):
    """SamplerV2 on hqsim's batched statevector.

    default_shots: shots when neither ``run`` nor the pub sets them; seed: None, int or numpy
    Generator; backend: hqsim backend name; dtype: np.complex64 (default) or np.complex128.
    """

    def __init__(self, *, default_shots: int = 1024, seed=None, backend: str = "auto", dtype=np.complex64):
        if isinstance(default_shots, bool) or not isinstance(default_shots, (int, np.integer)) or default_shots < 1:
            raise ValueError(f"default_shots must be a positive int, got {default_shots!r}")
        self._default_shots = int(default_shots)
        self.options = make_options(backend, dtype)
        self._rng = make_rng(seed)
        self._programs = ProgramCache(allow_measurements=True)

    @property
    def default_shots(self) -> int:
        return self._default_shots

    def run(self, pubs, *, shots: int | None = None):
        if shots is None:
            shots = self._default_shots
        coerced = [containers.SamplerPub.coerce(pub, shots) for pub in pubs]
        job = primitives.PrimitiveJob(self._run, coerced)
        job._submit()
        return job

    def _run(self, pubs) -> "containers.PrimitiveResult":
        return containers.PrimitiveResult([self._run_pub(p) for p in pubs], metadata={"version": 2})

    def _run_pub(self, pub):
        qc = pub.circuit
        program = self._programs.get(qc)
        values = flat_values(pub.parameter_values, program.parameters)
        states = api.statevector(program.circuit, program.inputs(values), np.zeros(0),
                                 backend=self.options.backend, dtype=self.options.dtype)
        idx = sample_basis_states(np.abs(states) ** 2, pub.shots, self._rng)
        shape = pub.parameter_values.shape
        data = {}
        for creg in qc.cregs:
            bits = _register_bits(idx, program, qc, creg).reshape(shape + (pub.shots, -1))
            data[creg.name] = containers.BitArray(bits, len(creg))
        return containers.SamplerPubResult(containers.DataBin(**data, shape=shape),
                                           metadata={"shots": pub.shots, "circuit_metadata": qc.metadata})
