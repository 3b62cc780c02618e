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
from numba import prange

from ..program import OP_CXU1, OP_PERM, OP_U1, OP_U2
from . import numba_lane_kernels as lk
from .numba_jit import jit, jit_borrowing, jit_inline
from .numba_lane_kernels import LANES
from .numba_op_steps import apply_block, apply_op, undo_1q_op, undo_block, undo_u2_op

# Per-group work arrays: lane coefficients (c; cblock for a block's members), gradient sums
# (macc, gacc; mblock, gblock), gather scratch (tre, tim), small complex128 matrices for
# matrices and chain rules, dense-op scratch.
Scratch = namedtuple("Scratch", "tre tim c macc gacc u fm tmp g m m2 fs_m cs as_ f1 p1 ur ui offs "
                     "cblock mblock gblock")


@jit
def _scratch(p, proto):
    kdim = 1 << p.max_k
    maxf, nm = p.max_factors, p.max_members
    dt = proto.dtype
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
        np.zeros(nm * 8 * LANES, dt), np.zeros(nm * 8 * LANES, dt), np.zeros(nm * LANES, dt))


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
def _initial_state(p, batch, b0, re, im):
    """|0...0> or the lanes' normalised amplitude-encoded inputs."""
    re[:] = 0
    im[:] = 0
    for l in range(LANES):
        xb = batch.x[min(b0 + l, batch.x.shape[0] - 1)]  # padding lanes repeat the last sample
        if p.amp_size == 0:
            re[l] = 1
            continue
        m, nrm = _amp_scale(xb, p.amp_start, p.amp_size)
        for j in range(p.amp_size):
            re[j * LANES + l] = xb[p.amp_start + j] / m / nrm


@jit
def _run_forward(p, batch, s, b0, re, im, sre, sim):
    """The whole program on one group's state; returns the arrays now holding it (a
    permutation gathers into the spare pair (sre, sim), which then swaps in)."""
    n = 1 << p.num_qubits
    _initial_state(p, batch, b0, re, im)
    for u in range(p.units.shape[0]):
        i, b = p.units[u, 0], p.units[u, 1]
        if b >= 0:
            apply_block(p, batch, s, b, b0, re, im)
        elif p.ops[i, 0] == OP_PERM:
            lk.gather_rows(re, im, n, p.perms[p.ops[i, 3]], sre, sim)
            re, sre = sre, re
            im, sim = sim, im
        else:
            apply_op(p, batch, s, i, b0, re, im, False)
    return re, im, sre, sim


@jit
def _forward_group(gi, p, batch, fo):
    n = 1 << p.num_qubits
    b0 = gi * LANES
    s = _scratch(p, batch.proto)
    dt = batch.proto.dtype
    re, im, _, _ = _run_forward(p, batch, s, b0, np.empty(n * LANES, dt), np.empty(n * LANES, dt),
                                np.empty(n * LANES, dt), np.empty(n * LANES, dt))
    og = np.zeros((LANES, fo.out.shape[1]), np.float64)
    lk.pauli_expectations(re, im, n, p.terms, p.term_coeff, og,
                          np.zeros(LANES, np.float64), np.zeros(LANES, np.float64))
    for l in range(min(LANES, batch.x.shape[0] - b0)):
        fo.out[b0 + l] = og[l]
        if fo.want_states:
            for j in range(n):
                fo.states[b0 + l, j] = re[j * LANES + l] + 1j * im[j * LANES + l]


@jit(parallel=True)
def forward_groups(p, batch, fo):
    """Expectations (and final states if fo.want_states) of every sample into fo."""
    groups = (batch.x.shape[0] + LANES - 1) // LANES
    if groups == 1:  # no parallel region: its thread wake-ups cost milliseconds on a busy machine
        _forward_group(0, p, batch, fo)
    else:
        for gi in prange(groups):
            _forward_group(gi, p, batch, fo)


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
def _final_state(p, batch, ao, s, b0, re, im, sre, sim):
    """The group's final forward state: the forward's kept states, or recomputed."""
    if not ao.have_states:
        return _run_forward(p, batch, s, b0, re, im, sre, sim)
    n = 1 << p.num_qubits
    for l in range(LANES):
        src = ao.states[min(b0 + l, batch.x.shape[0] - 1)]
        for j in range(n):
            re[j * LANES + l] = src[j].real
            im[j * LANES + l] = src[j].imag
    return re, im, sre, sim


@jit
def _adjoint_group(gi, p, batch, ao):
    n = 1 << p.num_qubits
    b0 = gi * LANES
    valid = min(LANES, batch.x.shape[0] - b0)
    s = _scratch(p, batch.proto)
    dt = batch.proto.dtype
    re, im, sre, sim = _final_state(p, batch, ao, s, b0, np.empty(n * LANES, dt), np.empty(n * LANES, dt),
                                    np.empty(n * LANES, dt), np.empty(n * LANES, dt))
    lre, lim = np.empty(n * LANES, dt), np.empty(n * LANES, dt)
    cotg = np.zeros((LANES, ao.cotangent.shape[1]), np.float64)
    for l in range(valid):
        cotg[l] = ao.cotangent[b0 + l]  # padding lanes carry a zero cotangent
    lk.apply_weighted_observable(re, im, n, p.terms, p.term_coeff, cotg, lre, lim)
    dw, dx, need_x = ao.dw_groups[gi], ao.dx, ao.need_x
    for u in range(p.units.shape[0] - 1, -1, -1):
        i, b = p.units[u, 0], p.units[u, 1]
        kind = p.ops[i, 0]
        if b >= 0:
            undo_block(p, batch, s, b, b0, valid, re, im, lre, lim, dw, dx, need_x)
        elif kind == OP_U1 or kind == OP_CXU1:
            undo_1q_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x)
        elif kind == OP_U2:
            undo_u2_op(p, batch, s, i, b0, valid, re, im, lre, lim, dw, dx, need_x)
        elif kind == OP_PERM:
            inv = p.inv_perms[p.ops[i, 3]]
            lk.gather_rows(re, im, n, inv, sre, sim)
            re, sre, im, sim = sre, re, sim, im
            lk.gather_rows(lre, lim, n, inv, sre, sim)
            lre, sre, lim, sim = sre, lre, sim, lim
        else:  # constant ops: undo both states
            apply_op(p, batch, s, i, b0, re, im, True)
            apply_op(p, batch, s, i, b0, lre, lim, True)
    if p.amp_size > 0 and need_x:
        _amplitude_gradient(p, batch, b0, valid, lre, dx)


@jit(parallel=True)
def adjoint_groups(p, batch, ao):
    """Gradients of sum(cotangent * expectations): weights per group into ao.dw_groups[group],
    inputs into ao.dx (only with ao.need_x)."""
    groups = (batch.x.shape[0] + LANES - 1) // LANES
    if groups == 1:  # no parallel region: its thread wake-ups cost milliseconds on a busy machine
        _adjoint_group(0, p, batch, ao)
    else:
        for gi in prange(groups):
            _adjoint_group(gi, p, batch, ao)
