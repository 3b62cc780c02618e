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


def git_dirty(root, paths=("hqsim",)) -> list:
    """Uncommitted changes under ``paths`` at the start of a run (the tree is shared: another
    engineer's work in progress is part of what was measured)."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", *paths], cwd=root, capture_output=True,
                             text=True).stdout
    except OSError:
        return ["unknown"]
    return [ln.strip() for ln in out.splitlines() if ln.strip() and "__pycache__" not in ln]


def _setting(r) -> str:
    if r["shots"] and r["traj"]:
        return f"depol. T={r['traj']} + S={r['shots']}"
    if r["shots"]:
        return f"S={r['shots']}"
    if r["traj"]:
        return f"depol. T={r['traj']}"
    return "exact"


def _rate(r):
    return r["batch"] / r["seconds"] if r.get("seconds") else None


def _fmt(rate) -> str:
    if not rate:
        return "-"
    return f"{rate:.1f}" if rate >= 10 else f"{rate:.3g}"


def _load(r) -> str:
    ld = r.get("load")
    return f"{ld[0]:.1f}/{ld[1]:.1f}" if ld else ""


def render(meta, rows, ref_batch: int = 16) -> str:
    """Markdown tables of a run; "hqsim / peer" compares per-sample rates with hqsim at batch
    ``ref_batch`` (the training batch) in the same setting and mode."""
    dirty = meta.get("dirty")
    lines = [f"Noise / shots CPU benchmark — {meta['date']} to {meta.get('finished', '?')}, {meta['machine']}, "
             f"{meta['threads']} threads per case, revision {meta['revision']}"
             + (f" (HEAD at the end: {meta['revision_end']})" if meta.get("revision_end", meta["revision"])
                != meta["revision"] else "")
             + (f", uncommitted under hqsim/ at the start: {', '.join(dirty)}" if dirty else
                ", no uncommitted changes under hqsim/ at the start")
             + f", Q={meta['qubits']}, depolarizing p1={meta['p1']:g} (1-qubit gates), p2={meta['p2']:g} "
             f"(2-qubit gates); 1-min load average {meta.get('load_start', '?')} at the start, "
             f"{meta.get('load_end', '?')} at the end",
             f"command: `{meta['command']}`", "",
             f"Agreement of noisy outputs (W1 Q=4, max |diff|; hqsim T=4000): {meta.get('agreement', 'not run')}", "",
             f"| workload | setting | mode | contestant | batch | samples/s | hqsim (B={ref_batch}) / peer "
             "| load before/after | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    hq = {(r["workload"], r["shots"], r["traj"], r["mode"]): _rate(r) for r in rows
          if r["name"] == "hqsim" and r["batch"] == ref_batch}
    for r in rows:
        rate = _rate(r)
        ref = hq.get((r["workload"], r["shots"], r["traj"], r["mode"]))
        ratio = f"{ref / rate:.0f}x" if (r["name"] != "hqsim" and rate and ref) else ""
        if ratio == "0x":
            ratio = f"{ref / rate:.2f}x"
        note = r.get("error") or r.get("note", "")
        if r.get("diff"):
            note = f"{r['diff']}; {note}"
        lines.append(f"| {r['workload'].upper()} | {_setting(r)} | {r['mode']} | {r['name']} | {r['batch']} | "
                     f"{_fmt(rate)} | {ratio} | {_load(r)} | {note} |")
    train = [r for r in rows if r["name"] == "hqsim" and r["workload"] == "w2" and r["mode"] != "forward"
             and r["batch"] == ref_batch and _rate(r)]
    if train:
        lines += ["", "Throughput projection of the paper's training run (800 epochs x 435 sentences = "
                  f"{QLLM_SAMPLE_STEPS:,} sample-steps) from the W2 training-step rate at B={ref_batch} "
                  "(a projection from one step's throughput, not an end-to-end run; see the measured-epoch "
                  "section for extrapolations from real epochs):", "",
                  "| setting | mode | samples/s | projected hours |", "|---|---|---|---|"]
        for r in train:
            hours = QLLM_SAMPLE_STEPS / _rate(r) / 3600
            lines.append(f"| {_setting(r)} | {r['mode']} | {_fmt(_rate(r))} | {hours:.2f} |")
    return "\n".join(lines)
