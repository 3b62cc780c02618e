"""Outputs of ``hqsim finetune``: ``results.json`` (every run), ``results.md`` (per method: test
accuracy mean ± std and the 95 % confidence interval of the mean over seeds, trainable
parameters, wall time, time per step, tokens/s) and the plots of ``report`` (accuracy vs
trainable parameters; training curves). Files are written atomically by ``report``."""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import report
from .rundir import atomic_write


def ci95_halfwidth(values) -> float:
    """Half-width of the 95 % confidence interval of the mean (Student t, n - 1 dof); nan for n < 2."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if len(v) < 2:
        return float("nan")
    from scipy import stats
    return float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))


def _mean(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return float(np.mean(vals)) if vals else float("nan")


def summarize(runs: list) -> list[dict]:
    """One row per method label (first-seen order), aggregated over seeds."""
    groups = defaultdict(list)
    for r in runs:
        groups[r["model"]].append(r)
    rows = []
    for name, rs in groups.items():
        acc = [r["test_acc"] for r in rs]
        rows.append({"model": name, "method": rs[0]["method"], "kind": rs[0]["kind"], "seeds": len(rs),
                     "test_acc": float(np.mean(acc)),
                     "test_std": float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0,
                     "ci95": ci95_halfwidth(acc), "val_acc": _mean(rs, "val_acc"),
                     "params": int(rs[0]["trainable_params"]), "wall_s": _mean(rs, "wall_s"),
                     "step_s": _mean(rs, "step_s"), "tokens_per_s": _mean(rs, "tokens_per_s"),
                     "steps": int(max(r["steps"] for r in rs))})
    return rows


def _num(v, fmt):
    return "–" if v is None or not math.isfinite(v) else format(v, fmt)


def markdown_table(rows: list) -> str:
    lines = ["| method | seeds | test acc % (mean ± std) | 95 % CI of the mean | val acc % | "
             "trainable params | steps | wall s | s/step | tokens/s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: r["params"]):
        ci = r["ci95"]
        ci_txt = "–" if not math.isfinite(ci) else f"{100 * (r['test_acc'] - ci):.2f}–{100 * (r['test_acc'] + ci):.2f}"
        lines.append(f"| {r['model']} | {r['seeds']} | {100 * r['test_acc']:.2f} ± {100 * r['test_std']:.2f} | "
                     f"{ci_txt} | {_num(100 * r['val_acc'], '.2f')} | {r['params']:,} | {r['steps']} | "
                     f"{_num(r['wall_s'], '.1f')} | {_num(r['step_s'], '.3f')} | {_num(r['tokens_per_s'], ',.0f')} |")
    return "\n".join(lines) + "\n"


def write_markdown(out_dir, runs: list, meta: dict) -> Path:
    m = meta.get("machine", {})
    head = [f"# Fine-tuning comparison ({meta.get('protocol', '?')} protocol)", "",
            f"- data: {meta.get('data')}; split sizes {meta.get('split_sizes')}"
            + (f" (test subsampled to {meta['max_test']})" if meta.get("max_test") else ""),
            f"- model: {meta.get('encoder')}; step budget {meta.get('steps')} (whole epochs), batch "
            f"{meta.get('train', {}).get('batch_size')}; learning rates {meta.get('lr')}",
            f"- seeds: {meta.get('seeds')}; machine: {m.get('host')} ({m.get('cpus')} CPUs, "
            f"{m.get('torch_threads')} torch threads), {m.get('date')}",
            "- test accuracy at the best-validation epoch; 95 % CI: Student t over seeds; wall s: "
            "training + validation + test evaluation; s/step and tokens/s: optimisation steps only "
            "(the frozen + head baseline trains on cached sentence features: no tokens)", ""]
    path = Path(out_dir) / report.RESULTS_MD
    atomic_write(path, "\n".join(head) + "\n" + markdown_table(summarize(runs)))
    return path


def write_all(out_dir, meta: dict, runs: list) -> list[Path]:
    """results.json, results.md, accuracy_vs_params.png and curves.png."""
    paths = [report.write_results(out_dir, meta, runs), write_markdown(out_dir, runs, meta)]
    for p in (report.plot_accuracy_vs_params(out_dir, summarize(runs)), report.plot_curves(out_dir, runs)):
        if p is not None:
            paths.append(p)
    return paths
