"""``hqsim sweep CONFIG.yaml``: a hyperparameter screen of the QLLM experiment on Ray Tune.

CONFIG.yaml::

    name: qllm-screen          # optional
    grid:                      # every combination is one trial (any `hqsim train` option)
      qubits: [10, 12]
      encoders: [1, 2]
      lr: [0.01, 0.03]
    seeds: [0, 1, 2]           # one trial per seed as well
    fixed:                     # options shared by every trial
      epochs: 20
      baselines: [lr, svc]
      max_test: 2000

Options use `hqsim train`'s long names (dashes or underscores). A local Ray instance is
started unless ``--address`` names a cluster. Every trial writes its own run directory under
``OUT/trials/`` (checkpoints included), so ``--resume`` continues an interrupted sweep:
finished trials are kept and unfinished ones resume from their last epoch. Results of all
trials are gathered into ``OUT/results.json``, ``results.md`` and the plots. Ray is an
optional extra (``pip install 'hqsim[sweep]'``); this is the only module that imports it.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

INSTALL = ("hqsim sweep needs Ray Tune: pip install 'hqsim[sweep]' "
           "(on CPU machines add -c constraints-cpu.txt)")


class SweepConfigError(ValueError):
    pass


def _train_parser():
    from . import cli
    root = argparse.ArgumentParser(prog="hqsim", add_help=False, exit_on_error=False)
    sub = root.add_subparsers(dest="command")
    return cli.register(sub)


def _argv(options: dict) -> list:
    argv = []
    for key, value in options.items():
        flag = "--" + str(key).replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, (list, tuple)):
            argv += [flag] + [str(v) for v in value]
        else:
            argv += [flag, str(value)]
    return argv


def parse_args_for(options: dict):
    """The `hqsim train` namespace for ``options``; SweepConfigError naming the bad option."""
    parser = _train_parser()
    parser.exit_on_error = False
    argv = _argv(options)
    try:
        args, extra = parser.parse_known_args(argv)
    except (argparse.ArgumentError, SystemExit) as exc:
        raise SweepConfigError(f"bad option in sweep config: {exc}") from None
    if extra:
        raise SweepConfigError(f"unknown `hqsim train` option(s) in sweep config: {extra}")
    return args


def load_config(path) -> dict:
    """Read and check CONFIG.yaml; returns {'name', 'grid', 'seeds', 'fixed', 'trials'}."""
    import yaml
    try:
        with open(path, encoding="utf-8") as fh:
            cfg = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise SweepConfigError(f"cannot read sweep config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SweepConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(cfg, dict):
        raise SweepConfigError(f"{path}: must be a mapping with grid/seeds/fixed")
    unknown = set(cfg) - {"name", "grid", "seeds", "fixed"}
    if unknown:
        raise SweepConfigError(f"{path}: unknown keys {sorted(unknown)} (allowed: name, grid, seeds, fixed)")
    grid = cfg.get("grid") or {}
    fixed = cfg.get("fixed") or {}
    seeds = cfg.get("seeds", [0])
    if not isinstance(grid, dict) or not isinstance(fixed, dict):
        raise SweepConfigError(f"{path}: grid and fixed must be mappings of option: value(s)")
    if "seeds" in grid or "seeds" in fixed:
        raise SweepConfigError(f"{path}: put seeds at the top level (seeds: [0, 1, 2])")
    if not isinstance(seeds, list) or not all(isinstance(s, int) for s in seeds) or not seeds:
        raise SweepConfigError(f"{path}: seeds must be a non-empty list of integers")
    grid = {k: v if isinstance(v, list) else [v] for k, v in grid.items()}
    trials = []
    for combo in itertools.product(*grid.values()):
        point = dict(zip(grid, combo))
        for seed in seeds:
            options = {**fixed, **point, "seeds": [seed]}
            parse_args_for(options)  # fail early, before any Ray start
            trials.append({"point": point, "seed": seed, "options": options})
    return {"name": cfg.get("name") or Path(path).stem, "grid": grid, "seeds": seeds,
            "fixed": fixed, "trials": trials}


def trial_dir(out: Path, point: dict, seed: int) -> Path:
    from .runner import slug
    key = "_".join(f"{k}={v}" for k, v in point.items()) or "default"
    return out / "trials" / f"{slug(key)}_seed={seed}"


def run_trial(options: dict, out_dir: str) -> dict:
    """Run one trial (one point, one seed); returns its summary metrics."""
    from .cli import experiment_config
    from .runner import Experiment
    args = parse_args_for(options)
    exp = Experiment(experiment_config(args), out_dir, resume=True, progress=False, log=None)
    exp.run()
    hyb = [r for r in exp.runs if r["kind"] == "hybrid"]
    best = max(hyb, key=lambda r: r["val_acc"] or 0) if hyb else {}
    return {"test_acc": best.get("test_acc"), "val_acc": best.get("val_acc"),
            "params": best.get("params"), "wall_s": best.get("wall_s"), "runs": len(exp.runs)}


def _tune_trainable(config):
    from ray import tune
    trial = config["trial"]
    metrics = run_trial(trial["options"], trial["out_dir"])
    tune.report({k: v for k, v in metrics.items() if v is not None})


def gather(out: Path, sweep: dict) -> list:
    """Merge every trial's results.json into OUT's reports; returns the written paths."""
    from . import report
    runs, meta = [], {}
    for t in sweep["trials"]:
        d = trial_dir(out, t["point"], t["seed"])
        if not (d / report.RESULTS_JSON).exists():
            continue
        data = report.read_results(d)
        meta = meta or data["meta"]
        suffix = ", ".join(f"{k}={v}" for k, v in t["point"].items()
                           if k not in ("qubits", "encoders"))
        for r in data["runs"]:
            if suffix and r["kind"] == "hybrid":
                r = {**r, "model": f"{r['model']} [{suffix}]"}
            runs.append(r)
    if not runs:
        return []
    meta = {**meta, "seeds": sweep["seeds"], "sweep": {"grid": sweep["grid"], "fixed": sweep["fixed"]}}
    return report.write_all(out, meta, runs)


def run_sweep(args) -> int:
    try:
        sweep = load_config(args.config)
    except SweepConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        import ray
        from ray import tune
    except ImportError:
        print(INSTALL, file=sys.stderr)
        return 2
    out = Path(args.out or f"runs/sweep-{sweep['name']}-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"sweep {sweep['name']}: {len(sweep['trials'])} trial(s) → {out}")
    ray.init(address=args.address, num_cpus=None if args.address else args.num_cpus,
             include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    trainable = tune.with_resources(_tune_trainable, {"cpu": args.cpus_per_trial})
    storage = str(out / "ray")
    space = {"trial": tune.grid_search([
        {"options": t["options"], "out_dir": str(trial_dir(out, t["point"], t["seed"]))}
        for t in sweep["trials"]])}
    exp_path = Path(storage) / sweep["name"]
    try:
        if args.resume and tune.Tuner.can_restore(str(exp_path)):
            tuner = tune.Tuner.restore(str(exp_path), trainable, resume_errored=True)
        else:
            tuner = tune.Tuner(trainable, param_space=space, run_config=tune.RunConfig(
                name=sweep["name"], storage_path=storage, verbose=1))
        grid = tuner.fit()
    finally:
        ray.shutdown()
    errors = [r.error for r in grid if r.error]
    paths = gather(out, sweep)
    if paths:
        print((out / "results.md").read_text())
        print("outputs:\n" + "\n".join(f"  {p}" for p in paths))
    if errors:
        print(f"{len(errors)} trial(s) failed; first error: {errors[0]}\nrerun with --resume --out {out}",
              file=sys.stderr)
        return 1
    return 0


def register(subparsers):
    p = subparsers.add_parser("sweep", help="hyperparameter screen of `hqsim train` on Ray Tune",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", metavar="CONFIG.yaml", help="the sweep (grid, seeds, fixed options)")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    p.add_argument("--out", metavar="DIR", help="output directory (default ./runs/sweep-NAME-<timestamp>)")
    p.add_argument("--resume", action="store_true", help="continue the sweep in --out DIR")
    p.add_argument("--num-cpus", type=int, help="CPUs for the local Ray instance (default: all)")
    p.add_argument("--cpus-per-trial", type=float, default=1.0, help="CPUs reserved per trial (1)")
    p.set_defaults(func=run_sweep)
    return p
