"""One trial of a validation-selected screen (``hqsim sweep``), without Ray: sample the search
spaces, train one configuration of one model family on the screen seeds' training splits and
report its validation accuracy epoch by epoch. The test sets are never read here.

Families: ``hybrid`` (the QLLM model: any `hqsim train` model or training option), ``lr``
(logistic regression, key ``C``), ``svc`` (RBF SVC, keys ``C`` and ``kernel_gamma``), ``mlp``
(one tanh hidden layer, key ``hidden`` plus training options), ``exact`` (the classical head
with exactly the selected hybrid's parameter count, training options). A trial's metric is
the mean over the screen seeds of each seed's best validation accuracy so far (ties: the
lower mean validation loss at those epochs); the torch families train the seeds in lockstep,
one epoch each per report, so an early-stopping scheduler compares trials at equal epochs."""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
from pathlib import Path

import numpy as np

FAMILIES = ("hybrid", "lr", "svc", "mlp", "exact")
FAMILY_KEYS = {"hybrid": (), "lr": ("C",), "svc": ("C", "kernel_gamma"), "mlp": ("hidden",),
               "exact": ("params",)}
TRAINED = ("hybrid", "mlp", "exact")
_DATA: dict = {}   # (data options, seed) → (splits, xs, ys), kept while a Ray actor is reused


class SweepConfigError(ValueError):
    pass


# -- search spaces ----------------------------------------------------------------------------
def _draw(spec, rng, where: str):
    if isinstance(spec, list):
        spec = {"choice": spec}
    if not isinstance(spec, dict):
        return spec  # a fixed value
    if len(spec) != 1:
        raise SweepConfigError(f"{where}: a distribution is one of choice, uniform, loguniform, "
                               f"randint, e.g. {{loguniform: [0.001, 0.1]}}; got {spec}")
    (kind, arg), = spec.items()
    if kind == "choice" and isinstance(arg, list) and arg:
        return arg[int(rng.integers(len(arg)))]
    if kind in ("uniform", "loguniform", "randint") and isinstance(arg, list) and len(arg) == 2 \
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in arg) and arg[0] <= arg[1]:
        lo, hi = arg
        if kind == "uniform":
            return float(rng.uniform(lo, hi))
        if kind == "randint":
            return int(rng.integers(int(lo), int(hi) + 1))
        if lo > 0:
            return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    raise SweepConfigError(f"{where}: bad distribution {spec} (choice: a non-empty list; uniform, "
                           "randint: [low, high]; loguniform: [low, high] with 0 < low <= high)")


def sample_space(space: dict, n: int, seed: int, where: str = "space") -> list[dict]:
    """``n`` configurations drawn from ``space`` (option → fixed value, list (= choice) or
    {choice|uniform|loguniform|randint: ...}), reproducibly from ``seed``; duplicates are
    allowed (a space with few points is then sampled with repetition, as Tune does)."""
    rng = np.random.default_rng(seed)
    return [{k: _draw(v, rng, f"{where}.{k}") for k, v in space.items()} for _ in range(n)]


# -- data and models --------------------------------------------------------------------------
def split_options(family: str, options: dict) -> tuple[dict, dict]:
    """(`hqsim train` options, family-specific keys) of a trial's options."""
    own = {k: v for k, v in options.items() if k in FAMILY_KEYS[family]}
    return {k: v for k, v in options.items() if k not in own}, own


def _argv(options: dict, flags: set) -> list:
    """argv for ``options``; True/False become a bare flag / nothing for the options in
    ``flags`` (store_true) and on/off for the others (YAML reads on/off as booleans)."""
    argv = []
    for key, value in options.items():
        flag = "--" + str(key).replace("_", "-")
        if isinstance(value, bool) and flag in flags:
            argv += [flag] if value else []
        elif value is None:
            continue
        elif isinstance(value, (list, tuple)):
            argv += [flag] + [_word(v) for v in value]
        else:
            argv += [flag, _word(value)]
    return argv


def _word(v) -> str:
    return {True: "on", False: "off"}[v] if isinstance(v, bool) else str(v)


def parse_args_for(options: dict):
    """The `hqsim train` namespace for ``options`` (long option names, dashes or underscores);
    SweepConfigError naming the bad option."""
    from . import cli
    root = argparse.ArgumentParser(prog="hqsim", add_help=False, exit_on_error=False)
    parser = cli.register(root.add_subparsers(dest="command"))
    parser.exit_on_error = False
    flags = {o for a in parser._actions if a.nargs == 0 for o in a.option_strings}
    try:
        args, extra = parser.parse_known_args(_argv(options, flags))
    except (argparse.ArgumentError, SystemExit) as exc:
        raise SweepConfigError(f"bad option in sweep config: {exc}") from None
    if extra:
        raise SweepConfigError(f"unknown `hqsim train` option(s) in sweep config: {extra}")
    return args


def train_args(options: dict):
    """(namespace, ExperimentConfig) of `hqsim train` options."""
    from .cli import experiment_config
    args = parse_args_for(options)
    try:
        return args, experiment_config(args)
    except ValueError as exc:
        raise SweepConfigError(f"sweep config: {exc}") from None


def seed_data(cfg, seed: int, progress: bool = False):
    """(splits, xs, ys) of one seed at the experiment's (single) ``per_label``, cached."""
    from .runner import embed_splits, seed_splits, sized
    from .embeddings import resolve_model
    key = (cfg.protocol, cfg.data_files, json.dumps(cfg.load_options, sort_keys=True, default=str),
           cfg.per_label, cfg.val_fraction, cfg.max_test, cfg.encoder, cfg.cache_dir, seed)
    if key not in _DATA:
        if len(cfg.sizes) != 1 or cfg.setfit or cfg.finetune_encoder:
            raise SweepConfigError("a screen takes one --per-label value and frozen embeddings "
                                   "(no --setfit or --finetune-encoder: give a fine-tuned body "
                                   "as --encoder DIR instead)")
        full = seed_splits(cfg, seed)
        xs = embed_splits(full, resolve_model(cfg.encoder), cfg.cache_dir, progress)
        _DATA[key] = sized(cfg, full, xs, seed, cfg.sizes[0])
    return _DATA[key]


def build_head(family: str, own: dict, cfg, xs, k: int):
    """The torch model of a trained family for one seed's data."""
    import torch
    from ..models import QLLMClassifier
    from . import baselines as bl
    if family == "hybrid":
        if len(cfg.models) != 1:
            raise SweepConfigError("a hybrid trial is one configuration: give every model option "
                                   "one value")
        mc = dataclasses.replace(cfg.models[0], num_features=int(xs[0].shape[1]), num_classes=k)
        return QLLMClassifier(mc, backend=cfg.backend, dtype=getattr(torch, cfg.dtype))
    if family == "mlp":
        return bl.MLPHead(int(xs[0].shape[1]), int(own["hidden"]), k)
    return bl.ExactParamHead(xs[0], int(own["params"]), k)


def fit_sklearn(family: str, own: dict, xs, ys, seed: int, test: bool = False):
    """LR or SVC with the trial's fixed hyperparameters: (validation accuracy, params, test
    predictions or None)."""
    from . import baselines as bl
    linear_model, _, svm = bl._sklearn()
    if family == "lr":
        model = linear_model.LogisticRegression(C=float(own["C"]), max_iter=5000, random_state=seed)
    else:
        model = svm.SVC(kernel="rbf", C=float(own["C"]), gamma=own.get("kernel_gamma", "scale"))
    x = [t.numpy() for t in xs]
    y = [t.numpy() for t in ys]
    model.fit(x[0], y[0])
    val = float((model.predict(x[1]) == y[1]).mean())
    params = (int(model.coef_.size + model.intercept_.size) if family == "lr" else bl.svc_params(model))
    return val, params, (model.predict(x[2]) if test else None)


def trial_dir(out: Path, family: str, index: int) -> Path:
    """Where trial ``index`` of ``family`` keeps its state and checkpoints."""
    return Path(out) / "trials" / family / f"{index:03d}"


# -- one trial --------------------------------------------------------------------------------
def _score(results) -> dict:
    """Mean over seeds of the best validation accuracy so far and the loss at that epoch."""
    accs, losses = [], []
    for r in results:
        best = r.history[r.best_epoch - 1]
        accs.append(best["val_acc"])
        losses.append(best["val_loss"])
    return {"val_acc": float(np.mean(accs)), "val_loss": float(np.mean(losses)),
            "epoch": len(results[0].history)}


def _write(path: Path, state: dict):
    from .report import atomic_write
    atomic_write(path, json.dumps(state, indent=1).encode())


def replay_finished_trial(state_file: Path, report):
    """A finished trial's reports sent again (Ray Tune restarts trials on resume); returns its
    last metrics, or None when the trial has not finished."""
    if not state_file.exists():
        return None
    state = json.loads(state_file.read_text())
    if not state.get("done"):
        return None
    for metrics in state["reports"]:
        report(metrics)
    return state["reports"][-1]


def run_trial(family: str, options: dict, seeds, out_dir, report) -> dict:
    """Train one configuration on every screen seed; ``report(metrics)`` after every epoch
    (torch families) or once (scikit-learn). Progress is kept in ``out_dir``/trial.json and the
    per-seed checkpoints, so a restarted trial continues (a finished one only reports again)."""
    from .runner import slug
    from .train import fit, seed_everything
    out = Path(out_dir)
    state_file = out / "trial.json"
    finished = replay_finished_trial(state_file, report)
    if finished is not None:
        return finished
    opts, own = split_options(family, options)
    args, cfg = train_args(opts)
    state = {"family": family, "options": options, "seeds": list(seeds), "reports": [], "done": False}
    if family not in TRAINED:
        vals, params = [], []
        for seed in seeds:
            _, xs, ys = seed_data(cfg, seed)
            v, p, _ = fit_sklearn(family, own, xs, ys, seed)
            vals.append(v)
            params.append(p)
        metrics = {"val_acc": float(np.mean(vals)), "val_loss": 0.0, "epoch": 1,
                   "params": int(np.median(params))}
        state.update(reports=[metrics], done=True)
        _write(state_file, state)
        report(metrics)
        return metrics
    heads = []
    for seed in seeds:
        splits, xs, ys = seed_data(cfg, seed)
        seed_everything(seed)
        heads.append((seed, build_head(family, own, cfg, xs, splits.train.num_classes), xs, ys))
    metrics = {}
    for epoch in range(1, cfg.train.epochs + 1):
        results = []
        for seed, model, xs, ys in heads:
            tc = dataclasses.replace(cfg.train, seed=seed, epochs=epoch)
            results.append(fit(model, xs[0], ys[0], xs[1], ys[1], tc, resume=True, progress=False,
                               checkpoint=out / "checkpoints" / f"{slug(family)}-seed{seed}.pt"))
        metrics = {**_score(results), "params": sum(p.numel() for p in heads[0][1].parameters()
                                                    if p.requires_grad)}
        state["reports"].append(metrics)
        state["done"] = epoch == cfg.train.epochs or any(r.stopped_early for r in results)
        _write(state_file, state)
        report(metrics)
        if state["done"]:
            break
    return metrics
