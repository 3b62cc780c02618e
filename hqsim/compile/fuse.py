"""Gate fusion: group gates that act on at most k qubits into blocks that a backend applies in
one pass over the state (qsim's fuser does this for its simulators; here it is a compiler pass
that knows no backend).

``fuse_gates`` is an analysis plus a reordering: it returns the circuit with each block's gates
made consecutive (only gates on disjoint qubits change order, so the circuit means the same)
and the blocks as gate ranges with their qubits. The lowering (hqsim/compile/lower.py) turns
each block into its member ops and records the block in the program (hqsim/program.py:
``blocks``), so a backend that interprets blocks runs each as one pass and any other backend
runs the member ops one by one.

Members are single-qubit gates, CNOT and CZ: their per-sample 2x2 matrices and the CNOTs'
index maps are what the Numba block kernels apply on 2^k-row tiles of the state
(numba_block_kernels). Other gates (parametric two-qubit gates, SWAP, dense k-qubit matrices)
close the blocks on their qubits and stand alone.

Greedy, in circuit order: a fusable gate joins the open blocks on its qubits, smallest first,
merging them while the union of their qubits stays within ``max_qubits``; the blocks it cannot
take close (a ring's CNOT(2, 3) closes the block on 0, 1, 2 and takes the run on 3 along). A
block closes only when a gate on its qubits cannot join it, and open blocks are disjoint, so
emitting blocks in closing order keeps every qubit's gate order.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Circuit, Gate

FUSABLE_TWO_QUBIT = ("CNOT", "CZ")


@dataclass(frozen=True)
class FusionCosts:
    """Measured costs in CPU nanoseconds per state row (one amplitude of a 16-sample group),
    one thread, float32: ``pass_ns`` one standalone single-qubit pass; ``block_ns[k]`` one
    block on k qubits holding k single-qubit members and k-1 CNOTs (what a ring gives)."""

    pass_ns: float
    block_ns: dict


def choose_fusion_qubits(costs: FusionCosts) -> int | None:
    """The block size to fuse to, or None: the k whose block is cheapest per pass it replaces
    (its k single-qubit passes; its CNOTs would mostly ride on CXU1 ops unfused), if that beats
    the unfused passes at all."""
    best, best_ratio = None, 1.0
    for k, ns in sorted(costs.block_ns.items()):
        ratio = ns / (k * costs.pass_ns)
        if ratio < best_ratio:
            best, best_ratio = k, ratio
    return best


# Measured with ``python bench/fusion_cost_cpu.py --qubits 10,14 --ks 2,3,4,5`` (git 57547e5,
# 2026-12-05, AMD EPYC Zen 2 VM, AVX2, 2 cores, load 10-15; bench/RESULTS.md, issue 18), forward,
# complex members, Q = 10. A block of the member-by-member kernels (numba_block_kernels) costs
# 1.6-3.9x the k single-qubit passes it replaces (k = 5 to 2): on this AVX2 core a pass is bound
# by the loads and stores of the 16-lane rows rather than by the cache level they come from, so
# keeping a tile in L1 saves little, and walking a tile's 2^k scattered rows costs more. Whole
# W1 and W2 passes agree (fused 1.6-3.7x slower). Hence no fusion by default; the blocks stay
# available through ``compile_circuit(fuse=k)``.
# Re-measured on a Zen 4 VM (AVX-512; git 33f6104, 2026-12-06, bench/RESULTS.md, issue 18 session 9): blocks
# 21-31 ns per row against 2.9-6.1 for a single-qubit pass, whole W1 / W2 steps 2.6-5.4x slower fused: the same
# choice.
MEASURED_COSTS = FusionCosts(pass_ns=5.66, block_ns={2: 44.75, 3: 40.79, 4: 43.76, 5: 46.65})
# compile_circuit's default block size; None = no fusion.
FUSION_QUBITS: int | None = choose_fusion_qubits(MEASURED_COSTS)


@dataclass(frozen=True)
class FusedBlock:
    """Gates ``start:stop`` of FusedCircuit.circuit form one block on ``qubits`` (sorted)."""

    start: int
    stop: int
    qubits: tuple[int, ...]


@dataclass(frozen=True)
class FusedCircuit:
    circuit: Circuit                 # the input circuit, each block's gates consecutive
    blocks: tuple[FusedBlock, ...]   # in circuit order; gates outside every block stand alone
    max_qubits: int


def is_fusable(g: Gate) -> bool:
    return len(g.qubits) == 1 or g.name in FUSABLE_TWO_QUBIT


class _Open:
    __slots__ = ("qubits", "gates", "since")

    def __init__(self, since: int):
        self.qubits: set[int] = set()
        self.gates: list[Gate] = []
        self.since = since  # the position of its first gate in the input


def fuse_gates(circuit: Circuit, *, max_qubits: int = 3) -> FusedCircuit:
    """Blocks of gates on at most ``max_qubits`` qubits (>= 2; see the module docstring)."""
    if isinstance(max_qubits, bool) or not isinstance(max_qubits, int) or max_qubits < 2:
        raise ValueError(f"max_qubits must be an int >= 2, got {max_qubits!r}")
    out: list[Gate] = []
    blocks: list[FusedBlock] = []
    open_on: dict[int, _Open] = {}

    def close(b: _Open):
        for q in b.qubits:
            del open_on[q]
        start = len(out)
        out.extend(b.gates)
        blocks.append(FusedBlock(start, len(out), tuple(sorted(b.qubits))))

    for pos, g in enumerate(circuit.gates):
        touched = sorted({id(open_on[q]): open_on[q] for q in g.qubits if q in open_on}.values(),
                         key=lambda b: len(b.qubits))
        if not is_fusable(g):
            for b in sorted(touched, key=lambda b: b.since):
                close(b)
            out.append(g)
            continue
        kept, qubits = [], set(g.qubits)
        for b in touched:  # smallest first
            if len(qubits | b.qubits) <= max_qubits:
                kept.append(b)
                qubits |= b.qubits
            else:
                close(b)
        kept.sort(key=lambda b: b.since)  # disjoint open blocks commute; keep the input's order
        merged = _Open(kept[0].since if kept else pos)
        for b in kept:
            merged.gates.extend(b.gates)
        merged.gates.append(g)
        merged.qubits = qubits
        for q in qubits:
            open_on[q] = merged
    for b in sorted({id(b): b for b in open_on.values()}.values(), key=lambda b: b.since):
        close(b)
    return FusedCircuit(circuit.replace_gates(out), tuple(blocks), max_qubits)
