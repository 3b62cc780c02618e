"""W2 (the QLLM model of arXiv 2504.08732) training on the CPU: hqsim against the peers, each
in its own process at each thread count (pinned to one core at 1 thread).

    python bench/w2_cpu.py                                # Q=10, all installed peers, 1 and 2 threads
    python bench/w2_cpu.py --qubits 10,12 --threads 1 --contestants hqsim,jax-jit

Every contestant trains the same model (W2 defaults: E=1, M=2, C=2, N=4, L1=1, L2=2, linear
head; the same initial weights) with Adam at batch 16 on the same 435 random unit-norm
embeddings (the simulation cost does not depend on the text), and reports training samples/s
(forward + backward + optimizer step), the wall time of one epoch of 435 samples, the 800-epoch
projection (348,000 sample-steps / samples/s; the measured 800-epoch run is in
bench/RESULTS_qllm.md), and the first step's excess over a steady step (JIT compile for JAX and
Catalyst). Every batch has 16 samples (the epoch wraps around), so JIT peers compile one shape.

Before a contestant is timed its initial logits and the gradient of the first batch's loss for every parameter are checked against hqsim's model on the float64 reference
backend; one that differs by more than 1e-3 (relative) is reported as failed and not timed.
Slow peers are timed on fewer steps (--max-seconds). The optional JAX-jit peer comes from the
`peers` extra. Catalyst and qulacs are not W2 contestants: W2's encoder is amplitude-encoded,
Catalyst 0.15 fails to compile the gradient of a QNode with AmplitudeEmbedding, and qulacs'
backprop starts from |0...0>.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.w1_cpu import _cpu_name, _load, _parse_threads, _subprocess  # noqa: E402
TRAIN, BATCH, EPOCHS = 435, 16, 800
CONTESTANTS = ("hqsim", "jax-jit", "torch-statevector", "default.qubit-backprop", "lightning.qubit-adjoint")
TOL = 1e-3  # relative to the reference's largest entry


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
        elif name == "jax-jit":
            from bench.peers.circuit_layer import PeerCircuitLayer
            from bench.peers.jax_circuit import JaxCircuit
            new = PeerCircuitLayer(JaxCircuit(circ, measured, np.float32), w)
        else:
            device, method = {"default.qubit-backprop": ("default.qubit", "backprop"),
                              "lightning.qubit-adjoint": ("lightning.qubit", "adjoint")}[name]
            new = _pennylane_layer(circ, measured, w, device, method)
        if kind == "enc":
            model.encoders[i] = new
        else:
            model.qpu = new
    return model


def _batch(i):
    """Indices of the 16-sample batch starting at sample i (mod 435): every batch is full."""
    return (np.arange(BATCH) + i) % TRAIN


def check_values(model, x, y):
    """What the oracle check compares: the first batch's initial logits and loss gradient, one
    array per parameter (the training shape, so JIT peers compile only it)."""
    import torch
    idx = torch.as_tensor(_batch(0))
    with torch.no_grad():
        logits = model(x[idx]).double().numpy()
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
    grads = {n: p.grad.double().numpy().copy() for n, p in model.named_parameters()}
    model.zero_grad()
    return logits, grads


def compare(ref, logits, grads):
    """Relative errors against the reference ({"logits", name: ...}); ok when all <= TOL."""
    errors = {"logits": float(np.abs(logits - ref["logits"]).max() / max(1e-12, np.abs(ref["logits"]).max()))}
    for n, g in grads.items():
        want = ref.get(n)
        errors[n] = (float(np.abs(g - want).max() / max(1e-12, np.abs(want).max()))
                     if want is not None and want.shape == g.shape else float("inf"))
    errors = {k: (v if np.isfinite(v) else float("inf")) for k, v in errors.items()}
    return all(v <= TOL for v in errors.values()), errors


def worker(name, q, max_seconds, ref_path):
    import torch
    x_np, y_np = _data(384)
    x = torch.tensor(x_np, dtype=torch.float32)
    y = torch.tensor(y_np)
    model = build_model(name, q)
    t0 = time.perf_counter()
    logits, grads = check_values(model, x, y)  # the first calls: JIT peers compile here
    first_s = time.perf_counter() - t0
    ref = dict(np.load(ref_path))
    ok, errors = compare(ref, logits, grads)
    out = {"name": name, "q": q, "errors": errors, "check_s": first_s, "torch_threads": torch.get_num_threads()}
    if not ok:  # a wrong contestant is reported, never timed
        worst = max(errors, key=errors.get)
        out["error"] = f"failed the oracle check: {worst} {errors[worst]:.1e}"
        return out
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def step(i):
        idx = torch.as_tensor(_batch(i))
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
        return BATCH

    t0 = time.perf_counter()
    step(0)
    first = time.perf_counter() - t0
    done, start, i = 0, time.perf_counter(), BATCH
    while True:
        done += step(i)
        i += BATCH
        if done >= TRAIN or time.perf_counter() - start > max_seconds:
            break
    el = time.perf_counter() - start
    steady = el / (done / BATCH)
    # the check ran one forward and one training forward+backward: about two steady steps
    out.update(samples=done, seconds=el, samples_per_s=done / el, first_step_s=first,
               compile_s=max(0.0, first_s - 2 * steady), load_avg=os.getloadavg()[0])
    return out


def reference_values(q):
    """hqsim's model with the contestants' initial weights, in complex128 on the reference
    backend: the check for every contestant (check_values of it)."""
    import torch

    from hqsim.models.qllm import QLLMClassifier, QLLMConfig
    init = build_model("hqsim", q).state_dict()
    model = QLLMClassifier(QLLMConfig(qubits=q), backend="reference", dtype=torch.float64)
    model.load_state_dict({k: v.double() for k, v in init.items()})
    x_np, y_np = _data(384)
    logits, grads = check_values(model, torch.tensor(x_np, dtype=torch.float64), torch.tensor(y_np))
    return {"logits": logits, **grads}


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
    ap.add_argument("--threads", type=_parse_threads, default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--max-seconds", type=float, default=60.0,
                    help="time at most this long per contestant after warm-up (default 60)")
    ap.add_argument("--timeout", type=int, default=600, help="kill a contestant after this many seconds")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "w2_cpu.json"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--q", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--ref", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.q, args.max_seconds, args.ref)))
        return 0
    names = CONTESTANTS if args.contestants == "all" else tuple(args.contestants.split(","))
    unknown = set(names) - set(CONTESTANTS)
    if unknown:
        ap.error(f"unknown contestants {sorted(unknown)}; choose from {', '.join(CONTESTANTS)}")
    try:
        qubits = [int(v) for v in args.qubits.split(",")]
    except ValueError:
        ap.error("--qubits: expected comma-separated integers, e.g. 10,12")
    meta = {"revision": _rev(), "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "threads": args.threads,
            "machine": _cpu_name(), "load_before": _load(),
            "command": " ".join(["python", "bench/w2_cpu.py"] + (argv if argv is not None else sys.argv[1:]))}
    rows = []
    print("| threads | Q | contestant | train samples/s | epoch (435) s | 800 epochs (projected) | hqsim ÷ it | "
          "first step − steady (compile) s | max rel. err (logits, grads) | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for q in qubits:
            ref_path = os.path.join(tmp, f"ref_{q}.npz")
            np.savez(ref_path, **reference_values(q))
            for threads in args.threads:
                base = None
                for name in names:
                    r = _subprocess(["--worker", name, "--q", str(q), "--max-seconds", str(args.max_seconds),
                                     "--ref", ref_path], threads, args.timeout, script=__file__)
                    r.update(name=name, q=q, threads=threads, load=_load())
                    rows.append(r)
                    print(_row(r, base), flush=True)
                    if name == "hqsim" and "error" not in r:
                        base = r["samples_per_s"]
    meta["load_after"] = _load()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tmp_out = Path(args.out).with_suffix(".tmp")
    tmp_out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    os.replace(tmp_out, args.out)
    print(f"\n{meta}\nwritten: {args.out}")
    return 0


def _row(r, base):
    head = f"| {r['threads']} | {r['q']} | {r['name']} |"
    if "error" in r:
        return f"{head} **{r['error']}** | | | | | | {r['load']} |"
    sps = r["samples_per_s"]
    speed = f"{base / sps:.1f}×" if base and r["name"] != "hqsim" else "-"
    grads = max(v for k, v in r["errors"].items() if k != "logits")
    return (f"{head} {sps:.1f} | {TRAIN / sps:.2f} | {EPOCHS * TRAIN / sps / 60:.1f} min | {speed} | "
            f"{r['compile_s']:.1f} | {r['errors']['logits']:.0e}, {grads:.0e} | {r['load']} |")


if __name__ == "__main__":
    sys.exit(main())
