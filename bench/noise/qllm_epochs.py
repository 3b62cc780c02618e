"""Wall time of the paper's shot-noise and gate-noise training runs (W2, the QLLM issue's terms),
measured over a few real epochs and extrapolated to 800.

One epoch = the paper's 435 training sentences in shuffled batches of 16 (28 Adam steps,
cross-entropy on the head's logits) plus a validation forward over the 77 validation sentences,
as in ``hqsim.experiments.train.fit``. The embeddings are random L2-normalised 384-d vectors
with random labels: the cost of a step does not depend on their values (no data set is read).

    python bench/noise/qllm_epochs.py --case s8192-adjoint --epochs 10
    python bench/noise/qllm_epochs.py --case all --out /tmp/qllm_epochs.json

Cases:
- ``exact``: QLLMClassifier, exact expectations, adjoint (the reference);
- ``s8192-<mode>``: QLLMClassifier(QLLMConfig(shots=8192, gradient=mode)), the model's own
  shot path (hqsim.QuantumLayer(shots=S) on both layers), mode adjoint / parameter-shift / spsa;
- ``depol-t<T>``, ``ionq-t<T>``: the same W2 network (hqsim.ansatz.amplitude_encoder ->
  hqsim.models.qllm.qpu_circuit -> linear head on [encoder outputs, QPU output]) built from
  hqsim.QuantumLayer(noise=..., trajectories=T) directly, since QLLMClassifier has no gate-noise
  option: depolarizing p1=1e-3 / p2=1e-2, or hqsim.noise.ionq_aria_like(); adjoint gradients
  through each trajectory (exact trajectory averages, no shots);
- ``depol-t16-s8192``: both, T=16 trajectories then 8192 shots of their mixture.

The extrapolation to 800 epochs is 800 x the median measured epoch time: it is labelled as
such wherever it is reported, with the number of epochs it rests on.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

N_TRAIN, N_VAL, D, BATCH, PAPER_EPOCHS = 435, 77, 384, 16, 800


def _w2_noisy(noise, trajectories, shots=None, seed=0):
    import torch
    from torch import nn

    import hqsim
    from hqsim.models.qllm import QLLMConfig, qpu_circuit

    cfg = QLLMConfig()
    opts = dict(noise=noise, trajectories=trajectories, shots=shots, seed=seed, gradient="adjoint")

    class W2(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = hqsim.QuantumLayer(hqsim.ansatz.amplitude_encoder(cfg.qubits, D, cfg.encoder_layers,
                                                                         cfg.connectivity), **opts)
            self.qpu = hqsim.QuantumLayer(qpu_circuit(cfg.qubits, 1, cfg.reuploads, cfg.pqc1_layers,
                                                      cfg.pqc2_layers, cfg.connectivity),
                                          observables=[hqsim.Z(0)], **opts)
            self.head = nn.Linear(cfg.qubits + 1, 2)
            with torch.no_grad():
                for layer in (self.enc, self.qpu):
                    layer.weights.uniform_(-math.pi, math.pi)

        def forward(self, x):
            z = self.enc(x)
            return self.head(torch.cat([z, self.qpu(cfg.angle_scale * z)], 1))

    return W2()


def build(case: str):
    from hqsim.models.qllm import QLLMClassifier, QLLMConfig
    from hqsim.noise import depolarizing_model, ionq_aria_like
    if case == "exact":
        return QLLMClassifier(QLLMConfig())
    if case.startswith("s8192-"):
        return QLLMClassifier(QLLMConfig(shots=8192, gradient=case.split("-", 1)[1]))
    kind, rest = case.split("-", 1)
    parts = rest.split("-")
    traj = int(parts[0][1:])
    shots = int(parts[1][1:]) if len(parts) > 1 else None
    noise = depolarizing_model(1e-3, 1e-2) if kind == "depol" else ionq_aria_like()
    return _w2_noisy(noise, traj, shots)


def run_case(case: str, epochs: int, max_seconds: float) -> dict:
    import numpy as np
    import torch
    from torch import nn
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(N_TRAIN + N_VAL, D))
    x = torch.tensor(emb / np.linalg.norm(emb, axis=1, keepdims=True), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 2, N_TRAIN + N_VAL))
    xt, yt, xv = x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:]
    model = build(case)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    # warm-up (Numba compilation / cache load): one step and one validation call, not timed
    model(xt[:2]).sum().backward()
    opt.zero_grad()
    with torch.no_grad():
        model(xv[:2])
    times, loads, train_s = [], [], []
    t_start = time.perf_counter()
    for _ in range(epochs):
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(N_TRAIN, generator=gen).tolist()
        for s in range(0, N_TRAIN, BATCH):
            idx = perm[s:s + BATCH]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        t1 = time.perf_counter()
        model.eval()
        with torch.no_grad():
            model(xv)
        t2 = time.perf_counter()
        times.append(t2 - t0)
        train_s.append(t1 - t0)
        loads.append([round(load0, 2), round(os.getloadavg()[0], 2)])
        if time.perf_counter() - t_start > max_seconds:
            break
    med = statistics.median(times)
    return {"case": case, "epochs_measured": len(times), "epoch_s": times, "train_s": train_s, "load": loads,
            "median_epoch_s": med, "train_samples_per_s": N_TRAIN / statistics.median(train_s),
            "extrapolated_800_epochs_h": PAPER_EPOCHS * med / 3600}


CASES = ["exact", "s8192-adjoint", "s8192-spsa", "s8192-parameter-shift", "depol-t16", "depol-t64",
         "ionq-t16", "depol-t16-s8192"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", default="all", help="one of " + ", ".join(CASES) + ", or all")
    ap.add_argument("--epochs", type=int, default=5, help="epochs to measure per case (at most)")
    ap.add_argument("--max-seconds", type=float, default=150.0,
                    help="stop measuring a case after the epoch that crosses this (at least 1 epoch)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--revision", default="")
    ap.add_argument("--out", default="")
    ap.add_argument("--worker", action="store_true")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(run_case(args.case, args.epochs, args.max_seconds)))
        return 0
    import subprocess

    from bench.noise.record import git_rev, machine
    cases = CASES if args.case == "all" else args.case.split(",")
    meta = {"date": datetime.datetime.now().isoformat(timespec="minutes"), "machine": machine(),
            "threads": args.threads, "revision": args.revision or git_rev(ROOT),
            "command": "python bench/noise/qllm_epochs.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), NUMBA_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads), BENCH_THREADS=str(args.threads), OMP_WAIT_POLICY="PASSIVE",
               PYTHONPATH=str(ROOT))
    rows = []
    for case in cases:
        cmd = [sys.executable, __file__, "--worker", "--case", case, "--epochs", str(args.epochs),
               "--max-seconds", str(args.max_seconds)]
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
            res = json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else \
                {"case": case, "error": (p.stderr.strip().splitlines() or ["?"])[-1][:200]}
        except subprocess.TimeoutExpired:
            res = {"case": case, "error": f"timeout after {args.timeout} s"}
        rows.append(res)
        print(json.dumps(res), flush=True)
        if args.out:
            Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(render(meta, rows))
    return 0


def render(meta, rows) -> str:
    lines = [f"W2 training epochs — {meta['date']}, {meta['machine']}, {meta['threads']} threads, "
             f"revision {meta['revision']}", f"command: `{meta['command']}`", "",
             "| case | epochs measured | median epoch (s) | train samples/s | load (1-min, per epoch) "
             "| 800 epochs, extrapolated from the measured epochs (h) |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['case']} | 0 | - | - | - | {r['error']} |")
            continue
        ld = [v for pair in r["load"] for v in pair]
        lines.append(f"| {r['case']} | {r['epochs_measured']} | {r['median_epoch_s']:.2f} | "
                     f"{r['train_samples_per_s']:.1f} | {min(ld):.1f}-{max(ld):.1f} | "
                     f"{r['extrapolated_800_epochs_h']:.2f} (from {r['epochs_measured']} epochs) |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
