"""Markdown record of a run_noise.py run (written into bench/RESULTS_noise.md by hand-copying
the printed block, with the run's notes)."""
from __future__ import annotations

import os
import platform
import subprocess

QLLM_SAMPLE_STEPS = 800 * 435  # the paper's 800 epochs over 435 training sentences


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        name = next(ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name"))
    except (OSError, StopIteration):
        name = platform.processor()
    return f"{name}, {os.cpu_count()} cores"


def git_rev(root) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "unknown"


def _setting(r) -> str:
    if r["shots"]:
        return f"S={r['shots']}"
    if r["traj"]:
        return f"depol. T={r['traj']}"
    return "exact"


def _rate(r):
    return r["batch"] / r["seconds"] if r.get("seconds") else None


def render(meta, rows) -> str:
    lines = [f"Noise / shots CPU benchmark — {meta['date']}, {meta['machine']}, {meta['threads']} threads per "
             f"case, revision {meta['revision']}, Q={meta['qubits']}, depolarizing p1={meta['p1']:g} "
             f"(1-qubit gates), p2={meta['p2']:g} (2-qubit gates)", f"command: `{meta['command']}`", "",
             f"Agreement of noisy outputs (W1 Q=4, max |diff|; hqsim T=4000): {meta.get('agreement', 'not run')}", "",
             "| workload | setting | mode | contestant | batch | samples/s | hqsim / peer | note |",
             "|---|---|---|---|---|---|---|---|"]
    hq = {(r["workload"], r["shots"], r["traj"], r["mode"]): _rate(r) for r in rows if r["name"] == "hqsim"}
    for r in rows:
        rate = _rate(r)
        ref = hq.get((r["workload"], r["shots"], r["traj"], r["mode"]))
        ratio = f"{ref / rate:.0f}x" if (r["name"] != "hqsim" and rate and ref) else ""
        note = r.get("error") or r.get("note", "")
        if r.get("diff"):
            note = f"{r['diff']}; {note}"
        lines.append(f"| {r['workload'].upper()} | {_setting(r)} | {r['mode']} | {r['name']} | {r['batch']} | "
                     f"{f'{rate:.1f}' if rate else '-'} | {ratio} | {note} |")
    train = [r for r in rows if r["name"] == "hqsim" and r["workload"] == "w2" and r["mode"] != "forward"
             and _rate(r)]
    if train:
        lines += ["", "Projected wall time of the paper's training run (800 epochs x 435 sentences = "
                  f"{QLLM_SAMPLE_STEPS:,} sample-steps) at the measured W2 training-step rate "
                  "(a projection from throughput, not an end-to-end run):", "",
                  "| setting | mode | samples/s | projected hours |", "|---|---|---|---|"]
        for r in train:
            hours = QLLM_SAMPLE_STEPS / _rate(r) / 3600
            lines.append(f"| {_setting(r)} | {r['mode']} | {_rate(r):.1f} | {hours:.2f} |")
    return "\n".join(lines)
