"""W1 (re-uploading PQC) on the CPU: hqsim against the peers, each in its own process with the
same thread count (peers' bundled OpenMP runtimes slow each other down in one process).

    python bench/w1_cpu.py                      # the issue's grid, all installed peers
    python bench/w1_cpu.py --qubits 10 --batches 256 --contestants hqsim-numba,torch-statevector

Reports forward and forward+backward samples/s, backward/forward ratio, max relative error
against the complex128 oracle, hqsim's GFLOP/s per core against the measured FMA peak, and
Numba's compile time (first process) vs cached start (second process).
"""
from __future__ import annotations

import argparse
import datetime
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
R, L, C = 4, 2, 1
CHECK = 4  # samples checked against the oracle
PEER_CAP = {"lightning.qubit-adjoint": 32, "default.qubit-backprop": 64, "qsimcirq": 256}


def _median_time(fn, repeats, min_time=0.3):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - start < min_time and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.std(times))


def _hqsim_flops(q, batch):
    """Useful FLOPs of one forward and one backward of W1, from the lowered program."""
    import hqsim
    from hqsim.program import OP_CXU1, OP_U1, OP_U2
    prog = hqsim.compile_circuit(hqsim.ansatz.rpqc(q, R, L, C)).program
    n = 2 ** q
    u1 = int(np.sum((prog.ops[:, 0] == OP_U1) | (prog.ops[:, 0] == OP_CXU1)))  # CXU1: a U1 pass
    u2 = int(np.sum(prog.ops[:, 0] == OP_U2))
    fwd = (u1 * 14 + u2 * 32) * n + q * 3 * n      # 2x2 complex per pair = 28 flops; Z terms
    bwd = fwd + (u1 * (14 + 8) + u2 * 40) * n       # recompute + undo psi, undo lambda, M accumulate
    return fwd * batch, bwd * batch


def worker(name, q, batch, repeats):
    from bench.peers.contestants import CONTESTANTS
    rng = np.random.default_rng(1234)
    x = rng.uniform(-np.pi, np.pi, size=(batch, q))
    theta = rng.uniform(-np.pi, np.pi, size=(R, L, q, 3))
    timed = min(batch, PEER_CAP.get(name, batch))
    t0 = time.perf_counter()
    fwd, fwd_bwd, outputs = CONTESTANTS[name](x[:timed], theta, q, R, L, C)
    out = {"setup_s": time.perf_counter() - t0, "batch_timed": timed}
    out["fwd_s"], out["fwd_std"] = _median_time(fwd, repeats)
    if fwd_bwd is not None:
        out["fwdbwd_s"], out["fwdbwd_std"] = _median_time(fwd_bwd, repeats)
    out["check"] = np.asarray(outputs(x[:CHECK])).tolist()
    if name == "hqsim-numba":
        out["flops_fwd"], out["flops_fwdbwd"] = _hqsim_flops(q, timed)
    return out


def fma_peak_gflops():
    """One core's float32 multiply-add rate: 16 chained FMAs per element of an L1-resident
    array, so loads and stores are negligible and independent elements fill the FMA units."""
    from numba import njit

    @njit(fastmath=True, boundscheck=False)
    def kernel(a, reps, s, t):
        for _ in range(reps):
            for j in range(a.shape[0]):
                v = a[j]
                for _k in range(16):
                    v = v * s + t
                a[j] = v
        return a

    a = np.ones(2048, np.float32)
    kernel(a, 2, np.float32(0.9999), np.float32(1e-6))
    reps = 20_000
    t0 = time.perf_counter()
    kernel(a, reps, np.float32(0.9999), np.float32(1e-6))
    return reps * a.size * 16 * 2 / (time.perf_counter() - t0) / 1e9


def run_worker_process(name, q, batch, threads, repeats, timeout):
    # OMP_WAIT_POLICY=PASSIVE for everyone: with the default (spinning) policy an OpenMP
    # runtime whose second thread is descheduled by any other load stalls each parallel
    # region for a time slice; lightning.qubit then measured 16 s for 4 samples at Q=4
    # instead of 0.08 s, which made every ratio against it meaningless.
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE", BENCH_THREADS=str(threads), PYTHONPATH=str(ROOT))
    cmd = [sys.executable, __file__, "--worker", name, "--q", str(q), "--b", str(batch),
           "--repeats", str(repeats), "--threads", str(threads)]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout}s"}
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["?"]
        return {"error": tail[0][:160]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def oracle(q, batch):
    import hqsim
    from hqsim.backends import reference
    from hqsim.ir.validate import default_observables
    rng = np.random.default_rng(1234)
    x = rng.uniform(-np.pi, np.pi, size=(batch, q))
    theta = rng.uniform(-np.pi, np.pi, size=(R, L, q, 3))
    return reference.expectation(hqsim.ansatz.rpqc(q, R, L, C), default_observables(q), x[:CHECK], theta.reshape(-1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qubits", default="4,8,10,12,14")
    ap.add_argument("--batches", default="16,256")
    ap.add_argument("--extra", default="14:64", help="extra Q:B points, comma separated")
    ap.add_argument("--contestants", default="all")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "w1_cpu.json"))
    ap.add_argument("--worker")
    ap.add_argument("--q", type=int)
    ap.add_argument("--b", type=int)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.q, args.b, args.repeats)))
        return 0
    from bench.peers.contestants import CONTESTANTS
    names = list(CONTESTANTS) if args.contestants == "all" else args.contestants.split(",")
    points = [(int(q), int(b)) for q in args.qubits.split(",") for b in args.batches.split(",")]
    points += [tuple(int(v) for v in p.split(":")) for p in args.extra.split(",") if p]
    meta = {"date": datetime.date.today().isoformat(), "machine": _cpu_name(), "threads": args.threads,
            "revision": _git_rev(), "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
            "python": platform.python_version(), "load_before": os.getloadavg()[0]}
    # Numba compile time: first process (cold cache) vs second (warm), at a small point.
    cold = _hqsim_start(args.threads, clear=True)
    warm = _hqsim_start(args.threads, clear=False)
    meta["numba_start_cold_s"], meta["numba_start_warm_s"] = cold, warm
    meta["fma_peak_gflops_per_core"] = fma_peak_gflops()
    rows = []
    for q, b in points:
        ref = oracle(q, b)
        for name in names:
            res = run_worker_process(name, q, b, args.threads, args.repeats, args.timeout)
            res.update(name=name, q=q, b=b)
            if "check" in res:
                got = np.asarray(res.pop("check"))
                res["max_rel_err"] = float(np.max(np.abs(got - ref)) / max(1e-12, np.max(np.abs(ref))))
            rows.append(res)
            print(_row_text(res, meta), flush=True)
    meta["load_after"] = os.getloadavg()[0]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    tmp.replace(args.out)
    print(render_markdown(meta, rows))
    return 0


def _hqsim_start(threads, clear):
    code = ("import time; t=time.perf_counter(); import numpy as np, torch, hqsim;"
            "c=hqsim.ansatz.rpqc(4,1,1); l=hqsim.QuantumLayer(c);"
            "x=torch.rand(3,4,requires_grad=True); l(x).sum().backward();"
            "print(time.perf_counter()-t)")
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    if clear:
        for f in (ROOT / "hqsim" / "backends" / "__pycache__").glob("numba_*.nb[ic]"):
            f.unlink()
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return float(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else float("nan")


def _cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f", {os.cpu_count()} cores"
    except OSError:
        pass
    return platform.processor()


def _git_rev():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "unknown"


def _rate(res, key):
    return res["batch_timed"] / res[key] if key in res else None


def _row_text(res, meta):
    if "error" in res:
        return f"Q={res['q']:2d} B={res['b']:4d} {res['name']:26s} ERROR {res['error']}"
    f, fb = _rate(res, "fwd_s"), _rate(res, "fwdbwd_s")
    fb_s = f"{fb:10.0f}" if fb else "         -"
    return f"Q={res['q']:2d} B={res['b']:4d} {res['name']:26s} fwd {f:10.0f}/s  fwd+bwd {fb_s}/s  err {res.get('max_rel_err', float('nan')):.1e}"


def render_markdown(meta, rows):
    lines = [f"W1 CPU — {meta['date']}, {meta['machine']}, {meta['threads']} threads per contestant, "
             f"revision {meta['revision']}", f"command: `python bench/{meta['command']}`", "",
             f"Measured float32 FMA peak: {meta['fma_peak_gflops_per_core']:.0f} GFLOP/s per core. "
             f"Numba start (import + compile + first call): cold {meta['numba_start_cold_s']:.1f} s, "
             f"cached {meta['numba_start_warm_s']:.1f} s. Machine load average (other jobs sharing "
             f"the 2 cores) before / after: {meta['load_before']:.1f} / {meta['load_after']:.1f}.", "",
             "| Q | B | contestant | fwd samples/s | fwd+bwd samples/s | bwd/fwd | hqsim fwd+bwd speed-up | max rel err | GFLOP/s/core (% peak) |",
             "|---|---|---|---|---|---|---|---|---|"]
    by_point = {}
    for r in rows:
        by_point.setdefault((r["q"], r["b"]), []).append(r)
    for (q, b), rs in by_point.items():
        hq = next((r for r in rs if r["name"] == "hqsim-numba" and "error" not in r), None)
        hq_fb = _rate(hq, "fwdbwd_s") if hq else None
        for r in rs:
            if "error" in r:
                lines.append(f"| {q} | {b} | {r['name']} | {r['error']} | | | | | |")
                continue
            f, fb = _rate(r, "fwd_s"), _rate(r, "fwdbwd_s")
            ratio = f"{(r['fwdbwd_s'] - r['fwd_s']) / r['fwd_s']:.2f}" if fb else "-"
            speed = f"{hq_fb / fb:.1f}x" if (fb and hq_fb and r is not hq) else ("-" if r is not hq else "1")
            gf = "-"
            if r["name"] == "hqsim-numba":
                g = r["flops_fwdbwd"] / r["fwdbwd_s"] / 1e9 / meta["threads"]
                gf = f"{g:.1f} ({100 * g / meta['fma_peak_gflops_per_core']:.0f} %)"
            cap = f" (timed on {r['batch_timed']})" if r["batch_timed"] != b else ""
            lines.append(f"| {q} | {b} | {r['name']}{cap} | {f:.0f} | {fb:.0f} | {ratio} | {speed} | "
                         f"{r.get('max_rel_err', float('nan')):.1e} | {gf} |" if fb else
                         f"| {q} | {b} | {r['name']}{cap} | {f:.0f} | - | - | - | {r.get('max_rel_err', float('nan')):.1e} | - |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
