"""Summaries of `hqsim train` / `hqsim sweep` runs for bench/results/ (issue 14's records).

Several run directories (each with its results.json) are combined: one row per model (mean ±
std over seeds, 95 % bootstrap CI over seeds and test sentences), every model's per-seed test
accuracy, and paired differences (same seeds and test sentences) for the pairs asked for with
--pair plus the runs' own (hybrid vs the classical head of its size and vs LR). A model that
appears in two directories under the same name (e.g. logistic regression in every run) must
have the same per-seed results there, or the directories need --label prefixes.

    python3 bench/qllm_summary.py --run DIR [--run LABEL=DIR ...] [--pair A B ...] --out FILE.json

Prints the rows and pairs as markdown. Reads only results.json; writes FILE.json atomically.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from hqsim.experiments import report
from hqsim.experiments.rundir import RunDirError
from hqsim.experiments.stats import paired_difference_ci


def load_runs(specs: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """(runs, metas, pairs) of every ``[LABEL=]DIR``; a label prefixes that directory's model
    names. ``pairs`` are each directory's own paired differences (its hybrids against the
    classical head of their size and against LR), computed before the prefixing."""
    runs, metas, pairs, seen = [], [], [], {}
    for spec in specs:
        label, _, path = spec.rpartition("=") if "=" in spec else ("", "", spec)
        data = report.read_results(path)
        metas.append({"dir": str(path), "label": label or None, **data.get("meta", {})})
        named = (lambda m: f"{label}: {m}") if label else (lambda m: m)
        pairs += [{**p, "model": named(p["model"]), "versus": named(p["versus"])}
                  for p in report.paired_rows(data["runs"])]
        for r in data["runs"]:
            r = {**r, "model": named(r["model"])}
            key = (r["model"], r["seed"], r.get("per_label"))
            if key in seen:
                if seen[key].get("test_correct") != r.get("test_correct"):
                    raise SystemExit(f"error: {r['model']} seed {r['seed']} differs between "
                                     f"{seen[key]['_dir']} and {path}; give --run LABEL=DIR")
                continue
            seen[key] = {**r, "_dir": str(path)}
            runs.append(r)
    return runs, metas, pairs


def per_seed(runs: list[dict]) -> dict:
    by_model = defaultdict(list)
    for r in runs:
        by_model[r["model"]].append([r["seed"], round(r["test_acc"], 5)])
    return {m: sorted(v) for m, v in by_model.items()}


def pair(runs: list[dict], a: str, b: str) -> dict:
    """Paired difference a − b over the seeds both ran."""
    ca = report.correctness([r for r in runs if r["model"] == a])
    cb = report.correctness([r for r in runs if r["model"] == b])
    seeds = sorted(set(ca) & set(cb))
    if not seeds:
        raise SystemExit(f"error: no common seed with per-sentence records for {a!r} and {b!r}; "
                         f"models: {sorted({r['model'] for r in runs})}")
    mean, lo, hi = paired_difference_ci([ca[s] for s in seeds], [cb[s] for s in seeds])
    return {"model": a, "versus": b, "seeds": len(seeds), "diff": mean, "ci": [lo, hi]}


def markdown(rows: list[dict], pairs: list[dict]) -> str:
    lines = ["| model | params | seeds | test acc % mean ± std | 95 % CI |", "|---|---|---|---|---|"]
    for r in rows:
        ci = r.get("ci") or (float("nan"), float("nan"))
        lines.append(f"| {r['model']} | {r['params']:,} | {r['seeds']} | {100 * r['test_acc']:.2f} ± "
                     f"{100 * r['test_std']:.2f} | [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}] |")
    lines += ["", "| model | versus | seeds | Δ points | 95 % CI |", "|---|---|---|---|---|"]
    for p in pairs:
        lines.append(f"| {p['model']} | {p['versus']} | {p['seeds']} | {100 * p['diff']:+.2f} | "
                     f"[{100 * p['ci'][0]:+.2f}, {100 * p['ci'][1]:+.2f}] |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="append", required=True, metavar="[LABEL=]DIR",
                    help="a run directory holding results.json (repeatable)")
    ap.add_argument("--pair", nargs=2, action="append", default=[], metavar=("A", "B"),
                    help="a paired difference A − B by model name (repeatable)")
    ap.add_argument("--out", required=True, help="summary JSON to write")
    args = ap.parse_args(argv)
    try:
        runs, metas, pairs = load_runs(args.run)
    except RunDirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = [{k: r[k] for k in ("model", "kind", "seeds", "test_acc", "test_std", "ci", "val_acc", "params")}
            for r in report.summarize(runs)]
    pairs += [pair(runs, a, b) for a, b in args.pair
              if not any(p["model"] == a and p["versus"] == b for p in pairs)]
    doc = {"meta": metas[0] if len(metas) == 1 else {"sources": metas}, "rows": rows,
           "per_seed": per_seed(runs), "paired": pairs}
    report.atomic_write(Path(args.out), json.dumps(report._clean(doc), indent=1).encode())
    print(markdown(rows, [{**p, "ci": list(p["ci"])} for p in pairs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
