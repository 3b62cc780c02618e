"""``NoiseModel.to_cirq()``: the same noise as a ``cirq.NoiseModel``, so Cirq's density-matrix
simulator or qsimcirq can check hqsim's noisy results on circuits from hqsim's Cirq bridge.

Cirq is imported here only (through hqsim.interop._deps, the project's one Cirq import); a
missing Cirq raises ModuleNotFoundError saying what to install.

Each Cirq operation is mapped back to the hqsim gate name it comes from in
``hqsim.interop.to_cirq`` (Rot and U3 become three rotations there, and hqsim's trajectories
also treat them as three noisy rotations), the channel is chosen exactly as
``NoiseModel.channels_after`` does, and readout error becomes the ``confusion_map`` of every
measurement gate (it affects sampling only, as in Cirq).
"""
from __future__ import annotations

import numpy as np

from ..ir import GATES
from ..ir.gates import controlled_name
from .channels import (AmplitudeDamping, BitFlip, Depolarizing, PauliChannel, PhaseDamping,
                       PhaseFlip)

try:
    from ..interop._deps import cirq
except ModuleNotFoundError as exc:  # pragma: no cover - exercised only without cirq
    raise ModuleNotFoundError(
        "NoiseModel.to_cirq() needs Cirq: pip install 'hqsim[cirq]' (cirq-core==1.7.0)",
        name=exc.name) from exc
from ..interop._from_ops import PARITY_GATES  # noqa: E402 - after the Cirq check above

# What to_cirq writes for a gate with a Cirq name (GateSpec.names.cirq), read back: a fixed
# gate by value (cirq.S is Z**0.5, not a type of its own), a rotation by the type of gate
# its builder makes, a parity gate by its PowGate class.
_FIXED = {getattr(cirq, s.names.first("cirq")): s.name for s in GATES.values()
          if s.names.cirq and not s.num_params}
_ROT = {type(getattr(cirq, s.names.first("cirq"))(0.0)): s.name for s in GATES.values()
        if s.names.cirq and s.num_params and not s.symmetric}


def hqsim_gate_name(gate) -> str:
    """The hqsim gate name a Cirq gate stands for ("" when it has none)."""
    kind = type(gate)
    if kind in _ROT:
        return _ROT[kind]
    if kind in PARITY_GATES:
        return PARITY_GATES[kind]
    if isinstance(gate, cirq.ControlledGate) and type(gate.sub_gate) in _ROT:
        return controlled_name(_ROT[type(gate.sub_gate)], GATES) or ""
    if isinstance(gate, cirq.MatrixGate):
        return "Unitary"
    try:
        if gate in _FIXED:
            return _FIXED[gate]
    except TypeError:  # a gate Cirq cannot hash (symbolic exponents): none of the fixed ones
        pass
    if kind is cirq.XPowGate and gate.exponent == 0.5:  # to_cirq writes SX as X**0.5
        return "SX"
    if kind is cirq.ZPowGate:  # and PhaseShift as Z**(a/pi)
        return "PhaseShift"
    return ""


def cirq_channel(ch):
    """The Cirq gate for one hqsim channel."""
    if isinstance(ch, Depolarizing):
        return cirq.depolarize(ch.p, n_qubits=ch.num_qubits)
    if isinstance(ch, BitFlip):
        return cirq.bit_flip(ch.p)
    if isinstance(ch, PhaseFlip):
        return cirq.phase_flip(ch.p)
    if isinstance(ch, PhaseDamping):
        return cirq.phase_damp(ch.gamma)
    if isinstance(ch, AmplitudeDamping):
        return cirq.amplitude_damp(ch.gamma)
    if isinstance(ch, PauliChannel):
        return cirq.asymmetric_depolarize(error_probabilities=dict(ch.probs))
    raise TypeError(f"no Cirq form for channel {ch!r}")


class HqsimNoiseModel(cirq.NoiseModel):
    """A ``cirq.NoiseModel`` applying an hqsim NoiseModel after each operation."""

    def __init__(self, model):
        self.model = model

    def _channel_ops(self, op):
        gate = op.gate
        n = len(op.qubits)
        ch = self.model.channel_for(hqsim_gate_name(gate) if gate is not None else "", n)
        if ch is None:
            return []
        if ch.num_qubits == n:
            return [cirq_channel(ch).on(*op.qubits)]
        if ch.num_qubits == 1:
            return [cirq_channel(ch).on(q) for q in op.qubits]
        raise ValueError(f"a {ch.num_qubits}-qubit channel cannot follow {op!r}")

    def _measure(self, op):
        ro = self.model.readout
        if ro is None or ro.is_trivial:
            return op
        g = op.gate
        cm = np.array([[1 - ro.p01, ro.p01], [ro.p10, 1 - ro.p10]])  # [true][reported]
        gate = cirq.MeasurementGate(g.num_qubits(), key=g.mkey, invert_mask=g.invert_mask,
                                    confusion_map={(i,): cm for i in range(g.num_qubits())})
        return gate.on(*op.qubits)

    def noisy_operation(self, operation):
        if cirq.is_measurement(operation):
            return self._measure(operation)
        if isinstance(operation.gate, cirq.MatrixGate) and operation.gate._name == "StatePrep":
            return operation  # hqsim's amplitude encoding: noiseless state preparation
        return [operation] + self._channel_ops(operation)


def to_cirq_noise_model(model) -> "cirq.NoiseModel":
    return HqsimNoiseModel(model)
