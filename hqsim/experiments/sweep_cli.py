"""``hqsim sweep CONFIG.yaml``: a validation-selected screen of the hybrid model with the same
tuning budget for every classical baseline, on Ray Tune.

CONFIG.yaml::

    name: qllm-screen            # optional
    samples: 50                  # trials per family: every family gets the same number
    seeds: [0, 1]                # screen seeds: a trial's metric is the mean best validation
                                 # accuracy over these seeds' training/validation splits
    eval_seeds: [0, 1, 2, 3, 4]  # each family's selected configuration, trained on these seeds
                                 # and tested once: the only time a test set is read
    fixed: {epochs: 20}          # `hqsim train` options shared by every trial (data, encoder, ...)
    hybrid:                      # search space of the hybrid (any `hqsim train` option)
      bias_amplitude: [0, 0.5, 1]          # a list draws one of its values
      lr: {loguniform: [0.001, 0.1]}       # also uniform, randint, choice
    baselines:                   # the classical families screened (any subset)
      lr: {C: {loguniform: [0.001, 1000]}}
      svc: {C: {loguniform: [0.01, 1000]}, kernel_gamma: {loguniform: [0.01, 10]}}
      mlp: {hidden: {randint: [1, 64]}, lr: {loguniform: [0.0003, 0.03]}}
      exact: {lr: {loguniform: [0.0003, 0.03]}}   # the head with the selected hybrid's parameter count
    asha: {grace_period: 4, reduction_factor: 3}  # early stopping of bad trials (ASHA)

A screen of `hqsim finetune` (``kind: finetune``; hqsim/experiments/finetune_screen.py) has
``methods`` instead of ``hybrid`` and ``baselines``: one family per fine-tuning method (or
METHOD-TAG, e.g. ``lora-r1``), each a search space of `hqsim finetune` options, the same number of
trials each::

    kind: finetune
    samples: 8
    seeds: [0, 1]
    eval_seeds: [0, 1, 2, 3, 4]
    fixed: {steps: 56, max_test: 1000}   # `hqsim finetune` options shared by every trial
    methods:
      qtha: {qtha_qubits: [2, 4, 6], mpo_bond: [1, 2, 4], lr: {loguniform: [0.0003, 0.01]},
             head_lr: {loguniform: [0.001, 0.03]}}
      lora-r4: {lora_rank: 4, lr: {loguniform: [0.0003, 0.01]}, head_lr: {loguniform: [0.001, 0.03]}}
      head: {head_lr: {loguniform: [0.001, 0.1]}}   # head-only: its head is all it trains
    asha: {grace_period: 1, reduction_factor: 2}

Trials are drawn reproducibly (seed ``sample_seed``, default 0) and run by Ray Tune with an
ASHA scheduler on the metric (torch families report every epoch; LR and SVC once). A local
Ray instance is started unless ``--address`` names a cluster. ``exact`` is screened after the
hybrid's selection (it needs its parameter count). Every trial keeps its state and checkpoints
under ``OUT/trials/``, Tune's under ``OUT/ray/``: ``--resume`` continues an interrupted screen.
Outputs: ``OUT/screen.json`` (every trial), ``results.json`` (the evaluation runs, with
per-sentence test correctness), ``results.md`` (one table: selections and test accuracy with
95 % CIs and paired differences) and ``screen.png`` (one plot). Ray is an optional extra
(``pip install 'hqsim[sweep]'``); this is the only module that imports it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import screen_report
from . import finetune_screen
from .screen import (FAMILIES, TRAINED, SweepConfigError, sample_space,
                     split_options, train_args, trial_dir)

INSTALL = ("hqsim sweep needs Ray Tune: pip install 'hqsim[sweep]' "
           "(on CPU machines add -c constraints-cpu.txt)")
KEYS = {"name", "kind", "samples", "seeds", "eval_seeds", "fixed", "hybrid", "baselines", "methods", "asha",
        "sample_seed"}
KINDS = ("train", "finetune")   # trials of `hqsim train` (hybrid + baselines) or of `hqsim finetune`


def _int_list(cfg, key, path, default):
    v = cfg.get(key, default)
    if not isinstance(v, list) or not v or not all(isinstance(s, int) and not isinstance(s, bool) for s in v):
        raise SweepConfigError(f"{path}: {key} must be a non-empty list of integers, got {v!r}")
    return v


def _read_yaml(path) -> dict:
    import yaml
    try:
        with open(path, encoding="utf-8") as fh:
            cfg = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise SweepConfigError(f"cannot read sweep config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SweepConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(cfg, dict):
        raise SweepConfigError(f"{path}: must be a mapping (name, samples, seeds, fixed, hybrid, baselines)")
    unknown = set(cfg) - KEYS
    if unknown:
        raise SweepConfigError(f"{path}: unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(KEYS))})")
    return cfg


def load_config(path, samples: int | None = None) -> dict:
    """Read and check CONFIG.yaml; every trial's options are parsed before Ray starts.
    ``samples`` overrides the file's count: trials are drawn in order, so N samples are the
    first N trials of any larger screen of the same file (every family cut alike)."""
    cfg = _read_yaml(path)
    samples = cfg.get("samples", 20) if samples is None else samples
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise SweepConfigError(f"{path}: samples must be a positive integer, got {samples!r}")
    kind = cfg.get("kind", "train")
    if kind not in KINDS:
        raise SweepConfigError(f"{path}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    fixed, hybrid, baselines = cfg.get("fixed") or {}, cfg.get("hybrid") or {}, cfg.get("baselines") or {}
    methods = cfg.get("methods") or {}
    asha = cfg.get("asha") or {}
    for key, v in (("fixed", fixed), ("hybrid", hybrid), ("baselines", baselines), ("methods", methods),
                   ("asha", asha)):
        if not isinstance(v, dict):
            raise SweepConfigError(f"{path}: {key} must be a mapping")
    if "seeds" in fixed or "seeds" in hybrid:
        raise SweepConfigError(f"{path}: put seeds at the top level (seeds: [0, 1])")
    if kind == "finetune":
        if "hybrid" in cfg or "baselines" in cfg:
            raise SweepConfigError(f"{path}: a kind: finetune screen takes methods (one search space "
                                   "per fine-tuning method), not hybrid or baselines")
        if not methods:
            raise SweepConfigError(f"{path}: a kind: finetune screen needs methods, e.g. "
                                   "methods: {qtha: {lr: {loguniform: [0.0003, 0.01]}}, lora-r4: {lora_rank: 4}}")
    elif methods:
        raise SweepConfigError(f"{path}: methods belongs to a kind: finetune screen (this one screens "
                               "`hqsim train`: hybrid and baselines)")
    bad = set(baselines) - set(FAMILIES[1:])
    if bad:
        raise SweepConfigError(f"{path}: unknown baselines {sorted(bad)} (allowed: {', '.join(FAMILIES[1:])})")
    if set(asha) - {"grace_period", "reduction_factor"}:
        raise SweepConfigError(f"{path}: asha takes grace_period and reduction_factor")
    seed = cfg.get("sample_seed", 0)
    spaces = dict(methods) if kind == "finetune" else {"hybrid": hybrid, **baselines}
    trials = {}
    for i, (family, space) in enumerate(spaces.items()):
        if not isinstance(space, dict):
            raise SweepConfigError(f"{path}: the space of {family} must be a mapping of option: distribution")
        if kind == "finetune":
            finetune_screen.family_method(family)
        points = sample_space(space, samples, seed + i, where=family)
        if kind == "finetune":
            trials[family] = [{**fixed, **p} for p in points]
            for options in trials[family]:  # fail early, before Ray starts
                finetune_screen.finetune_args(family, options)
            continue
        trials[family] = [{**fixed, **p, **({"baselines": ["none"]})} for p in points]
        for options in trials[family]:  # fail early, before Ray starts
            train_args(split_options(family, options)[0])
    return {"name": cfg.get("name") or Path(path).stem, "kind": kind, "samples": samples,
            "seeds": _int_list(cfg, "seeds", path, [0]),
            "eval_seeds": _int_list(cfg, "eval_seeds", path, [0, 1, 2, 3, 4]),
            "fixed": fixed, "spaces": spaces, "trials": trials,
            "asha": {"grace_period": 4, "reduction_factor": 3, **asha}}


def _tune_trainable(config):
    from ray import tune
    from .screen import run_trial
    t = config["trial"]
    run = finetune_screen.run_trial if t.get("kind") == "finetune" else run_trial
    run(t["family"], t["options"], t["seeds"], t["out_dir"], tune.report)


def _max_epochs(sweep: dict, family: str, trials: list) -> int:
    """The most epochs a trial of ``family`` runs (ASHA's max_t)."""
    if sweep.get("kind") == "finetune":
        return max(finetune_screen.trial_epochs(family, t, sweep["seeds"][0]) for t in trials)
    if family in TRAINED:
        return max(train_args(split_options(family, t)[0])[1].train.epochs for t in trials)
    return 1


def tune_family(out: Path, sweep: dict, family: str, trials: list, args) -> None:
    """Run one family's trials on Ray Tune with ASHA (restored from ``OUT/ray`` on --resume)."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    epochs = _max_epochs(sweep, family, trials)
    space = {"trial": tune.grid_search([
        {"family": family, "kind": sweep.get("kind", "train"), "options": t, "seeds": sweep["seeds"],
         "out_dir": str(trial_dir(out, family, i))}
        for i, t in enumerate(trials)])}
    trainable = tune.with_resources(_tune_trainable, {"cpu": args.cpus_per_trial})
    storage, name = str(out / "ray"), f"{sweep['name']}-{family}-{sweep['samples']}"
    if args.resume and tune.Tuner.can_restore(str(Path(storage) / name)):
        tuner = tune.Tuner.restore(str(Path(storage) / name), trainable, resume_errored=True)
    else:
        scheduler = ASHAScheduler(time_attr="training_iteration", max_t=max(epochs, 1),
                                  grace_period=min(sweep["asha"]["grace_period"], max(epochs, 1)),
                                  reduction_factor=sweep["asha"]["reduction_factor"])
        tuner = tune.Tuner(trainable, param_space=space, tune_config=tune.TuneConfig(
            metric="val_acc", mode="max", scheduler=scheduler, reuse_actors=True,
            max_concurrent_trials=args.max_concurrent),
            run_config=tune.RunConfig(name=name, storage_path=storage, verbose=0))
    grid = tuner.fit()
    errors = [r.error for r in grid if r.error]
    if errors:
        raise RuntimeError(f"{len(errors)} {family} trial(s) failed; first error: {errors[0]}")


def run_sweep(args) -> int:
    try:
        sweep = load_config(args.config, args.samples)
    except SweepConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        import ray
    except ImportError:
        print(INSTALL, file=sys.stderr)
        return 2
    out = Path(args.out or f"runs/sweep-{sweep['name']}-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    n = sweep["samples"]
    print(f"sweep {sweep['name']}: {n} trial(s) for each of {', '.join(sweep['trials'])} → {out}")
    ray.init(address=args.address, num_cpus=None if args.address else args.num_cpus,
             include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        for family, trials in sweep["trials"].items():
            if family == "exact" and sweep["kind"] == "train":
                params = screen_report.selected(out, sweep, "hybrid")["metrics"]["params"]
                trials = [{**t, "params": params} for t in trials]
            tune_family(out, sweep, family, trials, args)
            screen_report.write_screen(out, sweep)
        paths = screen_report.evaluate_selected(out, sweep, progress=not args.no_progress)
    except (RuntimeError, SweepConfigError, ValueError) as exc:
        print(f"error: {exc}\ncontinue with: hqsim sweep {args.config} --out {out} --resume", file=sys.stderr)
        return 1
    finally:
        ray.shutdown()
    print((out / "results.md").read_text())
    print("outputs:\n" + "\n".join(f"  {p}" for p in paths))
    return 0


def register(subparsers):
    p = subparsers.add_parser("sweep", help="validation-selected screen on Ray Tune: the hybrid and "
                                            "the classical baselines (`hqsim train`), or the "
                                            "fine-tuning methods (`hqsim finetune`)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", metavar="CONFIG.yaml", help="the screen (samples, seeds, spaces, fixed options)")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    p.add_argument("--out", metavar="DIR", help="output directory (default ./runs/sweep-NAME-<timestamp>)")
    p.add_argument("--resume", action="store_true", help="continue the screen in --out DIR")
    p.add_argument("--num-cpus", type=int, help="CPUs for the local Ray instance (default: all)")
    p.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs reserved per trial (1)")
    p.add_argument("--samples", type=int, metavar="N",
                   help="run only the first N trials of every family (the same N for all; draws "
                        "are in order, so a later run with more samples continues this one)")
    p.add_argument("--max-concurrent", type=int, default=0,
                   help="trials at once (default 0: as many as the CPUs allow)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_sweep)
    return p
