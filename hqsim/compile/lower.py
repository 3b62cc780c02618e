"""Lowering a (compiled) circuit and its observables to the op program (hqsim/program.py).

Fusion happens here: every run of single-qubit gates on one qubit becomes one U1 op (its
factors multiply per sample inside the kernel; adjacent constant factors are multiplied now);
pending single-qubit runs are absorbed into a following parametric two-qubit gate (U2); a
CNOT whose target is next touched by a single-qubit gate becomes one CXU1 op with that gate's
run (the ring PQCs of W2 alternate CNOT and RY on the target: one pass per pair instead of a
permutation pass plus a gate pass); other runs of CNOT / SWAP become one basis permutation
(PERM) instead of one pass per gate.

Blocks found by the fusion pass (hqsim/compile/fuse.py) lower to consecutive member ops (U1,
CXU1, CZ: every CNOT of a block becomes a CXU1 op, with its target's next run or the identity,
so that its permutation stays inside the block's qubits) and one row of the program's
``blocks`` table.
"""
from __future__ import annotations

import numpy as np

from ..ir import CONST, GATES, Circuit, Gate, Param
from ..ir.gates import decomposition_steps
from ..ir.observables import as_observable
from ..program import (BLOCK_FIELDS, F_CONST, F_NAMES, MAX_PERM_QUBITS, OP_CXU1, OP_CZ, OP_PERM, OP_U1,
                       OP_U2, OP_UK, CXU1_GATE, CZ_GATE, OpProgram, gate_permutation, inverse_permutations)
from .fuse import FusedCircuit

# gate name -> the factor code that computes it (the kernels' factor list in hqsim/program.py)
FACTOR_CODES = {name: code for code, name in enumerate(F_NAMES) if code != F_CONST}


class _Factor:
    """code, param (None for constants), wire, matrix (constants)."""
    __slots__ = ("code", "param", "wire", "matrix")

    def __init__(self, code, param=None, wire=0, matrix=None):
        self.code, self.param, self.wire, self.matrix = code, param, wire, matrix


def one_qubit_factors(g: Gate) -> list[_Factor]:
    """A single-qubit gate as factors in application order (constants folded to a matrix;
    Rot and U3 as their GateSpec decomposition)."""
    if g.is_constant:
        return [_Factor(F_CONST, matrix=g.unitary())]
    steps = decomposition_steps(g.name, g.params)
    if all(name in FACTOR_CODES for name, _ in steps):
        return [_Factor(FACTOR_CODES[name], params[0]) for name, params in steps]
    raise ValueError(f"cannot lower single-qubit gate {g!r}")


def _const_factor(f: _Factor) -> _Factor:
    if f.param is not None and f.param.is_constant and f.code != F_CONST:
        return _Factor(F_CONST, wire=f.wire, matrix=_factor_matrix(f.code, f.param.offset))
    return f


def _factor_matrix(code: int, angle: float) -> np.ndarray:
    return GATES[F_NAMES[code]].matrix(angle)


def _push_factor(run: list[_Factor], f: _Factor) -> None:
    f = _const_factor(f)
    if f.code == F_CONST and run and run[-1].code == F_CONST:
        run[-1] = _Factor(F_CONST, matrix=f.matrix @ run[-1].matrix)
    else:
        run.append(f)


class _Builder:
    def __init__(self, num_qubits: int):
        self.q = num_qubits
        self.ops: list[list[int]] = []
        self.factors: list[list[int]] = []
        self.fcoef: list[tuple[float, float]] = []
        self.mats: list[np.ndarray] = []
        self.mat_len = 0
        self.perms: list[np.ndarray] = []
        self.perm_tables: dict[tuple, np.ndarray] = {}  # (gate, qubits) -> its PERM table (read only)
        self.wires: list[int] = []
        self.pending: dict[int, list[_Factor]] = {}
        # target -> control of a CNOT that opens the target's pending run (emitted as CXU1)
        self.control_of: dict[int, int] = {}
        self.open_perm: np.ndarray | None = None
        self.open_perm_qubits: set[int] = set()
        self.blocks: list[list[int]] = []  # first op, op count, first wire, qubit count

    # -- constants ----------------------------------------------------------------------
    def add_matrix(self, m: np.ndarray) -> int:
        off = self.mat_len
        flat = np.ascontiguousarray(m, dtype=np.complex128).reshape(-1)
        self.mats.append(flat)
        self.mat_len += flat.size
        return off

    def add_factors(self, fs: list[_Factor], embed_one_qubit: bool) -> int:
        start = len(self.factors)
        for f in fs:
            mat = -1
            if f.code == F_CONST:
                m = f.matrix
                if embed_one_qubit and m.shape == (2, 2):
                    m = np.kron(m, np.eye(2)) if f.wire == 0 else np.kron(np.eye(2), m)
                mat = self.add_matrix(m)
            p: Param | None = f.param
            source = CONST if p is None or p.is_constant else p.source
            index = 0 if source == CONST else p.index
            scale = 0.0 if source == CONST else p.scale
            offset = 0.0 if p is None else p.offset
            wire = 2 if (f.code == F_CONST and embed_one_qubit) else f.wire
            self.factors.append([f.code, source, index, wire, mat])
            self.fcoef.append((scale, offset))
        return start

    # -- emission -----------------------------------------------------------------------
    def _emit(self, row):
        self.ops.append(row)

    def close_perm(self):
        if self.open_perm is not None:
            self._emit([OP_PERM, -1, -1, len(self.perms), 0, -1])
            self.perms.append(self.open_perm)
            self.open_perm = None
            self.open_perm_qubits = set()

    def flush_controlled_by(self, qubit: int):
        for target in [t for t, c in self.control_of.items() if c == qubit]:
            self.flush(target)

    def flush(self, qubit: int):
        # A fused CNOT controlled by this qubit acts before anything that follows on it.
        self.flush_controlled_by(qubit)
        run = self.pending.pop(qubit, None)
        control = self.control_of.pop(qubit, -1)
        if control < 0:
            if not run:
                return
            if len(run) == 1 and run[0].code == F_CONST and np.allclose(run[0].matrix, np.eye(2), atol=1e-15):
                return
        elif not run:  # the CNOT alone (its target's next gate came later than a flush)
            run = [_Factor(F_CONST, matrix=np.eye(2, dtype=np.complex128))]
        start = self.add_factors(run, embed_one_qubit=False)
        # The open permutation run is emitted only when closed, so this U1 lands before it.
        # That is valid: a single-qubit gate on a qubit the open run touches closes the run
        # first (one_qubit), and a fused CNOT closes it too (fused_cnot), so a pending run
        # commutes with the whole open run.
        self._emit([OP_U1 if control < 0 else OP_CXU1, qubit, control, start, len(run), -1])

    def fused_cnot(self, g: Gate):
        """CNOT(c -> t) whose target's next gate is single-qubit: it opens t's pending run."""
        control, target = g.qubits
        self.flush(control)
        self.flush(target)
        if control in self.open_perm_qubits or target in self.open_perm_qubits:
            self.close_perm()
        self.control_of[target] = control
        self.pending[target] = []

    def one_qubit(self, g: Gate):
        if g.qubits[0] in self.open_perm_qubits:
            self.close_perm()
        run = self.pending.setdefault(g.qubits[0], [])
        for f in one_qubit_factors(g):
            _push_factor(run, f)

    def permutation(self, g: Gate):
        for q in g.qubits:
            self.flush(q)
        if 2 ** self.q > 2 ** MAX_PERM_QUBITS:
            self.close_perm()
            self.u2_const(g)
            return
        key = (g.name, g.qubits)  # W1's and W2's rings repeat their CNOTs layer after layer
        p = self.perm_tables.get(key)
        if p is None:
            p = self.perm_tables[key] = gate_permutation(self.q, g.qubits, g.unitary())
        cur = self.open_perm
        self.open_perm_qubits.update(g.qubits)
        self.open_perm = p.astype(np.int32) if cur is None else cur[p].astype(np.int32)

    def u2_const(self, g: Gate):
        start = self.add_factors([_Factor(F_CONST, matrix=g.unitary(), wire=2)], embed_one_qubit=True)
        self._emit([OP_U2, g.qubits[0], g.qubits[1], start, 1, -1])

    def two_qubit(self, g: Gate):
        q0, q1 = g.qubits
        for q in (q0, q1):  # fused CNOTs on or controlled by these qubits come first
            if q in self.control_of:
                self.flush(q)
            self.flush_controlled_by(q)
        lead = []
        for wire, q in ((0, q0), (1, q1)):
            for f in self.pending.pop(q, []):
                f.wire = wire
                lead.append(f)
        self.close_perm()
        if g.is_constant:
            main = [_Factor(F_CONST, matrix=g.unitary(), wire=2)]
        else:
            main = [_Factor(FACTOR_CODES[g.name], g.params[0], wire=2)]
        fs = lead + main
        start = self.add_factors(fs, embed_one_qubit=True)
        self._emit([OP_U2, q0, q1, start, len(fs), -1])

    def cz(self, g: Gate):
        for q in g.qubits:
            self.flush(q)
        self.close_perm()
        self._emit([OP_CZ, g.qubits[0], g.qubits[1], 0, 0, -1])

    def block(self, gates, qubits):
        """A fusion block: its member ops, then a ``blocks`` row if there are two or more."""
        for q in qubits:  # earlier pending work on these qubits stays outside the block
            self.flush(q)
        if self.open_perm_qubits.intersection(qubits):
            self.close_perm()
        first = len(self.ops)
        for g in gates:
            if len(g.qubits) == 1:
                self.one_qubit(g)
            elif g.name == CXU1_GATE:
                self.fused_cnot(g)
            else:
                self.cz(g)
        for q in qubits:
            self.flush(q)
        if len(self.ops) - first >= 2:
            self.blocks.append([first, len(self.ops) - first, len(self.wires), len(qubits)])
            self.wires.extend(qubits)

    def k_qubit(self, g: Gate):
        for q in g.qubits:
            self.flush(q)
        self.close_perm()
        start = len(self.wires)
        self.wires.extend(g.qubits)
        self._emit([OP_UK, -1, -1, start, len(g.qubits), self.add_matrix(g.unitary())])


def lower(circuit: Circuit | FusedCircuit, observables) -> OpProgram:
    """Lower ``circuit`` (already passed through hqsim.compile passes; a FusedCircuit lowers its
    blocks as blocks) and its observables."""
    blocks = ()
    if isinstance(circuit, FusedCircuit):
        circuit, blocks = circuit.circuit, circuit.blocks
    b = _Builder(circuit.num_qubits)
    fuse = _cnots_to_fuse(circuit.gates)
    starts = {blk.start: blk for blk in blocks}
    i = 0
    while i < len(circuit.gates):
        if i in starts:
            blk = starts[i]
            b.block(circuit.gates[blk.start:blk.stop], blk.qubits)
            i = blk.stop
            continue
        g = circuit.gates[i]
        k = len(g.qubits)
        if k == 1:
            b.one_qubit(g)
        elif fuse[i]:
            b.fused_cnot(g)
        elif k == 2 and g.spec is not None and g.spec.permutation:
            b.permutation(g)
        elif g.name == CZ_GATE:
            b.cz(g)
        elif k == 2:
            b.two_qubit(g)
        else:
            b.k_qubit(g)
        i += 1
    for q in sorted(b.pending):
        b.flush(q)
    b.close_perm()
    terms, coeffs = lower_observables(observables, circuit.num_qubits)
    dim = 2 ** circuit.num_qubits
    perms = np.stack(b.perms) if b.perms else np.zeros((0, dim), dtype=np.int32)
    enc = circuit.amplitude_encoding
    return OpProgram(
        num_qubits=circuit.num_qubits, num_weights=circuit.num_weights, num_inputs=circuit.num_inputs,
        ops=np.asarray(b.ops, dtype=np.int32).reshape(-1, 6),
        factors=np.asarray(b.factors, dtype=np.int32).reshape(-1, 5),
        fcoef=np.asarray(b.fcoef, dtype=np.float64).reshape(-1, 2),
        const_mats=np.concatenate(b.mats) if b.mats else np.zeros(1, dtype=np.complex128),
        perms=perms, inv_perms=inverse_permutations(perms),
        wires=np.asarray(b.wires if b.wires else [0], dtype=np.int32),
        amp_start=enc.start if enc else 0, amp_size=enc.size if enc else 0,
        terms=terms, term_coeff=coeffs, num_observables=len(observables),
        blocks=np.asarray(b.blocks, dtype=np.int32).reshape(-1, BLOCK_FIELDS))


def _cnots_to_fuse(gates) -> list[bool]:
    """gates[i] is a CNOT whose target is next touched by a single-qubit gate."""
    fuse = [False] * len(gates)
    next_gate: dict[int, int] = {}
    for i in range(len(gates) - 1, -1, -1):
        g = gates[i]
        if g.name == CXU1_GATE:
            j = next_gate.get(g.qubits[1])
            fuse[i] = j is not None and len(gates[j].qubits) == 1
        for q in g.qubits:
            next_gate[q] = i
    return fuse


def lower_observables(observables, num_qubits: int):
    rows, coeffs = [], []
    for k, o in enumerate(observables):
        for t in as_observable(o).terms:
            flip = sign = ny = 0
            for q, p in t.paulis:
                bit = 1 << (num_qubits - 1 - q)
                if p in "XY":
                    flip |= bit
                if p in "YZ":
                    sign |= bit
                ny += p == "Y"
            rows.append((k, flip, sign, ny % 4))
            coeffs.append(t.coeff)
    return np.asarray(rows, dtype=np.int64).reshape(-1, 4), np.asarray(coeffs, dtype=np.float64)
