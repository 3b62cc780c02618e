"""W1 forward+backward on the Numba backend alone, or a W2 training step, one thread, timed in
CPU seconds: for A/B comparisons of two revisions on a machine that other jobs share (CPU
time, best of 15 rounds, is far less disturbed by them than wall time).

    PYTHONPATH=/path/to/old/checkout python bench/w1_step_cpu.py --qubits 10 --batch 16
    PYTHONPATH=/path/to/new/checkout python bench/w1_step_cpu.py --qubits 10 --batch 16
    PYTHONPATH=/path/to/new/checkout python bench/w1_step_cpu.py --workload w2

W1: samples per CPU-second of forward (keeping the final states) + adjoint backward with a
cotangent of ones, and the revision's op count. W2: CPU milliseconds of one training step of
the QLLM model (W2 defaults, batch 16: forward, cross-entropy backward, Adam step), as
`hqsim train` runs it. Not a peer comparison: bench/w1_cpu.py and bench/w2_cpu.py are.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=("w1", "w2"), default="w1")
    ap.add_argument("--qubits", type=int, default=10, help="Q (default 10)")
    ap.add_argument("--batch", type=int, default=16, help="samples per call (default 16: one SIMD group)")
    ap.add_argument("--rounds", type=int, default=15, help="timed rounds of 10 steps; the best counts (default 15)")
    args = ap.parse_args(argv)
    if args.workload == "w2":
        return w2_step(args)

    import hqsim
    from hqsim.api import compile_circuit
    from hqsim.backends import numba_cpu
    from hqsim.ir import Z

    q, batch = args.qubits, args.batch
    circ = hqsim.ansatz.rpqc(num_qubits=q, reuploads=4, layers=2)
    program = compile_circuit(circ, [Z(i) for i in range(q)]).program
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(batch, program.num_inputs))
    w = rng.uniform(-3, 3, size=program.num_weights)

    def step():  # the training path: forward_kept where the revision has it (older: (B, 2^Q) states)
        if hasattr(numba_cpu, "forward_kept"):
            out, states = numba_cpu.forward_kept(program, x, w, np.float32)
        else:
            out, states = numba_cpu.forward(program, x, w, np.float32, True)
        numba_cpu.vjp(program, x, w, np.ones_like(out), np.float32, True, states)

    best = _best_cpu_seconds(step, args.rounds)
    print(f"{hqsim.__file__}: W1 Q={q} B={batch} forward+backward {batch / best:.0f} samples per "
          f"CPU-second ({program.num_ops} ops)")


def _best_cpu_seconds(step, rounds, per_round=10):
    step()  # compile or load the cache
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(per_round):
            step()
        best = min(best, (time.process_time() - t) / per_round)
    return best


def w2_step(args):
    import torch

    import hqsim
    from hqsim.models.qllm import QLLMClassifier, QLLMConfig
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = QLLMClassifier(QLLMConfig(qubits=args.qubits), backend="numba", dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, 384))
    x = torch.tensor(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 2, args.batch))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    best = _best_cpu_seconds(step, args.rounds)
    print(f"{hqsim.__file__}: W2 Q={args.qubits} B={args.batch} training step {best * 1e3:.2f} CPU-ms "
          f"({args.batch / best:.0f} samples per CPU-second)")


if __name__ == "__main__":
    main()
