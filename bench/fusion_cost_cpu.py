"""The measurements behind hqsim.compile.fuse's cost model, on this machine, one thread.

    python bench/fusion_cost_cpu.py                 # the table the model's constants come from
    python bench/fusion_cost_cpu.py --qubits 10,14 --ks 2,3 --points 10:256,14:64

For one 16-lane group (float32 states), in CPU nanoseconds per state row (a row = one
amplitude of all 16 lanes, 128 bytes of state): a standalone single-qubit pass (complex and
real matrix, on the lowest and the highest qubit), and a fused block on k qubits with k
single-qubit members and k-1 CNOTs (index maps), complex and real, forward and adjoint
(adjoint = undo psi and lambda with the gradient sums). Then whole W1 and W2-QPU passes at
(Q, batch) points, forward and forward + adjoint, unfused and for every block size, so the
model's choice (hqsim.compile.fuse.MEASURED_COSTS) can be checked against them.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def best_cpu_time(fn, min_time=0.2, rounds=5):
    """The best CPU seconds per call of fn over ``rounds`` rounds of ~min_time/rounds each
    (after one warm-up call); CPU time, so other processes' load shows only as cache noise."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        reps, t0 = 0, time.process_time()
        while True:
            fn()
            reps += 1
            el = time.process_time() - t0
            if el > min_time / rounds:
                break
        best = min(best, el / reps)
    return best


def _unitary_coeffs(rng, members, lanes, dtype, real):
    """Per-lane RY (real) or general SU(2) (complex) matrices in the lane kernels' layout."""
    c = np.zeros(members * 8 * lanes, dtype)
    for m in range(members):
        th, ph = rng.uniform(0, np.pi, lanes), (0 if real else rng.uniform(0, np.pi, lanes))
        a, b = np.cos(th / 2) * np.exp(1j * ph), -np.sin(th / 2)
        for e, v in enumerate((a, b, -np.conj(b), np.conj(a))):
            c[m * 8 * lanes + 2 * e * lanes:m * 8 * lanes + (2 * e + 1) * lanes] = v.real
            c[m * 8 * lanes + (2 * e + 1) * lanes:m * 8 * lanes + (2 * e + 2) * lanes] = v.imag
    return c


def kernel_table(qubits, ks):
    from hqsim.backends import numba_block_kernels as bk
    from hqsim.backends import numba_lane_kernels as lk
    from hqsim.backends.numba_block_plan import plan_blocks
    from hqsim.compile import fuse_gates, lower
    from hqsim.ir import Circuit, Z, weight
    L = lk.LANES
    rng = np.random.default_rng(0)
    print("| Q | pass | complex fwd | real fwd | complex adjoint | real adjoint |")
    print("|---|---|---|---|---|---|")
    for q in qubits:
        n = 1 << q
        st = [rng.normal(size=n * L).astype(np.float32) * 1e-2 for _ in range(4)]
        for bit, name in ((1, f"1q on qubit {q - 1}"), (n >> 1, "1q on qubit 0")):
            row = []
            for real in (False, True):
                c = _unitary_coeffs(rng, 1, L, np.float32, real)
                row.append(best_cpu_time(lambda: lk.apply_1q(st[0], st[1], n, bit, c, real, 0, 1)) / n * 1e9)
            macc, gacc = np.zeros(32 * L, np.float32), np.zeros(L, np.float32)
            cc, cr = _unitary_coeffs(rng, 1, L, np.float32, False), _unitary_coeffs(rng, 1, L, np.float32, True)
            row.append(best_cpu_time(lambda: lk.undo_1q(*st, n, bit, 0, cc, macc, 0, 1)) / n * 1e9)
            row.append(best_cpu_time(lambda: lk.undo_ry(*st, n, bit, 0, cr, gacc, 0, 1)) / n * 1e9)
            print(f"| {q} | {name} | " + " | ".join(f"{v:.2f}" for v in row) + " |", flush=True)
        for k in ks:
            if k > q:
                continue
            c = Circuit(q, num_weights=1)
            for j in range(k):  # k single-qubit members and a CNOT chain, spread over the register
                c.ry(weight(0), j * (q - 1) // max(1, k - 1))
            for j in range(k - 1):
                c.cnot(j * (q - 1) // max(1, k - 1), (j + 1) * (q - 1) // max(1, k - 1))
            prog = lower(fuse_gates(c, max_qubits=k), [Z(0)])
            plan = plan_blocks(prog)
            first, nm, kk, o, bo, fix = (int(v) for v in plan.blocks[0])
            args = (n, plan.bits[bo:bo + kk], plan.offs[o:o + (1 << kk)], plan.member_kind[first:first + nm],
                    plan.member_pstart[first:first + nm], plan.member_pairs)
            tail = (plan.final[o:o + (1 << kk)], plan.ident[:1 << kk], bool(fix),
                    np.zeros((1 << kk) * L, np.float32), np.zeros((1 << kk) * L, np.float32))
            row = []
            for real in (False, True):
                cm = _unitary_coeffs(rng, nm, L, np.float32, real)
                rl = np.full(nm, real)
                row.append(best_cpu_time(lambda: bk.apply_block(st[0], st[1], *args, cm, rl, *tail)) / n * 1e9)
            for real in (False, True):
                cm = _unitary_coeffs(rng, nm, L, np.float32, real)
                rl = np.full(nm, real)
                macc, gacc = np.zeros(nm * 8 * L, np.float32), np.zeros(nm * L, np.float32)
                row.append(best_cpu_time(lambda: bk.undo_block(*st, *args, cm, rl, *tail, macc, gacc)) / n * 1e9)
            print(f"| {q} | block k={k} ({k} 1q + {k - 1} CNOT) | " + " | ".join(f"{v:.2f}" for v in row) + " |",
                  flush=True)


def step_table(points, ks):
    """Whole W1 and W2-QPU passes at (Q, batch) points, unfused and fused to each k, A/B in
    this process: forward, and forward + adjoint, in samples per CPU-second."""
    import hqsim
    from hqsim.backends import numba_cpu
    from hqsim.compile import compile_circuit
    from hqsim.ir import Z
    print("\n| workload | Q | B | fusion | ops | blocks | fwd samples/CPU-s | fwd+bwd samples/CPU-s |")
    print("|---|---|---|---|---|---|---|---|")
    for q, batch in points:
        for name, circ, obs in (("W1", hqsim.ansatz.rpqc(q, 4, 2), [Z(i) for i in range(q)]),
                                ("W2 QPU", hqsim.ansatz.reuploading_module(q, 4, 1, 2, 2), [Z(0)])):
            rng = np.random.default_rng(1)
            x = rng.uniform(-1, 1, size=(batch, circ.num_inputs))
            w = rng.uniform(-3, 3, size=circ.num_weights)
            for k in (None,) + tuple(ks):
                prog = compile_circuit(circ, obs, fuse=k).program

                def fwd():
                    numba_cpu.forward(prog, x, w, np.float32, False)

                def step():
                    out, st = numba_cpu.forward(prog, x, w, np.float32, True)
                    numba_cpu.vjp(prog, x, w, np.ones_like(out), np.float32, True, st)
                tf, ts = best_cpu_time(fwd, min_time=1.0), best_cpu_time(step, min_time=1.0)
                print(f"| {name} | {q} | {batch} | {k or 'none'} | {prog.num_ops} | {prog.blocks.shape[0]} "
                      f"| {batch / tf:,.0f} | {batch / ts:,.0f} |", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qubits", default="8,10,12,14")
    ap.add_argument("--ks", default="2,3,4,5,6")
    ap.add_argument("--points", default="10:256,14:64", help="Q:batch,... of the whole-pass table")
    ap.add_argument("--skip-kernels", action="store_true")
    args = ap.parse_args(argv)
    qubits = [int(v) for v in args.qubits.split(",")]
    ks = [int(v) for v in args.ks.split(",")]
    print(f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}, NUMBA_NUM_THREADS="
          f"{os.environ['NUMBA_NUM_THREADS']}")
    if not args.skip_kernels:
        kernel_table(qubits, ks)
    if args.points:
        step_table([tuple(int(v) for v in p.split(":")) for p in args.points.split(",")], ks)
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
