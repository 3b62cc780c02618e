"""Markdown record of bench_pl_qiskit.py: command, revision, machine, load, date, versions, table."""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ("pennylane", "pennylane_lightning", "qiskit", "qiskit_aer", "qiskit_machine_learning", "numba", "torch")
RATIOS = (("pl:hqsim.qubit", "pl:lightning.qubit"), ("pl:hqsim.qubit", "pl:default.qubit"),
          ("qk:hqsim+adjoint", "qk:aer+param-shift"), ("qk:hqsim+adjoint", "qk:statevector+param-shift"))


def rate(res: dict, mode: str):
    r = res.get(mode)
    return None if r is None else r["batch_timed"] / r["median_s"]


def _cell(res: dict, mode: str, batch: int) -> str:
    if mode not in res:
        return res.get("missing") or f"failed: {res.get('error')}"
    r = res[mode]
    timed = "" if r["batch_timed"] == batch else f" (B={r['batch_timed']})"
    return f"{rate(res, mode):,.1f}/s{timed} [{r['median_s'] * 1e3:.0f} ms; {r['min_s'] * 1e3:.0f}-{r['max_s'] * 1e3:.0f}]"


def _machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    cpu = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")),
               platform.processor())
    return f"{cpu}, {os.cpu_count()} cores"


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version
    out = []
    for mod in VERSIONS:  # distribution metadata: not every package has __version__ (pennylane_lightning)
        try:
            out.append(f"{mod} {version(mod.replace('_', '-'))}")
        except PackageNotFoundError:
            out.append(f"{mod} missing")
    return ", ".join(out)


def report(results, args, argv) -> str:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                         check=False).stdout.strip()
    lines = [f"## W1 through PennyLane and Qiskit front ends ({datetime.datetime.now():%Y-%m-%d %H:%M})", "",
             f"- command: `python bench/interop/bench_pl_qiskit.py {' '.join(argv)}`",
             f"- git revision: `{rev}`",
             f"- machine: {_machine()}, {args.threads} threads per contestant, each in its own process; "
             f"load average {os.getloadavg()[0]:.1f} at the end (shared machine)",
             f"- versions: {_versions()}",
             f"- workload: W1 R=4 L=2 C=1; hqsim complex64, PennyLane peers float64; cells: samples/s "
             "[median ms per call; min-max]; err = max |<Z>| error of the first 4 samples vs the complex128 oracle", "",
             "| Q | B | contestant | forward | forward+backward | err |", "|---|---|---|---|---|---|"]
    by_case: dict = {}
    for q, b, name, res in results:
        by_case.setdefault((q, b), {})[name] = res
        err = f"{res['err']:.1e}" if "err" in res else "-"
        lines.append(f"| {q} | {b} | {name} | {_cell(res, 'fwd', b)} | {_cell(res, 'fwd_bwd', b)} | {err} |")
    lines += ["", "| Q | B | ratio | forward | forward+backward |", "|---|---|---|---|---|"]
    for (q, b), named in by_case.items():
        for a, peer in RATIOS:
            if a in named and peer in named:
                cells = []
                for mode in ("fwd", "fwd_bwd"):
                    ra, rp = rate(named[a], mode), rate(named[peer], mode)
                    cells.append(f"{ra / rp:,.1f}x" if ra and rp else "-")
                lines.append(f"| {q} | {b} | {a} / {peer} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n\n"
