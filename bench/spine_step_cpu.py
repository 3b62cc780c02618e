"""Training steps through hqsim's public torch path (QuantumLayer / the QLLM model), one thread,
timed in CPU seconds: for A/B comparisons of two revisions of the execution spine (argument
checks, conversions, the autograd Function) on a machine that other jobs share.

    PYTHONPATH=/path/to/old/checkout python bench/spine_step_cpu.py
    PYTHONPATH=/path/to/new/checkout python bench/spine_step_cpu.py

Cases: W1 (``hqsim.ansatz.rpqc``, R=4, L=2; float32; inputs and weights require gradients;
forward + backward of ``(layer(x) * g).sum()``) at a small Q and batch, where the per-call
overhead of the spine is a visible share of a step, and at Q=10; W2 (the QLLM model at its
defaults, Q=10, batch 16: forward, cross-entropy, backward and an Adam step). Prints steps per
CPU-second, best of ``--rounds`` rounds. bench/w1_step_cpu.py times the Numba kernels alone.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def _best_rate(step, rounds: int, steps_per_round: int) -> float:
    step()  # compile or load the cache
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(steps_per_round):
            step()
        best = min(best, (time.process_time() - t) / steps_per_round)
    return 1.0 / best


def w1_step(q: int, batch: int):
    import torch

    import hqsim
    torch.manual_seed(0)
    layer = hqsim.QuantumLayer(hqsim.ansatz.rpqc(num_qubits=q, reuploads=4, layers=2), dtype=torch.float32)
    x = torch.rand(batch, q, requires_grad=True)
    g = torch.rand(batch, q)

    def step():
        x.grad, layer.weights.grad = None, None
        (layer(x) * g).sum().backward()
    return step


def w2_step(q: int, batch: int):
    import torch

    from hqsim.models.qllm import QLLMClassifier, QLLMConfig
    torch.manual_seed(0)
    model = QLLMClassifier(QLLMConfig(qubits=q), backend="auto", dtype=torch.float32)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, 384))
    x = torch.tensor(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 2, batch))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


CASES = {"w1-q4-b16": (w1_step, 4, 16, 200), "w1-q10-b16": (w1_step, 10, 16, 20),
         "w2-q10-b16": (w2_step, 10, 16, 10)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    ap.add_argument("--rounds", type=int, default=15, help="timed rounds per case; the best counts (default 15)")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    import hqsim
    for name in args.cases.split(","):
        if name not in CASES:
            raise SystemExit(f"--cases: unknown case {name!r}; choose from {', '.join(CASES)}")
        make, q, batch, per_round = CASES[name]
        rate = _best_rate(make(q, batch), args.rounds, per_round)
        print(f"{hqsim.__file__}: {name} {rate:.1f} steps per CPU-second "
              f"({rate * batch:.0f} samples), load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
