"""Issue 3's GPU benchmark grid, in one run, with its peers and the device's measured ceilings.

    python bench/gpu/bench_gpu.py --out bench/gpu/results [--quick] [--budget-s 20]

W1 (rpqc, Q in 8..20 step 2, B in 16/1024/8192) and W2 (qllm quantum part, Q in 10/14/18,
B 16/435): forward and forward+backward samples/s for hqsim's CUDA backend, cuStateVec
(hqsim's custatevec backend: batched apply + batched expectation, adjoint from primitives), a
plain torch batched statevector with autograd, PennyLane lightning.gpu (if installed; it loops
over samples, so it is measured on min(B, 16) samples and says so), and hqsim's Numba backend on
this machine's CPUs. Also: device-to-device copy bandwidth and FP32 rate measured here, and
hqsim's achieved bytes/s and FLOP/s against them. Results go to results.json and results.md
after every case, so a run cut short keeps what it measured. A missing or failing peer is
reported with its reason, never dropped. Nothing here is extrapolated except the W2 800-epoch
line, which is labelled as projected from the measured per-epoch time.
"""
from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402
import torch_peer  # noqa: E402

from hqsim.ansatz import amplitude_encoder, reuploading_module, rpqc, z_all  # noqa: E402
from hqsim.backends import get_backend  # noqa: E402
from hqsim.compile import compile_circuit  # noqa: E402
from hqsim.ir import Z  # noqa: E402
from hqsim.program import OP_U1, OP_U2  # noqa: E402

W1_Q = [8, 10, 12, 14, 16, 18, 20]
W1_B = [16, 1024, 8192]
W2_Q = [10, 14, 18]
W2_B = [16, 435]


# ---------------------------------------------------------------- peers: (forward, forward+backward)
def hqsim_fns(backend_name, compiled, x, w):
    be = get_backend(backend_name)
    cot = torch.ones(x.shape[0], len(compiled.observables), device=x.device, dtype=torch.float64)
    if backend_name == "numba":
        xn, wn, cn = x.double().cpu().numpy(), w.double().cpu().numpy(), cot.cpu().numpy()
        be.vjp(compiled, xn[:1], wn, cn[:1], np.float32)  # JIT-compile outside the timed calls
        return (lambda: be.forward(compiled, xn, wn, np.float32),
                lambda: (be.forward(compiled, xn, wn, np.float32), be.vjp(compiled, xn, wn, cn, np.float32)))
    return (lambda: be.forward(compiled, x, w, np.float32),
            lambda: (be.forward(compiled, x, w, np.float32), be.vjp(compiled, x, w, cot, np.float32)))


def torch_fns(circuit, x, w):
    def fwd():
        with torch.no_grad():
            return torch_peer.simulate(circuit, x, w)

    def fwdbwd():
        xg, wg = x.detach().requires_grad_(), w.detach().requires_grad_()
        out = torch_peer.simulate(circuit, xg, wg)
        out.sum().backward()
        return xg.grad, wg.grad
    return fwd, fwdbwd


def lightning_fns(circuit, x, w):
    """PennyLane lightning.gpu, adjoint differentiation, one sample at a time (it does not batch)."""
    import pennylane as qml  # optional peer: a missing install is reported by run_case
    q_n, enc = circuit.num_qubits, circuit.amplitude_encoding
    dev = qml.device("lightning.gpu", wires=q_n)

    def angle(p, xs, ws):
        v = ws[p.index] if p.source == 1 else (xs[p.index] if p.source == 2 else 0.0)
        return p.scale * v + p.offset

    @qml.qnode(dev, interface="torch", diff_method="adjoint")
    def qnode(xs, ws):
        if enc is not None:
            qml.AmplitudeEmbedding(xs[enc.start:enc.start + enc.size], wires=range(q_n), pad_with=0.0, normalize=True)
        for g in circuit.gates:
            if g.name in ("RX", "RY", "RZ"):
                getattr(qml, g.name)(angle(g.params[0], xs, ws), wires=g.qubits[0])
            elif g.name in ("CNOT", "CZ", "SWAP"):
                getattr(qml, g.name)(wires=list(g.qubits))
            else:
                raise ValueError(f"lightning peer: gate {g.name} not mapped")
        return [qml.expval(qml.PauliZ(q)) for q in range(q_n)]

    xc, wc = x.double().cpu(), w.double().cpu()

    def fwd():
        with torch.no_grad():
            return [qnode(xc[b], wc) for b in range(xc.shape[0])]

    def fwdbwd():
        # adjoint differentiation cannot differentiate the amplitude embedding: weights (and
        # angle inputs) only, which favours this peer on the encoder
        wg = wc.clone().requires_grad_()
        xg = xc.clone().requires_grad_(enc is None)
        for b in range(xc.shape[0]):
            torch.stack(qnode(xg[b], wg)).sum().backward()
        return wg.grad
    return fwd, fwdbwd


# Peers that make one pass over the states per gate are not started where that alone would
# take longer than the measurement budget (a first call is not interruptible).
PER_GATE_PEERS = ("custatevec", "torch-autograd")
PER_GATE_BYTES_PER_S = 3e12
PEERS = ["hqsim-cuda", "custatevec", "torch-autograd", "lightning.gpu", "hqsim-numba-cpu"]


def peer_fns(peer, circuit, compiled, x, w):
    if peer == "hqsim-cuda":
        return hqsim_fns("cuda", compiled, x, w)
    if peer == "custatevec":
        return hqsim_fns("custatevec", compiled, x, w)
    if peer == "torch-autograd":
        return torch_fns(circuit, x, w)
    if peer == "lightning.gpu":
        return lightning_fns(circuit, x, w)
    if peer == "hqsim-numba-cpu":
        return hqsim_fns("numba", compiled, x, w)
    raise ValueError(peer)


# ---------------------------------------------------------------- traffic and work models
def work_model(program, batch):
    """(bytes a one-pass-per-op simulator moves, FP32 FLOPs of the gate arithmetic) per forward,
    complex64: every op reads and writes the state once (16 B/amplitude); a 2x2 complex
    matrix-vector costs 14 real FLOPs per amplitude, a 4x4 one 30."""
    amps = batch * 2 ** program.num_qubits
    kinds = program.ops[:, 0]
    flops = amps * (14 * int((kinds == OP_U1).sum()) + 30 * int((kinds == OP_U2).sum()))
    return 16 * amps * program.num_ops, flops


# ---------------------------------------------------------------- the run
class Recorder:
    def __init__(self, out_dir: Path, meta: dict, stem: str = "results"):
        self.out_dir, self.meta, self.rows, self.stem = out_dir, meta, [], stem
        out_dir.mkdir(parents=True, exist_ok=True)

    def add(self, row):
        self.rows.append(row)
        print(json.dumps(row), flush=True)
        for ext, text in (("json", json.dumps({"meta": self.meta, "rows": self.rows}, indent=1)),
                          ("md", self.markdown())):
            tmp = self.out_dir / f".{self.stem}.{ext}.tmp"
            tmp.write_text(text)
            tmp.replace(self.out_dir / f"{self.stem}.{ext}")  # a kill mid-write leaves the last whole file

    def markdown(self):
        m = self.meta
        lines = [f"# hqsim GPU benchmark — {m['device']} — {m['date']} — git {m['git']}", "",
                 f"Measured here: copy bandwidth {m['copy_GBps']:.0f} GB/s, FP32 rate {m['fp32_TFLOPs']:.1f} "
                 f"TFLOP/s (SGEMM, TF32 off). Command: `{m['command']}`", "",
                 "| workload | Q | B | backend | fwd samples/s | fwd+bwd samples/s | bwd/fwd | vs fastest GPU peer "
                 "(fwd+bwd) | equiv. GB/s (% copy) | GFLOP/s (% FP32) | peak GPU MiB | note |",
                 "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            def f(v, fmt="{:.3g}"):
                return "—" if v is None else fmt.format(v)
            lines.append(f"| {r['workload']} | {r['Q']} | {r['B']} | {r['backend']} | {f(r['fwd_sps'])} | "
                         f"{f(r['fwdbwd_sps'])} | {f(r.get('bwd_over_fwd'))} | {f(r.get('speedup_vs_peer'))} | "
                         f"{f(r.get('equiv_GBps'))} ({f(r.get('pct_copy'), '{:.0f}')}%) | {f(r.get('GFLOPs'))} "
                         f"({f(r.get('pct_fp32'), '{:.0f}')}%) | {f(r.get('peak_MiB'), '{:.0f}')} | {r['note']} |")
        return "\n".join(lines) + "\n"


def run_case(rec, workload, circuit, obs, batch, peers, budget, rng):
    compiled = compile_circuit(circuit, obs)
    x = torch.as_tensor(rng.uniform(-1, 1, (batch, circuit.num_inputs)), dtype=torch.float32, device="cuda")
    w = torch.as_tensor(rng.uniform(-np.pi, np.pi, circuit.num_weights), dtype=torch.float32, device="cuda")
    nbytes, flops = work_model(compiled.program, batch)
    case_rows = []
    for peer in peers:
        row = dict(workload=workload, Q=circuit.num_qubits, B=batch, backend=peer, dtype="complex64",
                   fwd_sps=None, fwdbwd_sps=None, note="")
        if peer in PER_GATE_PEERS and nbytes / PER_GATE_BYTES_PER_S > budget:
            row["note"] = (f"not run: one pass per gate would move {nbytes / 1e9:.0f} GB per forward "
                           f"(> {budget} s at {PER_GATE_BYTES_PER_S / 1e12:.0f} TB/s)")
            case_rows.append(row)
            continue
        try:
            sub = batch if peer != "lightning.gpu" else min(batch, 16)
            fwd, both = peer_fns(peer, circuit, compiled, x[:sub], w)
            meas = timing.measure_cpu if peer == "hqsim-numba-cpu" else timing.measure
            tf, tb = meas(fwd, budget_s=budget), meas(both, budget_s=budget)
            row["measured_batch"] = sub
            row["fwd_sps"] = sub / tf.median_s if tf.median_s else None
            row["fwdbwd_sps"] = sub / tb.median_s if tb.median_s else None
            row["fwd_median_s"], row["fwdbwd_median_s"] = tf.median_s, tb.median_s
            row["fwd_spread_s"], row["fwdbwd_spread_s"] = (tf.min_s, tf.max_s), (tb.min_s, tb.max_s)
            row["peak_MiB"] = max(tf.peak_bytes, tb.peak_bytes) / 2 ** 20 if peer != "hqsim-numba-cpu" else None
            row["note"] = "; ".join(n for n in (tf.note, tb.note, f"measured on {sub} samples" if sub != batch else "")
                                    if n)
            if tf.median_s and tb.median_s:
                row["bwd_over_fwd"] = (tb.median_s - tf.median_s) / tf.median_s
            if peer == "hqsim-cuda" and tf.median_s:
                row["equiv_GBps"] = nbytes / tf.median_s / 1e9
                row["pct_copy"] = 100 * nbytes / tf.median_s / rec.meta["copy_Bps"]
                row["GFLOPs"] = flops / tf.median_s / 1e9
                row["pct_fp32"] = 100 * flops / tf.median_s / rec.meta["fp32_FLOPs"]
        except Exception as exc:  # a peer that cannot run is reported, not dropped
            row["note"] = f"not run: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            if not isinstance(exc, (ImportError, NotImplementedError, ValueError)):
                traceback.print_exc()
        case_rows.append(row)
    gpu_peers = [r["fwdbwd_sps"] for r in case_rows
                 if r["backend"] not in ("hqsim-cuda", "hqsim-numba-cpu") and r["fwdbwd_sps"]
                 and r.get("measured_batch") == batch]
    for r in case_rows:
        if r["backend"] == "hqsim-cuda" and r["fwdbwd_sps"] and gpu_peers:
            r["speedup_vs_peer"] = r["fwdbwd_sps"] / max(gpu_peers)
        rec.add(r)
    return case_rows


def w2_cases(q):
    """The QLLM quantum part at Q qubits: encoder (384 features, M=2, C=2) and QPU module."""
    enc = amplitude_encoder(q, 384, layers=2, connectivity=2)
    mod = reuploading_module(q, blocks=4, pqc1_layers=1, pqc2_layers=2, connectivity=2)
    return [("W2-encoder", enc, z_all(q)), ("W2-module", mod, [Z(0)])]


def meta_info(args):
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    copy_bps, fp32 = timing.copy_bandwidth(), timing.fp32_rate()
    return dict(device=torch.cuda.get_device_name(), date=datetime.datetime.now().isoformat(timespec="seconds"),
                git=git or "unknown", torch=torch.__version__, command=" ".join(sys.argv),
                copy_Bps=copy_bps, copy_GBps=copy_bps / 1e9, fp32_FLOPs=fp32, fp32_TFLOPs=fp32 / 1e12,
                budget_s=args.budget_s)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    ap.add_argument("--quick", action="store_true", help="Q in {10, 16}, B in {16, 1024}: a smoke run")
    ap.add_argument("--first-contact", action="store_true",
                    help="the first-contact grid: W1 Q 10/14/18 x B 1024/8192, W2 Q 10/14/18 x B 435; hqsim, "
                         "torch and cuStateVec (when installed) only")
    ap.add_argument("--stem", default="results", help="output file names: STEM.json and STEM.md")
    ap.add_argument("--budget-s", type=float, default=15.0, help="time budget per measurement")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--workloads", default="w1,w2")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA GPU: this benchmark must run on one", file=sys.stderr)
        return 2
    peers = [p for p in args.peers.split(",") if p]
    w1_q, w1_b, w2_q, w2_b = W1_Q, W1_B, W2_Q, W2_B
    if args.quick:
        w1_q, w1_b, w2_q = [10, 16], [16, 1024], [10]
    if args.first_contact:
        w1_q, w1_b, w2_q, w2_b = [10, 14, 18], [1024, 8192], [10, 14, 18], [435]
        peers = ["hqsim-cuda", "torch-autograd", "custatevec"]
    rec = Recorder(args.out, meta_info(args), args.stem)
    rng = np.random.default_rng(0)
    wl = args.workloads.split(",")
    if "w1" in wl:
        for q in w1_q:
            for b in w1_b:
                run_case(rec, "W1", rpqc(q), z_all(q), b, peers, args.budget_s, rng)
    if "w2" in wl:
        for q in w2_q:
            for b in w2_b:
                for name, circ, obs in w2_cases(q):
                    run_case(rec, name, circ, obs, b, peers, args.budget_s, rng)
        headline(rec)
    print(f"wrote {args.out / (args.stem + '.md')}")
    return 0


def headline(rec):
    """W2's 800 epochs x 435 samples, projected from the measured per-step time at B = 435
    (encoder + module, forward and backward), for hqsim-cuda and each peer measured there."""
    for q in sorted({r["Q"] for r in rec.rows if r["workload"].startswith("W2")}):
        per = {}
        for r in rec.rows:
            if r["workload"].startswith("W2") and r["Q"] == q and r["B"] == 435 and r.get("fwdbwd_median_s") \
                    and r.get("measured_batch") == 435:
                per.setdefault(r["backend"], []).append(r["fwdbwd_median_s"])
        for backend, ts in per.items():
            if len(ts) == 2:
                rec.add(dict(workload="W2-800-epochs (projected)", Q=q, B=435, backend=backend, dtype="complex64",
                             fwd_sps=None, fwdbwd_sps=435 / sum(ts),
                             note=f"800 x measured epoch time = {800 * sum(ts):.1f} s (projection, not a run)"))


if __name__ == "__main__":
    sys.exit(main())
