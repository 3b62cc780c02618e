"""Outputs of an experiment: ``results.json`` (every run, with its history), ``results.md``
(test accuracy mean ± std over seeds, validation accuracy, parameters, wall time, samples/s)
and PNG plots (training curves; accuracy vs parameters; accuracy vs qubits). matplotlib runs
on the Agg backend, so no display is needed. Every file is written atomically."""
from __future__ import annotations

import json
import math
import os
import platform
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from .rundir import RunDirError, atomic_write, atomic_write_with, read_json

RESULTS_JSON, RESULTS_MD = "results.json", "results.md"
CURVES_PNG, PARAMS_PNG, QUBITS_PNG = "curves.png", "accuracy_vs_params.png", "accuracy_vs_qubits.png"
# everything an experiment writes into its run directory (deleted by --force-new)
OUTPUTS = (RESULTS_JSON, RESULTS_MD, CURVES_PNG, PARAMS_PNG, QUBITS_PNG, "checkpoints", "setfit",
           "command.txt")


def _clean(obj):
    """JSON-safe: NaN/inf → None, numpy scalars → Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def machine_info() -> dict:
    import torch
    return {"host": platform.node(), "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def write_results(out_dir, meta: dict, runs: list) -> Path:
    path = Path(out_dir) / RESULTS_JSON
    payload = {"meta": meta, "runs": runs}
    atomic_write(path, json.dumps(_clean(payload), indent=1).encode())
    return path


def read_results(out_dir) -> dict:
    """results.json as written by ``write_results``; RunDirError naming the file otherwise."""
    path = Path(out_dir) / RESULTS_JSON
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise RunDirError(f"{path} is not an hqsim results file (no list of runs)")
    return data


def summarize(runs: list) -> list[dict]:
    """One row per model name, in first-seen order, aggregated over seeds."""
    groups = defaultdict(list)
    for r in runs:
        groups[r["model"]].append(r)

    def stat(rs, key):
        vals = [r[key] for r in rs if r.get(key) is not None]
        return (float(np.mean(vals)) if vals else float("nan"),
                float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0)

    rows = []
    for name, rs in groups.items():
        test, test_sd = stat(rs, "test_acc")
        # parameter counts can differ between seeds (an SVC stores its support vectors): the
        # row carries the median and the range, not the first seed's count
        params = sorted(int(r["params"]) for r in rs)
        rows.append({"model": name, "kind": rs[0]["kind"], "seeds": len(rs), "test_acc": test,
                     "test_std": test_sd, "val_acc": stat(rs, "val_acc")[0],
                     "params": int(np.median(params)), "params_range": (params[0], params[-1]),
                     "wall_s": stat(rs, "wall_s")[0],
                     "samples_per_s": stat(rs, "samples_per_s")[0],
                     "qubits": rs[0].get("config", {}).get("qubits"),
                     "encoders": rs[0].get("config", {}).get("encoders")})
    return rows


def _pct(v):
    return "–" if v is None or not math.isfinite(v) else f"{100 * v:.2f}"


def markdown_table(rows: list, title: str = "") -> str:
    lines = ([f"## {title}", ""] if title else []) + [
        "| model | kind | seeds | test acc % (mean ± std) | val acc % | params | wall s | samples/s |",
        "|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["kind"] != "hybrid", -np.nan_to_num(r["test_acc"]))):
        sps = "–" if not math.isfinite(r["samples_per_s"] or float("nan")) else f"{r['samples_per_s']:.0f}"
        lo, hi = r.get("params_range") or (r["params"], r["params"])
        params = f"{r['params']:,}" if lo == hi else f"{r['params']:,} (median; {lo:,}–{hi:,})"
        lines.append(f"| {r['model']} | {r['kind']} | {r['seeds']} | {_pct(r['test_acc'])} ± "
                     f"{100 * r['test_std']:.2f} | {_pct(r['val_acc'])} | {params} | "
                     f"{r['wall_s']:.1f} | {sps} |")
    return "\n".join(lines) + "\n"


def write_markdown(out_dir, runs: list, meta: dict) -> Path:
    rows = summarize(runs)
    split = meta.get("split_sizes", {})
    head = [f"# QLLM experiment ({meta.get('protocol', '?')} protocol)", "",
            f"- data: {meta.get('data', 'SST-2 (built-in)')}; split sizes {split}",
            f"- embeddings: {meta.get('encoder', '?')}" + (" + SetFit" if meta.get("setfit") else ""),
            f"- seeds: {meta.get('seeds')}; machine: {meta.get('machine', {}).get('host')} "
            f"({meta.get('machine', {}).get('cpus')} CPUs, {meta.get('machine', {}).get('torch_threads')} "
            f"torch threads), {meta.get('machine', {}).get('date')}",
            "- wall s: training + per-epoch validation for trained heads; fit incl. CV for "
            "scikit-learn baselines; samples/s: training samples per second of optimisation",
            "- SVC params: numbers stored by the fitted model (support vectors × D + dual "
            "coefficients + intercept)", ""]
    path = Path(out_dir) / RESULTS_MD
    atomic_write(path, "\n".join(head) + "\n" + markdown_table(rows))
    return path


def _save_figure(fig, path: Path) -> Path:
    atomic_write_with(path, lambda fh: fig.savefig(fh, format="png", dpi=110))
    return path


def _plt():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def plot_curves(out_dir, runs) -> Path | None:
    hist = [r for r in runs if r.get("history")]
    if not hist:
        return None
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    colors = {}
    for r in hist:
        c = colors.setdefault(r["model"], f"C{len(colors) % 10}")
        ep = [h["epoch"] for h in r["history"]]
        lab = r["model"] if r["seed"] == min(x["seed"] for x in hist if x["model"] == r["model"]) else None
        ax1.plot(ep, [h["loss"] for h in r["history"]], color=c, lw=1, alpha=0.8, label=lab)
        ax2.plot(ep, [h["val_acc"] for h in r["history"]], color=c, lw=1, alpha=0.8, label=lab)
    ax1.set(xlabel="epoch", ylabel="training loss", title="training loss (one line per seed)")
    ax2.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy")
    ax2.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = _save_figure(fig, Path(out_dir) / CURVES_PNG)
    plt.close(fig)
    return path


def plot_accuracy_vs_params(out_dir, rows) -> Path | None:
    rows = [r for r in rows if math.isfinite(r["test_acc"])]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        hyb = r["kind"] == "hybrid"
        ax.errorbar(r["params"], 100 * r["test_acc"], yerr=100 * r["test_std"], capsize=3,
                    fmt="o" if hyb else "s", color="C0" if hyb else "C3", ms=5)
        ax.annotate(r["model"], (r["params"], 100 * r["test_acc"]), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set(xlabel="parameters", ylabel="test accuracy % (mean ± std over seeds)",
           title="accuracy vs parameters (blue: hybrid, red: classical)")
    fig.tight_layout()
    path = _save_figure(fig, Path(out_dir) / PARAMS_PNG)
    plt.close(fig)
    return path


def plot_accuracy_vs_qubits(out_dir, rows) -> Path | None:
    hyb = [r for r in rows if r["kind"] == "hybrid" and r["qubits"] and math.isfinite(r["test_acc"])]
    if len({r["qubits"] for r in hyb}) < 2:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    by_e = defaultdict(list)
    for r in hyb:
        by_e[r["encoders"]].append(r)
    for i, (e, rs) in enumerate(sorted(by_e.items())):
        best = {}
        for r in rs:  # one point per Q: most seeds, then best validation (never test) accuracy
            key = (r["seeds"], np.nan_to_num(r["val_acc"]))
            if r["qubits"] not in best or key > (best[r["qubits"]]["seeds"],
                                                 np.nan_to_num(best[r["qubits"]]["val_acc"])):
                best[r["qubits"]] = r
        qs = sorted(best)
        ax.errorbar(qs, [100 * best[q]["test_acc"] for q in qs],
                    yerr=[100 * best[q]["test_std"] for q in qs], marker="o", capsize=3,
                    color=f"C{i}", label=f"hybrid E={e}")
    for j, r in enumerate(x for x in rows if x["kind"] != "hybrid" and math.isfinite(x["test_acc"])):
        ax.axhline(100 * r["test_acc"], ls="--", lw=1, color=f"C{(j + 3) % 10}", label=r["model"])
    ax.set_xticks(sorted({r["qubits"] for r in hyb}))
    ax.set(xlabel="qubits Q", ylabel="test accuracy % (mean ± std over seeds)",
           title="accuracy vs qubits")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = _save_figure(fig, Path(out_dir) / QUBITS_PNG)
    plt.close(fig)
    return path


def write_all(out_dir, meta: dict, runs: list) -> list[Path]:
    """results.json, results.md and every plot that applies; returns the paths written."""
    paths = [write_results(out_dir, meta, runs), write_markdown(out_dir, runs, meta)]
    rows = summarize(runs)
    for p in (plot_curves(out_dir, runs), plot_accuracy_vs_params(out_dir, rows),
              plot_accuracy_vs_qubits(out_dir, rows)):
        if p is not None:
            paths.append(p)
    return paths
