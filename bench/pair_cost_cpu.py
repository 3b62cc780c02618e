"""Does a "two-U1" pass pay on this core? Issue 18 ("Fewer passes"), measured before wiring anything.

    NUMBA_NUM_THREADS=1 taskset -c 1 python bench/pair_cost_cpu.py [--qubits 10,14] [--rounds 7] [--leads]
    python bench/pair_cost_cpu.py --asm

Outcome (bench/RESULTS.md, 'Issue 18, kernels (helper "kern")'): it does not pay for complex
members (forward 0.9-1.3x, adjoint < 1x), so nothing of it is wired into hqsim.

The idea under test (bench/RESULTS.md, "Gate fusion on CPU"): a single-qubit pass is bound by the
loads and stores of its 16-lane rows, so two U1 ops on distinct qubits a, b (they commute) applied
in ONE pass, U_a (x) U_b on each 4-row group (i, i^mb, i^ma, i^ma^mb) held in registers, direct
row addresses, no tables, should halve the state traffic of the U1 passes. The prototype kernels
below (not part of hqsim: nothing is wired unless they pay) are timed against two of the backend's
own single passes on the same state, in the same process, for one 16-lane group (float32 states):

- forward: ``apply_2u1`` (per-lane complex 2x2 matrices, and the real-matrix path) vs two
  ``numba_lane_kernels.apply_1q``;
- adjoint, complex: ``undo_2u1`` (psi and lam sent back through V_a then V_b in registers, both
  members' matrix gradients M += conj(lam) psi summed per 4-row group) vs two ``undo_1q_m`` (the backend's
  one-pass undo as of 173240e, ``undo_1q_fused``; it now sums Pauli sums, ``undo_1q``);
- adjoint, real (RY ops): ``undo_2ry`` (each member's Im <lam|Y|psi>) vs two ``undo_ry``.

Every prototype is first checked against the two single passes (states and gradient sums). Times
are CPU time of this thread (best of ``--rounds``), in ns per state row (one amplitude of all 16
lanes). Each row also gives the pair's arithmetic as a share of the multiply-add peak measured in the
same process, ``bench.roofline.fma_gflops`` (12 independent chains of 8-wide multiply-adds held in
registers, the core's issue rate; this script's own copy of that loop, ``register_fma_peak``, became
roofline's in dd65fb3; until then roofline's loop measured about half the peak). The model counts multiply-add
slots (a multiply or a multiply-add is one slot = 2 flops, as the ceilings count), per row, lane
and member: complex 2x2 forward 8 slots (4 per real output), real 4; complex adjoint 24 (V on psi
and lam, 8 outer-product sums of 2 slots per pair), real adjoint 10 (V on psi and lam, 4 per pair
for Im <lam|Y|psi>).

``--asm`` prints, per kernel, its 256-bit multiply-adds and its 256-bit moves to or from the
stack (register spills) in the compiled code, and exits (compiled in a fresh cache directory).

``--leads`` adds the complex pair in two 8-lane chunks per 4-row group (``apply_2u1_8``), and
single-pass variants measured on the way (not pairs, not wired): one matrix for
all lanes (a weights-only op: 8 scalars instead of 8 lane vectors); the per-lane complex pass in
a plain loop (no ``pair_span``, no real/complex branch) with the backend's chained sums; the same
with balanced sums ((a x + b y) - (c z + d w): dependency depth 3 instead of the 4-deep
multiply-add chain Python's left-to-right sum compiles to), forward and adjoint.
"""
from __future__ import annotations

import argparse
import functools
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
if "--asm" in sys.argv:  # Numba shows no assembly for code loaded from its cache: compile afresh
    import tempfile
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="pair_cost_asm_")

import numpy as np  # noqa: E402
from numba import uint64  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fusion_cost_cpu import best_cpu_time  # noqa: E402
from hqsim.backends import numba_lane_kernels as lk  # noqa: E402
from hqsim.backends.numba_jit import jit_inline, jit_noalias  # noqa: E402

LANES = lk.LANES
Z = uint64(0)


# ---------------------------------------------------------------- prototype kernels
@jit_inline
def _mv(c, l, xr, xi, yr, yi):
    """(x, y) -> c (x, y) for one lane, c a per-lane complex 2x2 in the lane kernels' layout."""
    L = uint64(LANES)
    ar, ai, br, bi = c[l], c[L + l], c[2 * L + l], c[3 * L + l]
    cr, ci, dr, di = c[4 * L + l], c[5 * L + l], c[6 * L + l], c[7 * L + l]
    return (ar * xr - ai * xi + br * yr - bi * yi, ar * xi + ai * xr + br * yi + bi * yr,
            cr * xr - ci * xi + dr * yr - di * yi, cr * xi + ci * xr + dr * yi + di * yr)


@jit_inline
def _mv_real(c, l, xr, xi, yr, yi):
    L = uint64(LANES)
    a, b, cc, d = c[l], c[2 * L + l], c[4 * L + l], c[6 * L + l]
    return a * xr + b * yr, a * xi + b * yi, cc * xr + d * yr, cc * xi + d * yi


@jit_inline
def _rows4(blk2, j0, ba, bb):
    """The group of 4 rows (r0, r1 = r0^mb, r2 = r0^ma, r3 = r0^ma^mb) at (blk2, j0), as offsets."""
    L = uint64(LANES)
    r0 = (uint64(blk2) + uint64(j0)) * L
    r2 = r0 + uint64(ba) * L
    return r0, r0 + uint64(bb) * L, r2, r2 + uint64(bb) * L


@jit_inline
def _load4(re, im, r0, r1, r2, r3, l):
    """Lane l of rows r0..r3: (re, im) of each."""
    return (re[r0 + l], im[r0 + l], re[r1 + l], im[r1 + l],
            re[r2 + l], im[r2 + l], re[r3 + l], im[r3 + l])


@jit_inline
def _store4(re, im, r0, r1, r2, r3, l, v0r, v0i, v1r, v1i, v2r, v2i, v3r, v3i):
    """Lane l of rows r0..r3 <- (v0, v1, v2, v3)."""
    re[r0 + l] = v0r
    im[r0 + l] = v0i
    re[r1 + l] = v1r
    im[r1 + l] = v1i
    re[r2 + l] = v2r
    im[r2 + l] = v2i
    re[r3 + l] = v3r
    im[r3 + l] = v3i


@jit_inline
def _quad(re, im, ca, cb, r0, r1, r2, r3, real):
    """U_a (x) U_b on rows (r0, r1 = r0^mb, r2 = r0^ma, r3 = r0^ma^mb), all lanes, in registers."""
    for l0 in range(LANES):
        l = uint64(l0)
        x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i = _load4(re, im, r0, r1, r2, r3, l)
        if real:
            y0r, y0i, y1r, y1i = _mv_real(cb, l, x0r, x0i, x1r, x1i)
            y2r, y2i, y3r, y3i = _mv_real(cb, l, x2r, x2i, x3r, x3i)
            o0r, o0i, o2r, o2i = _mv_real(ca, l, y0r, y0i, y2r, y2i)
            o1r, o1i, o3r, o3i = _mv_real(ca, l, y1r, y1i, y3r, y3i)
        else:
            y0r, y0i, y1r, y1i = _mv(cb, l, x0r, x0i, x1r, x1i)
            y2r, y2i, y3r, y3i = _mv(cb, l, x2r, x2i, x3r, x3i)
            o0r, o0i, o2r, o2i = _mv(ca, l, y0r, y0i, y2r, y2i)
            o1r, o1i, o3r, o3i = _mv(ca, l, y1r, y1i, y3r, y3i)
        _store4(re, im, r0, r1, r2, r3, l, o0r, o0i, o1r, o1i, o2r, o2i, o3r, o3i)


@jit_noalias
def apply_2u1(re, im, n, ba, bb, ca, cb, real):
    """U_a on bit ba and U_b on bit bb (ba > bb) in one pass; ``real``: both matrices real."""
    for blk in range(0, n, 2 * ba):
        for blk2 in range(blk, blk + ba, 2 * bb):
            for j0 in range(bb):
                r0, r1, r2, r3 = _rows4(blk2, j0, ba, bb)
                if real:
                    _quad(re, im, ca, cb, r0, r1, r2, r3, True)
                else:
                    _quad(re, im, ca, cb, r0, r1, r2, r3, False)


@jit_inline
def _quad8(re, im, ca, cb, r0, r1, r2, r3, lb):
    """_quad (complex) on the 8 lanes from ``lb``: the '8-lane chunk' variant (one ymm register
    per value instead of LLVM's two interleaved 8-wide iterations of the 16-lane loop)."""
    for l0 in range(8):
        l = lb + uint64(l0)
        x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i = _load4(re, im, r0, r1, r2, r3, l)
        y0r, y0i, y1r, y1i = _mv(cb, l, x0r, x0i, x1r, x1i)
        y2r, y2i, y3r, y3i = _mv(cb, l, x2r, x2i, x3r, x3i)
        o0r, o0i, o2r, o2i = _mv(ca, l, y0r, y0i, y2r, y2i)
        o1r, o1i, o3r, o3i = _mv(ca, l, y1r, y1i, y3r, y3i)
        _store4(re, im, r0, r1, r2, r3, l, o0r, o0i, o1r, o1i, o2r, o2i, o3r, o3i)


@jit_noalias
def apply_2u1_8(re, im, n, ba, bb, ca, cb):
    """apply_2u1 (complex) in two 8-lane chunks per 4-row group."""
    for blk in range(0, n, 2 * ba):
        for blk2 in range(blk, blk + ba, 2 * bb):
            for j0 in range(bb):
                r0, r1, r2, r3 = _rows4(blk2, j0, ba, bb)
                _quad8(re, im, ca, cb, r0, r1, r2, r3, Z)
                _quad8(re, im, ca, cb, r0, r1, r2, r3, uint64(8))


@jit_inline
def _outer2(a, l, lxr, lxi, lyr, lyi, pr, pi, qr, qi, mxr, mxi, myr, myi, sr, si, tr, ti):
    """a[(2e+part)L + l] += conj(lam) psi over two row pairs (lx, ly | p, q) and (mx, my | s, t)."""
    L = uint64(LANES)
    a[l] += lxr * pr + lxi * pi + mxr * sr + mxi * si
    a[L + l] += lxr * pi - lxi * pr + mxr * si - mxi * sr
    a[2 * L + l] += lxr * qr + lxi * qi + mxr * tr + mxi * ti
    a[3 * L + l] += lxr * qi - lxi * qr + mxr * ti - mxi * tr
    a[4 * L + l] += lyr * pr + lyi * pi + myr * sr + myi * si
    a[5 * L + l] += lyr * pi - lyi * pr + myr * si - myi * sr
    a[6 * L + l] += lyr * qr + lyi * qi + myr * tr + myi * ti
    a[7 * L + l] += lyr * qi - lyi * qr + myr * ti - myi * tr


# The two members' sums are two argument arrays on purpose: as two local arrays, or as two
# offsets into one argument, LLVM left the whole lane loop scalar (~170 ns per row, measured).
@jit_noalias
def undo_1q_m(re, im, lre, lim, n, bit, c, macc):
    """The backend's one-pass adjoint step as it was when this was measured (173240e's
    ``numba_lane_kernels.undo_1q_fused``, cbit 0): psi and lam undone, the matrix gradient M per
    lane summed. The backend now sums four Pauli sums instead (``undo_1q``); the pair prototypes
    here sum M, so they are compared with this."""
    L = uint64(LANES)
    a = np.zeros(8 * LANES, re.dtype)
    for blk in range(0, n, 2 * bit):
        for j0 in range(bit):
            j = (uint64(blk) + uint64(j0)) * L
            k = j + uint64(bit) * L
            lk.undo_pair_1q(re, im, lre, lim, c, Z, a, Z, j, k, j, k)
    for i in range(8 * LANES):
        macc[i] += a[i]


@jit_noalias
def undo_2u1(re, im, lre, lim, n, ba, bb, va, vb, macc_a, macc_b):
    """The adjoint step of the pair: psi, lam <- V_b V_a (psi, lam), V = U^dagger, with
    macc_a += conj(lam_out) (V_a psi_out) and macc_b += conj(V_a lam_out) psi_in (each member's
    matrix gradient, as undo_1q_m's), every row loaded and stored once."""
    for blk in range(0, n, 2 * ba):
        for blk2 in range(blk, blk + ba, 2 * bb):
            for j0 in range(bb):
                r0, r1, r2, r3 = _rows4(blk2, j0, ba, bb)
                for l0 in range(LANES):
                    l = uint64(l0)
                    p0r, p0i, p2r, p2i = _mv(va, l, re[r0 + l], im[r0 + l], re[r2 + l], im[r2 + l])
                    p1r, p1i, p3r, p3i = _mv(va, l, re[r1 + l], im[r1 + l], re[r3 + l], im[r3 + l])
                    m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i = _load4(lre, lim, r0, r1, r2, r3, l)
                    _outer2(macc_a, l, m0r, m0i, m2r, m2i, p0r, p0i, p2r, p2i,
                            m1r, m1i, m3r, m3i, p1r, p1i, p3r, p3i)
                    n0r, n0i, n2r, n2i = _mv(va, l, m0r, m0i, m2r, m2i)
                    n1r, n1i, n3r, n3i = _mv(va, l, m1r, m1i, m3r, m3i)
                    q0r, q0i, q1r, q1i = _mv(vb, l, p0r, p0i, p1r, p1i)
                    q2r, q2i, q3r, q3i = _mv(vb, l, p2r, p2i, p3r, p3i)
                    _outer2(macc_b, l, n0r, n0i, n1r, n1i, q0r, q0i, q1r, q1i,
                            n2r, n2i, n3r, n3i, q2r, q2i, q3r, q3i)
                    _store4(re, im, r0, r1, r2, r3, l, q0r, q0i, q1r, q1i, q2r, q2i, q3r, q3i)
                    o0r, o0i, o1r, o1i = _mv(vb, l, n0r, n0i, n1r, n1i)
                    o2r, o2i, o3r, o3i = _mv(vb, l, n2r, n2i, n3r, n3i)
                    _store4(lre, lim, r0, r1, r2, r3, l, o0r, o0i, o1r, o1i, o2r, o2i, o3r, o3i)


@jit_noalias
def undo_2ry(re, im, lre, lim, n, ba, bb, va, vb, g_a, g_b):
    """undo_ry for a pair of RY-only ops: g_a += Im <lam|Y_a|psi> on the pair's output states,
    g_b the same on V_a's outputs, then psi, lam <- V_b V_a (psi, lam), one load and store per row."""
    for blk in range(0, n, 2 * ba):
        for blk2 in range(blk, blk + ba, 2 * bb):
            for j0 in range(bb):
                r0, r1, r2, r3 = _rows4(blk2, j0, ba, bb)
                for l0 in range(LANES):
                    l = uint64(l0)
                    x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i = _load4(re, im, r0, r1, r2, r3, l)
                    m0r, m0i, m1r, m1i, m2r, m2i, m3r, m3i = _load4(lre, lim, r0, r1, r2, r3, l)
                    g_a[l] += (m2r * x0r + m2i * x0i - m0r * x2r - m0i * x2i
                               + m3r * x1r + m3i * x1i - m1r * x3r - m1i * x3i)
                    p0r, p0i, p2r, p2i = _mv_real(va, l, x0r, x0i, x2r, x2i)
                    p1r, p1i, p3r, p3i = _mv_real(va, l, x1r, x1i, x3r, x3i)
                    n0r, n0i, n2r, n2i = _mv_real(va, l, m0r, m0i, m2r, m2i)
                    n1r, n1i, n3r, n3i = _mv_real(va, l, m1r, m1i, m3r, m3i)
                    g_b[l] += (n1r * p0r + n1i * p0i - n0r * p1r - n0i * p1i
                               + n3r * p2r + n3i * p2i - n2r * p3r - n2i * p3i)
                    q0r, q0i, q1r, q1i = _mv_real(vb, l, p0r, p0i, p1r, p1i)
                    q2r, q2i, q3r, q3i = _mv_real(vb, l, p2r, p2i, p3r, p3i)
                    _store4(re, im, r0, r1, r2, r3, l, q0r, q0i, q1r, q1i, q2r, q2i, q3r, q3i)
                    o0r, o0i, o1r, o1i = _mv_real(vb, l, n0r, n0i, n1r, n1i)
                    o2r, o2i, o3r, o3i = _mv_real(vb, l, n2r, n2i, n3r, n3i)
                    _store4(lre, lim, r0, r1, r2, r3, l, o0r, o0i, o1r, o1i, o2r, o2i, o3r, o3i)


# ---------------------------------------------------------------- ceilings and leads
@jit_noalias
def apply_1q_uniform(re, im, n, bit, u):
    """One complex 2x2 for all lanes (u: ar, ai, br, bi, cr, ci, dr, di), as scalars."""
    L = uint64(LANES)
    ar, ai, br, bi, cr, ci, dr, di = u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7]
    for blk in range(0, n, 2 * bit):
        for j0 in range(bit):
            j = (uint64(blk) + uint64(j0)) * L
            k = j + uint64(bit) * L
            for l0 in range(LANES):
                l = uint64(l0)
                xr, xi, yr, yi = re[j + l], im[j + l], re[k + l], im[k + l]
                re[j + l] = ar * xr - ai * xi + br * yr - bi * yi
                im[j + l] = ar * xi + ai * xr + br * yi + bi * yr
                re[k + l] = cr * xr - ci * xi + dr * yr - di * yi
                im[k + l] = cr * xi + ci * xr + dr * yi + di * yr


@jit_inline
def _mv_bal(c, l, xr, xi, yr, yi):
    """_mv with balanced sums: two 2-deep chains and one add per output."""
    L = uint64(LANES)
    ar, ai, br, bi = c[l], c[L + l], c[2 * L + l], c[3 * L + l]
    cr, ci, dr, di = c[4 * L + l], c[5 * L + l], c[6 * L + l], c[7 * L + l]
    return ((ar * xr + br * yr) - (ai * xi + bi * yi), (ar * xi + br * yi) + (ai * xr + bi * yr),
            (cr * xr + dr * yr) - (ci * xi + di * yi), (cr * xi + dr * yi) + (ci * xr + di * yr))


@jit_noalias
def apply_1q_plain(re, im, n, bit, c):
    """The backend's complex pass (chained sums) in apply_1q_balanced's loop: no pair_span,
    no real/complex branch; the control that separates the loop from the sums."""
    L = uint64(LANES)
    for blk in range(0, n, 2 * bit):
        for j0 in range(bit):
            j = (uint64(blk) + uint64(j0)) * L
            k = j + uint64(bit) * L
            for l0 in range(LANES):
                l = uint64(l0)
                pr, pi, qr, qi = _mv(c, l, re[j + l], im[j + l], re[k + l], im[k + l])
                re[j + l] = pr
                im[j + l] = pi
                re[k + l] = qr
                im[k + l] = qi


@jit_noalias
def apply_1q_balanced(re, im, n, bit, c):
    L = uint64(LANES)
    for blk in range(0, n, 2 * bit):
        for j0 in range(bit):
            j = (uint64(blk) + uint64(j0)) * L
            k = j + uint64(bit) * L
            for l0 in range(LANES):
                l = uint64(l0)
                pr, pi, qr, qi = _mv_bal(c, l, re[j + l], im[j + l], re[k + l], im[k + l])
                re[j + l] = pr
                im[j + l] = pi
                re[k + l] = qr
                im[k + l] = qi


@jit_noalias
def undo_1q_balanced(re, im, lre, lim, n, bit, c, macc):
    """undo_1q_m with balanced sums."""
    L = uint64(LANES)
    a = np.zeros(8 * LANES, re.dtype)
    for blk in range(0, n, 2 * bit):
        for j0 in range(bit):
            j = (uint64(blk) + uint64(j0)) * L
            k = j + uint64(bit) * L
            for l0 in range(LANES):
                l = uint64(l0)
                pr, pi, qr, qi = _mv_bal(c, l, re[j + l], im[j + l], re[k + l], im[k + l])
                lxr, lxi, lyr, lyi = lre[j + l], lim[j + l], lre[k + l], lim[k + l]
                lk._add_outer(a, Z, l, lxr, lxi, lyr, lyi, pr, pi, qr, qi)  # the backend's M sums
                re[j + l] = pr
                im[j + l] = pi
                re[k + l] = qr
                im[k + l] = qi
                mr, mi, nr, ni = _mv_bal(c, l, lxr, lxi, lyr, lyi)
                lre[j + l] = mr
                lim[j + l] = mi
                lre[k + l] = nr
                lim[k + l] = ni
    for i in range(8 * LANES):
        macc[i] += a[i]


# ---------------------------------------------------------------- measurement
# CPU time per call, best of the rounds (bench/fusion_cost_cpu.py's timer), 0.3 s per measurement
_best = functools.partial(best_cpu_time, min_time=0.3)


def _coeffs(rng, real):
    """A per-lane SU(2) matrix (RY when ``real``) in the lane kernels' layout, float32."""
    th, ph = rng.uniform(0, np.pi, LANES), (0 if real else rng.uniform(0, np.pi, LANES))
    a, b = np.cos(th / 2) * np.exp(1j * ph), -np.sin(th / 2) + 0j
    c = np.zeros(8 * LANES, np.float32)
    for e, v in enumerate((a, b, -np.conj(b), np.conj(a))):
        c[2 * e * LANES:(2 * e + 1) * LANES] = v.real
        c[(2 * e + 1) * LANES:(2 * e + 2) * LANES] = v.imag
    return c


def _check(name, got, want):
    for g, w in zip(got, want):
        scale = max(float(np.abs(w).max()), 1e-30)
        err = float(np.abs(g - w).max()) / scale
        if not err <= 1e-4:
            raise SystemExit(f"{name}: the prototype disagrees with two single passes (relative error {err:.2e})")


SLOTS_PER_ROW = {"fwd complex": 8, "fwd real": 4, "adjoint complex": 24, "adjoint real": 10}  # per member and lane


def measure(q, qa, qb, rounds, rng):
    n = 1 << q
    ba, bb = 1 << (q - 1 - qa), 1 << (q - 1 - qb)
    st = [rng.normal(size=n * LANES).astype(np.float32) * 1e-2 for _ in range(4)]
    out = {}
    for real in (False, True):
        ca, cb = _coeffs(rng, real), _coeffs(rng, real)
        s1, s2 = [x.copy() for x in st[:2]], [x.copy() for x in st[:2]]
        lk.apply_1q(*s1, n, bb, cb, real, 0, 1)
        lk.apply_1q(*s1, n, ba, ca, real, 0, 1)
        apply_2u1(*s2, n, ba, bb, ca, cb, real)
        _check(f"apply_2u1 Q={q} ({qa},{qb}) real={real}", s2, s1)
        re, im = st[0], st[1]
        two = _best(lambda: (lk.apply_1q(re, im, n, bb, cb, real, 0, 1),
                             lk.apply_1q(re, im, n, ba, ca, real, 0, 1)), rounds=rounds)
        one = _best(lambda: apply_2u1(re, im, n, ba, bb, ca, cb, real), rounds=rounds)
        out["fwd real" if real else "fwd complex"] = (two / n * 1e9, one / n * 1e9)
    acc = lambda k: np.zeros(k * LANES, np.float32)  # noqa: E731
    va, vb = _coeffs(rng, False), _coeffs(rng, False)
    s1, s2 = [x.copy() for x in st], [x.copy() for x in st]
    m1a, m1b, m2a, m2b = acc(8), acc(8), acc(8), acc(8)
    undo_1q_m(*s1, n, ba, va, m1a)
    undo_1q_m(*s1, n, bb, vb, m1b)
    undo_2u1(*s2, n, ba, bb, va, vb, m2a, m2b)
    _check(f"undo_2u1 Q={q} ({qa},{qb})", s2 + [m2a, m2b], s1 + [m1a, m1b])
    two = _best(lambda: (undo_1q_m(*st, n, ba, va, m1a),
                         undo_1q_m(*st, n, bb, vb, m1b)), rounds=rounds)
    one = _best(lambda: undo_2u1(*st, n, ba, bb, va, vb, m2a, m2b), rounds=rounds)
    out["adjoint complex"] = (two / n * 1e9, one / n * 1e9)
    va, vb = _coeffs(rng, True), _coeffs(rng, True)
    s1, s2 = [x.copy() for x in st], [x.copy() for x in st]
    g1a, g1b, g2a, g2b = acc(1), acc(1), acc(1), acc(1)
    lk.undo_ry(*s1, n, ba, 0, va, g1a, 0, 1)
    lk.undo_ry(*s1, n, bb, 0, vb, g1b, 0, 1)
    undo_2ry(*s2, n, ba, bb, va, vb, g2a, g2b)
    _check(f"undo_2ry Q={q} ({qa},{qb})", s2 + [g2a, g2b], s1 + [g1a, g1b])
    two = _best(lambda: (lk.undo_ry(*st, n, ba, 0, va, g1a, 0, 1),
                         lk.undo_ry(*st, n, bb, 0, vb, g1b, 0, 1)), rounds=rounds)
    one = _best(lambda: undo_2ry(*st, n, ba, bb, va, vb, g2a, g2b), rounds=rounds)
    out["adjoint real"] = (two / n * 1e9, one / n * 1e9)
    return out


def _header():
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout.strip() or "?"
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"git {rev} · {now} · load {_load()} · {platform.processor() or platform.machine()}"


def leads(q, rounds, rng):
    """(kernel, qubit, backend ns/row, variant ns/row) for the --leads variants."""
    n = 1 << q
    st = [rng.normal(size=n * LANES).astype(np.float32) * 1e-2 for _ in range(4)]
    rows = []
    ba, bb = 1 << (q - 1), 1 << (q - 1 - 9)  # the pair on qubits (0, 9)
    ca, cb = _coeffs(rng, False), _coeffs(rng, False)
    s1, s2 = [x.copy() for x in st[:2]], [x.copy() for x in st[:2]]
    apply_2u1(*s1, n, ba, bb, ca, cb, False)
    apply_2u1_8(*s2, n, ba, bb, ca, cb)
    _check(f"apply_2u1_8 Q={q}", s2, s1)
    rows.append(("fwd complex PAIR on (0, 9): apply_2u1 vs 8-lane chunks", 0,
                 _best(lambda: apply_2u1(st[0], st[1], n, ba, bb, ca, cb, False), rounds=rounds),
                 _best(lambda: apply_2u1_8(st[0], st[1], n, ba, bb, ca, cb), rounds=rounds)))
    for qb in (0, 3, q - 1):
        bit = 1 << (q - 1 - qb)
        c = _coeffs(rng, False)
        u = c.reshape(8, LANES)[:, 0].copy()  # lane 0's matrix for every lane
        cu = np.repeat(u, LANES).astype(np.float32)
        s1, s2 = [x.copy() for x in st[:2]], [x.copy() for x in st[:2]]
        lk.apply_1q(*s1, n, bit, cu, False, 0, 1)
        apply_1q_uniform(*s2, n, bit, u)
        _check(f"apply_1q_uniform Q={q} q={qb}", s2, s1)
        base = _best(lambda: lk.apply_1q(st[0], st[1], n, bit, cu, False, 0, 1), rounds=rounds)
        rows.append(("fwd, one matrix for all lanes", qb, base,
                     _best(lambda: apply_1q_uniform(st[0], st[1], n, bit, u), rounds=rounds)))
        s1, s2 = [x.copy() for x in st[:2]], [x.copy() for x in st[:2]]
        lk.apply_1q(*s1, n, bit, c, False, 0, 1)
        apply_1q_plain(*s2, n, bit, c)
        _check(f"apply_1q_plain Q={q} q={qb}", s2, s1)
        base = _best(lambda: lk.apply_1q(st[0], st[1], n, bit, c, False, 0, 1), rounds=rounds)
        rows.append(("fwd, plain loop, chained sums", qb, base,
                     _best(lambda: apply_1q_plain(st[0], st[1], n, bit, c), rounds=rounds)))
        s1, s2 = [x.copy() for x in st[:2]], [x.copy() for x in st[:2]]
        lk.apply_1q(*s1, n, bit, c, False, 0, 1)
        apply_1q_balanced(*s2, n, bit, c)
        _check(f"apply_1q_balanced Q={q} q={qb}", s2, s1)
        base = _best(lambda: lk.apply_1q(st[0], st[1], n, bit, c, False, 0, 1), rounds=rounds)
        rows.append(("fwd, balanced sums", qb, base,
                     _best(lambda: apply_1q_balanced(st[0], st[1], n, bit, c), rounds=rounds)))
        s1, s2 = [x.copy() for x in st], [x.copy() for x in st]
        m1, m2 = np.zeros(8 * LANES, np.float32), np.zeros(8 * LANES, np.float32)
        undo_1q_m(*s1, n, bit, c, m1)
        undo_1q_balanced(*s2, n, bit, c, m2)
        _check(f"undo_1q_balanced Q={q} q={qb}", s2 + [m2], s1 + [m1])
        base = _best(lambda: undo_1q_m(*st, n, bit, c, m1), rounds=rounds)
        rows.append(("adjoint, balanced sums", qb, base,
                     _best(lambda: undo_1q_balanced(*st, n, bit, c, m2), rounds=rounds)))
    return [(k, qb, b / n * 1e9, v / n * 1e9) for k, qb, b, v in rows]


def asm_counts():
    """(kernel, 256-bit multiply-adds, 256-bit stack moves) of the pair kernels and the backend's."""
    import re
    measure(10, 0, 9, 1, np.random.default_rng(0))  # compile every kernel
    rows = []
    for name, fn in (("apply_2u1", apply_2u1), ("undo_2u1", undo_2u1), ("undo_2ry", undo_2ry),
                     ("numba_lane_kernels.apply_1q", lk.apply_1q),
                     ("undo_1q_m (173240e's undo_1q_fused)", undo_1q_m),
                     ("numba_lane_kernels.undo_ry", lk.undo_ry)):
        asm = "\n".join(fn.inspect_asm().values())
        fma = len(re.findall(r"\bvf(?:n?m(?:add|sub))\w*ps\b[^\n]*%ymm", asm))
        spill = len(re.findall(r"^\s*vmov\w+\s[^\n]*%ymm[^\n]*\(%rsp\)|^\s*vmov\w+\s[^\n]*\(%rsp\)[^\n]*%ymm",
                               asm, re.M))
        rows.append((name, fma, spill))
    return rows


def _load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qubits", default="10,14", help="comma-separated qubit counts, each in 8..20")
    ap.add_argument("--rounds", type=int, default=7, help="timings per kernel; the best is kept")
    ap.add_argument("--leads", action="store_true", help="also time the 8-lane pair and the single-pass variants")
    ap.add_argument("--asm", action="store_true", help="count multiply-adds and register spills in the kernels' code, then exit")
    args = ap.parse_args(argv)
    try:
        qubits = [int(v) for v in args.qubits.split(",")]
    except ValueError:
        ap.error(f"--qubits: expected comma-separated integers, got {args.qubits!r}")
    if any(q < 8 or q > 20 for q in qubits):
        ap.error(f"--qubits: each must be in 8..20, got {args.qubits}")
    if args.rounds < 1:
        ap.error(f"--rounds: must be >= 1, got {args.rounds}")
    from bench.roofline import fma_gflops
    print(_header(), flush=True)
    if args.asm:
        print("| kernel | 256-bit multiply-adds | 256-bit stack moves (spills) |\n|---|---|---|")
        for name, fma, spill in asm_counts():
            print(f"| {name} | {fma} | {spill} |")
        return
    rng = np.random.default_rng(0)
    measure(qubits[0], 0, qubits[0] - 1, 1, rng)  # compile / load every kernel before any timing
    if args.leads:
        leads(qubits[0], 1, rng)
    ceil = fma_gflops(1)
    print(f"FMA peak (1 thread, this process, bench.roofline.fma_gflops): {ceil:.1f} GFLOP/s", flush=True)
    print("\nCPU ns per state row (16 lanes); 'two' = two single passes of the backend, 'pair' = one "
          "two-U1 pass; gain = two / pair; the pair's multiply-add rate (slot model in the docstring) "
          "as % of the FMA peak\n")
    print("| Q | qubits (a, b) | kind | two | pair | gain | pair % of the FMA peak |")
    print("|---|---|---|---|---|---|---|")
    for q in qubits:
        for qa, qb in ((0, 1), (3, 7), (0, q - 1), (q - 2, q - 1)):
            for kind, (two, one) in measure(q, qa, qb, args.rounds, rng).items():
                gflops = 2 * 2 * SLOTS_PER_ROW[kind] * LANES / one  # 2 members, 2 flops a slot; flops/ns
                print(f"| {q} | {qa}, {qb} | {kind} | {two:.2f} | {one:.2f} | {two / one:.2f}x | "
                      f"{100 * gflops / ceil:.0f} % |", flush=True)
    if args.leads:
        print("\nSingle passes, CPU ns per state row: the backend's kernel vs the variant\n")
        print("| Q | qubit | variant | backend | variant | gain |")
        print("|---|---|---|---|---|---|")
        for q in qubits:
            for kind, qb, base, var in leads(q, args.rounds, rng):
                print(f"| {q} | {qb} | {kind} | {base:.2f} | {var:.2f} | {base / var:.2f}x |", flush=True)
    print(f"\nFMA peak after: {fma_gflops(1):.1f} GFLOP/s · load {_load()} · "
          f"{datetime.now(timezone.utc).strftime('%H:%M UTC')}")


if __name__ == "__main__":
    main()
