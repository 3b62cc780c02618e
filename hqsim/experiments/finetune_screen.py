"""`hqsim finetune` as trials of `hqsim sweep` (a screen with ``kind: finetune``).

A family is one fine-tuning method (``qtha``, ``qpa``, ``quanta``, ``lora``, ``full``, ``head``),
or ``METHOD-TAG`` for a second space of the same method (e.g. ``lora-r1`` and ``lora-r8``, each
its own family with its own trials). A trial is one configuration: any `hqsim finetune`
options (the method's hyperparameters, ``lr``, ``head_lr``, the data and budget options),
with one method, one LoRA rank and one ``per_label`` size. Every family gets the same number
of trials.

A trial fine-tunes its configuration on every screen seed's training split, the seeds in
lockstep (one epoch each per report, so ASHA compares trials at equal epochs), and reports the
mean over seeds of each seed's best validation accuracy so far (``screen._score``). Trials never
hold a test set: the seed's split is taken with its test part emptied. Each trial keeps
``trial.json`` and one checkpoint per seed in its directory, so a restarted trial continues.

The selected configuration of every family is then run by ``FinetuneExperiment`` on each
evaluation seed (in ``OUT/final/FAMILY-HASH-seedS``, HASH naming its options; its own
checkpoints, resumable), which reads that seed's test set once; its record goes into the
screen's ``results.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
from pathlib import Path

from .screen import SweepConfigError, _argv, _score, _write, replay_finished_trial

# trial options that the screen itself decides
RESERVED = {"method": "the family's name is the method",
            "seeds": "put seeds at the top level of the screen (seeds: [0, 1])",
            "out": "hqsim sweep --out", "resume": "hqsim sweep --resume", "force_new": "hqsim sweep",
            "save_adapters": "not in a screen", "threads": "hqsim sweep --cpus-per-trial",
            "no_progress": "hqsim sweep --no-progress"}


def family_method(family: str) -> str:
    """The method of a family named METHOD or METHOD-TAG."""
    from .finetune_cli import METHOD_NAMES
    method = str(family).split("-", 1)[0]
    if method not in METHOD_NAMES:
        raise SweepConfigError(f"unknown fine-tuning method family {family!r}: a family is a method "
                               f"({', '.join(METHOD_NAMES)}) or METHOD-TAG (e.g. lora-r8)")
    return method


def finetune_args(family: str, options: dict):
    """(namespace, FinetuneConfig) of one trial's `hqsim finetune` options; SweepConfigError
    naming the bad option."""
    from . import finetune_cli
    method = family_method(family)
    for key in options:
        norm = str(key).replace("-", "_")
        if norm in RESERVED:
            raise SweepConfigError(f"{family}: option {key!r} is not a trial option ({RESERVED[norm]})")
    keys = {str(k).replace("-", "_") for k in options}
    if method == "head" and {"lr", "head_lr"} <= keys:
        raise SweepConfigError(f"{family}: head-only trains its head alone, at head_lr: give head_lr "
                               "or lr, not both (lr would have no effect)")
    root = argparse.ArgumentParser(prog="hqsim", add_help=False, exit_on_error=False)
    parser = finetune_cli.register(root.add_subparsers(dest="command"))
    parser.exit_on_error = False
    flags = {o for a in parser._actions if a.nargs == 0 for o in a.option_strings}
    try:
        args, extra = parser.parse_known_args(_argv(options, flags) + ["--method", method, "--no-progress"])
    except (argparse.ArgumentError, SystemExit) as exc:
        raise SweepConfigError(f"{family}: bad option in sweep config: {exc}") from None
    if extra:
        raise SweepConfigError(f"{family}: unknown `hqsim finetune` option(s) in sweep config: {extra}")
    try:
        cfg = finetune_cli.finetune_config(args)
    except ValueError as exc:
        raise SweepConfigError(f"{family}: {exc}") from None
    if len(cfg.methods) != 1:
        raise SweepConfigError(f"{family}: a trial is one configuration: give lora_rank one value "
                               "(or one family per rank, e.g. lora-r1, lora-r8)")
    if len(cfg.sizes) != 1:
        raise SweepConfigError(f"{family}: a trial takes one per_label size")
    return args, cfg


def _experiment(cfg, out_dir, progress: bool):
    from ..peft import load_pretrained
    from .embeddings import resolve_model
    from .finetune import FinetuneExperiment
    exp = FinetuneExperiment(cfg, out_dir, resume=True, progress=progress, log=None)
    exp.model_dir = resolve_model(cfg.encoder)
    exp.pretrained = load_pretrained(exp.model_dir)
    return exp


def trial_epochs(family: str, options: dict, seed: int) -> int:
    """Epochs a trial runs (its step budget in whole epochs of ``seed``'s training split)."""
    from . import data as data_mod
    _, cfg = finetune_args(family, options)
    if cfg.steps is None:
        return cfg.train.epochs
    splits = data_mod.make_splits(cfg.protocol, seed, list(cfg.data_files) or None, per_label=cfg.sizes[0],
                                  val_fraction=cfg.val_fraction, max_test=cfg.max_test, **cfg.load_options)
    return cfg.epochs_for(len(splits.train))


def run_trial(family: str, options: dict, seeds, out_dir, report) -> dict:
    """Fine-tune one configuration on every screen seed, the seeds in lockstep; ``report(metrics)``
    after every epoch. A restarted trial continues from ``out_dir`` (a finished one only
    reports again)."""
    out = Path(out_dir)
    state_file = out / "trial.json"
    finished = replay_finished_trial(state_file, report)
    if finished is not None:
        return finished
    _, cfg = finetune_args(family, options)
    exp = _experiment(cfg, out, progress=False)
    method, size = cfg.methods[0], cfg.sizes[0]
    runs = []
    for seed in seeds:
        splits = exp._splits(seed)
        # the trial never holds a test set: only the selected configurations read one
        splits = dataclasses.replace(splits, test=splits.test.subset([]))
        runs.append(exp.prepare(method, splits, seed, size))
    state = {"family": family, "options": options, "seeds": list(seeds), "reports": [], "done": False}
    epochs = max(r.train.epochs for r in runs)
    metrics = {}
    for epoch in range(1, epochs + 1):
        results = [exp.fit(r, checkpoint=out / "checkpoints" / f"seed{r.seed}.pt",
                           epochs=min(epoch, r.train.epochs)) for r in runs]
        metrics = {**_score(results), "params": runs[0].params}
        state["reports"].append(metrics)
        state["done"] = epoch == epochs or any(r.stopped_early for r in results)
        _write(state_file, state)
        report(metrics)
        if state["done"]:
            break
    return metrics


def evaluate_one(out: Path, family: str, options: dict, seed: int, progress: bool) -> dict:
    """Run the selected configuration on ``seed`` (train, pick the best validation epoch, read
    the test set once) with ``FinetuneExperiment`` in ``OUT/final/FAMILY-HASH-seedS``; its record,
    with the family and options added."""
    _, cfg = finetune_args(family, options)
    cfg = dataclasses.replace(cfg, seeds=(seed,))
    # one directory per configuration: a screen continued with more samples may select another
    digest = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode()).hexdigest()[:10]
    exp = _experiment(cfg, Path(out) / "final" / f"{family}-{digest}-seed{seed}", progress)
    exp.run()
    rec = next(r for r in exp.runs if r["seed"] == seed)
    # two families of one method may select the same hyperparameters: keep their rows apart
    name = rec["model"] if family == rec["method"] else f"{rec['model']} [{family}]"
    return {**rec, "model": name, "family": family, "options": options}


def meta(sweep: dict) -> dict:
    """results.json's meta of a finetune screen (the fixed options' data and budget)."""
    from . import report
    fixed = sweep.get("fixed") or {}
    return {"command": "sweep", "kind": "finetune", "screen": sweep["name"], "seeds": sweep["eval_seeds"],
            "protocol": fixed.get("protocol", "paper"), "data": ", ".join(map(str, fixed.get("data") or []))
            or "SST-2 (built-in)", "fixed": fixed, "machine": report.machine_info()}
