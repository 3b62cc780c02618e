"""Circuit expansion: the one source circuit becomes one batched program per kind of run.

Every per-row difference (which Pauli error struck where, which gate angle is shifted) is
carried by extra input columns, so all rows of all samples run as one batch of one program
through the fast backend and its adjoint:

- Pauli errors become input-controlled rotations R(pi * c), c in {0, 1}, on noise columns
  (RX(pi) = -iX, RZ(pi) = -iZ): the sampled errors are carried forward (hqsim.noise.frames)
  and what does not commute with the next gate on a qubit is applied just before it;
- a parameter-shift occurrence (one gate application with a trainable or input angle)
  becomes a second gate of the same kind right after it with angle input(c): same-axis
  rotations add, G(a) G(s) = G(a + s), so column c = s shifts that one occurrence only, even
  when the weight is shared by several gates;
- a per-row weight offset (SPSA's perturbed weights) puts G(scale * input(c_i)) after every
  occurrence of weight i: column c_i = d moves weights[i] to weights[i] + d in that row only.

Rot and U3 are first split into their three elementary rotations (exactly, global phase
included), which is also how noise models and the Cirq bridge see them. Column layout of an
expanded circuit: [original inputs | shift columns | weight-offset columns | noise columns].
Pauli errors are carried forward and applied only where they stop commuting, as one rotation
per qubit and gate where the gate is a rotation about one axis (hqsim.noise.frames).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..compile.analyses import compute_light_cone
from ..ir import GATES, INPUT, WEIGHT, Circuit, Gate, Param, input
from ..ir.gates import elementary_gates
from ..ir.observables import as_observable
from .frames import FrameBuilder, carried_through, commuting_axes

SHIFT_RULES = {name: spec.shift_rule for name, spec in GATES.items() if spec.shift_rule}


def measured_axes(observables) -> dict:
    """{qubit: "X" | "Y" | "Z" when every observable term reads it in that basis, else None}."""
    axes: dict = {}
    for o in observables:
        for t in as_observable(o).terms:
            for q, p in t.paulis:
                axes[q] = p if axes.get(q, p) == p else None
    return axes


@dataclass(frozen=True)
class Occurrence:
    column: int
    source: int  # WEIGHT or INPUT
    index: int
    scale: float
    rule: tuple  # ((shift, coefficient), ...)


@dataclass(frozen=True, eq=False)
class ExpandedCircuit:
    """``circuit`` for the fast backend (Pauli errors unravelled into ``frames`` when
    ``unravelled``); ``steps`` for the quantum-jump engine: ("gate", Gate) and ("channel",
    channel, qubits) in order. Columns: [base inputs | extra (shifts, then weight offsets) |
    noise frames]; a setting supplies the first num_base_inputs + num_extra of them."""

    circuit: Circuit
    steps: tuple
    frames: object  # hqsim.noise.frames.FrameTable or None
    occurrences: tuple[Occurrence, ...]
    weight_columns: tuple[int, ...]  # per weight: its offset column, or -1
    num_base_inputs: int
    num_extra: int
    unravelled: bool

    @property
    def setting_columns(self) -> int:
        return self.num_base_inputs + self.num_extra

    @property
    def num_inputs(self) -> int:
        return self.circuit.num_inputs

    @property
    def has_noise(self) -> bool:
        return any(s[0] == "channel" for s in self.steps)


def _wants_shift(p: Param, shift_weights: bool, shift_inputs: bool, n_in: int) -> bool:
    if p.is_constant:
        return False
    return (shift_weights and p.source == WEIGHT) or (shift_inputs and p.source == INPUT and p.index < n_in)


def _weight_columns(gates, cone, first: int, num_weights: int) -> list[int]:
    used = sorted({g.params[0].index for g, live in zip(gates, cone) if live and len(g.params) == 1
                   and g.name in SHIFT_RULES and g.params[0].is_trainable})
    cols = [-1] * num_weights
    for k, i in enumerate(used):
        cols[i] = first + k
    return cols


def expand(source: Circuit, observables, model=None, unravel: bool = True, shift_weights: bool = False,
           shift_inputs: bool = False, weight_offsets: bool = False) -> ExpandedCircuit:
    """Expand ``source`` for ``model`` (NoiseModel or None), the requested shift occurrences
    and, with ``weight_offsets``, per-row weight offset columns."""
    gates = elementary_gates(source.gates)
    cone = compute_light_cone(gates, observables).keep
    n_in = source.num_inputs
    shiftable = [live and len(g.params) == 1 and g.name in SHIFT_RULES for g, live in zip(gates, cone)]
    n_shift = sum(1 for g, ok in zip(gates, shiftable) if ok and _wants_shift(g.params[0], shift_weights,
                                                                              shift_inputs, n_in))
    wcols = _weight_columns(gates, cone, n_in + n_shift, source.num_weights) if weight_offsets \
        else [-1] * source.num_weights
    n_extra = n_shift + sum(c >= 0 for c in wcols)
    out, steps, occs = [], [], []
    col_shift = n_in
    builder = FrameBuilder(source.num_qubits, n_in + n_extra)

    def frame_gates(pairs, qubit=None):
        for item in pairs:
            q, name, col = item if qubit is None else (qubit, *item)
            out.append(Gate(name, (q,), (math.pi * input(col),)))

    for g, live, ok in zip(gates, cone, shiftable):
        if unravel:
            if carried_through(g.name):
                builder.propagate(g)
            else:
                axes = commuting_axes(g.name)
                for i, q in enumerate(g.qubits):
                    frame_gates(builder.flush(q, None if axes is None else axes[i]), q)
        out.append(g)
        steps.append(("gate", g))
        if ok and _wants_shift(g.params[0], shift_weights, shift_inputs, n_in):
            p = g.params[0]
            occs.append(Occurrence(col_shift, p.source, p.index, p.scale, SHIFT_RULES[g.name]))
            out.append(Gate(g.name, g.qubits, (input(col_shift),)))
            steps.append(("gate", out[-1]))
            col_shift += 1
        if ok and g.params[0].is_trainable and wcols[g.params[0].index] >= 0:
            p = g.params[0]
            out.append(Gate(g.name, g.qubits, (p.scale * input(wcols[p.index]),)))
            steps.append(("gate", out[-1]))
        chs = model.channels_after(g) if (model is not None and live) else []  # outside the light
        for ch, qs in chs:                                                       # cone: no effect
            steps.append(("channel", ch, qs))
            if unravel:
                builder.add(ch, qs)
    frames = None
    if unravel and model is not None:
        frame_gates(builder.finish(measured_axes(observables)))
        frames = builder.table()
    col_noise = n_in + n_extra + (frames.num_columns if frames is not None else 0)
    circ = Circuit(source.num_qubits, amplitude_encoding=source.amplitude_encoding,
                   num_weights=source.num_weights, num_inputs=col_noise)
    circ.gates = out
    return ExpandedCircuit(circ, tuple(steps), frames, tuple(occs), tuple(wcols), n_in, n_extra, unravel)
