"""One fine-tuning comparison: for every seed, split the data, then fine-tune the encoder with
every method (QTHA, QPA, QuanTA, LoRA ranks, full fine-tuning, frozen + head) on the same split,
with the same step budget, and write the reports.

Every method trains with ``train.fit`` (Adam, an atomic checkpoint per epoch, exact resume of
optimizer and shuffling) and is scored on the test split with the best-validation weights; the
per-sentence correctness is recorded (``stats.pack_correct``) for bootstrap intervals.
Dropout masks come from torch's global generator, which the checkpoint does not hold, so it is
reseeded from (seed, epoch) at every epoch boundary: a resumed run draws the same masks as an
uninterrupted one. The frozen-model baseline trains its head on the encoder's sentence features,
computed once per text and cached on disk (``EmbeddingCache``). Completed (method, seed) runs are
kept in ``results.json`` as they finish. The output directory is a ``rundir.RunDir`` (locked,
configuration recorded in ``config.json``); ``resume`` (refused if the configuration differs)
skips the finished runs and continues an interrupted one from its checkpoint.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from . import data as data_mod
from . import finetune_report, report
from .embeddings import EmbeddingCache, default_cache_dir, model_key, model_label, resolve_model, text_key
from .fewshot import nested_split, size_suffix
from .rundir import RunDir, describe, file_fingerprint
from .runner import slug
from .stats import pack_correct
from .train import TrainConfig, fit, predict_logits, seed_everything

DEFAULT_LR = {"qtha": 1e-3, "qpa": 1e-3, "quanta": 1e-3, "lora": 1e-3, "full": 1e-4, "head": 1e-2}
FEATURES_VERSION = "peft-sentence-features-v1"


@dataclass(frozen=True)
class FinetuneConfig:
    methods: tuple                     # hqsim.peft method configs, one run per method and seed
    train: TrainConfig = TrainConfig()
    steps: int | None = 56             # step budget (rounded up to whole epochs); None: train.epochs
    lr: dict = field(default_factory=dict)   # method name → learning rate (default DEFAULT_LR)
    # the classifier head's learning rate, the same for every method (head-only included);
    # None: each method's head trains at that method's rate (lr_for), as the runs recorded in
    # bench/RESULTS_peft.md did
    head_lr: float | None = None
    seeds: tuple = (0,)
    protocol: str = "paper"
    # recorded by content hash in the run key, so a moved file still resumes
    data_files: tuple = field(default=(), metadata={"run_key": False})
    load_options: dict = field(default_factory=dict)
    per_label: int | tuple = 256       # several → nested few-shot training sets (fewshot.py)
    val_fraction: float = 0.15
    max_test: int | None = None
    encoder: str | None = None         # local transformers / sentence-transformers model dir
    max_length: int = 128
    dtype: str = "float32"
    cache_dir: str | None = field(default=None, metadata={"run_key": False})
    save_adapters: bool = field(default=False, metadata={"run_key": False})

    def __post_init__(self):
        if not self.methods:
            raise ValueError("choose at least one fine-tuning method")
        given = self.per_label if isinstance(self.per_label, (tuple, list)) else (self.per_label,)
        sizes = tuple(sorted({int(k) for k in given}))
        if not sizes or sizes[0] < 1:
            raise ValueError(f"per_label (--per-label) must be positive integers, got {given}")
        if len(sizes) > 1 and self.protocol != "paper":
            raise ValueError("several --per-label sizes need --protocol paper")
        object.__setattr__(self, "per_label", sizes[0] if len(sizes) == 1 else sizes)
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.max_length < 2:
            raise ValueError(f"max_length must be >= 2 tokens, got {self.max_length}")
        bad = set(self.lr) - set(DEFAULT_LR)
        if bad:
            raise ValueError(f"learning rates given for unknown methods {sorted(bad)}; methods are "
                             f"{list(DEFAULT_LR)}")
        for m, v in self.lr.items():
            if not v > 0:
                raise ValueError(f"learning rate of {m} must be > 0, got {v}")
        if self.head_lr is not None and not self.head_lr > 0:
            raise ValueError(f"head_lr (--head-lr) must be > 0, got {self.head_lr}")

    @property
    def sizes(self) -> tuple:
        return self.per_label if isinstance(self.per_label, tuple) else (self.per_label,)

    def lr_for(self, method: str) -> float:
        return self.lr.get(method, DEFAULT_LR[method])

    def head_lr_for(self, method: str) -> float:
        """The learning rate of ``method``'s classifier head."""
        return self.lr_for(method) if self.head_lr is None else self.head_lr

    def epochs_for(self, n_train: int) -> int:
        if self.steps is None:
            return self.train.epochs
        return math.ceil(self.steps / math.ceil(n_train / self.train.batch_size))


OUTPUTS = report.OUTPUTS + ("adapters",)


def run_key(cfg: FinetuneConfig, model_dir) -> dict:
    """What decides the results: every config field, each method by name and options, the
    model's identity (hash of its files), the data files' content hashes, the hqsim version."""
    files = list(cfg.data_files) or [data_mod.sst2_dir() / f"{p}.tsv" for p in data_mod.SST2_PARTS]
    described = describe(cfg)
    if described.get("head_lr") is None:  # runs from before the option keep their key (resumable)
        described.pop("head_lr", None)
    return {"hqsim": __version__, "finetune": described, "methods": [m.to_dict() for m in cfg.methods],
            "model": model_key(model_dir), "data": [file_fingerprint(f) for f in files]}


def run_order(sizes, seeds) -> list[tuple[int, int]]:
    """(per-label size, seed) in the order they run: the largest size on every seed first (the
    main comparison completes before any few-shot run), then the smaller sizes seed by seed.
    Every run seeds itself, so the order changes no result, only what an interrupted run holds."""
    rest = sorted(sizes, reverse=True)[1:]
    return [(max(sizes), s) for s in seeds] + [(k, s) for s in seeds for k in rest]


def _dropout_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch) % (2 ** 63)


def _epochs_in_checkpoint(path: Path) -> int:
    if not path.exists():
        return 0
    state = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    return len(state["result"]["history"])


class FinetuneExperiment:
    """``resume``: continue the run recorded in ``out_dir`` (refused if its configuration
    differs); ``must_exist``: and fail if ``out_dir`` is missing; ``force_new``: delete what a
    run there left and start anew; ``command``: recorded in command.txt."""

    def __init__(self, cfg: FinetuneConfig, out_dir, resume: bool = False, progress: bool = True,
                 log=print, *, force_new: bool = False, must_exist: bool = False,
                 command: str | None = None):
        self.cfg, self.out, self.resume, self.progress, self.log = cfg, Path(out_dir), resume, progress, log
        self.force_new, self.must_exist, self.command = force_new, must_exist, command
        self.runs: list = []
        self.meta: dict = {}

    def _say(self, msg):
        if self.log:
            self.log(msg)

    def _done(self, name, seed) -> bool:
        return any(r["model"] == name and r["seed"] == seed for r in self.runs)

    def _record(self, rec):
        self.runs = [r for r in self.runs if not (r["model"] == rec["model"] and r["seed"] == rec["seed"])]
        self.runs.append(rec)
        report.write_results(self.out, self.meta, self.runs)

    def _splits(self, seed):
        """The protocol's split of ``seed`` at the largest per-label size."""
        c = self.cfg
        return data_mod.make_splits(c.protocol, seed, list(c.data_files) or None, per_label=max(c.sizes),
                                    val_fraction=c.val_fraction, max_test=c.max_test, **c.load_options)

    def run(self) -> list:
        """Fine-tune and evaluate every method and seed; returns the report paths. Raises
        rundir.RunDirError (directory in use, configuration differs, damaged file)."""
        from ..peft import load_pretrained
        c = self.cfg
        self.model_dir = resolve_model(c.encoder)
        first = self._splits(c.seeds[0])  # data errors before the directory is touched
        info = {"data_files": [str(Path(f).resolve()) for f in c.data_files] or "SST-2 (built-in)",
                "encoder": str(self.model_dir), "cache_dir": c.cache_dir, "torch": torch.__version__}
        with RunDir.open(self.out, run_key(c, self.model_dir), info=info, resume=self.resume,
                         force_new=self.force_new, must_exist=self.must_exist, outputs=OUTPUTS,
                         command=self.command) as rd:
            for p in rd.cleaned:
                self._say(f"removed {p}, a temporary left by a killed write")
            self.resume = rd.resumed
            if rd.resumed and (self.out / report.RESULTS_JSON).exists():
                self.runs = report.read_results(self.out)["runs"]
            for w in first.warnings:
                self._say(f"warning: {w}")
            self.pretrained = load_pretrained(self.model_dir)
            return self._run_all()

    def _run_all(self) -> list:
        c = self.cfg
        t0 = time.perf_counter()
        self.meta = {"command": "finetune", "protocol": c.protocol, "seeds": list(c.seeds),
                     "data": ", ".join(map(str, c.data_files)) or "SST-2 (built-in)",
                     "encoder": model_label(self.model_dir), "steps": c.steps, "per_label": list(c.sizes),
                     "train": dataclasses.asdict(c.train), "max_length": c.max_length,
                     "methods": [m.to_dict() for m in c.methods],
                     "lr": {m.method: c.lr_for(m.method) for m in c.methods},
                     "head_lr": {m.method: c.head_lr_for(m.method) for m in c.methods},
                     "head_lr_option": c.head_lr,
                     "max_test": c.max_test, "machine": report.machine_info()}
        full = {}
        for k, seed in run_order(c.sizes, c.seeds):
            if seed not in full:
                full[seed] = self._splits(seed)
                self.meta["split_sizes"] = full[seed].sizes()
                self._say(f"seed {seed}: {c.protocol} split {full[seed].sizes()}")
            # smaller training sets are nested in the seed's split and share its test set
            splits = full[seed] if k == max(c.sizes) else nested_split(full[seed], k, c.val_fraction, seed)[0]
            for method in c.methods:
                if not self._done(method.label() + size_suffix(k, c.sizes), seed):
                    self._run_method(method, splits, seed, k)
        self.meta["total_wall_s"] = time.perf_counter() - t0
        return finetune_report.write_all(self.out, self.meta, self.runs)

    def _features(self, model, parts) -> list:
        """The frozen encoder's sentence features of every part's texts, cached on disk."""
        key = f"{model_key(self.model_dir)}-{FEATURES_VERSION}-len{self.cfg.max_length}-{self.cfg.dtype}"
        cache = EmbeddingCache(self.cfg.cache_dir or default_cache_dir(), key)
        texts = sorted({t for p in parts for t in p.texts})
        missing = [t for t, e in zip(texts, cache.get([text_key(t) for t in texts])) if e is None]
        if missing:
            from tqdm.auto import tqdm
            model.eval()
            with torch.no_grad():
                for s in tqdm(range(0, len(missing), 512), desc="sentence features (cached)",
                              unit="x512 texts", disable=not self.progress):
                    chunk = missing[s:s + 512]
                    cache.put([text_key(t) for t in chunk], model.embed(chunk).float().numpy())
        dtype = getattr(torch, self.cfg.dtype)
        # an empty part (a sweep trial's test split) is an empty (0, hidden) block
        return [torch.from_numpy(np.stack(cache.get([text_key(t) for t in p.texts]))).to(dtype) if len(p)
                else torch.zeros(0, model.head.in_features, dtype=dtype) for p in parts]

    def prepare(self, method, splits, seed, per_label) -> "PreparedRun":
        """The model of one (method, seed) run, freshly initialised from ``seed``, with its
        training inputs, training config and learning-rate groups (no training yet)."""
        from ..peft import build_classifier, count_trainable
        c, name = self.cfg, method.label() + size_suffix(per_label, self.cfg.sizes)
        parts = (splits.train, splits.validation, splits.test)
        ys = [torch.as_tensor(p.labels) for p in parts]
        epochs = c.epochs_for(len(splits.train))
        head_only = method.method == "head"
        # head-only trains the head alone, at the head's rate; the others put the head in its own
        # Adam group only when --head-lr is given (without it: one rate, the method's, for all)
        lr = c.head_lr_for("head") if head_only else c.lr_for(method.method)
        groups = {"head.": c.head_lr} if c.head_lr is not None and not head_only else None
        tc = dataclasses.replace(c.train, seed=seed, lr=lr, epochs=epochs)
        seed_everything(seed)
        model = build_classifier(method, splits.train.num_classes, pretrained=self.pretrained,
                                 max_length=c.max_length, dtype=getattr(torch, c.dtype))
        params = count_trainable(model)
        t_feat = time.perf_counter()
        if head_only:
            xs, trained = self._features(model, parts), model.head
        else:
            xs, trained = [list(p.texts) for p in parts], model
        return PreparedRun(name=name, method=method, seed=seed, per_label=per_label, model=model,
                           trained=trained, xs=xs, ys=ys, train=tc, lr_groups=groups, params=params,
                           steps_per_epoch=math.ceil(len(splits.train) / tc.batch_size),
                           feature_s=time.perf_counter() - t_feat if head_only else None,
                           train_texts=splits.train.texts)

    def fit(self, run: "PreparedRun", *, checkpoint, epochs: int | None = None, on_epoch_end=None):
        """Train ``run`` (to ``epochs``, default its budget), resuming from ``checkpoint`` when
        resuming; dropout masks reseeded from (seed, epoch) at every epoch boundary."""
        tc = run.train if epochs is None else dataclasses.replace(run.train, epochs=epochs)
        start = _epochs_in_checkpoint(checkpoint) if self.resume else 0
        torch.manual_seed(_dropout_seed(run.seed, start))

        def epoch_end(e, rec):
            torch.manual_seed(_dropout_seed(run.seed, e))
            if on_epoch_end is not None:
                on_epoch_end(e, rec)
        return fit(run.trained, run.xs[0], run.ys[0], run.xs[1], run.ys[1], tc, checkpoint=checkpoint,
                   resume=self.resume, progress=self.progress, desc=f"{run.name} seed {run.seed}",
                   on_epoch_end=epoch_end, lr_groups=run.lr_groups)

    def _run_method(self, method, splits, seed, per_label):
        from ..peft import QUANTUM_METHODS
        run = self.prepare(method, splits, seed, per_label)
        name, tc, params, xs, ys, trained, model = (run.name, run.train, run.params, run.xs, run.ys,
                                                    run.trained, run.model)
        head_lr = tc.lr if run.lr_groups is None else run.lr_groups["head."]
        self._say(f"  {name}: {params:,} trainable parameters, {tc.epochs} epochs of "
                  f"{run.steps_per_epoch} steps, lr {tc.lr:g}" + (f", head lr {head_lr:g}"
                                                                  if head_lr != tc.lr else ""))
        ckpt = self.out / "checkpoints" / f"{slug(name)}-seed{seed}.pt"
        res = self.fit(run, checkpoint=ckpt)
        t1 = time.perf_counter()
        logits = predict_logits(trained, xs[2], tc.eval_batch_size)
        correct = (logits.argmax(1) == ys[2]).numpy()
        test_acc = float(correct.mean()) if len(correct) else float("nan")
        test_loss = torch.nn.functional.cross_entropy(logits.double(), ys[2]).item() if len(correct) else None
        test_s = time.perf_counter() - t1
        steps = res.epochs_run * run.steps_per_epoch
        tokens = None if method.method == "head" else model.count_tokens(run.train_texts) * res.epochs_run
        rec = {"method": method.method, "model": name, "seed": seed, "per_label": per_label, "test_acc": test_acc,
               "test_correct": pack_correct(correct), "test_n": len(correct),
               "trainable_params": params, "params": params,
               "kind": "hybrid" if method.method in QUANTUM_METHODS else "classical",
               "test_loss": test_loss, "val_acc": res.best_val_acc, "best_epoch": res.best_epoch,
               "epochs_run": res.epochs_run, "steps": steps, "lr": tc.lr, "head_lr": head_lr, "wall_s": res.wall_s + test_s,
               "train_s": res.train_s, "step_s": res.train_s / max(steps, 1), "test_eval_s": test_s,
               "feature_s": run.feature_s,
               "samples_per_s": res.samples_per_s,
               "tokens_per_s": tokens / res.train_s if tokens and res.train_s > 0 else None,
               "stopped_early": res.stopped_early, "config": method.to_dict(), "history": res.history}
        self._say(f"  {name}: test {100 * test_acc:.2f} %  val {100 * res.best_val_acc:.2f} %  "
                  f"{res.train_s / max(steps, 1):.2f} s/step  test eval {test_s:.0f} s")
        if self.cfg.save_adapters:
            model.save_adapter(self.out / "adapters" / f"{slug(name)}-seed{seed}.pt")
        self._record(rec)
        return rec


@dataclass
class PreparedRun:
    """One (method, seed, size) run before training: what ``FinetuneExperiment.fit`` trains."""
    name: str
    method: object
    seed: int
    per_label: int
    model: object            # the SentenceClassifier
    trained: object          # what the optimiser sees: the classifier, or its head (head-only)
    xs: list                 # train, validation, test inputs (texts, or cached features)
    ys: list
    train: TrainConfig
    lr_groups: dict | None
    params: int
    steps_per_epoch: int
    feature_s: float | None
    train_texts: list

