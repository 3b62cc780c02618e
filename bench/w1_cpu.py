"""W1 (re-uploading PQC, R=4 L=2 C=1, complex64) on the CPU: hqsim against the peers, each
contestant in its own process at each thread count (peers' bundled OpenMP runtimes slow each
other down in one process), with the roofline ceilings measured in the same run.

    python bench/w1_cpu.py                          # issue 18: Q=10 B=256 and Q=14 B=64, 1 and 2 threads
    python bench/w1_cpu.py --quick                  # the same, short timings (a smoke run, not a record)
    python bench/w1_cpu.py --points 10:256 --threads 1 --contestants hqsim-numba,jax-jit

Per contestant and point: before anything is timed, its outputs and (with a backward) its input
and weight gradients are checked against hqsim's float64 reference backend on CHECK samples
(relative error <= TOL of the reference's largest entry); a contestant that disagrees is
reported as failed and is not timed. Then forward and forward+backward samples/s (median of
the timings; "best" is the fastest). The first call's excess over the median is reported as the
compile/JIT time (Numba loads hqsim's kernels from its disk cache; JAX and Catalyst trace and
compile there). With 1 thread a contestant is also pinned to one core.

Roofline (bench/roofline.py states the model): for hqsim, bytes moved and flops per sample
counted from the compiled program, the achieved GB/s and GFLOP/s (from its best timing), and
the stream ceiling at its working-set size and the FMA ceiling measured by Numba loops in this
run at the same thread count (before and after that thread count's contestants; the higher
is the ceiling); the point's figure is "x % of the ceiling that bounds it".
The optional peers come from the `peers` extra (pip install -e ".[peers]").
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
R, L, C = 4, 2, 1
CHECK = 4      # samples checked against the oracle
TOL = 1e-3     # relative to the reference's largest entry; complex64 contestants reach ~1e-6
PEER_CAP = {"lightning.qubit-adjoint": 32, "default.qubit-backprop": 64, "qsimcirq": 256}
DEFAULT_POINTS = "10:256,14:64"


def inputs(q, batch):
    rng = np.random.default_rng(1234)
    x = rng.uniform(-np.pi, np.pi, size=(batch, q))
    theta = rng.uniform(-np.pi, np.pi, size=(R, L, q, 3))
    g = rng.normal(size=(batch, q))
    g_check = np.zeros_like(g)
    g_check[:CHECK] = g[:CHECK]  # the checked gradients involve only the CHECK samples
    return x, theta, g, g_check


def oracle(q, batch):
    """hqsim's float64 reference on the CHECK samples: outputs, dx, dtheta for g_check."""
    import hqsim
    from hqsim.backends import reference
    from hqsim.ir.validate import default_observables
    x, theta, _, g_check = inputs(q, batch)
    circ, obs = hqsim.ansatz.rpqc(q, R, L, C), default_observables(q)
    out = reference.expectation(circ, obs, x[:CHECK], theta.reshape(-1))
    dw, dx = reference.vjp(circ, obs, x[:CHECK], theta.reshape(-1), g_check[:CHECK])
    return {"out": out, "dx": dx, "dtheta": dw.reshape(theta.shape)}


def check_against_oracle(ref, out, dx=None, dtheta=None, tol=TOL):
    """Relative errors of a contestant's outputs (and gradients, when given) on the CHECK
    samples; ``ok`` is False when any exceeds tol or is not finite."""
    got = {"out": np.asarray(out)[:CHECK]}
    if dx is not None:
        got["dx"], got["dtheta"] = np.asarray(dx)[:CHECK], np.asarray(dtheta)
    errors = {}
    for key, value in got.items():
        want = ref[key]
        if value.shape != want.shape:
            errors[key] = float("inf")
            continue
        err = float(np.max(np.abs(value - want)) / max(1e-12, np.max(np.abs(want))))
        errors[key] = err if np.isfinite(err) else float("inf")
    return {"ok": all(e <= tol for e in errors.values()), "errors": errors}


def _timings(fn, repeats, min_time):
    times = []
    start = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - start < min_time and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.min(times))


def worker(name, q, batch, repeats, min_time, oracle_path, cap):
    from bench.peers.contestants import CONTESTANTS
    x, theta, g, g_check = inputs(q, batch)
    timed = min(batch, cap if cap else PEER_CAP.get(name, batch))
    ref = dict(np.load(oracle_path))
    t0 = time.perf_counter()
    c = CONTESTANTS[name](x[:timed], theta, q, R, L, C)
    res = {"setup_s": time.perf_counter() - t0, "batch_timed": timed, "precision": c.precision}
    t0 = time.perf_counter()
    out = c.forward()
    first_fwd = time.perf_counter() - t0
    dx = dtheta = None
    if c.forward_backward is not None:
        t0 = time.perf_counter()
        _, dx, dtheta = c.forward_backward(g_check[:timed])
        first_fwdbwd = time.perf_counter() - t0
    check = check_against_oracle(ref, out, dx, dtheta)
    res["errors"] = check["errors"]
    if not check["ok"]:  # a wrong contestant is reported, never timed
        res["error"] = "failed the oracle check: " + ", ".join(f"{k} {v:.1e}" for k, v in check["errors"].items())
        return res
    res["fwd_s"], res["fwd_best_s"] = _timings(c.forward, repeats, min_time)
    res["compile_fwd_s"] = max(0.0, first_fwd - res["fwd_s"])
    if c.forward_backward is not None:
        gt = g[:timed]
        res["fwdbwd_s"], res["fwdbwd_best_s"] = _timings(lambda: c.forward_backward(gt), repeats, min_time)
        res["compile_fwdbwd_s"] = max(0.0, first_fwdbwd - res["fwdbwd_s"])
    return res


def hqsim_cost(q):
    """Per-sample bytes and flops of hqsim's compiled W1 program (bench/roofline.py's model)."""
    import hqsim
    from bench.roofline import per_sample_cost
    return per_sample_cost(hqsim.compile_circuit(hqsim.ansatz.rpqc(q, R, L, C)).program)


def _hqsim_flops(q, batch):
    """Flops of one forward and one forward+backward of a batch (used by render_w1_log.py)."""
    cost = hqsim_cost(q)
    return cost["fwd_flops"] * batch, cost["fwdbwd_flops"] * batch


def _env(threads):
    # OMP_WAIT_POLICY=PASSIVE for everyone: with the default (spinning) policy an OpenMP
    # runtime whose second thread is descheduled by any other load stalls each parallel
    # region for a time slice; lightning.qubit then measured 16 s for 4 samples at Q=4
    # instead of 0.08 s, which made every ratio against it meaningless.
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE", BENCH_THREADS=str(threads), PYTHONPATH=str(ROOT))
    if threads == 1:  # XLA's CPU client otherwise runs its own pool over every core
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return env


def _subprocess(args, threads, timeout, script=__file__):
    """Run ``script`` (this one by default) with args in a fresh process limited to ``threads``
    (pinned to the first cores when fewer than the machine has); its last stdout line is JSON."""
    cores = sorted(os.sched_getaffinity(0))[:threads]
    try:
        p = subprocess.run([sys.executable, script] + args, env=_env(threads), capture_output=True,
                           text=True, timeout=timeout, preexec_fn=lambda: os.sched_setaffinity(0, cores))
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout}s"}
    if p.returncode != 0:
        lines = [ln for ln in (p.stderr or p.stdout).strip().splitlines() if ln.strip()] or ["?"]
        return {"error": lines[-1][:200]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def _parse_points(text):
    try:
        points = [tuple(int(v) for v in p.split(":")) for p in text.split(",") if p]
    except ValueError:
        points = []
    if not points or any(len(p) != 2 or p[0] < 2 or p[1] < CHECK for p in points):
        raise argparse.ArgumentTypeError(f"expected Q:B pairs with Q >= 2 and B >= {CHECK}, e.g. 10:256,14:64")
    return points


def _parse_threads(text):
    try:
        threads = [int(v) for v in text.split(",") if v]
    except ValueError:
        threads = []
    if not threads or any(t < 1 or t > os.cpu_count() for t in threads):
        raise argparse.ArgumentTypeError(f"expected thread counts from 1 to {os.cpu_count()}, e.g. 1,2")
    return threads


def main(argv=None):
    from bench.peers.contestants import CONTESTANTS, STRONG
    from bench.w1_report import render_markdown, row_text
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=_parse_points, default=DEFAULT_POINTS, help=f"Q:B pairs (default {DEFAULT_POINTS})")
    ap.add_argument("--threads", type=_parse_threads, default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--contestants", default="strong",
                    help=f"'strong' ({', '.join(STRONG)}), 'all', or a comma-separated subset of {', '.join(CONTESTANTS)}")
    ap.add_argument("--repeats", type=int, default=3, help="timings per figure, at least (default 3)")
    ap.add_argument("--min-time", type=float, default=0.5, help="time each figure at least this long (default 0.5 s)")
    ap.add_argument("--quick", action="store_true", help="1 timing per figure and slow peers on 16 samples (smoke run)")
    ap.add_argument("--timeout", type=int, default=300, help="kill a contestant after this many seconds (default 300)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "w1_cpu.json"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--ceilings", help=argparse.SUPPRESS)
    ap.add_argument("--q", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--b", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--oracle", help=argparse.SUPPRESS)
    ap.add_argument("--cap", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.q, args.b, args.repeats, args.min_time, args.oracle, args.cap)))
        return 0
    if args.ceilings:
        from bench.roofline import measure_ceilings
        print(json.dumps(measure_ceilings(len(os.sched_getaffinity(0)), [int(v) for v in args.ceilings.split(",")])))
        return 0
    names = {"strong": list(STRONG), "all": list(CONTESTANTS)}.get(args.contestants, args.contestants.split(","))
    unknown = sorted(set(names) - set(CONTESTANTS))
    if unknown:
        ap.error(f"--contestants: unknown {unknown}; choose from {', '.join(CONTESTANTS)} (or 'strong', 'all')")
    if args.repeats < 1 or args.min_time < 0 or args.timeout < 1:
        ap.error("--repeats and --timeout must be >= 1 and --min-time >= 0")
    if args.quick:
        args.repeats, args.min_time = 1, 0.0
    command = " ".join(["python", "bench/w1_cpu.py"] + (sys.argv[1:] if argv is None else list(argv)))
    return run(args, names, command, render_markdown, row_text)


def run(args, names, command, render_markdown, row_text):
    from bench.roofline import working_set_bytes
    meta = {"date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "machine": _cpu_name(), "revision": _git_rev(), "quick": args.quick, "command": command,
            "load_before": _load(), "costs": {}, "ceilings": {}}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        oracle_paths = {}
        for q, b in args.points:
            oracle_paths[(q, b)] = os.path.join(tmp, f"oracle_{q}_{b}.npz")
            np.savez(oracle_paths[(q, b)], **oracle(q, b))
            meta["costs"][str(q)] = hqsim_cost(q)
        ws = sorted({working_set_bytes(q, bwd) for q, _ in args.points for bwd in (False, True)})
        if "hqsim-numba" in names:  # compile into Numba's disk cache once, untimed (minutes when cold)
            meta["numba_warm_s"] = _warm_numba_cache(oracle_paths[args.points[0]], args.points[0])
        for threads in args.threads:
            ceilings = [_subprocess(["--ceilings", ",".join(str(v) for v in ws)], threads, args.timeout)]
            print(f"ceilings, {threads} thread(s), before: {ceilings[0]}", flush=True)
            for q, b in args.points:
                for name in names:
                    cmd = ["--worker", name, "--q", str(q), "--b", str(b), "--repeats", str(args.repeats),
                           "--min-time", str(args.min_time), "--oracle", oracle_paths[(q, b)],
                           "--cap", str(16 if args.quick and name != "hqsim-numba" else 0)]
                    res = _subprocess(cmd, threads, args.timeout)
                    res.update(name=name, q=q, b=b, threads=threads, load=_load())
                    rows.append(res)
                    print(row_text(res), flush=True)
            ceilings.append(_subprocess(["--ceilings", ",".join(str(v) for v in ws)], threads, args.timeout))
            print(f"ceilings, {threads} thread(s), after: {ceilings[1]}", flush=True)
            meta["ceilings"][str(threads)] = _highest(ceilings)
    meta["load_after"] = _load()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tmp_out = Path(args.out).with_suffix(".tmp")
    tmp_out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    tmp_out.replace(args.out)
    print(render_markdown(meta, rows))
    print(f"\nwritten: {args.out}")
    return 0


def _highest(measurements):
    """The ceilings as the higher of the measurements before and after a thread count's
    contestants (both kept): a ceiling is what the hardware reaches, and other load only lowers it."""
    ok = [m for m in measurements if "fma_gflops" in m]
    if not ok:
        return measurements[0]
    return {"fma_gflops": max(m["fma_gflops"] for m in ok),
            "stream_gbs": {k: max(m["stream_gbs"][k] for m in ok) for k in ok[0]["stream_gbs"]},
            "measurements": measurements}


def _warm_numba_cache(oracle_path, point):
    """Wall seconds of one hqsim worker run with a long timeout: it fills Numba's disk cache
    (hqsim/backends/__pycache__) so the timed workers only load it."""
    t0 = time.perf_counter()
    res = _subprocess(["--worker", "hqsim-numba", "--q", str(point[0]), "--b", str(point[1]), "--repeats", "1",
                       "--min-time", "0", "--oracle", oracle_path, "--cap", "16"], 1, 1800)
    if "error" in res:
        print(f"warning: hqsim's warm-up run failed: {res['error']}", flush=True)
    return time.perf_counter() - t0


def _load():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


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


if __name__ == "__main__":
    sys.exit(main())
