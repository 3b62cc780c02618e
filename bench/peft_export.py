"""Summaries of `hqsim finetune` runs for bench/RESULTS_peft.md: the per-method table (mean ±
std, 95 % CI, trainable parameters, s/step) and the paired differences against every LoRA rank
(hqsim.experiments.finetune_report), plus a small JSON export (no training histories).

    python bench/peft_export.py RUN_DIR [RUN_DIR ...] --json bench/results/peft_sst2.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None):
    from hqsim.experiments import finetune_report, report
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="hqsim finetune output directories")
    p.add_argument("--json", help="write a compact JSON export here")
    args = p.parse_args(argv)
    export = []
    for d in args.runs:
        data = report.read_results(d)
        runs, meta = data["runs"], data["meta"]
        print(f"## {d}: split {meta.get('split_sizes')}, seeds {sorted({r['seed'] for r in runs})}\n")
        print(finetune_report.markdown_table(finetune_report.summarize(runs)))
        print(finetune_report.paired_table(finetune_report.paired_versus_lora(runs)))
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
