"""One experiment: for every seed, split the data, embed it, train every hybrid configuration
and every classical baseline on the same split and embeddings, and write the reports.

The output directory is a ``rundir.RunDir``: locked for this process, its configuration
recorded in ``config.json`` (every field of ``ExperimentConfig`` and of the model and training
configs it holds, the data files' content hashes, the hqsim version). Completed runs are kept
in ``results.json`` as they finish; with ``resume`` (refused if the configuration differs) a
run already there is not repeated and an interrupted training continues from its checkpoint."""
from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import __version__
from . import data as data_mod
from . import report
from .fewshot import nested_split, size_suffix
from .rundir import RunDir, describe, file_fingerprint
from .stats import pack_correct
from .train import TrainConfig, fit, predict_logits, seed_everything

BASELINES = ("lr", "svc", "mlp", "exact", "setfit")


@dataclass(frozen=True)
class ExperimentConfig:
    models: tuple                      # QLLMConfig each (num_features/num_classes filled in)
    train: TrainConfig = TrainConfig()
    seeds: tuple = (0,)
    protocol: str = "paper"
    # () → built-in SST-2; recorded by content hash (run_key), so a moved file still resumes
    data_files: tuple = field(default=(), metadata={"run_key": False})
    load_options: dict = field(default_factory=dict)
    per_label: int | tuple = 256       # several → few-shot curve (nested training sets)
    val_fraction: float = 0.15
    max_test: int | None = None
    encoder: str | None = None         # local sentence-transformers dir; None → MiniLM
    # embeddings are cached by model and text hash: where the cache lives changes no result
    cache_dir: str | None = field(default=None, metadata={"run_key": False})
    baselines: tuple = ("lr", "svc", "mlp", "exact")
    setfit: bool = False               # SetFit-fine-tuned embeddings for every model
    setfit_iterations: int = 5
    finetune_encoder: int = 0          # train the last k transformer layers end to end
    backend: str = "auto"
    dtype: str = "float32"

    @property
    def sizes(self) -> tuple:
        """The --per-label values, ascending (one for a plain run, several for a few-shot curve)."""
        return self.per_label if isinstance(self.per_label, tuple) else (self.per_label,)

    def __post_init__(self):
        given = self.per_label if isinstance(self.per_label, (tuple, list)) else (self.per_label,)
        sizes = tuple(sorted({int(k) for k in given}))
        if not sizes or sizes[0] < 1:
            raise ValueError(f"per_label (--per-label) must be positive integers, got {given}")
        # one size stays an int (the recorded run configuration of earlier runs)
        object.__setattr__(self, "per_label", sizes[0] if len(sizes) == 1 else sizes)
        if len(sizes) > 1 and (self.protocol != "paper" or self.setfit or "setfit" in self.baselines):
            raise ValueError("several --per-label values (a few-shot curve) need --protocol paper and "
                             "no SetFit (its body would be fine-tuned once per size)")
        bad = set(self.baselines) - set(BASELINES)
        if bad:
            raise ValueError(f"unknown baselines {sorted(bad)}; choose from {list(BASELINES)}")
        if self.finetune_encoder and any(getattr(m, "gradient", "adjoint") == "parameter-shift"
                                         for m in self.models):
            raise ValueError("--gradient parameter-shift cannot train through the amplitude encoding "
                             "(a state preparation has no shift rule), so not with --finetune-encoder; "
                             "use --gradient adjoint or spsa")


class FinetuneModel(nn.Module):
    """Texts → trainable sentence encoder → QLLM head (``--finetune-encoder``)."""

    def __init__(self, encoder: nn.Module, head_model: nn.Module):
        super().__init__()
        self.encoder, self.head_model = encoder, head_model

    def forward(self, texts):
        return self.head_model(self.encoder(texts).to(self.head_model.encoders[0].weights.dtype))


def run_key(cfg: ExperimentConfig) -> dict:
    """What decides an experiment's results, as recorded in its run directory: every field of
    the config dataclasses (new options are included as they are added), the data files'
    content hashes and the hqsim version."""
    files = list(cfg.data_files) or [data_mod.sst2_dir() / f"{p}.tsv" for p in data_mod.SST2_PARTS]
    return {"hqsim": __version__, "experiment": describe(cfg),
            "data": [file_fingerprint(f) for f in files]}


def run_info(cfg: ExperimentConfig) -> dict:
    """Recorded next to the key, not compared on resume."""
    return {"data_files": [str(Path(f).resolve()) for f in cfg.data_files] or "SST-2 (built-in)",
            "cache_dir": cfg.cache_dir, "torch": torch.__version__}


def seed_splits(cfg: ExperimentConfig, seed: int):
    """The protocol's split of ``seed`` at the largest ``per_label``."""
    return data_mod.make_splits(cfg.protocol, seed, list(cfg.data_files) or None,
                                per_label=max(cfg.sizes), val_fraction=cfg.val_fraction,
                                max_test=cfg.max_test, **cfg.load_options)


def embed_splits(splits, encoder, cache_dir, progress: bool = True) -> list:
    """[train, validation, test] embeddings (float32 tensors) of ``splits``."""
    from .embeddings import embed
    parts = (splits.train, splits.validation, splits.test)
    allx = embed([t for p in parts for t in p.texts], encoder, cache_dir, progress=progress)
    a, b = len(parts[0]), len(parts[0]) + len(parts[1])
    return [torch.from_numpy(x) for x in (allx[:a], allx[a:b], allx[b:])]


def labels_of(splits) -> list:
    return [torch.as_tensor(p.labels) for p in (splits.train, splits.validation, splits.test)]


def sized(cfg: ExperimentConfig, full, xs, seed: int, per_label: int):
    """(splits, xs, ys) with ``per_label`` rows per label, nested in the seed's ``full`` split."""
    if per_label == max(cfg.sizes):
        return full, xs, labels_of(full)
    splits, tr, va = nested_split(full, per_label, cfg.val_fraction, seed)
    pooled = torch.cat([xs[0], xs[1]])
    return splits, [pooled[tr], pooled[va], xs[2]], labels_of(splits)


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", name).strip("_")


def _log(msg, log):
    if log:
        log(msg)


class Experiment:
    """``resume``: continue the run recorded in ``out_dir`` (if any; refused if its configuration
    differs); ``must_exist``: and fail if ``out_dir`` is missing; ``force_new``: delete the
    outputs a run there left and start anew; ``command``: recorded in command.txt."""

    def __init__(self, cfg: ExperimentConfig, out_dir, resume: bool = False, progress: bool = True,
                 log=print, *, force_new: bool = False, must_exist: bool = False,
                 command: str | None = None):
        self.cfg, self.out, self.resume, self.progress, self.log = cfg, Path(out_dir), resume, progress, log
        self.force_new, self.must_exist, self.command = force_new, must_exist, command
        self.runs: list = []
        self.meta: dict = {}
        self._split_cache: dict = {}
        self.suffix, self.per_label = "", None  # the few-shot size running (" [k/label]", k)

    def _done(self, model: str, seed: int) -> bool:
        return any(r["model"] == model and r["seed"] == seed for r in self.runs)

    def _record(self, rec: dict):
        self.runs = [r for r in self.runs if not (r["model"] == rec["model"] and r["seed"] == rec["seed"])]
        self.runs.append(rec)
        report.write_results(self.out, self.meta, self.runs)

    def _splits(self, seed):
        if seed not in self._split_cache:
            self._split_cache[seed] = seed_splits(self.cfg, seed)
        return self._split_cache[seed]

    def _embed(self, splits, encoder):
        return embed_splits(splits, encoder, self.cfg.cache_dir, self.progress)

    def run(self) -> list:
        """Train and evaluate everything; returns the paths of the reports written. Raises
        rundir.RunDirError (directory in use, configuration differs, damaged file)."""
        c = self.cfg
        first = self._splits(c.seeds[0])  # data errors before the directory is touched
        with RunDir.open(self.out, run_key(c), info=run_info(c), resume=self.resume,
                         force_new=self.force_new, must_exist=self.must_exist,
                         outputs=report.OUTPUTS, command=self.command) as rd:
            for p in rd.cleaned:
                _log(f"removed {p}, a temporary left by a killed write", self.log)
            self.resume = rd.resumed
            if rd.resumed and (self.out / report.RESULTS_JSON).exists():
                self.runs = report.read_results(self.out)["runs"]
            for w in first.warnings:
                _log(f"warning: {w}", self.log)
            return self._run_all()

    def _run_all(self) -> list:
        from .embeddings import model_label, resolve_model
        c = self.cfg
        t0 = time.perf_counter()
        base_model = resolve_model(c.encoder)
        self.meta = {"protocol": c.protocol, "seeds": list(c.seeds), "per_label": list(c.sizes),
                     "data": ", ".join(map(str, c.data_files)) or "SST-2 (built-in)",
                     "encoder": model_label(base_model), "setfit": c.setfit,
                     "finetune_encoder": c.finetune_encoder, "train": dataclasses.asdict(c.train),
                     "models": [m.to_dict() for m in c.models], "baselines": list(c.baselines),
                     "machine": report.machine_info()}
        for seed in c.seeds:
            splits = self._splits(seed)
            self.meta["split_sizes"] = splits.sizes()
            _log(f"seed {seed}: {c.protocol} split {splits.sizes()}", self.log)
            encoder, setfit_outcome = base_model, None
            if c.setfit or "setfit" in c.baselines:
                from .baselines import setfit_finetune
                setfit_outcome = setfit_finetune(splits.train.texts, splits.train.labels, base_model,
                                                 self.out / "setfit" / f"seed-{seed}", seed,
                                                 c.setfit_iterations)
                if c.setfit:
                    encoder = setfit_outcome.body_dir
            full_xs = self._embed(splits, encoder)
            for k in c.sizes:
                self.suffix, self.per_label = size_suffix(k, c.sizes), k
                sub, xs, ys = sized(c, splits, full_xs, seed, k)
                for mc in c.models:
                    self._run_hybrid(mc, sub, xs, ys, seed)
                self._run_baselines(sub, xs, ys, seed, setfit_outcome)
        self.meta["total_wall_s"] = time.perf_counter() - t0
        return report.write_all(self.out, self.meta, self.runs)

    def _train_record(self, name, kind, model, xs, ys, seed, extra=None):
        tc = dataclasses.replace(self.cfg.train, seed=seed)
        ckpt = self.out / "checkpoints" / f"{slug(name)}-seed{seed}.pt"
        res = fit(model, xs[0], ys[0], xs[1], ys[1], tc, checkpoint=ckpt, resume=self.resume,
                  progress=self.progress, desc=f"{name} seed {seed}")
        t1 = time.perf_counter()
        logits = predict_logits(model, xs[2], tc.eval_batch_size)
        test_loss = nn.functional.cross_entropy(logits.double(), ys[2]).item() if len(ys[2]) else None
        correct = (logits.argmax(1) == ys[2]).numpy()
        params = sum(p.numel() for p in model.parameters() if p.requires_grad)
        rec = {"model": name, "kind": kind, "seed": seed, "params": params,
               "test_acc": float(correct.mean()) if len(correct) else None, "test_loss": test_loss,
               "test_correct": pack_correct(correct), "test_n": len(correct),
               "per_label": self.per_label, "val_acc": res.best_val_acc,
               "best_epoch": res.best_epoch,
               "epochs_run": res.epochs_run, "stopped_early": res.stopped_early,
               "wall_s": res.wall_s, "train_s": res.train_s, "test_eval_s": time.perf_counter() - t1,
               "samples_per_s": res.samples_per_s, "history": res.history, **(extra or {})}
        _log(f"  {name}: test {100 * rec['test_acc']:.2f} %  val {100 * res.best_val_acc:.2f} %  "
             f"{params:,} params  {res.wall_s:.1f} s  {res.samples_per_s:.0f} samples/s", self.log)
        self._record(rec)
        return rec

    def _run_hybrid(self, mc, splits, xs, ys, seed):
        from ..models import QLLMClassifier
        c = self.cfg
        dim = self._finetune_dim() if c.finetune_encoder else xs[0].shape[1]
        mc = dataclasses.replace(mc, num_features=int(dim), num_classes=splits.train.num_classes)
        name = mc.label() + (f" +FT{c.finetune_encoder}" if c.finetune_encoder else "") + self.suffix
        if self._done(name, seed):
            return
        dtype = getattr(torch, c.dtype)
        seed_everything(seed)
        model = QLLMClassifier(mc, backend=c.backend, dtype=dtype)
        if c.finetune_encoder:
            from .embeddings import TrainableEncoder
            model = FinetuneModel(TrainableEncoder.build(c.encoder, c.finetune_encoder), model)
            xs = [list(p.texts) for p in (splits.train, splits.validation, splits.test)]
        else:
            xs = [x.to(dtype) for x in xs]
        n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
        _log(f"  {name}: {n_params:,} trainable parameters", self.log)
        self._train_record(name, "hybrid", model, xs, ys, seed, {"config": mc.to_dict()})

    def _finetune_dim(self):
        from .embeddings import embed
        return embed(["a"], self.cfg.encoder, self.cfg.cache_dir, progress=False).shape[1]

    def _hybrid_param_counts(self, dim, k):
        from ..models import count_parameters
        return sorted({count_parameters(dataclasses.replace(m, num_features=int(dim), num_classes=k))
                       for m in self.cfg.models})

    def _run_baselines(self, splits, xs, ys, seed, setfit_outcome):
        from . import baselines as bl
        c = self.cfg
        np_x = [x.numpy() for x in xs]
        np_y = [y.numpy() for y in ys]
        args = (np_x[0], np_y[0], np_x[1], np_y[1], np_x[2], np_y[2])
        k = splits.train.num_classes
        emb = (" (SetFit emb.)" if c.setfit else "") + self.suffix
        sk = []  # (name, fit): a baseline a resumed run already holds is not fitted again
        if "lr" in c.baselines:
            name = "logistic regression" + emb
            sk.append((name, lambda name=name: bl.logistic_regression(*args, seed=seed, name=name)))
        if "svc" in c.baselines:
            name = "SVC (RBF)" + emb
            sk.append((name, lambda name=name: bl.svc(*args, seed=seed, name=name)))
        if "setfit" in c.baselines and setfit_outcome is not None and not self._done(bl.SETFIT_NAME, seed):
            if c.setfit:
                fx = np_x
            else:
                from .embeddings import embed
                parts = (splits.train, splits.validation, splits.test)
                allx = embed([t for p in parts for t in p.texts], setfit_outcome.body_dir,
                             c.cache_dir, progress=self.progress)
                a, b = len(parts[0]), len(parts[0]) + len(parts[1])
                fx = [allx[:a], allx[a:b], allx[b:]]
            sk.append((bl.SETFIT_NAME, lambda: bl.setfit_result(setfit_outcome, fx[1], np_y[1], fx[2], np_y[2])))
        for name, fit in sk:
            if self._done(name, seed):
                continue
            res = fit()
            _log(f"  {res.name}: test {100 * res.test_acc:.2f} %  val {100 * res.val_acc:.2f} %  "
                 f"{res.params:,} params  {res.wall_s:.1f} s", self.log)
            correct = np.asarray(res.test_pred) == np_y[2]
            self._record({"model": res.name, "kind": "classical", "seed": seed, "params": res.params,
                          "test_acc": res.test_acc, "test_correct": pack_correct(correct),
                          "test_n": len(correct), "per_label": self.per_label, "val_acc": res.val_acc,
                          "wall_s": res.wall_s, "samples_per_s": None, "details": res.details})
        dim = xs[0].shape[1]
        for target in self._hybrid_param_counts(dim, k):
            heads = []
            if "mlp" in c.baselines:
                heads += [(f"MLP h={h}{emb}", lambda h=h: bl.MLPHead(dim, h, k))
                          for h in bl.mlp_bracket(target, dim, k)]
            if "exact" in c.baselines:
                heads.append((f"classical head, {target} params{emb}",
                              lambda t=target: bl.ExactParamHead(xs[0], t, k)))
            for name, make in heads:
                if self._done(name, seed):
                    continue
                seed_everything(seed)
                self._train_record(name, "classical", make(), xs, ys, seed)
