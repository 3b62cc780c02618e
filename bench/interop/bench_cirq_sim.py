"""hqsim as a Cirq simulator against cirq.Simulator and qsimcirq on W1 parameter sweeps.

One W1 circuit (weights bound, the Q inputs as sympy symbols x0..x{Q-1}) and one
``cirq.ListSweep`` of B resolvers; every contestant answers the same Cirq call:

- ``expect``: ``simulate_expectation_values_sweep(circuit, [Z(q) for q], sweep)``
- ``sample``: ``run_sweep(circuit + measure(all), sweep, repetitions=1000)``

Each contestant runs in its own process with the same thread budget (OpenMP runtimes of
different peers slow each other down in one process). qsimcirq is optional: when it is not
installed it is reported as missing. cirq.Simulator is timed on at most 32 resolvers (it is
~100x slower); samples/s is resolvers per second either way.

    python bench/interop/bench_cirq_sim.py                          # Q in 6,10,12; B in 16,256
    python bench/interop/bench_cirq_sim.py --qubits 10 --batches 256 --output bench/RESULTS_interop.md
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

ROOT = Path(__file__).resolve().parents[2]
R, L, C = 4, 2, 1
CAP = {"cirq.Simulator": 32}
CONTESTANTS = ("hqsim", "qsimcirq", "cirq.Simulator")
CHECK = 4


def _case(q: int, batch: int):
    import cirq

    import hqsim
    from hqsim.interop.cirq import export_sweep
    rng = np.random.default_rng(1234)
    c = hqsim.ansatz.rpqc(q, R, L, C)
    w = rng.uniform(-np.pi, np.pi, c.num_weights)
    x = rng.uniform(-np.pi, np.pi, (batch, q))
    circuit, sweep = export_sweep(c, w, x)
    return c, w, x, circuit, sweep, [cirq.Z(qq) for qq in cirq.LineQubit.range(q)]


def _simulator(name: str, threads: int):
    if name == "hqsim":
        from hqsim.interop.simulator import HqsimSimulator
        return HqsimSimulator(dtype=np.complex64)
    if name == "qsimcirq":
        import qsimcirq
        return qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=threads))
    import cirq
    return cirq.Simulator(dtype=np.complex64)


def _median(fn, repeats: int, min_time: float = 1.0):
    fn()  # warm-up (Numba compile or cache load, Cirq caches)
    times, start = [], time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - start < min_time and len(times) < 20):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.min(times)), float(np.max(times))


def worker(name: str, q: int, batch: int, mode: str, threads: int, repeats: int) -> dict:
    import cirq
    _, _, _, circuit, sweep, obs = _case(q, batch)
    timed = min(batch, CAP.get(name, batch))
    sub = cirq.ListSweep(list(sweep)[:timed])
    sim = _simulator(name, threads)
    if mode == "expect":
        def call():
            return sim.simulate_expectation_values_sweep(circuit, obs, sub)
    else:
        measured = circuit + cirq.measure(*cirq.LineQubit.range(q), key="m")

        def call():
            return sim.run_sweep(measured, sub, repetitions=1000)
    med, lo, hi = _median(call, repeats)
    out = {"batch_timed": timed, "median_s": med, "min_s": lo, "max_s": hi}
    if mode == "expect":
        head = sim.simulate_expectation_values_sweep(circuit, obs, cirq.ListSweep(list(sweep)[:CHECK]))
        out["check"] = np.real(np.array(head)).tolist()
    return out


def _spawn(name, q, batch, mode, threads, repeats) -> dict:
    # passive OpenMP waiting for every contestant: spinning runtimes stall on a shared machine
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    cmd = [sys.executable, __file__, "--worker", name, str(q), str(batch), mode, str(threads), str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800,
                          check=False)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        if "No module named 'qsimcirq'" in proc.stderr:
            return {"missing": "qsimcirq not installed (pip install qsimcirq)"}
        return {"error": tail[0]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _oracle(q, batch):
    import hqsim
    c, w, x, *_ = _case(q, batch)
    return hqsim.expectation(c, x[:CHECK], w, backend="reference", dtype=np.dtype("complex128"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    p.add_argument("--qubits", default="6,10,12")
    p.add_argument("--batches", default="16,256")
    p.add_argument("--modes", default="expect,sample")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--output", help="append the markdown report to this file")
    args = p.parse_args(argv)
    if args.worker:
        name, q, b, mode, threads, repeats = args.worker
        sys.path.insert(0, str(ROOT))
        print(json.dumps(worker(name, int(q), int(b), mode, int(threads), int(repeats))))
        return 0
    sys.path.insert(0, str(ROOT))
    rows = []
    for mode in args.modes.split(","):
        for q in map(int, args.qubits.split(",")):
            for b in map(int, args.batches.split(",")):
                ref = _oracle(q, b) if mode == "expect" else None
                res = {n: _spawn(n, q, b, mode, args.threads, args.repeats) for n in CONTESTANTS}
                rows.append(_row(mode, q, b, res, ref))
                print(rows[-1], flush=True)
    report = _report(rows, args)
    print(report)
    if args.output:
        with open(args.output, "a") as f:
            f.write(report)
    return 0


def _rate(r):
    return r["batch_timed"] / r["median_s"]


def _row(mode, q, b, res, ref) -> str:
    cells = [mode, str(q), str(b)]
    for n in CONTESTANTS:
        r = res[n]
        if "median_s" not in r:
            cells.append(r.get("missing") or f"failed: {r.get('error')}")
            continue
        spread = f"{r['min_s'] * 1e3:.1f}-{r['max_s'] * 1e3:.1f} ms"
        err = ""
        if ref is not None:
            err = f", err {np.abs(np.array(r['check']) - ref).max():.1e}"
        timed = "" if r["batch_timed"] == b else f" (B={r['batch_timed']})"
        cells.append(f"{_rate(r):,.0f}/s{timed} [{r['median_s'] * 1e3:.1f} ms; {spread}{err}]")
    for peer in ("qsimcirq", "cirq.Simulator"):
        ok = "median_s" in res["hqsim"] and "median_s" in res[peer]
        cells.append(f"{_rate(res['hqsim']) / _rate(res[peer]):.1f}x" if ok else "-")
    return "| " + " | ".join(cells) + " |"


def _report(rows, args) -> str:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=ROOT, check=False).stdout.strip()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    cpu = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                if line.startswith("Model name")), platform.processor())
    load = os.getloadavg()[0]
    versions = {}
    for mod in ("cirq", "qsimcirq", "numba", "numpy"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "missing"
    cmd = "python bench/interop/bench_cirq_sim.py " + " ".join(
        f"--{k} {v}" for k, v in (("qubits", args.qubits), ("batches", args.batches),
                                  ("modes", args.modes), ("threads", args.threads),
                                  ("repeats", args.repeats)))
    head = [f"## hqsim as a Cirq simulator, W1 sweeps ({datetime.date.today().isoformat()})", "",
            f"- command: `{cmd}`", f"- git revision: `{rev}` (working tree may hold uncommitted changes)",
            (f"- machine: {cpu}, {os.cpu_count()} cores, {args.threads} threads per contestant, "
             f"each in its own process; load average {load:.1f} at the end (shared machine)"),
            "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
            (f"- workload: W1 R={R} L={L} C={C}, complex64, one ListSweep of B resolvers; "
             "expect = <Z_q> for all q; sample = 1000 repetitions per resolver"),
            ("- cells: resolvers/s [median time; min-max over repeats; max |error| of the first "
             f"{CHECK} resolvers vs hqsim's complex128 oracle]"), "",
            "| mode | Q | B | hqsim | qsimcirq | cirq.Simulator | hqsim/qsimcirq | hqsim/cirq |",
            "|---|---|---|---|---|---|---|---|"]
    return "\n".join(head + rows) + "\n\n"


if __name__ == "__main__":
    sys.exit(main())
