"""Both cores on one group of samples (issue 18): the Numba backend at 1 and at 2 threads in
one process, rounds alternating, wall time (two threads are what is measured, so CPU time
would not do). Batches of one group (B <= 16) take the split path at 2 threads when Q >=
numba_cpu.SPLIT_MIN_QUBITS; larger batches split by groups as before.

    python bench/split_cpu.py                      # W1 Q=10,12,14 B=16 and the W2 step, 1 vs 2 threads
    python bench/split_cpu.py --points 10:256,14:64 --ratio   # backward / forward at 1 thread

W1: forward (keeping the final states), and forward + adjoint backward (cotangent of ones),
samples per second. W2: one training step of the QLLM model (W2 defaults, batch 16: forward,
cross-entropy backward, Adam), ms. ``--ratio``: (forward + backward) / forward - 1, i.e.
backward / forward, per point. Prints the load and how many split calls ran on two threads
("joined") and how many fell back to one ("solo": the second thread did not start in time).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import time

import numpy as np


def _best_wall(step, rounds, per_round):
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(per_round):
            step()
        best = min(best, (time.perf_counter() - t) / per_round)
    return best


def _w1_steps(q, batch):
    import hqsim
    from hqsim.api import compile_circuit
    from hqsim.backends import numba_cpu
    from hqsim.ir import Z
    circ = hqsim.ansatz.rpqc(num_qubits=q, reuploads=4, layers=2)
    program = compile_circuit(circ, [Z(i) for i in range(q)]).program
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(batch, program.num_inputs))
    w = rng.uniform(-3, 3, size=program.num_weights)

    def fwd():  # the training path: forward_kept where the revision has it (older: (B, 2^Q) states)
        if hasattr(numba_cpu, "forward_kept"):
            return numba_cpu.forward_kept(program, x, w, np.float32)
        return numba_cpu.forward(program, x, w, np.float32, True)

    def both():
        out, states = fwd()
        numba_cpu.vjp(program, x, w, np.ones_like(out), np.float32, True, states)
    return fwd, both


def _w2_step(q, batch):
    import torch

    from hqsim.models.qllm import QLLMClassifier, QLLMConfig
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = QLLMClassifier(QLLMConfig(qubits=q), backend="numba", dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, 384))
    x = torch.tensor(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 2, batch))

    def fwd():
        with torch.no_grad():
            model(x)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return fwd, step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", default="10:16,12:16,14:16", help="W1 Q:B points (default 10:16,12:16,14:16)")
    ap.add_argument("--no-w2", action="store_true", help="skip the W2 training step")
    ap.add_argument("--threads", default="1,2", help="thread counts to alternate (default 1,2)")
    ap.add_argument("--rounds", type=int, default=7, help="rounds per thread count; the best counts (default 7)")
    ap.add_argument("--ratio", action="store_true", help="also time the forward alone: backward / forward")
    ap.add_argument("--region", choices=("auto", "always", "never"), default="auto",
                    help="split calls at 2 threads: a parallel region chosen by measured time (auto, the "
                         "default), always, or never (both halves on the calling thread)")
    ap.add_argument("--split-min-qubits", type=int, default=8,
                    help="numba_cpu.SPLIT_MIN_QUBITS for this run, unless HQSIM_SPLIT_MIN_QUBITS sets it "
                         "(default 8; the library's default is off)")
    args = ap.parse_args(argv)
    import numba

    from hqsim.backends import numba_cpu
    numba_cpu.split_region = {"auto": None, "always": True, "never": False}[args.region]
    if numba_cpu.SPLIT_MIN_QUBITS is None:  # off by default: this bench measures it
        numba_cpu.SPLIT_MIN_QUBITS = args.split_min_qubits
    threads = [int(t) for t in args.threads.split(",")]
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    print(f"revision {rev}, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}, numba threads max {numba.config.NUMBA_NUM_THREADS}, "
          f"SPLIT_MIN_QUBITS {numba_cpu.SPLIT_MIN_QUBITS}, region {args.region}")
    cases = []
    for pt in args.points.split(","):
        if pt:
            q, b = (int(v) for v in pt.split(":"))
            fwd, both = _w1_steps(q, b)
            per = max(1, int(2e5 / (b * 2 ** q)) if q < 14 else 1)
            cases.append((f"W1 Q={q} B={b}", b, fwd, both, per))
    if not args.no_w2:
        fwd, step = _w2_step(10, 16)
        cases.append(("W2 Q=10 B=16 step", 16, fwd, step, 20))
    for name, batch, fwd, both, per in cases:
        best = {}
        for t in threads:  # compile / warm both paths
            numba.set_num_threads(t)
            both()
            fwd()
        before = dict(numba_cpu.split_counts)
        for _ in range(args.rounds):
            for t in threads:
                numba.set_num_threads(t)
                best[("both", t)] = min(best.get(("both", t), np.inf), _best_wall(both, 1, per))
                if args.ratio:
                    best[("fwd", t)] = min(best.get(("fwd", t), np.inf), _best_wall(fwd, 1, per))
        counts = {k: numba_cpu.split_counts[k] - before[k] for k in before}
        parts = []
        for t in threads:
            b = best[("both", t)]
            fig = f"{b * 1e3:.3f} ms/step" if name.startswith("W2") else f"{batch / b:,.0f} fwd+bwd samples/s"
            if args.ratio:
                f = best[("fwd", t)]
                fig += (f", fwd {f * 1e3:.3f} ms" if name.startswith("W2") else f", fwd {batch / f:,.0f} samples/s")
                fig += f", bwd/fwd {(b - f) / f:.2f}"
            parts.append(f"{t} thr: {fig}")
        speed = ""
        if 1 in threads and 2 in threads:
            speed = f" | 2 vs 1 thread: {best[('both', 1)] / best[('both', 2)]:.2f}x"
        print(f"{name}: " + "; ".join(parts) + speed + f" | split calls {counts}", flush=True)
    print(f"load at end {' '.join(open('/proc/loadavg').read().split()[:3])}")


if __name__ == "__main__":
    main()
