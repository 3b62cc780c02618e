"""Summaries of `hqsim finetune` runs for bench/RESULTS_peft.md: the per-method table (mean ±
std, 95 % CI, trainable parameters, s/step) and paired differences against a reference method
over the seeds both ran, plus a small JSON export (no training histories).

    python bench/peft_export.py RUN_DIR [RUN_DIR ...] --reference "LoRA r=4" --json bench/results/peft_sst2.json
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def paired(runs, reference):
    """{method label: (mean difference, 95 % CI half-width, seeds)} of test accuracy minus the
    reference's, seed by seed (both trained on the same split and tested on the same sentences)."""
    from hqsim.experiments.finetune_report import ci95_halfwidth
    ref = {r["seed"]: r["test_acc"] for r in runs if r["model"] == reference}
    out = {}
    for name in dict.fromkeys(r["model"] for r in runs):
        d = [r["test_acc"] - ref[r["seed"]] for r in runs if r["model"] == name and r["seed"] in ref]
        if name != reference and d:
            out[name] = (float(np.mean(d)), ci95_halfwidth(d), len(d))
    return out


def main(argv=None):
    from hqsim.experiments import finetune_report, report
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="hqsim finetune output directories")
    p.add_argument("--reference", default="LoRA r=4", help="method label the paired differences are against")
    p.add_argument("--json", help="write a compact JSON export here")
    args = p.parse_args(argv)
    export = []
    for d in args.runs:
        data = report.read_results(d)
        runs, meta = data["runs"], data["meta"]
        print(f"## {d}: split {meta.get('split_sizes')}, seeds {sorted({r['seed'] for r in runs})}\n")
        print(finetune_report.markdown_table(finetune_report.summarize(runs)))
        diffs = paired(runs, args.reference)
        if diffs:
            print(f"| method | test acc − {args.reference}, points (paired, mean ± 95 % CI) | seeds |")
            print("|---|---|---|")
            for name, (m, ci, n) in diffs.items():
                ci_txt = "–" if not math.isfinite(ci) else f"{100 * ci:.2f}"
                print(f"| {name} | {100 * m:+.2f} ± {ci_txt} | {n} |")
            print()
        keep = ("method", "model", "seed", "test_acc", "val_acc", "trainable_params", "steps", "lr",
                "train_s", "step_s", "test_eval_s", "tokens_per_s", "best_epoch")
        export.append({"dir": str(d), "meta": {k: meta.get(k) for k in ("split_sizes", "steps", "lr",
                                                                       "max_test", "machine", "train")},
                       "runs": [{k: r.get(k) for k in keep} for r in runs]})
    if args.json:
        Path(args.json).write_text(json.dumps(export, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
