"""Finite shots and gate noise on the CPU: W1 and W2 under S shots and depolarizing trajectories,
forward and training-step samples/s per gradient mode, hqsim against its peers, each case in its
own process with the same thread count (bundled OpenMP runtimes slow each other down).

    python bench/noise/run_noise.py                          # the issue's grid, all peers
    python bench/noise/run_noise.py --workloads w1 --shots 1024 --trajectories 16 --peers none

Cases: exact (reference), shots S with no gate noise, depolarizing noise (p1 after single-qubit
gates, two-qubit p2 after two-qubit gates) with T trajectories and exact expectations, and the
combined points ``--combined S:T`` (T noisy trajectories, then S shots of their mixture).
hqsim runs every mode at each of ``--batches`` (default 16 and 256, parameter shift included)
without gate noise; with gate noise only forward and adjoint at the smallest T run at every
batch, the rest at the first batch (and parameter shift also at B=2).

Time caps: each case runs in its own process killed after ``--timeout`` s (marked "timeout");
inside it, after one warm-up call, calls repeat until ``--budget`` s (hqsim cases first run
once on a small copy, so that Numba compilation is never timed). A case whose first call at
its batch size alone exceeds the budget is recorded from that single call and marked so (for
peers that call is cold: an upper bound). A larger batch whose cost, scaled linearly from the same case at a smaller batch, would
exceed ``--cap`` s per call is not run, and the row says so (never extrapolated into a rate).
The 1-minute load average is recorded before and after every case.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
MODES = ("adjoint", "parameter-shift", "spsa")
PS_CIRCUITS = 400  # at least this many shifted circuits per sample in W1 / W2 at Q = 10
# PennyLane loops over samples for parameter shift and default.mixed takes 10-100 s per
# forward: peers are timed on small batches (samples/s is per sample); Aer batches natively.
PEER_BATCH = {"pennylane-default.mixed": 1, "pennylane-lightning.qubit": 2, "qiskit-aer-estimator": 16}


def measure(fn, budget: float, repeats: int = 5):
    """Median seconds of ``fn`` after one warm-up call (the warm-up call itself when it alone
    exceeds the budget; hqsim cases are warmed on a 1-sample copy before, peers are not)."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    if first > budget:
        return first, f"1 call only ({first:.1f} s > budget {budget:.0f} s; first call of this batch size)"
    times, start = [], time.perf_counter()
    while len(times) < repeats and (time.perf_counter() - start) < budget:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), f"{len(times)} reps, spread {min(times):.3g}-{max(times):.3g} s"


def hqsim_case(spec):
    import torch

    import hqsim
    from hqsim.noise import SPSA, depolarizing_model
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    noise = depolarizing_model(spec["p1"], spec["p2"]) if spec["traj"] else None
    mode = spec["mode"] if spec["mode"] != "forward" else "adjoint"
    opts = dict(shots=spec["shots"], seed=0, noise=noise, trajectories=spec["traj"],
                gradient=SPSA(epsilon=0.1, directions=1) if mode == "spsa" else mode)
    if all(v is None for v in (spec["shots"], spec["traj"])) and mode == "adjoint":
        opts = {}  # the exact reference path
    rng = np.random.default_rng(1234)
    q, b = spec["q"], spec["batch"]
    if spec["workload"] == "w1":
        layer = hqsim.QuantumLayer(hqsim.ansatz.rpqc(q), dtype=torch.float32, **opts)
        x = torch.tensor(rng.uniform(-np.pi, np.pi, (b, q)), dtype=torch.float32, requires_grad=True)
        layers = [layer]

        def run():
            return layer(x)
    else:
        from bench.noise.peers import C2, D, L1, L2, M, N
        enc = hqsim.QuantumLayer(hqsim.ansatz.amplitude_encoder(q, D, M, C2), dtype=torch.float32, **opts)
        mod = hqsim.QuantumLayer(hqsim.ansatz.reuploading_module(q, N, L1, L2, C2), observables=[hqsim.Z(0)],
                                 dtype=torch.float32, **opts)
        emb = rng.normal(size=(b, D))
        x = torch.tensor(emb / np.linalg.norm(emb, axis=1, keepdims=True), dtype=torch.float32)
        layers = [enc, mod]

        def run():
            return mod(np.pi * enc(x))
    params = [p for lay in layers for p in lay.parameters()]
    opt = torch.optim.Adam(params, lr=0.01)

    def forward():
        with torch.no_grad():
            return run()

    def train():
        opt.zero_grad()
        (run() ** 2).mean().backward()
        opt.step()
    return forward, train


def worker(name, spec):
    if name == "hqsim":
        # compile (or load from Numba's cache) every kernel the case uses on a small copy first,
        # so the timed calls, even a single one, exclude JIT compilation; the copy has more than
        # one 16-lane group of rows whenever the case does (a one-group batch runs without the
        # parallel region, so it would not compile the parallel kernels)
        warm = min(spec["batch"], 2 if spec["traj"] or spec["mode"] == "parameter-shift" else 32)
        wfwd, wtrain = hqsim_case(dict(spec, batch=warm))
        (wfwd if spec["mode"] == "forward" else wtrain)()
        fwd, train = hqsim_case(spec)
    else:
        from bench.noise.peers import PEERS
        fwd, train = PEERS[name](spec)
    fn = fwd if spec["mode"] == "forward" else train
    if fn is None:
        return {"error": "no gradients (forward-only simulator)"}
    t, note = measure(fn, spec["budget"])
    out = {"seconds": t, "note": note}
    if name != "hqsim":
        from bench.noise.peers import describe
        out["diff"] = describe(name, spec)
    return out


def agreement():
    """Max |difference| of noisy W1 outputs (Q=4, B=2, p1=2e-3, p2=1e-2) between hqsim's
    trajectories (T=4000), PennyLane default.mixed (exact) and Qiskit Aer (4000 trajectories)."""
    import hqsim
    from bench.noise.peers import _data, aer, default_mixed
    from hqsim.noise import depolarizing_model
    spec = dict(workload="w1", q=4, batch=2, shots=None, traj=4000, mode="forward", p1=2e-3, p2=1e-2)
    x, w, _ = _data(spec)
    ours = hqsim.expectation(hqsim.ansatz.rpqc(4), x, w, noise=depolarizing_model(2e-3, 1e-2),
                             trajectories=4000, seed=0)
    out = {}
    try:
        out["vs default.mixed (exact)"] = float(np.max(np.abs(default_mixed(spec)[0]().numpy() - ours)))
    except Exception as exc:  # a missing peer is reported, not dropped
        out["vs default.mixed"] = f"unavailable: {exc}"
    try:
        out["vs qiskit-aer (4000 traj.)"] = float(np.max(np.abs(np.asarray(aer(spec)[0]()).T - ours)))
    except Exception as exc:
        out["vs qiskit-aer"] = f"unavailable: {exc}"
    return out


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run_case(name, spec, threads, timeout):
    before = _load()
    res = _run_case(name, spec, threads, timeout)
    res["load"] = [before, _load()]
    return res


def _run_case(name, spec, threads, timeout):
    # OMP_WAIT_POLICY=PASSIVE for every contestant (as bench/w1_cpu.py): a spinning OpenMP
    # runtime on a loaded 2-core machine slows lightning.qubit (and others) by orders of magnitude
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), BENCH_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE", PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    cmd = [sys.executable, __file__, "--worker", name, "--spec", json.dumps(spec)]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout} s"}
    if p.returncode != 0:
        tail = [ln for ln in (p.stderr or p.stdout).strip().splitlines() if ln.strip()][-1:] or ["?"]
        return {"error": tail[0][:200]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def settings_of(args):
    return ([(None, None)] + [(s, None) for s in args.shots] + [(None, t) for t in args.trajectories]
            + [tuple(int(v) for v in c.split(":")) for c in args.combined])


def cases(args):
    """(contestant, spec) for the grid: exact, shots, noise, combined; forward and each gradient
    mode; hqsim at every batch of --batches, peers at their own batch (PEER_BATCH)."""
    out = []
    peers = [] if args.peers == "none" else (
        list(PEER_BATCH) if args.peers == "all" else args.peers.split(","))
    for wl in args.workloads:
        for shots, traj in settings_of(args):
            for mode in ("forward",) + MODES:
                if (shots, traj) == (None, None) and mode in ("parameter-shift", "spsa"):
                    continue
                spec = dict(workload=wl, q=args.qubits, shots=shots, traj=traj, mode=mode,
                            p1=args.p1, p2=args.p2, budget=args.budget)
                if not args.skip_hqsim:
                    batches = list(args.batches)
                    if traj and (shots or traj > min(args.trajectories) or mode not in ("forward", "adjoint")):
                        batches = batches[:1]  # keep the grid short: B*T rows per call
                    if traj and mode == "parameter-shift":
                        batches = sorted(set([2] + batches))  # T x 400+ circuits per sample
                    out += [("hqsim", dict(spec, batch=b)) for b in batches]
                for peer in peers:
                    if mode in ("forward", "parameter-shift") and (shots, traj) != (None, None):
                        out.append((peer, dict(spec, batch=args.peer_batch or PEER_BATCH.get(peer, 2),
                                               budget=args.peer_budget)))
    return out


def _skip_reason(name, spec, done, cap):
    """Why a case is not run: its cost at a smaller batch, scaled linearly, exceeds ``cap``."""
    if name != "hqsim":
        return None
    key = (spec["workload"], spec["shots"], spec["traj"], spec["mode"])
    smaller = [(b, t) for (k, b), t in done.items() if k == key and b < spec["batch"] and t]
    if not smaller:
        return None
    b, t = max(smaller)
    proj = t * spec["batch"] / b
    if proj > cap:
        return (f"not run: B={b} took {t:.1f} s per call, so B={spec['batch']} would take ~{proj:.0f} s "
                f"(linear scaling) > cap {cap:.0f} s")
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", type=lambda s: s.split(","), default=["w1", "w2"])
    ap.add_argument("--qubits", type=int, default=10)
    ap.add_argument("--batches", type=lambda s: [int(v) for v in s.split(",") if v], default=[16, 256])
    ap.add_argument("--peer-batch", type=int, default=0, help="0: per-peer defaults (PEER_BATCH)")
    ap.add_argument("--shots", type=lambda s: [int(v) for v in s.split(",") if v], default=[1024, 8192])
    ap.add_argument("--trajectories", type=lambda s: [int(v) for v in s.split(",") if v], default=[16, 64])
    ap.add_argument("--combined", type=lambda s: [v for v in s.split(",") if v], default=["8192:16"],
                    help="shots:trajectories points with both")
    ap.add_argument("--p1", type=float, default=1e-3)
    ap.add_argument("--p2", type=float, default=1e-2)
    ap.add_argument("--peers", default="all")
    ap.add_argument("--skip-hqsim", action="store_true", help="time the peers only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=20.0, help="seconds of repeats per case (hqsim)")
    ap.add_argument("--peer-budget", type=float, default=30.0, help="seconds of repeats per case (peers)")
    ap.add_argument("--cap", type=float, default=100.0, help="skip a batch projected above this per call")
    ap.add_argument("--timeout", type=int, default=150, help="kill a case's process after this")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "noise.json"))
    ap.add_argument("--revision", default="",
                    help="the commit this tree was exported from (git archive), for trees without .git")
    ap.add_argument("--worker")
    ap.add_argument("--spec")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.spec))))
        return 0
    from bench.noise.record import git_dirty, git_rev, machine, render
    meta = {"date": datetime.datetime.now().isoformat(timespec="minutes"), "machine": machine(),
            "threads": args.threads, "revision": args.revision or git_rev(ROOT),
            "dirty": [f"none: the run used an export of {args.revision} (git archive)"] if args.revision
            else git_dirty(ROOT),
            "command": "python bench/noise/run_noise.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "p1": args.p1, "p2": args.p2, "qubits": args.qubits}
    if args.peers != "none":
        meta["agreement"] = agreement()
        print("agreement check:", meta["agreement"], flush=True)
    rows, too_slow, done, dm_seen = [], {}, {}, {}
    meta["load_start"] = _load()
    for name, spec in cases(args):
        key = (name, spec["workload"], spec["shots"], spec["traj"])
        dm_key = (spec["workload"], spec["shots"], spec["traj"] is not None, spec["mode"])
        skip = _skip_reason(name, spec, done, args.cap)
        if skip:
            res = {"error": skip}
        elif name != "hqsim" and spec["mode"] != "forward" and key in too_slow:
            res = {"error": f"not run: its forward alone {too_slow[key]}"}
        elif name == "pennylane-default.mixed" and spec["traj"] and dm_key in dm_seen:
            res = {"error": f"same computation as T={dm_seen[dm_key]} (exact density matrix, T unused): not re-run"}
        else:
            res = run_case(name, spec, args.threads, args.timeout)
            if name == "pennylane-default.mixed" and spec["traj"]:
                dm_seen[dm_key] = spec["traj"]
        if name == "hqsim":
            done[((spec["workload"], spec["shots"], spec["traj"], spec["mode"]), spec["batch"])] = \
                res.get("seconds") or (float(args.timeout) if "timeout" in res.get("error", "") else None)
        if name != "hqsim" and spec["mode"] == "forward":
            per_sample = res["seconds"] / spec["batch"] if res.get("seconds") else None
            if per_sample is None:
                too_slow[key] = res.get("error") or res.get("note")
            elif per_sample * PS_CIRCUITS > args.peer_budget * 4:
                too_slow[key] = (f"takes {per_sample:.2g} s per sample; a parameter-shift step runs "
                                 f"~{PS_CIRCUITS} circuits per sample (> {args.peer_budget * 4:.0f} s)")
        res.update(name=name, **{k: spec[k] for k in ("workload", "batch", "shots", "traj", "mode")})
        rows.append(res)
        rate = f"{spec['batch'] / res['seconds']:.1f}/s" if res.get("seconds") else res.get("error") or res.get("note")
        print(f"{name:26s} {spec['workload']} S={spec['shots']} T={spec['traj']} {spec['mode']:16s} "
              f"B={spec['batch']:3d} {rate} load={res.get('load')}", flush=True)
        meta["load_end"] = _load()
        meta["finished"] = datetime.datetime.now().isoformat(timespec="minutes")
        meta["revision_end"] = args.revision or git_rev(ROOT)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(render(meta, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
