"""The Numba backend's drivers: one forward walk and one adjoint walk over the op program
(hqsim/program.py) for each group of LANES samples, and one driver per pass that runs the
groups, in parallel over the cores or, for a single group, without a parallel region.

Arguments travel as three structures (namedtuples, which Numba passes as one typed value):
``p`` the program (numba_cpu.NumbaProgram), ``batch`` the call's inputs (numba_cpu.Batch:
x, w, the batch-shared factor cache, a zero-length array of the state precision) and the
pass's outputs (ForwardOut / AdjointOut in numba_cpu). Each group allocates its own Scratch.
The walks go over the program's units (numba_cpu.NumbaProgram.units): an op, or a fused block
of ops run as one pass (numba_op_steps).

Adjoint, for one sample, with f = sum_k g_k <psi_n| O_k |psi_n> and O_g = sum_k g_k O_k:
lambda_n = O_g psi_n; walking the ops backwards, for op i with (per-sample) matrix U,
psi_{i-1} = U^dagger psi_i and lambda_{i-1} = U^dagger lambda_i, while
M_ab = sum_pairs conj(lambda_i[a]) psi_{i-1}[b] gives df = 2 Re sum_ab M_ab dU_ab, which the
chain rule of numba_matrices turns into the factors' angle gradients. A fused block is its
members in turn, each with its own M (or, for a member made of RY factors, the single number
Im <lambda|Y|psi>). Only psi and lambda are stored: O(1) states per sample; the forward's
final state is reused when it was kept. For an amplitude-encoded start psi_0 = x / |x|,
df/dpsi_0 = 2 Re lambda_0, projected through the normalisation.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import prange, uint64

from ..program import OP_CXU1, OP_PERM, OP_U1, OP_U2
from . import numba_lane_kernels as lk
from . import numba_observables as obs
from .numba_jit import jit, jit_borrowing, jit_inline, jit_noalias
from .numba_lane_kernels import LANES
from .numba_op_steps import apply_block, apply_op, apply_op_gathered, undo_1q_op, undo_block, undo_u2_op
from .numba_product import low_bits, product_adjoint, product_forward
from .numba_sync import barrier, join

# Per-group work arrays: lane coefficients (c; cblock for a block's members), gradient sums
# (macc, gacc; mblock, gblock), gather scratch (tre, tim), small complex128 matrices for
# matrices and chain rules, dense-op scratch, and numba_product's: the qubits' columns and
# reduced lambdas (pv, pred), its low and high tables (ptre ptim, phre phim), the sums S and R
# (psre psim, prre prim), the contraction's rows (pa, pwork; length 1 without a prefix) and the
# lanes' 2x2 matrices of one op (pm).
Scratch = namedtuple("Scratch", "tre tim c macc gacc u fm tmp g m m2 fs_m cs as_ f1 p1 ur ui offs "
                     "cblock mblock gblock pv pred ptre ptim phre phim psre psim prre prim pa pwork pm")


@jit
def _scratch(p, proto):
    kdim = 1 << p.max_k
    maxf, nm = p.max_factors, p.max_members
    dt = proto.dtype
    nq = p.num_qubits if p.prefix_units.shape[0] > 0 else 0  # numba_product's tables: 2^(Q/2) rows
    nt, nh = 1 << low_bits(nq), 1 << (nq - low_bits(nq))
    return Scratch(
        np.empty(max(4, kdim) * LANES, dt), np.empty(max(4, kdim) * LANES, dt),
        np.empty(32 * LANES, dt), np.empty(32 * LANES, dt), np.empty(LANES, dt),
        np.zeros((4, 4), np.complex128), np.zeros((4, 4), np.complex128),
        np.zeros((4, 4), np.complex128), np.zeros((4, 4), np.complex128),
        np.zeros((4, 4), np.complex128), np.zeros((2, 2), np.complex128),
        np.zeros((maxf, 4, 4), np.complex128), np.zeros((maxf, 4, 4), np.complex128),
        np.zeros((maxf, 4, 4), np.complex128), np.zeros((maxf, 4), np.complex128),
        np.zeros((maxf, 4), np.complex128),
        np.empty(max(16, kdim * kdim), np.float64), np.empty(max(16, kdim * kdim), np.float64),
        np.empty(kdim, np.int64),
        np.zeros(nm * 8 * LANES, dt), np.zeros(nm * 8 * LANES, dt), np.zeros(nm * LANES, dt),
        np.zeros((max(1, nq), 2, LANES), np.complex128), np.zeros((max(1, nq), 2, LANES), np.complex128),
        np.zeros(nt * LANES, dt), np.zeros(nt * LANES, dt), np.zeros(nh * LANES, dt), np.zeros(nh * LANES, dt),
        np.zeros(nh * LANES, dt), np.zeros(nh * LANES, dt), np.zeros(nt * LANES, dt), np.zeros(nt * LANES, dt),
        np.zeros((nh, LANES), np.complex128), np.zeros((nh, LANES), np.complex128),
        np.zeros((LANES, 4), np.complex128))


# ---------------------------------------------------------------- forward
@jit_inline
def _amp_scale(xb, amp_start, amp_size):
    """(m, |x / m|) of the amplitude block, m its largest magnitude: x / m has entries in
    [-1, 1], so the squares neither overflow (|x| ~ 1e200) nor underflow (|x| ~ 1e-200);
    unit amplitudes are (x / m) / |x / m| and |x| = m |x / m|. (hqsim.ir.validate.unit_amplitudes)"""
    m = 0.0
    for j in range(amp_size):
        m = max(m, abs(xb[amp_start + j]))
    s = 0.0
    for j in range(amp_size):
        v = xb[amp_start + j] / m
        s += v * v
    return m, np.sqrt(s)


@jit_borrowing
def _initial_state(p, batch, b0, re, im, lo, hi):
    """Rows [lo, hi) of |0...0> or of the lanes' normalised amplitude-encoded inputs."""
    re[lo * LANES:hi * LANES] = 0
    im[lo * LANES:hi * LANES] = 0
    for l in range(LANES):
        xb = batch.x[min(b0 + l, batch.x.shape[0] - 1)]  # padding lanes repeat the last sample
        if p.amp_size == 0:
            if lo == 0:
                re[l] = 1
            continue
        if lo >= p.amp_size:
            continue
        m, nrm = _amp_scale(xb, p.amp_start, p.amp_size)
        for j in range(lo, min(hi, p.amp_size)):
            re[j * LANES + l] = xb[p.amp_start + j] / m / nrm


# ---------------------------------------------------------------- one group in two parts
# The walks below compute a group's pass in ``parts`` parts: 1 (the whole state at once), or
# 2, where part t of every U1 / CXU1 pass is half its row pairs (numba_lane_kernels.pair_span):
# those whose top bit other than the pass's is t, i.e. the top-bit halves (TOP) for a pass on
# any qubit but 0, the qubit-1 halves (Q1) for a pass on qubit 0. Each part has its own
# gradient sums, its own rows of dw and dx and of the observables' sums, so the result of two
# parts does not depend on which thread ran which part: a thread runs parts p_lo .. p_hi - 1,
# both (one thread) or one (two threads, numba_sync.join, on the same shared state).
#
# Two threads: a step reads and writes only its part's rows, so consecutive passes with the
# same rows need no synchronisation; a barrier sits where the rows change (the other thread's
# writes must be visible before these rows are read, and its reads done before they are
# written), before a step that reads rows it does not write (a permutation, the observables)
# and around an op that part 0's thread runs alone (ALL: 2-qubit and dense ops, fused blocks).
TOP, Q1, ALL = 0, 1, 2
# NumbaProgram.fold of a permutation op that the op after it reads through (one thread only).
FOLDED = -2


@jit_inline
def _rows(n, part, parts):
    """Rows [lo, hi) of part ``part``'s TOP half (the whole state with parts 1)."""
    if parts == 1:
        return 0, n
    return part * (n >> 1), (part + 1) * (n >> 1)


@jit_inline
def _pass_rows(p, i):
    """The rows a part of U1 / CXU1 op i covers: Q1 for a pass on qubit 0, else TOP."""
    return Q1 if p.ops[i, 1] == 0 else TOP


@jit_inline
def _enter(sync, p_lo, p_hi, parts, cur, want, nb):
    """Before a step that touches rows ``want`` while the threads' last steps touched ``cur``:
    with two threads (this one runs one of two parts), a barrier unless both are the same
    split (ALL never is). Returns (want, barriers passed)."""
    if parts - (p_hi - p_lo) == 1 and (cur != want or want == ALL):
        nb += 1
        barrier(sync, p_lo, nb)
    return want, nb


@jit_inline
def _runs_prefix(p, parts):
    """Whether this walk runs the program's prefix as one product state (numba_product): only
    whole passes (``parts`` 1) do; the split path walks the prefix's ops one by one."""
    return parts == 1 and p.prefix_units.shape[0] > 0


@jit
def _run_forward(p, batch, s, b0, re, im, sre, sim, p_lo, p_hi, parts, sync):
    """The whole program on one group's state, parts p_lo .. p_hi - 1 of ``parts``; returns the
    arrays now holding it (a permutation gathers into the spare pair (sre, sim), which then
    swaps in), the rows this thread touched last and the barriers it passed."""
    n = 1 << p.num_qubits
    product = _runs_prefix(p, parts)
    if product:
        product_forward(p, batch, s, b0, re, im)  # the prefix's units in one pass
    else:
        for part in range(p_lo, p_hi):
            lo, hi = _rows(n, part, parts)
            _initial_state(p, batch, b0, re, im, lo, hi)
    cur, nb = TOP, 0
    for u in range(p.units.shape[0]):
        if product and p.in_prefix[u]:
            continue
        i, b = p.units[u, 0], p.units[u, 1]
        kind = p.ops[i, 0]
        fold = p.fold[i] if parts == 1 and b < 0 else -1
        if fold == FOLDED:
            continue  # the next op reads through this permutation
        if fold >= 0:
            apply_op_gathered(p, batch, s, i, b0, re, im, p.fold_rows[fold], sre, sim)
            re, sre = sre, re
            im, sim = sim, im
        elif b < 0 and (kind == OP_U1 or kind == OP_CXU1):
            cur, nb = _enter(sync, p_lo, p_hi, parts, cur, _pass_rows(p, i), nb)
            apply_op(p, batch, s, i, b0, re, im, False, p_lo, p_hi, parts)
        elif b < 0 and kind == OP_PERM:
            cur, nb = _enter(sync, p_lo, p_hi, parts, cur, ALL, nb)  # it reads every row
            for part in range(p_lo, p_hi):
                lo, hi = _rows(n, part, parts)
                lk.gather_rows(re, im, n, p.perms[p.ops[i, 3]], sre, sim, lo, hi)
            re, sre = sre, re
            im, sim = sim, im
            cur = TOP
        else:  # part 0's thread alone
            cur, nb = _enter(sync, p_lo, p_hi, parts, cur, ALL, nb)
            if p_lo == 0:
                if b >= 0:
                    apply_block(p, batch, s, b, b0, re, im)
                else:
                    apply_op(p, batch, s, i, b0, re, im, False, 0, 1, 1)
    return re, im, sre, sim, cur, nb


@jit
def _forward_part(p, batch, fo, b0, re, im, sre, sim, og, p_lo, p_hi, parts, sync):
    """One group's forward, parts p_lo .. p_hi - 1 of ``parts``: og[part, l, obs] += the
    part's terms of the expectations; fo.states gets the parts' rows."""
    n = 1 << p.num_qubits
    s = _scratch(p, batch.proto)
    re, im, _, _, cur, nb = _run_forward(p, batch, s, b0, re, im, sre, sim, p_lo, p_hi, parts, sync)
    cur, nb = _enter(sync, p_lo, p_hi, parts, cur, ALL, nb)  # an observable may pair any rows
    for part in range(p_lo, p_hi):
        lo, hi = _rows(n, part, parts)
        lk.pauli_expectations(re, im, n, p.terms, p.term_coeff, og[part],
                              np.zeros(LANES, np.float64), np.zeros(LANES, np.float64), lo, hi)
        obs.diagonal_expectations(re, im, p.diag_k, p.diag_signs, p.diag_terms, p.diag_hmasks, p.diag_coeff, og[part],
                                  lo, hi)
        if fo.want_states:
            _store_state(fo.states, b0, min(LANES, batch.x.shape[0] - b0), re, im, lo, hi, p.out_perm,
                         p.has_out_perm)
        if fo.want_lanes:
            _copy_rows(re, im, fo.lanes[b0 // LANES, 0], fo.lanes[b0 // LANES, 1], lo, hi)


@jit_inline
def _forward_states(n, proto):
    """A forward's state arrays (re, im and the gather's spare pair), placed by
    numba_lane_kernels.state_block."""
    blk = lk.state_block(4, n, proto)
    return (lk.state_in_block(blk, 0, n), lk.state_in_block(blk, 1, n), lk.state_in_block(blk, 2, n),
            lk.state_in_block(blk, 3, n))


@jit_inline
def _adjoint_states(n, proto):
    """An adjoint's state arrays: _forward_states' four and lambda's pair, in one state_block."""
    blk = lk.state_block(6, n, proto)
    return (lk.state_in_block(blk, 0, n), lk.state_in_block(blk, 1, n), lk.state_in_block(blk, 2, n),
            lk.state_in_block(blk, 3, n), lk.state_in_block(blk, 4, n), lk.state_in_block(blk, 5, n))


@jit
def _forward_groups(g_lo, g_hi, p, batch, fo):
    """Groups g_lo .. g_hi - 1 one after another, in one set of state arrays: fresh ones per
    group cost a page fault per 4 KiB touched (~0.1 ms per group of 16 at Q=14, 4 MiB)."""
    n = 1 << p.num_qubits
    re, im, sre, sim = _forward_states(n, batch.proto)
    for gi in range(g_lo, g_hi):
        b0 = gi * LANES
        og = np.zeros((1, LANES, fo.out.shape[1]), np.float64)
        _forward_part(p, batch, fo, b0, re, im, sre, sim, og, 0, 1, 1, np.zeros(1, np.int64))
        for l in range(min(LANES, batch.x.shape[0] - b0)):
            fo.out[b0 + l] = og[0, l]


@jit
def _chunk(c, chunks, groups):
    """Groups [lo, hi) of chunk c of ``chunks`` equal runs (one per thread)."""
    return c * groups // chunks, (c + 1) * groups // chunks


@jit(parallel=True)
def forward_groups(p, batch, fo, threads):
    """Expectations (and final states if fo.want_states) of every sample into fo, the groups in
    ``threads`` equal runs (numba.get_num_threads(), passed in: read here it would keep Numba
    from caching this function)."""
    groups = (batch.x.shape[0] + LANES - 1) // LANES
    chunks = max(1, min(groups, threads))
    if chunks == 1:  # no parallel region: its thread wake-ups cost milliseconds on a busy machine
        _forward_groups(0, groups, p, batch, fo)
    else:
        for c in prange(chunks):
            lo, hi = _chunk(c, chunks, groups)
            _forward_groups(lo, hi, p, batch, fo)


@jit
def _forward_joined(p, batch, fo, re, im, sre, sim, og, sync):
    p_lo, p_hi = join(sync)
    if p_hi > p_lo:
        _forward_part(p, batch, fo, 0, re, im, sre, sim, og, p_lo, p_hi, 2, sync)


@jit(parallel=True)
def _forward_region(p, batch, fo, re, im, sre, sim, og, sync):
    for _ in prange(2):
        _forward_joined(p, batch, fo, re, im, sre, sim, og, sync)


@jit
def forward_split(p, batch, fo, sync, region):
    """forward_groups for a batch of one group, in two parts (above): with ``region``, on two
    threads (numba_sync.join: one, if the second does not start in time), else on this one.
    ``sync``: numba_sync.new_sync(); afterwards sync[numba_sync.STATE] says whether two threads
    ran. The result is the same either way. (The parallel region is a function of its own: in
    one compiled with parallel=True every array allocation and expression would be a parallel
    loop, each waking the threads.)"""
    n = 1 << p.num_qubits
    og = np.zeros((2, LANES, fo.out.shape[1]), np.float64)
    re, im, sre, sim = _forward_states(n, batch.proto)
    if region:
        _forward_region(p, batch, fo, re, im, sre, sim, og, sync)
    else:
        _forward_part(p, batch, fo, 0, re, im, sre, sim, og, 0, 2, 2, sync)
    for l in range(min(LANES, batch.x.shape[0])):
        for o in range(fo.out.shape[1]):
            fo.out[l, o] = og[0, l, o] + og[1, l, o]


# ---------------------------------------------------------------- adjoint
@jit_borrowing
def _amplitude_gradient(p, batch, b0, valid, lre, dx):
    """dx of the amplitude-encoded inputs: 2 Re lambda_0 through x -> x / |x|."""
    for l in range(valid):
        xb = batch.x[b0 + l]
        m, nrm = _amp_scale(xb, p.amp_start, p.amp_size)
        proj = 0.0
        for j in range(p.amp_size):
            proj += 2.0 * lre[j * LANES + l] * (xb[p.amp_start + j] / m / nrm)
        full = m * nrm  # |x|; inf only past float64's range, where the gradient is ~0
        for j in range(p.amp_size):
            unit = xb[p.amp_start + j] / m / nrm
            dx[b0 + l, p.amp_start + j] += (2.0 * lre[j * LANES + l] - unit * proj) / full


@jit
def _final_state(p, batch, ao, s, b0, re, im, sre, sim, p_lo, p_hi, parts, sync):
    """The group's final forward state (the parts' rows of it): the forward's kept states, or
    recomputed. Returns the arrays holding it, the rows touched last and the barriers passed."""
    if not (ao.have_states or ao.have_lanes):
        return _run_forward(p, batch, s, b0, re, im, sre, sim, p_lo, p_hi, parts, sync)
    n = 1 << p.num_qubits
    for part in range(p_lo, p_hi):
        lo, hi = _rows(n, part, parts)
        if ao.have_lanes:
            _copy_rows(ao.lanes[b0 // LANES, 0], ao.lanes[b0 // LANES, 1], re, im, lo, hi)
        else:
            _load_state(ao.states, b0, batch.x.shape[0], re, im, lo, hi, p.out_inv, p.has_out_perm)
    return re, im, sre, sim, TOP, 0


@jit_noalias
def _copy_rows(re, im, ore, oim, lo, hi):
    """Rows [lo, hi) of (re, im) into (ore, oim), all lanes: the kept states (numba_cpu.KeptStates)
    in and out, in the state's own layout."""
    for i0 in range(lo * LANES, hi * LANES):
        i = uint64(i0)  # unsigned: no negative-index wraparound, which keeps the loop scalar (10x)
        ore[i] = re[i]
        oim[i] = im[i]


# A group's states go to and from per-sample states (B, 2^Q) (the forward's want_states and a
# vjp given them; forward_kept's KeptStates are copied whole instead) in tiles of TILE_ROWS
# rows: lane by lane over all rows instead, each pass read or wrote one float per cache line of
# re and im, so every line crossed the cache LANES times.
TILE_ROWS = 16


@jit
def _store_state(states, b0, lanes, re, im, lo, hi, perm, permuted):
    """states[b0 + l, j] = the group's amplitude j of lane l, for lanes l < ``lanes`` and rows
    j in [lo, hi); with ``permuted``, amplitude perm[j] (the program's trailing permutation, which
    the walk left out: numba_cpu.trailing_permutation; the whole state is final here)."""
    for jb in range(lo, hi, TILE_ROWS):
        je = min(jb + TILE_ROWS, hi)
        for l in range(lanes):
            row = states[b0 + l]
            for j in range(jb, je):
                src = perm[j] if permuted else j
                row[j] = re[src * LANES + l] + 1j * im[src * LANES + l]


@jit
def _load_state(states, b0, batch_size, re, im, lo, hi, inv, permuted):
    """The group's rows [lo, hi) from states (a padding lane repeats the batch's last sample);
    with ``permuted``, row j from states' row inv[j] (back through the trailing permutation)."""
    for jb in range(lo, hi, TILE_ROWS):
        je = min(jb + TILE_ROWS, hi)
        for l in range(LANES):
            row = states[min(b0 + l, batch_size - 1)]
            for j in range(jb, je):
                src = inv[j] if permuted else j
                re[j * LANES + l] = row[src].real
                im[j * LANES + l] = row[src].imag


@jit
def _adjoint_part(p, batch, ao, b0, re, im, sre, sim, lre, lim, dws, dxs, p_lo, p_hi, parts, sync):
    """One group's adjoint, parts p_lo .. p_hi - 1 of ``parts``: each part's terms of the weight
    gradients into dws[part], of the input gradients into dxs[part]."""
    n = 1 << p.num_qubits
    valid = min(LANES, batch.x.shape[0] - b0)
    s = _scratch(p, batch.proto)
    re, im, sre, sim, cur, nb = _final_state(p, batch, ao, s, b0, re, im, sre, sim, p_lo, p_hi, parts,
                                             sync)
    cotg = np.zeros((LANES, ao.cotangent.shape[1]), np.float64)
    for l in range(valid):
        cotg[l] = ao.cotangent[b0 + l]  # padding lanes carry a zero cotangent
    cur, nb = _enter(sync, p_lo, p_hi, parts, cur, ALL, nb)  # an observable may pair any rows
    for part in range(p_lo, p_hi):
        lo, hi = _rows(n, part, parts)
        lk.apply_weighted_observable(re, im, n, p.terms, p.term_coeff, cotg, lre, lim, lo, hi)
        obs.add_diagonal_weighted(re, im, p.diag_k, p.diag_signs, p.diag_terms, p.diag_hmasks, p.diag_coeff, cotg,
                                  lre, lim, lo, hi)
    # A term that flips bits read psi's other rows, which the other thread's next step may
    # write: then the next step waits (ALL) until both are done reading.
    cur = ALL if p.any_flip else TOP
    need_x = ao.need_x
    product = _runs_prefix(p, parts)
    for u in range(p.units.shape[0] - 1, -1, -1):
        if product and p.in_prefix[u]:
            continue
        i, b = p.units[u, 0], p.units[u, 1]
        kind = p.ops[i, 0]
        if b < 0 and (kind == OP_U1 or kind == OP_CXU1):
            cur, nb = _enter(sync, p_lo, p_hi, parts, cur, _pass_rows(p, i), nb)
            undo_1q_op(p, batch, s, i, b0, valid, re, im, lre, lim, dws, dxs, need_x, p_lo, p_hi, parts)
        elif b < 0 and kind == OP_PERM and product and u == p.first_walked:
            # only the product prefix is left, and its gradients read lambda alone
            lk.gather_rows(lre, lim, n, p.inv_perms[p.ops[i, 3]], sre, sim, 0, n)
            lre, sre, lim, sim = sre, lre, sim, lim
        elif b < 0 and kind == OP_PERM:
            inv = p.inv_perms[p.ops[i, 3]]
            cur, nb = _enter(sync, p_lo, p_hi, parts, cur, ALL, nb)
            for part in range(p_lo, p_hi):
                lo, hi = _rows(n, part, parts)
                lk.gather_rows(re, im, n, inv, sre, sim, lo, hi)
            re, sre, im, sim = sre, re, sim, im
            # the spare is now the old psi, which the other thread may still be reading
            cur, nb = _enter(sync, p_lo, p_hi, parts, cur, ALL, nb)
            for part in range(p_lo, p_hi):
                lo, hi = _rows(n, part, parts)
                lk.gather_rows(lre, lim, n, inv, sre, sim, lo, hi)
            lre, sre, lim, sim = sre, lre, sim, lim
            cur = TOP
        else:  # part 0's thread alone
            cur, nb = _enter(sync, p_lo, p_hi, parts, cur, ALL, nb)
            if p_lo == 0:
                if b >= 0:
                    undo_block(p, batch, s, b, b0, valid, re, im, lre, lim, dws[0], dxs[0], need_x)
                elif kind == OP_U2:
                    undo_u2_op(p, batch, s, i, b0, valid, re, im, lre, lim, dws[0], dxs[0], need_x)
                else:  # constant ops: undo both states
                    apply_op(p, batch, s, i, b0, re, im, True, 0, 1, 1)
                    apply_op(p, batch, s, i, b0, lre, lim, True, 0, 1, 1)
    if product:  # the prefix's units from one read of lambda
        product_adjoint(p, batch, s, b0, valid, lre, lim, dws[0], dxs[0], need_x)
    if p.amp_size > 0 and need_x:
        cur, nb = _enter(sync, p_lo, p_hi, parts, cur, ALL, nb)
        if p_lo == 0:
            _amplitude_gradient(p, batch, b0, valid, lre, dxs[0])


@jit
def _adjoint_groups(g_lo, g_hi, p, batch, ao):
    """Groups g_lo .. g_hi - 1 one after another, in one set of state arrays (_forward_groups)."""
    n = 1 << p.num_qubits
    re, im, sre, sim, lre, lim = _adjoint_states(n, batch.proto)
    for gi in range(g_lo, g_hi):
        dw = ao.dw_groups[gi]
        _adjoint_part(p, batch, ao, gi * LANES, re, im, sre, sim, lre, lim, (dw, dw), (ao.dx, ao.dx), 0, 1, 1,
                      np.zeros(1, np.int64))


@jit(parallel=True)
def adjoint_groups(p, batch, ao, threads):
    """Gradients of sum(cotangent * expectations): weights per group into ao.dw_groups[group],
    inputs into ao.dx (only with ao.need_x); groups as in forward_groups."""
    groups = (batch.x.shape[0] + LANES - 1) // LANES
    chunks = max(1, min(groups, threads))
    if chunks == 1:  # no parallel region: its thread wake-ups cost milliseconds on a busy machine
        _adjoint_groups(0, groups, p, batch, ao)
    else:
        for c in prange(chunks):
            lo, hi = _chunk(c, chunks, groups)
            _adjoint_groups(lo, hi, p, batch, ao)


@jit
def _adjoint_joined(p, batch, ao, re, im, sre, sim, lre, lim, dx1, sync):
    p_lo, p_hi = join(sync)
    if p_hi > p_lo:
        _adjoint_part(p, batch, ao, 0, re, im, sre, sim, lre, lim, (ao.dw_groups[0], ao.dw_groups[1]),
                      (ao.dx, dx1), p_lo, p_hi, 2, sync)


@jit(parallel=True)
def _adjoint_region(p, batch, ao, re, im, sre, sim, lre, lim, dx1, sync):
    for _ in prange(2):
        _adjoint_joined(p, batch, ao, re, im, sre, sim, lre, lim, dx1, sync)


@jit
def adjoint_split(p, batch, ao, sync, region):
    """adjoint_groups for a batch of one group, in two parts (as forward_split). Weight
    gradients go to ao.dw_groups[0] and [1] (two rows needed), input gradients to ao.dx."""
    n = 1 << p.num_qubits
    dx1 = np.zeros_like(ao.dx)
    re, im, sre, sim, lre, lim = _adjoint_states(n, batch.proto)
    if region:
        _adjoint_region(p, batch, ao, re, im, sre, sim, lre, lim, dx1, sync)
    else:
        _adjoint_part(p, batch, ao, 0, re, im, sre, sim, lre, lim, (ao.dw_groups[0], ao.dw_groups[1]),
                      (ao.dx, dx1), 0, 2, 2, sync)
    if ao.need_x:
        for b in range(dx1.shape[0]):
            for j in range(dx1.shape[1]):
                ao.dx[b, j] += dx1[b, j]
