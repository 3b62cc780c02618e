"""Roofline accounting for hqsim's Numba backend: a cost model counted from the compiled
program, and the ceilings measured on the machine (Numba loops, 1 or more threads).

The model (per sample; S = the state's bytes, 2^Q amplitudes x 8 B in complex64; "a pass"
reads and writes the whole state once, 2S; counts come from ``compile_circuit(...).program``):

- forward: write the initial state (S), which already holds the leading single-qubit ops on
  |0...0> (numba_product: the product prefix, no pass of their own); one pass per other U1,
  CXU1 (the CNOT is an index map inside the pass), CZ and PERM op (a gather into the spare
  state: read S, write S), except a PERM that the next U1 / CXU1 reads through
  (numba_cpu.fold_permutations: no pass of its own) and a last PERM the walk leaves out when
  every observable is diagonal (numba_cpu.trailing_permutation: no pass either way); the
  diagonal observables (Z strings) read the state once for all of them (S), every other Pauli
  term once each (S each).
- forward+backward: the forward above, plus storing the final state for the backward (S); the
  backward reloads it (2S), builds lambda = sum_t g_t P_t psi (zero lambda S; the diagonal
  terms together read psi and read+write lambda, 3S; every other term the same, 3S each), then
  undoes every op outside the prefix on psi and lambda in one pass (4S per U1, CXU1, CZ or PERM
  op: the backward folds no permutation; a PERM right after the prefix undoes lambda alone, 2S),
  and reads lambda once for the prefix's gradients (S).
- flops (a multiply-add counts 2, as in the FMA ceiling; an add 1), per amplitude, what the
  kernels execute (hqsim/backends/numba_lane_kernels.py, numba_observables.py): a complex 2x2
  op 12 forward (the three-multiply form, numba_lane_kernels._matvec: per amplitude pair two
  adds, two products summed, four multiply-adds: 24) and 37 backward (undo psi 12, undo lambda
  12, the three Pauli sums 13); an all-RY op (real matrix, one gradient number) 6 forward and 16
  backward; PERM and CZ 0; the diagonal terms together 4 + H/2 forward (|psi|^2, its add to
  the total and to half of the H distinct high-bit masks' sums on average) and 4 + H/2 for
  lambda; any other term 10 (both parts of <psi|P|psi>) and 11 for lambda; the product prefix 6
  forward (one complex product per amplitude) and 16 backward (two complex multiply-adds per
  amplitude of lambda). Until 2026-12-06 the complex op took 14 forward and 40 backward.
- the data a pass touches live in the group's working set: 16 samples (one SIMD group) per
  thread, 2 states (state + the gather's spare) forward, 3 (psi, lambda, spare) backward.

Ceilings (measured in the benchmark's run, once per thread count; each thread its own buffer;
the figure is the sum over threads of each thread's fastest of many millisecond-long timings,
i.e. the hardware while a thread holds its core, since the machine is shared):
- stream: an in-place read-modify-write loop (a = a*s + t, float32) over a buffer of a given
  size, 2 x size bytes per sweep (the same access pattern as a pass), at each working-set size
  and in memory (64 MiB per thread). Each thread's buffer starts on a cache line, as hqsim's
  state arrays do (Numba allocates arrays 32-byte aligned; NumPy only promises 16). Until
  2026-12-05 the buffer was a plain NumPy array: at 16 bytes past a 32-byte boundary every
  other 32-byte access straddles two cache lines, and the loop measured about half the
  machine's bandwidth (one thread, this VM: 92-94 against 184 GB/s in L2, 87 against 133-143
  GB/s at 6 MiB), so which figure a run got depended on where the allocator put the buffer;
- FMA: twelve independent chains of float32 multiply-adds held in vector registers (enough
  in flight to cover the FMA latency on both units), 2 flops each.
A point is bound by whichever ceiling gives the longer time for its bytes and flops; its
efficiency is the achieved rate as a % of that ceiling.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from hqsim.backends.numba_cpu import FOLDED, numba_program
from hqsim.program import F_RY, OP_CXU1, OP_CZ, OP_PERM, OP_U1

LANES = 16          # samples per SIMD group (hqsim.backends.numba_lane_kernels.LANES)
AMP_BYTES = 8       # complex64: two float32 per amplitude
FLOPS_FWD = {"complex": 12, "real": 6, "move": 0}
FLOPS_BWD = {"complex": 37, "real": 16, "move": 0}
FLOPS_EXPECT_TERM, FLOPS_LAMBDA_TERM = 10, 11
FLOPS_PRODUCT_FWD, FLOPS_PRODUCT_BWD = 6, 16
IN_MEMORY_BYTES = 64 << 20


def classify_ops(program, ops=None):
    """Counts of the program's state passes (of ``ops``, rows of program.ops; all by default):
    {"complex", "real", "move"} (move = PERM and CZ)."""
    if program.blocks.shape[0]:
        raise ValueError("roofline model: fused blocks are not modelled (compile without fusion)")
    counts = {"complex": 0, "real": 0, "move": 0}
    for kind, _, _, fs, fc, _ in (program.ops if ops is None else ops):
        if kind in (OP_U1, OP_CXU1):
            real = bool(np.all(program.factors[fs:fs + fc, 0] == F_RY))
            counts["real" if real else "complex"] += 1
        elif kind in (OP_PERM, OP_CZ):
            counts["move"] += 1
        else:
            raise ValueError(f"roofline model: op kind {int(kind)} is not modelled (U1, CXU1, PERM, CZ only)")
    return counts


def per_sample_cost(program):
    """Bytes moved and flops per sample under the model above, forward and forward+backward."""
    n = 1 << program.num_qubits
    s = n * AMP_BYTES
    c = classify_ops(program)
    passes = sum(c.values())
    prefix, lambda_only = prefix_as_run(program)
    cp = classify_ops(program, program.ops[prefix])
    walked = {k: c[k] - cp[k] for k in c}  # the ops outside the product prefix
    walk = numba_program(program)
    trailing = int(walk.has_out_perm)  # a last permutation the walk leaves out (its observables pulled back)
    fwd_passes = passes - len(prefix) - folded_permutations(program) - trailing
    bwd_passes = passes - len(prefix) - trailing
    product = int(len(prefix) > 0)
    others, diag_reads = int(walk.terms.shape[0]), int(walk.diag_terms.shape[0] > 0)
    diag_flops = diag_reads * (4 + walk.diag_hmasks.shape[0] / 2)
    fwd_bytes = s + 2 * s * fwd_passes + s * (others + diag_reads)
    fwd_flops = n * (sum(FLOPS_FWD[k] * v for k, v in walked.items()) + FLOPS_PRODUCT_FWD * product
                     + FLOPS_EXPECT_TERM * others + diag_flops)
    bwd_bytes = (s + 2 * s + s + 3 * s * (others + diag_reads) + 4 * s * bwd_passes - 2 * s * lambda_only
                 + s * product)
    bwd_flops = n * (sum(FLOPS_BWD[k] * v for k, v in walked.items()) + FLOPS_PRODUCT_BWD * product
                     + FLOPS_LAMBDA_TERM * others + diag_flops)
    return {"passes": passes, "fwd_passes": fwd_passes, "bwd_passes": bwd_passes, "prefix_ops": len(prefix),
            **{f"ops_{k}": v for k, v in c.items()},
            "terms": int(program.terms.shape[0]), "diagonal_terms": int(walk.diag_terms.shape[0]),
            "trailing_permutation": trailing,
            "fwd_bytes": fwd_bytes, "fwd_flops": fwd_flops,
            "fwdbwd_bytes": fwd_bytes + bwd_bytes, "fwdbwd_flops": fwd_flops + bwd_flops}


def folded_permutations(program):
    """PERM ops the forward runs inside the pass after them (hqsim.backends.numba_cpu)."""
    return int(np.sum(numba_program(program).fold == FOLDED))


def prefix_as_run(program):
    """(op indices of the product prefix, whether the op right after it is a PERM that the
    backward runs on lambda alone) as the Numba backend runs them (numba_product)."""
    p = numba_program(program)
    ops = p.units[p.prefix_units, 0]
    after = p.units[p.first_walked, 0] if len(ops) and p.first_walked < len(p.units) else -1
    return ops, int(after >= 0 and program.ops[after, 0] == OP_PERM)


def working_set_bytes(num_qubits, backward):
    """Bytes one thread cycles its passes through: a group's states (see the model)."""
    return (3 if backward else 2) * LANES * (1 << num_qubits) * AMP_BYTES


# ---------------------------------------------------------------- measured ceilings
# Each thread runs a plain njit loop (nogil) on its own row from a Python thread pool: inside a
# Numba prange body LLVM left the FMA chain scalar (11 vs 45 GFLOP/s on one core, measured).
@njit(fastmath=True, boundscheck=False, nogil=True, cache=True)
def _stream_row(row, sweeps, s, t):
    for _ in range(sweeps):
        for j in range(row.shape[0]):
            row[j] = row[j] * s + t


@njit(fastmath=True, boundscheck=False, nogil=True, cache=True)
def _fma_row(row, reps, s, t):
    # 12 independent 8-float chains (96 floats) that LLVM keeps in 12 ymm registers: an FMA's
    # latency (5 cycles on Zen 2) times two units needs ~10 in flight. Measured on one core
    # (2026-12-05): one chain per element of an array (the first version) 50 GFLOP/s, eight
    # chains per element 86, these twelve register chains 105-108 (bench/pair_cost_cpu.py's
    # register_fma_peak, where this loop comes from).
    a = np.empty(96, np.float32)
    for j in range(96):
        a[j] = row[j]
    for _ in range(reps):
        for j in range(96):
            a[j] = a[j] * s + t
    for j in range(96):
        row[j] = a[j]


def _best_rate(kernel, buf, count, work_per_row, tries=25):
    """Sum over threads (one per row of buf, started together) of each thread's fastest of
    ``tries`` short timings of kernel on its row: the ceiling while a thread holds its core (on
    a shared machine a long timing, or the wall time of all threads, measures the other load).
    For caches and memory shared between cores the sum is an upper bound: conservative for the
    '% of ceiling' it divides."""
    s, t = np.float32(0.9999), np.float32(1e-6)

    def one(r):
        kernel(buf[r], 1, s, t)  # compile / load from cache, fault the pages in
        best = 0.0
        for _ in range(tries):
            t0 = time.perf_counter()
            kernel(buf[r], count, s, t)
            best = max(best, work_per_row / (time.perf_counter() - t0))
        return best

    with ThreadPoolExecutor(buf.shape[0]) as pool:
        return sum(pool.map(one, range(buf.shape[0])))


def aligned_rows(rows, floats, align=64):
    """A (rows, floats) float32 array of ones whose every row starts on an ``align``-byte
    boundary (see the stream ceiling in the module docstring)."""
    step = -(-floats * 4 // align) * align // 4  # floats per row, rounded up to whole lines
    raw = np.ones(rows * step + align // 4, np.float32)
    first = (-raw.ctypes.data % align) // 4
    return raw[first:first + rows * step].reshape(rows, step)[:, :floats]


def stream_gbs(size_bytes, threads):
    """In-place read+write bandwidth, GB/s summed over ``threads``, each over its own
    cache-line-aligned buffer."""
    buf = aligned_rows(threads, max(1024, size_bytes // 4))
    sweeps = max(1, int(64e6 // (2 * buf[0].nbytes)))  # >= 64 MB of traffic per thread and timing
    return _best_rate(_stream_row, buf, sweeps, 2.0 * buf[0].nbytes * sweeps) / 1e9


def fma_gflops(threads):
    """Multiply-add peak, GFLOP/s summed over ``threads`` (float32, in registers)."""
    buf = np.ones((threads, 96), np.float32)
    reps = 500_000  # ~1 ms per timing at 100 GFLOP/s per thread: short enough to catch a held core
    return _best_rate(_fma_row, buf, reps, 96 * reps * 2.0, tries=50) / 1e9


def measure_ceilings(threads, working_sets):
    """{"fma_gflops", "stream_gbs": {size: GB/s}} for the given working-set sizes and in memory."""
    sizes = sorted(set(int(v) for v in working_sets) | {IN_MEMORY_BYTES})
    return {"threads": threads, "fma_gflops": fma_gflops(threads),
            "stream_gbs": {str(b): stream_gbs(b, threads) for b in sizes}}


def efficiency(flops, nbytes, seconds, fma_gflops_, stream_gbs_):
    """Achieved GFLOP/s and GB/s, the bounding ceiling and the % of it reached."""
    gflops, gbs = flops / seconds / 1e9, nbytes / seconds / 1e9
    t_fma, t_mem = flops / (fma_gflops_ * 1e9), nbytes / (stream_gbs_ * 1e9)
    bound = "FMA" if t_fma >= t_mem else "bandwidth"
    pct = 100 * (gflops / fma_gflops_ if bound == "FMA" else gbs / stream_gbs_)
    return {"gflops": gflops, "gbs": gbs, "bound": bound, "pct_of_bound": pct,
            "pct_fma": 100 * gflops / fma_gflops_, "pct_bw": 100 * gbs / stream_gbs_}
