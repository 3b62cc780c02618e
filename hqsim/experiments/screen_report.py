"""After the trials of ``hqsim sweep``: pick each family's configuration by validation accuracy,
train it on the evaluation seeds and read each seed's test set once, and write the screen's
one table (``results.md``) and one plot (``screen.png``). A ``kind: finetune`` screen's
selections run through ``finetune_screen.evaluate_one`` (``hqsim finetune``'s experiment) and
its table is ``hqsim finetune``'s (trainable parameters, wall time, tokens/s, paired
differences against LoRA)."""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from . import finetune_report, finetune_screen, report
from .screen import TRAINED, build_head, fit_sklearn, seed_data, split_options, train_args, trial_dir
from .stats import pack_correct

SCREEN_JSON, SCREEN_PNG = "screen.json", "screen.png"


def trials_of(out: Path, sweep: dict, family: str) -> list[dict]:
    """Every trial of ``family`` that has reported: index, options, last metrics, epochs, done."""
    rows = []
    for i, options in enumerate(sweep["trials"][family]):
        f = trial_dir(out, family, i) / "trial.json"
        if not f.exists():
            continue
        state = json.loads(f.read_text())
        if state["reports"]:
            rows.append({"index": i, "options": state["options"], "metrics": state["reports"][-1],
                         "epochs": len(state["reports"]), "done": state["done"]})
    return rows


def selected(out: Path, sweep: dict, family: str) -> dict:
    """The family's trial with the highest mean validation accuracy (then the lowest validation
    loss) among those that ran to the end (ASHA stops the others early)."""
    rows = trials_of(out, sweep, family)
    if not rows:
        raise ValueError(f"no {family} trial has reported: nothing to select")
    done = [r for r in rows if r["done"]] or rows
    return max(done, key=lambda r: (r["metrics"]["val_acc"], -r["metrics"]["val_loss"], -r["index"]))


def _varied(sweep: dict, family: str) -> list:
    return [k for k, v in sweep["spaces"][family].items() if isinstance(v, (list, dict))]


def write_screen(out: Path, sweep: dict) -> Path:
    """screen.json: every family's trials and its selection."""
    doc = {"name": sweep["name"], "samples": sweep["samples"], "seeds": sweep["seeds"],
           "eval_seeds": sweep["eval_seeds"], "fixed": sweep["fixed"], "spaces": sweep["spaces"],
           "families": {}}
    for family in sweep["trials"]:
        rows = trials_of(out, sweep, family)
        if rows:
            doc["families"][family] = {"trials": rows, "selected": selected(out, sweep, family)}
    path = out / SCREEN_JSON
    report.atomic_write(path, json.dumps(report._clean(doc), indent=1).encode())
    return path


def _name(family: str, own: dict, cfg, params: int) -> str:
    if family == "hybrid":
        return cfg.models[0].label()
    return {"lr": "logistic regression", "svc": "SVC (RBF)", "mlp": f"MLP h={own.get('hidden')}",
            "exact": f"classical head, {params} params"}[family]


def _evaluate_one(out: Path, family: str, options: dict, seed: int, progress: bool) -> dict:
    """Train the selected configuration on ``seed``'s training split (best validation epoch)
    and read its test set: a record in hqsim train's results.json format."""
    from .train import fit, predict_logits, seed_everything
    opts, own = split_options(family, options)
    _, cfg = train_args(opts)
    splits, xs, ys = seed_data(cfg, seed, progress)
    t0 = time.perf_counter()
    rec = {"kind": "hybrid" if family == "hybrid" else "classical", "seed": seed,
           "family": family, "options": options}
    if family in TRAINED:
        seed_everything(seed)
        model = build_head(family, own, cfg, xs, splits.train.num_classes)
        tc = dataclasses.replace(cfg.train, seed=seed)
        res = fit(model, xs[0], ys[0], xs[1], ys[1], tc, resume=True, progress=progress,
                  checkpoint=out / "final" / f"{family}-seed{seed}.pt", desc=f"{family} seed {seed}")
        pred = predict_logits(model, xs[2], tc.eval_batch_size).argmax(1).numpy()
        params = sum(p.numel() for p in model.parameters() if p.requires_grad)
        rec.update(val_acc=res.best_val_acc, best_epoch=res.best_epoch, epochs_run=res.epochs_run,
                   history=res.history, samples_per_s=res.samples_per_s)
        if family == "hybrid":
            rec["config"] = model.config.to_dict()
    else:
        val, params, pred = fit_sklearn(family, own, xs, ys, seed, test=True)
        rec.update(val_acc=val, samples_per_s=None)
    correct = np.asarray(pred) == ys[2].numpy()
    rec.update(model=_name(family, own, cfg, params), params=params, test_acc=float(correct.mean()),
               test_correct=pack_correct(correct), test_n=len(correct), per_label=cfg.sizes[0],
               wall_s=time.perf_counter() - t0)
    return rec


def _evaluate_finetune_one(out: Path, family: str, options: dict, seed: int, progress: bool) -> dict:
    """A kind: finetune screen's selection on one evaluation seed (its test set read once)."""
    return finetune_screen.evaluate_one(out, family, options, seed, progress)


def _finetune(sweep: dict) -> bool:
    return sweep.get("kind", "train") == "finetune"


def _summarize(sweep: dict, runs: list) -> list:
    return finetune_report.summarize(runs) if _finetune(sweep) else report.summarize(runs)


def evaluate_selected(out: Path, sweep: dict, progress: bool = False) -> list[Path]:
    """Every family's selection on every evaluation seed (resumable: finished runs are kept in
    results.json); writes results.json, results.md, screen.json and screen.png."""
    runs = report.read_results(out)["runs"] if (out / report.RESULTS_JSON).exists() else []
    picks = {f: selected(out, sweep, f) for f in sweep["trials"] if trials_of(out, sweep, f)}
    if _finetune(sweep):
        meta = finetune_screen.meta(sweep)
    else:
        meta = {"protocol": "paper", "seeds": sweep["eval_seeds"], "screen": sweep["name"],
                "machine": report.machine_info(), "data": "SST-2 (built-in)"}
    for seed in sweep["eval_seeds"]:
        for family, pick in picks.items():
            if any(r.get("family") == family and r["seed"] == seed and r.get("options") == pick["options"]
                   for r in runs):
                continue
            one = _evaluate_finetune_one if _finetune(sweep) else _evaluate_one
            runs.append(one(out, family, pick["options"], seed, progress))
            report.write_results(out, meta, runs)
    paths = [report.write_results(out, meta, runs), write_screen(out, sweep)]
    paths.append(write_markdown(out, sweep, picks, runs))
    png = plot_screen(out, sweep, runs)
    return paths + ([png] if png else [])


def write_markdown(out: Path, sweep: dict, picks: dict, runs: list) -> Path:
    lines = [f"# Screen {sweep['name']}: validation-selected configurations, tested once", "",
             f"- {sweep['samples']} trials per family (the same budget for "
             + ("every fine-tuning method" if _finetune(sweep) else "the hybrid and every classical baseline")
             + f"), drawn from the spaces in screen.json; screen seeds "
             f"{sweep['seeds']} (metric: mean best validation accuracy over their splits); ASHA "
             f"early stopping {sweep['asha']}",
             f"- selected configurations trained on seeds {sweep['eval_seeds']}, each test set read "
             "once; 95 % CI: bootstrap over seeds and test sentences",
             *(() if _finetune(sweep) else report.PAPER_NOTES), "",
             "| family | trials run (to the end) | selected | screen val acc % |", "|---|---|---|---|"]
    for family, pick in picks.items():
        rows = trials_of(out, sweep, family)
        chosen = {k: pick["options"].get(k) for k in _varied(sweep, family)}
        lines.append(f"| {family} | {len(rows)} ({sum(r['done'] for r in rows)}) | "
                     f"{', '.join(f'{k}={_fmt(v)}' for k, v in chosen.items())} | "
                     f"{100 * pick['metrics']['val_acc']:.2f} |")
    if _finetune(sweep):
        text = "\n".join(lines) + "\n\n" + finetune_report.markdown_table(finetune_report.summarize(runs))
        text += finetune_report.paired_table(finetune_report.paired_versus_lora(runs))
    else:
        text = "\n".join(lines) + "\n\n" + report.markdown_table(report.summarize(runs))
        text += report.paired_table(report.paired_rows(runs))
    path = out / report.RESULTS_MD
    report.atomic_write(path, text.encode())
    return path


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def plot_screen(out: Path, sweep: dict, runs: list) -> Path | None:
    """Left: every trial's validation accuracy per family (the selection starred); right: each
    selection's test accuracy with its 95 % CI."""
    plt = report._plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    families = [f for f in sweep["trials"] if trials_of(out, sweep, f)]
    if not families:
        return None
    for i, family in enumerate(families):
        rows = trials_of(out, sweep, family)
        acc = [100 * r["metrics"]["val_acc"] for r in rows]
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(acc))
        ax1.scatter(i + jitter, acc, s=10, alpha=0.6, c=["C0" if r["done"] else "0.6" for r in rows])
        ax1.scatter([i], [100 * selected(out, sweep, family)["metrics"]["val_acc"]], marker="*", s=140, c="C3")
    ax1.set_xticks(range(len(families)), families)
    ax1.set(ylabel="mean best validation accuracy %", title="trials (grey: stopped early; star: selected)")
    rows = _summarize(sweep, runs)
    for j, r in enumerate(rows):
        lo, hi = r["ci"] if r.get("ci") else (r["test_acc"], r["test_acc"])
        ax2.errorbar([j], [100 * r["test_acc"]], yerr=[[100 * (r["test_acc"] - lo)], [100 * (hi - r["test_acc"])]],
                     fmt="o" if r["kind"] == "hybrid" else "s", capsize=4, color="C0" if r["kind"] == "hybrid" else "C3")
    ax2.set_xticks(range(len(rows)), [r["model"][:28] for r in rows], rotation=20, ha="right", fontsize=7)
    ax2.set(ylabel="test accuracy % (95 % CI)", title="selected configurations, evaluation seeds")
    fig.tight_layout()
    path = report._save_figure(fig, out / SCREEN_PNG)
    plt.close(fig)
    return path
