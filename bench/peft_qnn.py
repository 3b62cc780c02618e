"""Per-step wall time of the quantum adapters inside all-MiniLM-L6-v2, with their QNN run by
hqsim, by PennyLane default.qubit (torch interface, backprop, parameter broadcasting) and by a
plain torch batched statevector — the same adapter, weights and batch, in one process.

    python bench/peft_qnn.py --out bench/results/peft_qnn.json

QTHA: one QNN call per adapted layer (query and value of 6 layers: 12 calls) on every token of
the batch (B·T rows, 4 qubits, rpqc with 2 layers). Timed: (a) the 12 QNN calls alone, forward
+ backward, on the angles the adapters produced for a real SST-2 batch; (b) the whole training
step of the classifier (forward + backward) with that QNN swapped in. QPA (rank 4, chunk 64:
10 qubits, 4 ring layers for MiniLM's 12 query/value layers): the QNN gives its 2^10 basis-state
probabilities once per step; timed: forward + backward of the probabilities. Every peer's
outputs are checked against hqsim's. PennyLane runs in float64 (bench/w2_cpu.py's translation),
hqsim and the torch statevector in float32.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PEERS = ("hqsim", "torch-statevector", "default.qubit-backprop")


def median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.std(times))


def qtha_peer(name, qnn):
    """A module computing what ``qnn`` (an hqsim.QuantumLayer of <Z_q>) computes, by ``name``."""
    if name == "hqsim":
        return qnn
    measured = range(qnn.circuit.num_qubits)
    if name == "torch-statevector":
        from bench.peers.torch_circuit import TorchCircuitLayer
        return TorchCircuitLayer(qnn.circuit, measured, qnn.weights)
    from bench.w2_cpu import _pennylane_layer
    # bench/w2_cpu.py's translation of any hqsim circuit (complex128, as in the W2 bench)
    return _pennylane_layer(qnn.circuit, list(measured), qnn.weights, "default.qubit", "backprop")


def ring_probabilities_torch(weights, n, layers):
    """|ψ|² of hqsim.ansatz.ring_pqc(n, layers, 1) from |0…0⟩: a plain torch statevector."""
    import torch
    state = torch.zeros((2,) * n, dtype=weights.dtype)
    state[(0,) * n] = 1
    w = 0
    for _ in range(layers):
        for j in range(n):
            t = (j + 1) % n
            if t != j:  # CNOT(j -> t): flip t on the control's |1> half
                state = torch.cat([state.narrow(j, 0, 1), state.narrow(j, 1, 1).flip(t)], j)
            c, s = torch.cos(weights[w] / 2), torch.sin(weights[w] / 2)
            a, b = state.select(t, 0), state.select(t, 1)
            state = torch.stack([c * a - s * b, s * a + c * b], t)  # RY on t (real amplitudes)
            w += 1
    return (state ** 2).reshape(-1)


def qpa_peer(name, generator):
    import torch
    n, layers = generator.num_qubits, generator.config.layers
    if name == "hqsim":
        return generator.probabilities
    w = generator.qnn.weights
    if name == "torch-statevector":
        return lambda: ring_probabilities_torch(w, n, layers)
    import pennylane as qml
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def probs(weights):
        k = 0
        for _ in range(layers):
            for j in range(n):
                if (j + 1) % n != j:
                    qml.CNOT(wires=[j, (j + 1) % n])
                qml.RY(weights[k], wires=(j + 1) % n)
                k += 1
        return qml.probs(wires=range(n))
    return lambda: probs(w).to(torch.float32)


def bench_qtha(args, pretrained, texts):
    import torch

    from hqsim.peft import QTHAConfig, adapters, build_classifier
    torch.manual_seed(0)
    model = build_classifier(QTHAConfig(qubits=args.qubits, layers=args.layers), 2, pretrained=pretrained)
    layers = list(adapters(model.encoder).values())
    captured = []
    hooks = [a.qnn.register_forward_pre_hook(lambda m, inp: captured.append(inp[0].detach().clone()))
             for a in layers]
    model.train()
    model(texts)
    for h in hooks:
        h.remove()
    hqsim_qnns = [a.qnn for a in layers]
    reference = [q(x).detach() for q, x in zip(hqsim_qnns, captured)]
    rows = []
    for name in args.peers:
        try:
            qnns = [qtha_peer(name, q) for q in hqsim_qnns]
        except ImportError as exc:
            rows.append({"adapter": "QTHA", "peer": name, "error": f"not installed: {exc}"})
            continue
        err = max(float((q(x).detach().float() - r).abs().max()) for q, x, r in zip(qnns, captured, reference))
        xs = [x.clone().requires_grad_(True) for x in captured]

        def qnn_step():
            sum(q(x).sum() for q, x in zip(qnns, xs)).backward()
        for a, q in zip(layers, qnns):
            a.qnn = q

        def full_step():
            model.zero_grad(set_to_none=True)
            model(texts).sum().backward()
        qnn_s, qnn_sd = median_time(qnn_step, args.repeats)
        step_s, step_sd = median_time(full_step, args.repeats)
        for a, q in zip(layers, hqsim_qnns):
            a.qnn = q
        rows.append({"adapter": "QTHA", "peer": name, "calls_per_step": len(layers),
                     "rows_per_call": int(captured[0].shape[0]), "qubits": args.qubits,
                     "qnn_s": qnn_s, "qnn_sd": qnn_sd, "step_s": step_s, "step_sd": step_sd,
                     "max_abs_diff": err})
        print(_row_text(rows[-1]), flush=True)
    return rows


def bench_qpa(args):
    import torch

    from hqsim.peft import QPAConfig
    from hqsim.peft.qpa import QPAGenerator
    torch.manual_seed(0)
    shapes = {f"layer{i}.{m}": (384, 384) for i in range(6) for m in ("query", "value")}
    gen = QPAGenerator(shapes, QPAConfig(rank=4, chunk=64, layers=4))
    reference = gen.probabilities().detach()
    rows = []
    for name in args.peers:
        try:
            fn = qpa_peer(name, gen)
        except ImportError as exc:
            rows.append({"adapter": "QPA", "peer": name, "error": f"not installed: {exc}"})
            continue
        err = float((fn().detach().float() - reference).abs().max())

        def step():
            gen.zero_grad(set_to_none=True)
            (fn() * torch.arange(len(reference))).sum().backward()
        qnn_s, qnn_sd = median_time(step, args.repeats)
        rows.append({"adapter": "QPA", "peer": name, "calls_per_step": 1, "rows_per_call": 1,
                     "qubits": gen.num_qubits, "qnn_s": qnn_s, "qnn_sd": qnn_sd, "max_abs_diff": err})
        print(_row_text(rows[-1]), flush=True)
    return rows


def _row_text(r):
    if "error" in r:
        return f"{r['adapter']:5s} {r['peer']:24s} {r['error']}"
    step = f"  step {r['step_s'] * 1e3:9.1f} ms" if "step_s" in r else ""
    return (f"{r['adapter']:5s} {r['peer']:24s} QNN {r['qnn_s'] * 1e3:9.2f} ms ({r['calls_per_step']} calls "
            f"x {r['rows_per_call']} rows, {r['qubits']} qubits){step}  max|diff| {r['max_abs_diff']:.1e}")


def _git_rev():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "unknown"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=16, help="sentences per step (16)")
    p.add_argument("--qubits", type=int, default=4)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="torch and Numba threads (1)")
    p.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    p.add_argument("--out", default="bench/results/peft_qnn.json")
    args = p.parse_args(argv)
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    import torch
    torch.set_num_threads(args.threads)

    from hqsim.experiments.data import load_sst2
    from hqsim.experiments.embeddings import default_model_path
    from hqsim.peft import load_pretrained
    texts = list(load_sst2()["train"].texts[:args.batch])
    meta = {"command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]), "git": _git_rev(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "threads": args.threads, "load_before": os.getloadavg()[0],
            "batch_sentences": args.batch}
    rows = bench_qtha(args, load_pretrained(default_model_path()), texts) + bench_qpa(args)
    meta["load_after"] = os.getloadavg()[0]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    tmp.replace(args.out)
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
