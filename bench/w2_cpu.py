"""W2 (the QLLM model of arXiv 2504.08732) training on the CPU: hqsim against the peers, each
in its own process with the same thread count.

    python bench/w2_cpu.py                                # Q=10, all installed peers
    python bench/w2_cpu.py --qubits 10,12 --contestants hqsim,torch-statevector

Every contestant trains the same model (W2 defaults: E=1, M=2, C=2, N=4, L1=1, L2=2, linear
head; the same initial weights) with Adam at batch 16 on the same 435 random unit-norm
embeddings (the simulation cost does not depend on the text), and reports training samples/s
(forward + backward + optimizer step), the wall time of one epoch of 435 samples, the 800-epoch
projection (348,000 sample-steps / samples/s; the measured 800-epoch run is in
bench/RESULTS_qllm.md), and the largest difference of its initial logits from hqsim's
complex128 reference run. Slow peers are timed on fewer steps (--max-seconds).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRAIN, BATCH, EPOCHS = 435, 16, 800
CONTESTANTS = ("hqsim", "torch-statevector", "default.qubit-backprop", "lightning.qubit-adjoint")


def _data(num_features, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(TRAIN, num_features))
    return x / np.linalg.norm(x, axis=1, keepdims=True), rng.integers(0, 2, TRAIN)


def _pennylane_layer(circuit, measured, init_weights, device_name, diff_method):
    import pennylane as qml
    import torch

    from hqsim.ir import CONST, INPUT
    nq = circuit.num_qubits
    dev = qml.device(device_name, wires=nq)
    enc = circuit.amplitude_encoding

    def angle(p, inputs, weights):
        if p.source == CONST:
            return p.offset
        v = inputs[..., p.index] if p.source == INPUT else weights[p.index]
        return p.scale * v + p.offset

    @qml.qnode(dev, interface="torch", diff_method=diff_method)
    def qnode(inputs, weights):
        if enc is not None:
            qml.AmplitudeEmbedding(inputs[..., enc.start:enc.start + enc.size], wires=range(nq),
                                   pad_with=0.0, normalize=True)
        for g in circuit.gates:
            if g.name == "CNOT":
                qml.CNOT(wires=list(g.qubits))
            else:
                getattr(qml, g.name)(angle(g.params[0], inputs, weights), wires=g.qubits[0])
        return [qml.expval(qml.PauliZ(q)) for q in measured]

    class Layer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = torch.nn.Parameter(init_weights.detach().clone().double())

        def forward(self, inputs):
            out = qnode(inputs.double(), self.weights)
            return torch.stack(list(out), -1).to(inputs.dtype)

    return Layer()


def build_model(name, q):
    import torch

    from hqsim.models.qllm import QLLMClassifier, QLLMConfig
    torch.manual_seed(0)
    cfg = QLLMConfig(qubits=q)
    model = QLLMClassifier(cfg, backend="auto", dtype=torch.float32)
    if name == "hqsim":
        return model
    swap = []
    for i, layer in enumerate(model.encoders):
        swap.append(("enc", i, layer.circuit, list(range(cfg.qubits)), layer.weights))
    swap.append(("qpu", 0, model.qpu.circuit, list(range(cfg.measured_qubits)), model.qpu.weights))
    for kind, i, circ, measured, w in swap:
        if name == "torch-statevector":
            from bench.peers.torch_circuit import TorchCircuitLayer
            new = TorchCircuitLayer(circ, measured, w)
        else:
            device, method = {"default.qubit-backprop": ("default.qubit", "backprop"),
                              "lightning.qubit-adjoint": ("lightning.qubit", "adjoint")}[name]
            new = _pennylane_layer(circ, measured, w, device, method)
        if kind == "enc":
            model.encoders[i] = new
        else:
            model.qpu = new
    return model


def worker(name, q, max_seconds):
    import torch
    x_np, y_np = _data(384)
    x = torch.tensor(x_np, dtype=torch.float32)
    y = torch.tensor(y_np)
    model = build_model(name, q)
    with torch.no_grad():
        logits0 = model(x[:4]).double().numpy()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def step(i):
        xb, yb = x[i:i + BATCH], y[i:i + BATCH]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
        return len(xb)

    t0 = time.perf_counter()
    step(0)  # warm-up: JIT, caches
    warm = time.perf_counter() - t0
    done, start, i = 0, time.perf_counter(), BATCH
    while True:
        done += step(i % TRAIN)
        i += BATCH
        if done >= TRAIN or time.perf_counter() - start > max_seconds:
            break
    el = time.perf_counter() - start
    return {"name": name, "q": q, "samples": done, "seconds": el, "samples_per_s": done / el,
            "first_step_s": warm, "logits0": logits0.tolist(),
            "load_avg": os.getloadavg()[0], "torch_threads": torch.get_num_threads()}


def reference_logits(q):
    """hqsim's model with the contestants' initial weights, in complex128 on the reference
    backend: the check for every contestant."""
    import torch

    from hqsim.models.qllm import QLLMClassifier, QLLMConfig
    init = build_model("hqsim", q).state_dict()
    model = QLLMClassifier(QLLMConfig(qubits=q), backend="reference", dtype=torch.float64)
    model.load_state_dict({k: v.double() for k, v in init.items()})
    x_np, _ = _data(384)
    with torch.no_grad():
        return model(torch.tensor(x_np[:4], dtype=torch.float64)).numpy()


def run_worker_process(name, q, threads, max_seconds, timeout):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, __file__, "--worker", name, "--q", str(q), "--max-seconds", str(max_seconds)]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"name": name, "q": q, "error": f"timeout after {timeout}s"}
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["?"]
        return {"name": name, "q": q, "error": tail[0][:200]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def _rev():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qubits", default="10", help="comma-separated Q values (default 10)")
    ap.add_argument("--contestants", default="all", help=f"comma-separated subset of {', '.join(CONTESTANTS)}")
    ap.add_argument("--threads", type=int, default=2, help="threads per contestant (default 2)")
    ap.add_argument("--max-seconds", type=float, default=60.0,
                    help="time at most this long per contestant after warm-up (default 60)")
    ap.add_argument("--timeout", type=int, default=600, help="kill a contestant after this many seconds")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "w2_cpu.json"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--q", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.q, args.max_seconds)))
        return 0
    names = CONTESTANTS if args.contestants == "all" else tuple(args.contestants.split(","))
    unknown = set(names) - set(CONTESTANTS)
    if unknown:
        ap.error(f"unknown contestants {sorted(unknown)}; choose from {', '.join(CONTESTANTS)}")
    from bench.w1_cpu import _cpu_name
    meta = {"revision": _rev(), "date": time.strftime("%Y-%m-%d %H:%M"), "threads": args.threads,
            "machine": _cpu_name(),
            "command": " ".join(["python", "bench/w2_cpu.py"] + (argv if argv is not None else sys.argv[1:]))}
    rows = []
    print(f"| Q | contestant | train samples/s | epoch (435) s | 800 epochs (projected) | hqsim speed-up | max |logit - ref| | load |")
    print("|---|---|---|---|---|---|---|---|")
    for q in (int(v) for v in args.qubits.split(",")):
        ref = reference_logits(q)
        base = None
        for name in names:
            r = run_worker_process(name, q, args.threads, args.max_seconds, args.timeout)
            rows.append(r)
            if "error" in r:
                print(f"| {q} | {name} | {r['error']} | | | | | |", flush=True)
                continue
            sps = r["samples_per_s"]
            r["max_logit_err"] = float(np.abs(np.array(r["logits0"]) - ref).max())
            base = sps if name == "hqsim" else base
            speed = f"{base / sps:.0f}x" if base and name != "hqsim" else "-"
            print(f"| {q} | {name} | {sps:.1f} | {TRAIN / sps:.2f} | {EPOCHS * TRAIN / sps / 60:.1f} min | "
                  f"{speed} | {r['max_logit_err']:.1e} | {r['load_avg']:.1f} |", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    os.replace(tmp, args.out)
    print(f"\n{meta}\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
