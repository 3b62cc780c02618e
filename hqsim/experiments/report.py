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
from .stats import accuracy_ci, paired_difference_ci, unpack_correct

RESULTS_JSON, RESULTS_MD = "results.json", "results.md"
# What every QLLM report states about its distance to the paper (Kim et al., arXiv 2504.08732)
PAPER_NOTES = (
    "- paper comparison: the paper's 92.70 % (Q=14) is the best of its hyperparameter screen on "
    "768-d SetFit embeddings, against its own classical baseline of 89.56 %; a single configuration "
    "here is not a screen's maximum (use `hqsim sweep` for a validation-selected screen)",
    "- deviations from the paper's runs: 384-d all-MiniLM-L6-v2 embeddings by default (768-d "
    "SetFit embeddings in the paper; with frozen MiniLM the classical heads reach 76-78 %, with "
    "SetFit-MiniLM ~81.6 %, the paper's 89.6 %: most of the distance to the paper's figure is the "
    "embedding); the paper trains 800 epochs with C=1 and L <= 0.005, γ=1 (this CLI's defaults: "
    "C=2, L=0.01, γ=0.99, 15 epochs); the hybrid's test weights are those of its best validation "
    "epoch (77 sentences)")
CURVES_PNG, PARAMS_PNG, QUBITS_PNG = "curves.png", "accuracy_vs_params.png", "accuracy_vs_qubits.png"
FEWSHOT_PNG = "few_shot.png"
# everything an experiment writes into its run directory (deleted by --force-new)
OUTPUTS = (RESULTS_JSON, RESULTS_MD, CURVES_PNG, PARAMS_PNG, QUBITS_PNG, FEWSHOT_PNG, "checkpoints",
           "setfit", "command.txt")


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
                     "encoders": rs[0].get("config", {}).get("encoders"),
                     "per_label": rs[0].get("per_label"), "ci": _ci(rs)})
    return rows


def correctness(runs: list) -> dict:
    """{seed: 0/1 test-correctness vector} of one model's runs (those that recorded it)."""
    return {r["seed"]: unpack_correct(r["test_correct"], r["test_n"])
            for r in runs if r.get("test_correct") is not None}


def _ci(rs):
    per_seed = correctness(rs)
    if not per_seed or len(per_seed) != len(rs):
        return None  # a run from before per-sentence records: no interval
    return accuracy_ci(list(per_seed.values()))[1:]


def paired_rows(runs: list) -> list[dict]:
    """Hybrid minus classical test accuracy over the seeds both ran, with its 95 % bootstrap
    interval, for every hybrid against the classical head with its parameter count and against
    logistic regression (the same few-shot size and embeddings)."""
    by_model = defaultdict(list)
    for r in runs:
        by_model[r["model"]].append(r)
    out = []
    for name, rs in by_model.items():
        if rs[0]["kind"] != "hybrid" or not correctness(rs):
            continue
        suffix = name[name.index(" ["):] if " [" in name else ""
        params = int(np.median([r["params"] for r in rs]))
        for other in (f"classical head, {params} params", "logistic regression"):
            other_runs = by_model.get(other + suffix) or []
            a, b = correctness(rs), correctness(other_runs)
            seeds = sorted(set(a) & set(b))
            if not seeds:
                continue
            mean, lo, hi = paired_difference_ci([a[s] for s in seeds], [b[s] for s in seeds])
            out.append({"model": name, "versus": other + suffix, "seeds": len(seeds),
                        "diff": mean, "ci": (lo, hi)})
    return out


def paired_table(rows: list) -> str:
    if not rows:
        return ""
    lines = ["", "Paired differences (hybrid − classical, same seeds, splits and test sentences; "
             "95 % bootstrap CI over seeds and test sentences):", "",
             "| hybrid | versus | seeds | Δ test acc (points) | 95 % CI |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['versus']} | {r['seeds']} | {100 * r['diff']:+.2f} | "
                     f"[{100 * r['ci'][0]:+.2f}, {100 * r['ci'][1]:+.2f}] |")
    return "\n".join(lines) + "\n"


def _pct(v):
    return "–" if v is None or not math.isfinite(v) else f"{100 * v:.2f}"


def markdown_table(rows: list, title: str = "") -> str:
    lines = ([f"## {title}", ""] if title else []) + [
        "| model | kind | seeds | test acc % (mean ± std) | 95 % CI | val acc % | params | wall s | samples/s |",
        "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["kind"] != "hybrid", -np.nan_to_num(r["test_acc"]))):
        sps = "–" if not math.isfinite(r["samples_per_s"] or float("nan")) else f"{r['samples_per_s']:.0f}"
        lo, hi = r.get("params_range") or (r["params"], r["params"])
        params = f"{r['params']:,}" if lo == hi else f"{r['params']:,} (median; {lo:,}–{hi:,})"
        ci = "–" if not r.get("ci") else f"{_pct(r['ci'][0])}–{_pct(r['ci'][1])}"
        lines.append(f"| {r['model']} | {r['kind']} | {r['seeds']} | {_pct(r['test_acc'])} ± "
                     f"{100 * r['test_std']:.2f} | {ci} | {_pct(r['val_acc'])} | {params} | "
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
            "coefficients + intercept)",
            "- 95 % CI: percentile bootstrap over seeds and test sentences (hqsim/experiments/stats.py)",
            *PAPER_NOTES, ""]
    path = Path(out_dir) / RESULTS_MD
    text = "\n".join(head) + "\n" + markdown_table(rows) + paired_table(paired_rows(runs))
    if len(meta.get("per_label") or []) > 1:
        text += fewshot_table(runs)
    atomic_write(path, text)
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


def _fewshot_points(runs: list) -> dict:
    """{model without the size suffix: {per_label: (mean, lo, hi, seeds)}}."""
    groups = defaultdict(list)
    for r in runs:
        if r.get("per_label"):
            groups[(r["model"].split(" [")[0], r["per_label"])].append(r)
    out = defaultdict(dict)
    for (family, k), rs in sorted(groups.items(), key=lambda kv: kv[0][1]):
        per_seed = correctness(rs)
        if per_seed:
            mean, lo, hi = accuracy_ci(list(per_seed.values()))
        else:
            mean, lo, hi = float(np.mean([r["test_acc"] for r in rs])), float("nan"), float("nan")
        out[family][k] = (mean, lo, hi, len(rs))
    return out


def fewshot_table(runs: list) -> str:
    """Test accuracy (mean over seeds, 95 % CI) per model and training-set size."""
    points = _fewshot_points(runs)
    sizes = sorted({k for p in points.values() for k in p})
    lines = ["", "## Few-shot curve: test accuracy % vs samples per label (mean over seeds, "
             "[95 % CI]; every size of a seed shares its test set)", "",
             "| model | " + " | ".join(f"{k}/label" for k in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for family, p in points.items():
        cells = [f"{_pct(p[k][0])} [{_pct(p[k][1])}–{_pct(p[k][2])}] ({p[k][3]} seeds)" if k in p else "–"
                 for k in sizes]
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_fewshot(out_dir, runs) -> Path | None:
    points = _fewshot_points(runs)
    if not points:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (family, p) in enumerate(points.items()):
        ks = sorted(p)
        mean = np.array([p[k][0] for k in ks])
        lo, hi = np.array([p[k][1] for k in ks]), np.array([p[k][2] for k in ks])
        ax.plot(ks, 100 * mean, marker="o" if family.startswith("QLLM") else "s", color=f"C{i % 10}",
                label=family)
        if np.isfinite(lo).all():
            ax.fill_between(ks, 100 * lo, 100 * hi, color=f"C{i % 10}", alpha=0.15)
    ax.set_xscale("log", base=2)
    ax.set(xlabel="training + validation samples per label", ylabel="test accuracy % (95 % CI)",
           title="few-shot curve")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = _save_figure(fig, Path(out_dir) / FEWSHOT_PNG)
    plt.close(fig)
    return path


def write_all(out_dir, meta: dict, runs: list) -> list[Path]:
    """results.json, results.md and every plot that applies; returns the paths written."""
    paths = [write_results(out_dir, meta, runs), write_markdown(out_dir, runs, meta)]
    rows = summarize(runs)
    for p in (plot_curves(out_dir, runs), plot_accuracy_vs_params(out_dir, rows),
              plot_accuracy_vs_qubits(out_dir, rows),
              plot_fewshot(out_dir, runs) if len(meta.get("per_label") or []) > 1 else None):
        if p is not None:
            paths.append(p)
    return paths
