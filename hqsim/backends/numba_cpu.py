"""The Numba CPU backend's entry: forward and vjp of a lowered op program (hqsim/program.py).

Samples run in groups of LANES, lane-interleaved (numba_lane_kernels), groups in parallel over
the cores (numba_drivers). This module packs the program and the call into the structures the
drivers take and allocates the outputs. Modules of the backend, by role:

    numba_cpu            this entry (Python)
    numba_block_plan     the slot tables of the program's fused blocks (Python)
    numba_drivers        per-group forward and adjoint walks over the program; one driver per pass
    numba_op_steps       one op's or block's step: lane coefficients, kernel, chain rule
    numba_lane_kernels   passes over one group's lane-interleaved state (apply, undo, gather, ...)
    numba_block_kernels  a fused block's members on 2^k-row tiles of the state, in one pass
    numba_observables    diagonal observables (Z strings), all of them in one pass
    numba_product        the leading single-qubit ops on |0...0>: a product state in one pass
    numba_matrices       per-sample small matrices of ops and the chain rule to their angles
    numba_matrices_1q    scalar 2x2 fast paths of the same for single-qubit ops
    numba_jit            how all of these are compiled
    numba_cache          drops Numba's on-disk cache when any of these sources changed
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from collections import namedtuple
from dataclasses import dataclass

import numba
import numpy as np

from .numba_cache import invalidate_stale_cache

invalidate_stale_cache()  # before the Numba modules below load their cached machine code

from ..program import OP_CXU1, OP_PERM, OP_U1, OP_UK, OpProgram  # noqa: E402
from .cuda_bitmaps import BitMap, from_table  # noqa: E402
from .numba_block_plan import plan_blocks  # noqa: E402
from .numba_drivers import FOLDED, adjoint_groups, adjoint_split, forward_groups, forward_split  # noqa: E402
from .numba_lane_kernels import LANES  # noqa: E402
from .numba_matrices_1q import precompute_factors  # noqa: E402
from .numba_observables import plan_diagonal_terms  # noqa: E402
from .numba_product import prefix_mask, product_prefix  # noqa: E402
from .numba_sync import JOINED, STATE, new_sync  # noqa: E402

# A batch of one group (B <= LANES) is computed in two parts (numba_drivers: each pass in two
# halves) when Numba has two or more threads (NUMBA_NUM_THREADS, numba.set_num_threads;
# `hqsim train --threads`) and the state has at least SPLIT_MIN_QUBITS qubits. The two parts
# run on two threads (a parallel region) or both on the calling thread, whichever has been
# faster for this program and pass (_Runner): on a machine whose other core is busy, waking a
# second thread costs milliseconds, more than the call. The result is the same either way.
# Off (None) by default, as measured: on this project's shared 2-core VM (load 7-8) the
# second thread rarely starts in time and the split W2 step ran 0.81x of one thread
# (bench/RESULTS.md, issue 18, both cores). HQSIM_SPLIT_MIN_QUBITS=8 turns it on.
SPLIT_MIN_QUBITS: int | None = int(os.environ["HQSIM_SPLIT_MIN_QUBITS"]) if os.environ.get(
    "HQSIM_SPLIT_MIN_QUBITS") else None
# How many split calls ran on two threads ("joined"), on one after the second did not start in
# time ("solo"), and without a region ("direct"): for tests and benchmarks.
split_counts = {"joined": 0, "solo": 0, "direct": 0}
# The split path's wait for its second thread (numba_sync.ARRIVAL_SPINS when None); tests set
# it high so that both threads always run.
split_arrival_spins: int | None = None
# None: choose region or direct by measured time (_Runner); True / False: always one (tests).
split_region: bool | None = None
MAX_PROBE_GAP = 512  # calls between two tries of the slower way, at most


class _Runner:
    """Region or direct for one program's forward or adjoint calls: the faster so far by wall
    time (a moving average of its calls), with the other tried again after 1, 2, 4, ...
    MAX_PROBE_GAP calls (reset to 1 when the order changes), so that a machine that becomes
    quiet or busy is followed and a slow way costs at most one call in MAX_PROBE_GAP."""
    __slots__ = ("secs", "calls", "probe_at", "gap")

    def __init__(self):
        self.secs = [None, None]  # direct, region
        self.calls, self.probe_at, self.gap = 0, 0, 1

    def pick(self) -> bool:
        self.calls += 1
        direct, region = self.secs
        if region is None or direct is None:
            return region is None
        faster = region < direct
        if self.calls >= self.probe_at:
            self.probe_at = self.calls + self.gap
            self.gap = min(2 * self.gap, MAX_PROBE_GAP)
            return not faster
        return faster

    def record(self, region: bool, secs: float) -> None:
        old = self.secs[region]
        known = None not in self.secs
        before = known and self.secs[1] < self.secs[0]
        slower = known and self.secs[region] > self.secs[not region]
        # a try of the slower way replaces its figure (it may be stale); the faster averages
        self.secs[region] = secs if old is None or slower else 0.7 * old + 0.3 * secs
        if known and (self.secs[1] < self.secs[0]) != before:
            self.gap, self.probe_at = 1, self.calls + 1


_RUNNERS: "weakref.WeakKeyDictionary[OpProgram, tuple]" = weakref.WeakKeyDictionary()


def _use_split(program: OpProgram, batch: int) -> bool:
    return (SPLIT_MIN_QUBITS is not None and batch <= LANES and program.num_qubits >= SPLIT_MIN_QUBITS
            and numba.get_num_threads() >= 2)


def _run_split(program: OpProgram, which: int, driver, args) -> None:
    """driver(*args, sync, region) with region chosen as above; counts it in split_counts."""
    runners = _RUNNERS.get(program)
    if runners is None:
        runners = _RUNNERS[program] = (_Runner(), _Runner())
    runner = runners[which]
    region = runner.pick() if split_region is None else split_region
    sync = new_sync(split_arrival_spins)
    t = time.perf_counter()
    driver(*args, sync, region)
    runner.record(region, time.perf_counter() - t)
    split_counts[("joined" if sync[STATE] == JOINED else "solo") if region else "direct"] += 1


# The op program as the drivers see it: OpProgram's arrays and sizes, the walk's units and the
# fused blocks' tables (numba_block_plan.BlockPlan), the kernels' scratch sizes (most
# factors of one op, widest dense op's or block's qubit count, most members of a block), and
# whether an observable term flips bits (pairs rows: numba_drivers' split path then waits), and the
# permutations the forward folds into the pass after them (fold_permutations), and the units
# numba_product runs as one product state before the walk (prefix_units, in_prefix; the first
# unit walked, first_walked, past them: psi is not needed below it in the adjoint), and the
# program's trailing permutation when the walk leaves it out (trailing_permutation: out_perm and
# its inverse out_inv, applied only where states leave or enter as (B, 2^Q); has_out_perm).
# terms / term_coeff: the observables' terms that flip bits (numba_lane_kernels' loops, one pass
# each); diag_*: the diagonal ones (numba_observables, one pass for all).
NumbaProgram = namedtuple("NumbaProgram", "ops factors fcoef const_mats perms inv_perms wires terms "
                          "term_coeff diag_k diag_signs diag_terms diag_hmasks diag_coeff num_qubits amp_start amp_size "
                          "units blocks block_offs block_bits block_final block_ident member_kind member_real "
                          "member_pstart member_pairs max_factors max_k max_members any_flip fold fold_rows "
                          "prefix_units in_prefix first_walked out_perm out_inv has_out_perm")
# One call's inputs: x (B, n_in) float64, w (n_w,) float64, the batch-shared 2x2 matrices of
# single-qubit factors that do not read the inputs (n_f, 4) complex128, and a zero-length
# array whose dtype is the state precision (float32 for complex64, float64 for complex128).
Batch = namedtuple("Batch", "x w fcache proto")
# Forward outputs: expectations (B, n_obs) float64; final states (B, 2^Q) when want_states; the
# groups' final states in the kernels' own layout (KeptStates.lanes) when want_lanes.
ForwardOut = namedtuple("ForwardOut", "out states want_states lanes want_lanes")
# Adjoint: cotangent (B, n_obs); weight gradients per group (groups, n_w); input gradients
# (B, n_in) when need_x; the forward's final states when have_states (B, 2^Q) or have_lanes
# (KeptStates.lanes).
AdjointOut = namedtuple("AdjointOut", "cotangent dw_groups dx need_x states have_states lanes have_lanes")


@dataclass(frozen=True, eq=False)
class KeptStates:
    """A forward pass's final states kept for its vjp (forward_kept), in the kernels' layout:
    ``lanes[g, 0]`` and ``lanes[g, 1]`` the real and imaginary parts of group g's state,
    lane-interleaved (numba_lane_kernels), so the forward keeps them and the vjp restores them
    with one copy per group. As (B, 2^Q) per-sample rows each way was a transpose at one float
    per cache line, and the forward's a fresh array whose pages faulted in: ~0.4 ms per group of
    16 at Q=14, the time of 10 gate passes (bench/RESULTS.md, issue 18, session 10)."""

    lanes: np.ndarray  # (groups, 2, 2^Q * LANES), float32 (complex64) or float64 (complex128)
    batch: int         # the forward's batch size
    num_qubits: int

    @property
    def nbytes(self) -> int:
        return self.lanes.nbytes


_NO_LANES = {np.float32: np.zeros((1, 2, 1), np.float32), np.float64: np.zeros((1, 2, 1), np.float64)}


class _KeptBuffers:
    """KeptStates' arrays for reuse: a fresh one costs a page fault per 4 KiB on first touch
    (8 MiB, W1 Q=14 B=64: 1.9 ms, a tenth of the forward), while a training step drops its
    KeptStates in the backward, before the next forward asks for the same shape. An array comes
    back here only when its KeptStates is garbage (weakref.finalize): none is shared."""

    def __init__(self, keep: int = 2):
        self.free: list[np.ndarray] = []
        self.keep = keep
        self.lock = threading.Lock()

    def take(self, shape, dtype) -> np.ndarray:
        with self.lock:
            for i, a in enumerate(self.free):
                if a.shape == shape and a.dtype == dtype:
                    return self.free.pop(i)
        return np.empty(shape, dtype)

    def give_back(self, a: np.ndarray) -> None:
        with self.lock:
            self.free.append(a)
            del self.free[:-self.keep]  # the most recent few only


_KEPT_BUFFERS = _KeptBuffers()

_PROGRAMS: "weakref.WeakKeyDictionary[OpProgram, NumbaProgram]" = weakref.WeakKeyDictionary()


def numba_program(program: OpProgram) -> NumbaProgram:
    """The drivers' view of ``program``, built once per program (a training step calls the
    backend four times)."""
    packed = _PROGRAMS.get(program)
    if packed is None:
        ops = program.ops
        uk = ops[ops[:, 0] == OP_UK]
        plan = plan_blocks(program)
        units = plan.units
        prefix = product_prefix(ops, program.wires, program.perms, units, program.num_qubits, program.amp_size)
        in_prefix = prefix_mask(prefix, len(units))
        terms, coeff = program.terms, program.term_coeff
        row, inverse = trailing_permutation(program, units, in_prefix)
        if row >= 0:
            units, in_prefix = units[:-1], in_prefix[:-1]
            out_perm, out_inv = program.perms[row], program.inv_perms[row]
            terms, coeff = terms_before_permutation(terms, coeff, inverse)
        else:
            out_perm = out_inv = np.zeros(1, program.perms.dtype)
        diag = plan_diagonal_terms(terms, coeff, program.num_qubits)
        packed = NumbaProgram(
            ops, program.factors, program.fcoef, program.const_mats, program.perms, program.inv_perms,
            program.wires, diag.others, diag.others_coeff, diag.k, diag.signs, diag.terms, diag.hmasks, diag.coeff,
            program.num_qubits, program.amp_start,
            program.amp_size, units,
            # no blocks: a 1-d array, for which the drivers compile without the block kernels
            plan.blocks if len(plan.blocks) else np.zeros(0, np.int64), plan.offs, plan.bits, plan.final, plan.ident,
            plan.member_kind, plan.member_real, plan.member_pstart, plan.member_pairs,
            max(1, int(ops[:, 4].max()) if program.num_ops else 1),
            max(int(uk[:, 4].max()) if len(uk) else 1, plan.max_k), plan.max_members,
            bool(np.any(program.terms[:, 1] != 0)) if len(program.terms) else False,
            *fold_permutations(program, units, in_prefix), prefix, in_prefix,
            int(np.argmin(in_prefix)) if not in_prefix.all() else len(in_prefix), out_perm, out_inv, row >= 0)
        _PROGRAMS[program] = packed
    return packed


def trailing_permutation(program: OpProgram, units: np.ndarray, in_prefix: np.ndarray) -> tuple[int, BitMap | None]:
    """(perms row, bit map of its inverse) of a permutation op that the walk can leave out, or
    (-1, None): the walk's last unit, when every observable term is diagonal (Z strings) and the
    permutation is affine over GF(2) (runs of CNOT, SWAP and X are). Its observables then become
    diagonal terms on the state before it (terms_before_permutation): W1's last CNOT ring is a
    gather pass fewer forward and two fewer backward. The (B, 2^Q) states the backend hands out
    or takes in still hold the state after it (numba_drivers._store_state, _load_state)."""
    if not len(units):
        return -1, None
    i, b = units[-1]
    if b >= 0 or program.ops[i, 0] != OP_PERM or in_prefix[-1]:
        return -1, None
    if len(program.terms) and np.any(program.terms[:, 1] != 0):
        return -1, None
    row = int(program.ops[i, 3])
    inverse = from_table(program.inv_perms[row], program.num_qubits)
    return (row, inverse) if inverse is not None else (-1, None)


def terms_before_permutation(terms: np.ndarray, coeff: np.ndarray, inverse: BitMap) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal terms (Z strings, program.terms' layout) measured after the permutation
    psi'[i] = psi[perm[i]], as terms on psi: <psi'| Z_S |psi'> = sum_j |psi_j|^2
    (-1)^popcount(inv(j) & S), with ``inverse`` the bit map of inv: each mask pulled back
    through it, and the sign its constant gives."""
    terms, coeff = terms.copy(), coeff.copy()
    for t in range(len(terms)):
        terms[t, 2], flip = inverse.pull_back(int(terms[t, 2]))
        if flip:
            coeff[t] = -coeff[t]
    return terms, coeff


def fold_permutations(program: OpProgram, units: np.ndarray, in_prefix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the forward walk runs a basis permutation and the single-qubit pass after it as one
    pass (numba_lane_kernels.gather_apply_1q): ``fold[i]`` is FOLDED for such a permutation op,
    the row of ``rows`` the next op reads its input through (the permutation composed with that
    op's CNOT, for a CXU1), and -1 for every other op. Ops inside fused blocks are left alone,
    and so is a permutation whose next unit runs in the product prefix (``in_prefix``: before
    the walk, numba_product)."""
    ops = program.ops
    fold = np.full(program.num_ops, -1, np.int64)
    rows = []
    idx = np.arange(1 << program.num_qubits)
    for u in range(len(units) - 1):
        (i, b), (j, bj) = units[u], units[u + 1]
        if b >= 0 or bj >= 0 or ops[i, 0] != OP_PERM or ops[j, 0] not in (OP_U1, OP_CXU1) or in_prefix[u + 1]:
            continue
        perm = program.perms[ops[i, 3]]
        if ops[j, 0] == OP_CXU1:  # CNOT(control q1 -> target q0) first: psi'[r] = psi[cnot(r)]
            nq = program.num_qubits
            cbit, tbit = 1 << (nq - 1 - int(ops[j, 2])), 1 << (nq - 1 - int(ops[j, 1]))
            perm = perm[np.where(idx & cbit, idx ^ tbit, idx)]
        fold[i], fold[j] = FOLDED, len(rows)
        rows.append(perm)
    table = np.asarray(rows, np.int32).reshape(len(rows), -1) if rows else np.zeros((1, 1), np.int32)
    return fold, table


# The last weight-only factor table per program: a training step's forward, its vjp and the
# next validation forward use the same weights, and building the table costs ~60 us per call.
_FACTORS: "weakref.WeakKeyDictionary[OpProgram, tuple]" = weakref.WeakKeyDictionary()


def _factor_table(p: NumbaProgram, program: OpProgram, w: np.ndarray) -> np.ndarray:
    """The 2x2 matrices of the program's factors that do not depend on the inputs, for weights
    ``w`` (float64); the drivers only read it, so calls with equal weights share one."""
    key = w.tobytes()
    hit = _FACTORS.get(program)
    if hit is not None and hit[0] == key:
        return hit[1]
    fcache = np.zeros((max(1, program.factors.shape[0]), 4), dtype=np.complex128)
    precompute_factors(p, w, np.zeros(max(1, program.num_inputs)), fcache)
    _FACTORS[program] = (key, fcache)
    return fcache


def _batch(p: NumbaProgram, program: OpProgram, x, w, real_dtype) -> Batch:
    w = np.ascontiguousarray(w, np.float64)
    return Batch(np.ascontiguousarray(x, np.float64), w, _factor_table(p, program, w), np.zeros(0, real_dtype))


def _complex(real_dtype):
    return np.complex64 if real_dtype == np.float32 else np.complex128


def forward(program: OpProgram, x: np.ndarray, w: np.ndarray, real_dtype=np.float32,
            want_states: bool = False):
    """Expectations (B, n_obs) float64 and, if asked, final states (B, 2^Q) complex.

    x (B, n_in), w (n_w,): any float arrays (read, not mutated). real_dtype np.float32 runs
    complex64 states, np.float64 complex128."""
    out, states, _ = _forward(program, x, w, real_dtype, want_states, False)
    return out, states


def forward_kept(program: OpProgram, x: np.ndarray, w: np.ndarray, real_dtype=np.float32):
    """(expectations (B, n_obs), KeptStates): forward with the final states kept for ``vjp``
    (``final_states=``) in the kernels' layout; a training step's forward."""
    out, _, lanes = _forward(program, x, w, real_dtype, False, True)
    kept = KeptStates(lanes, x.shape[0], program.num_qubits)
    weakref.finalize(kept, _KEPT_BUFFERS.give_back, lanes)
    return out, kept


def _forward(program, x, w, real_dtype, want_states, want_lanes):
    batch = x.shape[0]
    p = numba_program(program)
    out = np.zeros((batch, program.num_observables), dtype=np.float64)
    states = np.zeros((batch, 2 ** program.num_qubits) if want_states else (1, 1), dtype=_complex(real_dtype))
    if want_lanes:  # a group per LANES samples (the split path's one group included)
        lanes = _KEPT_BUFFERS.take(((batch + LANES - 1) // LANES, 2, (2 ** program.num_qubits) * LANES),
                                   np.dtype(real_dtype))
    else:
        lanes = _NO_LANES[np.dtype(real_dtype).type]
    args = (p, _batch(p, program, x, w, real_dtype), ForwardOut(out, states, want_states, lanes, want_lanes))
    if _use_split(program, batch):
        _run_split(program, 0, forward_split, args)
    else:
        forward_groups(*args, numba.get_num_threads())
    return out, (states if want_states else None), (lanes if want_lanes else None)


def vjp(program: OpProgram, x: np.ndarray, w: np.ndarray, cotangent: np.ndarray,
        real_dtype=np.float32, need_inputs: bool = True, final_states=None):
    """(dweights (n_w,), dinputs (B, n_in) or None) of sum(cotangent * expectations).

    cotangent (B, n_obs). ``final_states``, if the forward pass kept them (B, 2^Q) or
    forward_kept did (KeptStates), spares recomputing the forward."""
    batch = x.shape[0]
    cdtype = _complex(real_dtype)
    lanes, have_lanes = _NO_LANES[np.dtype(real_dtype).type], isinstance(final_states, KeptStates)
    if have_lanes:
        lanes = _kept_lanes(final_states, program, batch, real_dtype)
        final_states = None
    elif final_states is not None:
        final_states = np.ascontiguousarray(final_states, cdtype)
    p = numba_program(program)
    split = _use_split(program, batch)
    groups = 2 if split else (batch + LANES - 1) // LANES  # the split path: a row per thread
    dw = np.zeros((groups, max(1, program.num_weights)), dtype=np.float64)
    dx = np.zeros((batch, max(1, x.shape[1])), dtype=np.float64)
    kept = final_states if final_states is not None else np.zeros((1, 1), cdtype)
    args = (p, _batch(p, program, x, w, real_dtype),
            AdjointOut(np.ascontiguousarray(cotangent, np.float64), dw, dx, need_inputs, kept,
                       final_states is not None, lanes, have_lanes))
    if split:
        _run_split(program, 1, adjoint_split, args)
    else:
        adjoint_groups(*args, numba.get_num_threads())
    dweights = dw.sum(axis=0)[:program.num_weights]
    return dweights, (dx[:, :x.shape[1]] if need_inputs else None)


def _kept_lanes(kept: KeptStates, program: OpProgram, batch: int, real_dtype) -> np.ndarray:
    """kept.lanes, checked to be a forward_kept of this program, batch size and precision
    (the layout has no other marks: a mismatch would read another pass's states)."""
    if kept.num_qubits != program.num_qubits or kept.batch != batch:
        raise ValueError(f"final_states: kept states of {kept.batch} samples on {kept.num_qubits} qubits, but "
                         f"this vjp has {batch} samples on {program.num_qubits} qubits; pass the KeptStates "
                         "that forward_kept returned for these inputs")
    if kept.lanes.dtype != np.dtype(real_dtype):
        raise ValueError(f"final_states: kept states are {kept.lanes.dtype}, this vjp runs {np.dtype(real_dtype)}; "
                         "use the same real_dtype for forward_kept and vjp")
    return kept.lanes
