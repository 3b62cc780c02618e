"""The qulacs peer: an hqsim Circuit as a qulacs ParametricQuantumCircuit (C++ gate kernels,
complex128 states), run sample by sample from Python: the forward sets the input angles,
updates the state and reads <Z_q>; the backward is qulacs' own adjoint,
``ParametricQuantumCircuit.backprop`` of the observable sum_q g_q Z_q, which re-runs the forward
itself. qulacs has no batch dimension and starts ``backprop`` from |0...0>, so circuits with
amplitude encoding are refused (W2's encoder).

Conventions bridged here: qulacs' rotations are exp(+i a P / 2) (hqsim's are exp(-i a P / 2)),
so every angle is passed negated and its gradient negated back; qulacs' qubit k is bit k of a
basis index while hqsim's qubit q is bit Q-1-q, so hqsim qubit q is qulacs qubit Q-1-q.
"""
from __future__ import annotations

import numpy as np
from qulacs import GeneralQuantumOperator, Observable, ParametricQuantumCircuit, QuantumState

from hqsim.ir import CONST, INPUT, WEIGHT

_ADD = {"RX": "add_parametric_RX_gate", "RY": "add_parametric_RY_gate", "RZ": "add_parametric_RZ_gate"}


class QulacsCircuit:
    """forward(x, w) -> (B, n_obs); forward_backward(x, w, g) -> (out, dx (B, n_in), dw (n_w,))."""

    def __init__(self, circuit, measured):
        if circuit.amplitude_encoding is not None:
            raise ValueError("qulacs peer: amplitude encoding is not supported (backprop starts from |0...0>)")
        nq = self.nq = circuit.num_qubits
        self.n_in, self.n_w = circuit.num_inputs, circuit.num_weights
        self.wire = [nq - 1 - q for q in measured]
        self.circ = ParametricQuantumCircuit(nq)
        src, idx, scale, offset = [], [], [], []
        for g in circuit.gates:
            wires = [nq - 1 - q for q in g.qubits]
            if g.name == "CNOT":
                self.circ.add_CNOT_gate(*wires)
            elif g.name == "H":
                self.circ.add_H_gate(wires[0])
            elif g.name in _ADD:
                p = g.params[0]
                getattr(self.circ, _ADD[g.name])(wires[0], 0.0)
                src.append(p.source)
                idx.append(p.index if p.source != CONST else 0)
                scale.append(p.scale if p.source != CONST else 0.0)
                offset.append(p.offset)
            else:
                raise ValueError(f"qulacs peer: unsupported gate {g.name} (supported: RX, RY, RZ, H, CNOT)")
        self.src, self.idx = np.array(src), np.array(idx)
        self.scale, self.offset = np.array(scale), np.array(offset)
        self.from_x, self.from_w = self.src == INPUT, self.src == WEIGHT
        self.obs = []
        for k in self.wire:
            o = Observable(nq)
            o.add_operator(1.0, f"Z {k}")
            self.obs.append(o)
        self.state = QuantumState(nq)

    def _set_angles(self, xb, w):
        values = np.where(self.from_x, xb[self.idx % max(1, self.n_in)], 0.0)
        values = np.where(self.from_w, w[self.idx % max(1, self.n_w)], values)
        for k, a in enumerate(self.scale * values + self.offset):
            self.circ.set_parameter(k, -float(a))  # qulacs' sign convention

    def _sample(self, xb, w):
        self._set_angles(xb, w)
        self.state.set_zero_state()
        self.circ.update_quantum_state(self.state)
        return [o.get_expectation_value(self.state) for o in self.obs]

    def forward(self, x, w):
        w = np.asarray(w, np.float64)
        return np.array([self._sample(np.asarray(xb, np.float64), w) for xb in x])

    def forward_backward(self, x, w, g):
        w = np.asarray(w, np.float64)
        out = np.empty((len(x), len(self.obs)))
        dx, dw = np.zeros((len(x), self.n_in)), np.zeros(self.n_w)
        for b, xb in enumerate(np.asarray(x, np.float64)):
            out[b] = self._sample(xb, w)
            weighted = GeneralQuantumOperator(self.nq)
            for k, gk in zip(self.wire, g[b]):
                weighted.add_operator(float(gk), f"Z {k}")
            dangle = -np.asarray(self.circ.backprop(weighted)) * self.scale  # d/d(angle) back to hqsim's sign
            np.add.at(dx[b], self.idx[self.from_x], dangle[self.from_x])
            np.add.at(dw, self.idx[self.from_w], dangle[self.from_w])
        return out, dx, dw
