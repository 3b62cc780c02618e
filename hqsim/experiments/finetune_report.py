"""Outputs of ``hqsim finetune``: ``results.json`` (every run), ``results.md`` (per method: test
accuracy mean ± std over seeds and its 95 % confidence interval, trainable parameters, wall time,
time per step, tokens/s; paired differences against every LoRA rank; the few-shot table when
several sizes ran) and the plots of ``report`` (accuracy vs trainable parameters, training
curves, few-shot curve). Files are written atomically.

Confidence intervals: the two-level bootstrap of ``stats`` over seeds and test sentences where
every run recorded its per-sentence correctness, else Student t over the seeds' accuracies."""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import report
from .rundir import atomic_write
from .stats import accuracy_ci, paired_difference_ci, unpack_correct


def ci95_halfwidth(values) -> float:
    """Half-width of the 95 % confidence interval of the mean (Student t, n - 1 dof); nan for n < 2."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if len(v) < 2:
        return float("nan")
    from scipy import stats
    return float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))


def _correct(rs) -> dict | None:
    """{seed: 0/1 test correctness} when every run recorded it."""
    if not rs or any(r.get("test_correct") is None for r in rs):
        return None
    return {r["seed"]: unpack_correct(r["test_correct"], r["test_n"]) for r in rs}


def _interval(rs) -> tuple[float, float]:
    per_seed = _correct(rs)
    if per_seed:
        return accuracy_ci(list(per_seed.values()))[1:]
    mean, half = float(np.mean([r["test_acc"] for r in rs])), ci95_halfwidth([r["test_acc"] for r in rs])
    return mean - half, mean + half


def _mean(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return float(np.mean(vals)) if vals else float("nan")


def _groups(runs) -> dict:
    groups = defaultdict(list)
    for r in runs:
        groups[r["model"]].append(r)
    return groups


def summarize(runs: list) -> list[dict]:
    """One row per method label (first-seen order), aggregated over seeds."""
    rows = []
    for name, rs in _groups(runs).items():
        acc = [r["test_acc"] for r in rs]
        rows.append({"model": name, "method": rs[0]["method"], "kind": rs[0]["kind"], "seeds": len(rs),
                     "test_acc": float(np.mean(acc)),
                     "test_std": float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0,
                     "ci": _interval(rs), "val_acc": _mean(rs, "val_acc"),
                     "params": int(rs[0]["trainable_params"]), "wall_s": _mean(rs, "wall_s"),
                     "step_s": _mean(rs, "step_s"), "tokens_per_s": _mean(rs, "tokens_per_s"),
                     "steps": int(max(r["steps"] for r in rs)), "per_label": rs[0].get("per_label"),
                     "lr": rs[0].get("lr"), "head_lr": rs[0].get("head_lr", rs[0].get("lr"))})
    return rows


def _num(v, fmt):
    return "–" if v is None or not math.isfinite(v) else format(v, fmt)


def _lrs(row) -> str:
    lr, head = row.get("lr"), row.get("head_lr")
    if lr is None:
        return "–"
    return f"{lr:g}" + (f" ({head:g})" if head is not None else "")


def markdown_table(rows: list) -> str:
    lines = ["| method | seeds | test acc % (mean ± std) | 95 % CI | val acc % | trainable params | "
             "steps | wall s | s/step | tokens/s | lr (head lr) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["per_label"] or 0, r["params"])):
        lo, hi = r["ci"]
        ci = "–" if not (math.isfinite(lo) and math.isfinite(hi)) else f"{100 * lo:.2f}–{100 * hi:.2f}"
        lines.append(f"| {r['model']} | {r['seeds']} | {100 * r['test_acc']:.2f} ± {100 * r['test_std']:.2f} | "
                     f"{ci} | {_num(100 * r['val_acc'], '.2f')} | {r['params']:,} | {r['steps']} | "
                     f"{_num(r['wall_s'], '.1f')} | {_num(r['step_s'], '.3f')} | {_num(r['tokens_per_s'], ',.0f')} | "
                     f"{_lrs(r)} |")
    return "\n".join(lines) + "\n"


def paired_versus_lora(runs: list) -> list[dict]:
    """Every non-LoRA method minus every LoRA rank of the same few-shot size, over the seeds
    both ran (same split, same test sentences), with a 95 % interval."""
    groups = _groups(runs)
    lora = [n for n, rs in groups.items() if rs[0]["method"] == "lora"]
    out = []
    for name, rs in groups.items():
        if rs[0]["method"] == "lora":
            continue
        for ref in (n for n in lora if groups[n][0].get("per_label") == rs[0].get("per_label")):
            a = {r["seed"]: r for r in rs}
            b = {r["seed"]: r for r in groups[ref]}
            seeds = sorted(set(a) & set(b))
            if not seeds:
                continue
            ca, cb = _correct([a[s] for s in seeds]), _correct([b[s] for s in seeds])
            if ca and cb:
                mean, lo, hi = paired_difference_ci([ca[s] for s in seeds], [cb[s] for s in seeds])
            else:
                d = [a[s]["test_acc"] - b[s]["test_acc"] for s in seeds]
                mean, half = float(np.mean(d)), ci95_halfwidth(d)
                lo, hi = mean - half, mean + half
            out.append({"model": name, "versus": ref, "seeds": len(seeds), "diff": mean, "ci": (lo, hi)})
    return out


def paired_table(rows: list) -> str:
    if not rows:
        return ""
    lines = ["", "Paired differences (method − LoRA, same seeds, splits and test sentences; 95 % CI):", "",
             "| method | versus | seeds | Δ test acc (points) | 95 % CI |", "|---|---|---|---|---|"]
    for r in rows:
        lo, hi = r["ci"]
        ci = "–" if not (math.isfinite(lo) and math.isfinite(hi)) else f"[{100 * lo:+.2f}, {100 * hi:+.2f}]"
        lines.append(f"| {r['model']} | {r['versus']} | {r['seeds']} | {100 * r['diff']:+.2f} | {ci} |")
    return "\n".join(lines) + "\n"


def _head_lr_note(meta: dict) -> str:
    if meta.get("head_lr_option") is not None:
        return f"at {meta['head_lr_option']:g} for every method (--head-lr)"
    if "head_lr" in meta:
        return "at each method's own learning rate (no --head-lr)"
    return "learning rate not recorded"


def write_markdown(out_dir, runs: list, meta: dict) -> Path:
    m = meta.get("machine", {})
    head = [f"# Fine-tuning comparison ({meta.get('protocol', '?')} protocol)", "",
            f"- data: {meta.get('data')}; split sizes {meta.get('split_sizes')}"
            + (f" (test subsampled to {meta['max_test']})" if meta.get("max_test") else ""),
            f"- model: {meta.get('encoder')}; step budget {meta.get('steps')} (whole epochs), batch "
            f"{meta.get('train', {}).get('batch_size')}; learning rates {meta.get('lr')}; classifier "
            f"head {_head_lr_note(meta)}",
            f"- seeds: {meta.get('seeds')}; machine: {m.get('host')} ({m.get('cpus')} CPUs, "
            f"{m.get('torch_threads')} torch threads), {m.get('date')}",
            "- test accuracy at the best-validation epoch; 95 % CI: bootstrap over seeds and test "
            "sentences; wall s: training + validation + test evaluation; s/step and tokens/s: "
            "optimisation steps only (the frozen + head baseline trains on cached sentence "
            "features: no tokens)", ""]
    body = markdown_table(summarize(runs)) + paired_table(paired_versus_lora(runs))
    if len(meta.get("per_label") or []) > 1:
        body += report.fewshot_table(runs)
    path = Path(out_dir) / report.RESULTS_MD
    atomic_write(path, "\n".join(head) + "\n" + body)
    return path


def write_all(out_dir, meta: dict, runs: list) -> list[Path]:
    """results.json, results.md, accuracy_vs_params.png, curves.png (and few_shot.png)."""
    paths = [report.write_results(out_dir, meta, runs), write_markdown(out_dir, runs, meta)]
    for p in (report.plot_accuracy_vs_params(out_dir, summarize(runs)), report.plot_curves(out_dir, runs),
              report.plot_fewshot(out_dir, runs) if len(meta.get("per_label") or []) > 1 else None):
        if p is not None:
            paths.append(p)
    return paths
