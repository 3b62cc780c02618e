"""The lowered op program: the compact contract between the compiler and every fast backend.

The Numba backend (hqsim/backends/numba_cpu.py) and the CUDA kernels (kernels/program.cuh)
interpret exactly these arrays. Nothing here depends on the compiler or on any backend.

Ops (``ops``, int32, shape (n_ops, OP_FIELDS)); qubit q's bit in a basis index is 1 << (Q-1-q):

    kind      OP_U1: a fused single-qubit gate on q0 — the product of its factors
              OP_U2: a fused two-qubit gate on (q0, q1), q0 the high bit of the 4x4 frame
              OP_PERM: a basis permutation psi'[i] = psi[perm[i]] (runs of CNOT / SWAP / X)
              OP_CZ: sign flip where both q0 and q1 are 1
              OP_UK: a constant dense 2^k x 2^k matrix on k qubits listed in ``wires``
              OP_CXU1: CNOT(control q1 -> target q0) then a fused single-qubit gate on q0 (like
                       U1); one pass: rows whose control bit is set read the pair swapped
    q0, q1    qubits (-1 where unused)
    fstart    first factor (U1, CXU1, U2) | perm row (PERM) | first wire (UK)
    fcount    number of factors (U1, CXU1, U2) | k (UK)
    mat       offset into ``const_mats`` (UK)

Factors (``factors``, int32, shape (n_f, F_FIELDS)) multiply in order: factor 0 acts first,
U = F[n-1] ... F[1] F[0]. ``fcoef[f] = (scale, offset)``: the angle is
``scale * value + offset`` with value ``weights[index]`` (WEIGHT), ``inputs[b, index]``
(INPUT) or 0 (CONST). Every parametric factor is F(a) = exp(-i a G / 2) for its generator G
(PhaseShift: G = diag(0, -2)), which is all the adjoint needs: dF/da = -i/2 G F.

    code      F_CONST (matrix at ``mat``: 2x2 in U1, 4x4 in U2's frame), F_RX, F_RY, F_RZ,
              F_PHASE, F_CRX, F_CRY, F_CRZ, F_RXX, F_RYY, F_RZZ
    source    CONST, WEIGHT or INPUT (hqsim.ir.params' codes, re-exported here for backends)
    index     weight or input index
    wire      in U2: 0 = acts on q0, 1 = on q1 (one-qubit codes); controlled codes: 2 = control
              q0 / target q1, 3 = control q1 / target q0; RXX/RYY/RZZ and F_CONST: 2
    mat       offset into ``const_mats`` (F_CONST)

Blocks (``blocks``, int32, shape (n_blocks, BLOCK_FIELDS)), from the fusion pass
(hqsim/compile/fuse.py): ops ``first .. first+count-1`` act only on the ``k`` qubits
``wires[wstart:wstart+k]`` and may run as one pass over the state (a CXU1 member's CNOT is
then an index map inside the block). Members are U1, CXU1 and CZ ops. A backend that does
not interpret blocks runs the member ops as they stand: the table only annotates.

    first, count, wstart, k

Observables (``terms``): one row per Pauli string: (observable index, flip mask (X|Y bits),
sign mask (Y|Z bits), number of Y mod 4) and ``term_coeff``. P|i> = i^nY (-1)^popcount(i & sign)
|i ^ flip>.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import weakref

import numpy as np

from .ir.params import CONST, INPUT, WEIGHT  # noqa: F401 - factor sources, re-exported for backends

OP_U1, OP_U2, OP_PERM, OP_CZ, OP_UK, OP_CXU1 = 0, 1, 2, 3, 4, 5
MAX_PERM_QUBITS = 22  # a PERM table holds 2^Q int32 entries (16 MiB at 22); above, CNOTs are U2 ops
OP_FIELDS = 6  # kind, q0, q1, fstart, fcount, mat
(F_CONST, F_RX, F_RY, F_RZ, F_PHASE, F_CRX, F_CRY, F_CRZ, F_RXX, F_RYY, F_RZZ) = range(11)
F_FIELDS = 5  # code, source, index, wire, mat
BLOCK_FIELDS = 4  # first op, op count, first wire, k
OP_NAMES = {OP_U1: "U1", OP_U2: "U2", OP_PERM: "PERM", OP_CZ: "CZ", OP_UK: "UK", OP_CXU1: "CXU1"}
# The gates the gate-specific ops run (GateSpec names); U1/U2 take any gate as factors, UK a
# constant matrix, PERM any permutation gate (its table from the gate's matrix).
CXU1_GATE = "CNOT"  # OP_CXU1: this gate, then a U1 run on its target
CZ_GATE = "CZ"      # OP_CZ
# The kernels' factor list: code k computes the matrix of gate F_NAMES[k] (a GateSpec name) from
# its angle in closed form; F_CONST is a constant matrix. hqsim/compile/lower.py picks the code
# of a gate from here, so a gate the kernels learn is one entry here and one in the kernels.
F_NAMES = ["CONST", "RX", "RY", "RZ", "PhaseShift", "CRX", "CRY", "CRZ", "RXX", "RYY", "RZZ"]


@dataclass(frozen=True, eq=False)
class OpProgram:
    num_qubits: int
    num_weights: int
    num_inputs: int
    ops: np.ndarray          # int32 (n_ops, OP_FIELDS)
    factors: np.ndarray      # int32 (n_f, F_FIELDS)
    fcoef: np.ndarray        # float64 (n_f, 2)
    const_mats: np.ndarray   # complex128 (n,)
    perms: np.ndarray        # int32 (n_perm, 2^Q) forward permutations
    inv_perms: np.ndarray    # int32 (n_perm, 2^Q) their inverses
    wires: np.ndarray        # int32 (n,) qubit lists of UK ops
    amp_start: int           # amplitude encoding: inputs[:, amp_start:amp_start+amp_size]
    amp_size: int            # 0 = start from |0...0>
    terms: np.ndarray        # int64 (n_terms, 4): obs, flip, sign, nY mod 4
    term_coeff: np.ndarray   # float64 (n_terms,)
    num_observables: int
    blocks: np.ndarray = field(default_factory=lambda: np.zeros((0, BLOCK_FIELDS), np.int32))

    @property
    def num_ops(self) -> int:
        return int(self.ops.shape[0])

    def describe(self) -> str:
        lines = [f"OpProgram: {self.num_qubits} qubits, {self.num_ops} ops, "
                 f"{self.factors.shape[0]} factors, {self.num_observables} observables, "
                 f"{self.blocks.shape[0]} blocks"]
        block_at = {int(b[0]): b for b in self.blocks}
        member_until = -1
        for i, op in enumerate(self.ops):
            if i in block_at:
                first, count, ws, k = (int(v) for v in block_at[i])
                member_until = first + count - 1
                lines.append(f"  block on q{','.join(str(q) for q in self.wires[ws:ws + k])}:")
            pad = "    | " if i <= member_until else "  "
            kind, q0, q1, fs, fc, _ = (int(v) for v in op)
            if kind in (OP_U1, OP_U2, OP_CXU1):
                fs_names = [F_NAMES[self.factors[f, 0]] for f in range(fs, fs + fc)]
                lines.append(f"{pad}{OP_NAMES[kind]} q{q0}{'' if q1 < 0 else f',q{q1}'}: {' '.join(fs_names)}")
            else:
                lines.append(f"{pad}{OP_NAMES[kind]} q{q0},{q1}")
        return "\n".join(lines)


def cnot_permutation(num_qubits: int, control: int, target: int) -> np.ndarray:
    """The PERM table of CNOT(control -> target): psi'[i] = psi[perm[i]] (an involution)."""
    idx = np.arange(2 ** num_qubits, dtype=np.int64)
    cbit, tbit = 1 << (num_qubits - 1 - control), 1 << (num_qubits - 1 - target)
    return np.where(idx & cbit, idx ^ tbit, idx).astype(np.int32)


def gate_permutation(num_qubits: int, qubits, matrix: np.ndarray) -> np.ndarray:
    """The PERM table of a permutation gate (0/1 ``matrix``) on ``qubits``: psi'[i] = psi[perm[i]].

    Row i reads the basis state whose gate bits are source[local(i)]: i XOR the bits by which
    they differ, so one gather from a 2^k table of masks (k the gate's qubits) builds it."""
    k = len(qubits)
    shifts = [num_qubits - 1 - q for q in qubits]  # gate qubit 0 = its most significant bit
    source = matrix.real.argmax(axis=1).tolist()   # the gate's output state r reads source[r]
    flip = np.array([sum(1 << s for j, s in enumerate(shifts) if (r ^ source[r]) >> (k - 1 - j) & 1)
                     for r in range(2 ** k)], dtype=np.int64)
    idx = np.arange(2 ** num_qubits, dtype=np.int64)
    local = (idx >> shifts[0]) & 1
    for s in shifts[1:]:
        local <<= 1
        local |= (idx >> s) & 1
    return (idx ^ flip[local]).astype(np.int32)


def inverse_permutations(perms: np.ndarray) -> np.ndarray:
    """Row-wise inverses of a (n_perm, 2^Q) stack of PERM tables."""
    inv = np.empty_like(perms)
    if perms.size:
        rows = np.arange(perms.shape[0])[:, None]
        inv[rows, perms] = np.arange(perms.shape[1], dtype=perms.dtype)[None, :]
    return inv


CNOT_FRAME = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=np.complex128)  # control q0


_EXPANDED: "weakref.WeakKeyDictionary[OpProgram, OpProgram]" = weakref.WeakKeyDictionary()


def expand_fused_cnots(program: OpProgram) -> OpProgram:
    """The same program with every CXU1 op split into its CNOT and a U1 op, for backends whose
    kernels do not interpret CXU1 (cuStateVec). The CNOT joins a PERM op just before it, or
    becomes a one-CNOT PERM op; above MAX_PERM_QUBITS (no permutation tables) it is a constant
    U2 op instead. Cached per program, so a backend's per-program uploads still hit their
    caches."""
    if not np.any(program.ops[:, 0] == OP_CXU1):
        return program
    cached = _EXPANDED.get(program)
    if cached is not None:
        return cached
    tables = program.num_qubits <= MAX_PERM_QUBITS
    ops, perms = [], list(program.perms)  # every PERM op owns its row
    factors, fcoef, mats = program.factors, program.fcoef, program.const_mats
    if not tables:  # one constant CNOT factor (4x4, control = the U2 frame's q0) shared by all
        cnot_factor = factors.shape[0]
        factors = np.vstack([factors.reshape(-1, F_FIELDS), [[F_CONST, 0, 0, 2, mats.shape[0]]]]).astype(np.int32)
        fcoef = np.vstack([fcoef.reshape(-1, 2), [[0.0, 0.0]]])
        mats = np.concatenate([mats, CNOT_FRAME.reshape(-1)])
    for row in program.ops:
        if row[0] != OP_CXU1:
            ops.append(row)
            continue
        target, control = int(row[1]), int(row[2])
        if not tables:
            ops.append(np.array([OP_U2, control, target, cnot_factor, 1, -1], dtype=np.int32))
        elif ops and ops[-1][0] == OP_PERM:  # join the permutation just before: one pass, not two
            r = int(ops[-1][3])
            perms[r] = perms[r][cnot_permutation(program.num_qubits, control, target)]  # psi[before[cnot[i]]]
        else:
            ops.append(np.array([OP_PERM, -1, -1, len(perms), 0, -1], dtype=np.int32))
            perms.append(cnot_permutation(program.num_qubits, control, target))
        ops.append(np.array([OP_U1, target, -1, row[3], row[4], -1], dtype=np.int32))
    perm_arr = np.stack(perms).astype(np.int32) if perms else program.perms
    out = OpProgram(program.num_qubits, program.num_weights, program.num_inputs,
                    np.asarray(ops, dtype=np.int32).reshape(-1, OP_FIELDS), factors, fcoef,
                    mats, perm_arr, inverse_permutations(perm_arr), program.wires,
                    program.amp_start, program.amp_size, program.terms, program.term_coeff,
                    program.num_observables)
    _EXPANDED[program] = out
    return out
