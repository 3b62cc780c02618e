"""The training loop: Adam on cross-entropy, exponential learning-rate decay, early stopping on
validation accuracy, an atomic checkpoint after every epoch, and exact resume.

Resume is exact: the checkpoint holds the model, optimizer, scheduler, the shuffling
generator, the model's shot generator (if any), the history and the early-stopping state, so
an interrupted run resumed with the same configuration ends with the same weights as an
uninterrupted one (finite-shot models included: their layers' numpy Generators are saved) (on the same machine and thread count). Ctrl-C between or during epochs
leaves the last completed epoch's checkpoint in place.
"""
from __future__ import annotations

import os
import pickle
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .rundir import atomic_write_with


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation hyperparameters with the paper's symbols."""

    epochs: int = 30
    batch_size: int = 16          # B
    lr: float = 0.01              # L
    gamma: float = 1.0            # γ: learning rate multiplied by γ after every epoch
    weight_decay: float = 0.0     # ρ
    patience: int = 0             # early stopping: epochs without validation gain; 0 = off
    seed: int = 0
    eval_batch_size: int = 1024
    shot_seed: int | None = None  # seed of the quantum layers' shot sampling; None → seed + 7919

    def __post_init__(self):
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"learning rate L must be > 0, got {self.lr}")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"decay γ must be in (0, 1], got {self.gamma}")
        if self.weight_decay < 0 or self.patience < 0:
            raise ValueError("weight decay ρ and patience must be >= 0")

    def resume_key(self) -> dict:
        """Fields that must match for a checkpoint to be resumed (epochs may grow)."""
        d = asdict(self)
        d.pop("epochs")
        d.pop("eval_batch_size")
        if d["shot_seed"] is None:
            d.pop("shot_seed")  # checkpoints from before the option stay resumable
        return d


@dataclass
class FitResult:
    history: list = field(default_factory=list)  # one dict per epoch
    best_epoch: int = 0
    best_val_acc: float = float("nan")
    wall_s: float = 0.0           # training + validation time, summed over sessions
    train_s: float = 0.0          # time in optimisation steps only
    samples_per_s: float = 0.0    # training samples per second of train_s
    stopped_early: bool = False
    resumed_from: int = 0

    @property
    def epochs_run(self) -> int:
        return len(self.history)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; ``checkpoint`` names the resumable file (or None)."""

    def __init__(self, checkpoint):
        super().__init__(f"interrupted; resumable checkpoint: {checkpoint}")
        self.checkpoint = checkpoint


def _take(x, idx):
    if isinstance(x, torch.Tensor):
        return x[torch.as_tensor(idx)]
    return [x[i] for i in idx]


def predict_logits(model: nn.Module, x, batch_size: int = 1024) -> torch.Tensor:
    """Logits (N, K) in eval mode, no gradient; ``x`` a tensor (N, D) or a list of texts."""
    was = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(x), batch_size):
            out.append(model(_take(x, range(s, min(s + batch_size, len(x))))))
    model.train(was)
    return torch.cat(out) if out else torch.zeros(0, 2)


def evaluate(model, x, y, batch_size: int = 1024) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` on (x, y)."""
    if len(x) == 0:
        return float("nan"), float("nan")
    logits = predict_logits(model, x, batch_size)
    y = torch.as_tensor(y)
    loss = nn.functional.cross_entropy(logits.double(), y).item()
    return (logits.argmax(1) == y).double().mean().item(), loss


def _save_atomic(obj, path: Path):
    atomic_write_with(path, lambda fh: torch.save(obj, fh))


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed; the message names the file."""


_CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "generator", "train_config", "result",
                    "best_state", "best_key", "bad_epochs")


def _read_checkpoint(path: Path) -> dict:
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    except (RuntimeError, EOFError, pickle.UnpicklingError, ValueError, AttributeError,
            ImportError) as exc:
        raise CheckpointError(f"checkpoint {path} is damaged ({type(exc).__name__}: {exc}); delete "
                              "it to train that model again from its first epoch") from None
    missing = [k for k in _CHECKPOINT_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} is not a training checkpoint (no {missing[0]!r}); "
                              "delete it to train that model again from its first epoch")
    return state


def _trainable_state(model: nn.Module) -> dict:
    """Trainable parameters and buffers (frozen weights, e.g. a frozen transformer, are left
    out of checkpoints: they never change)."""
    keep = {n for n, p in model.named_parameters() if p.requires_grad}
    keep |= {n for n, _ in model.named_buffers()}
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k in keep}


def _load_state(model: nn.Module, state: dict):
    missing = set(state) - set(model.state_dict())
    if missing:
        raise ValueError(f"checkpoint holds weights this model lacks: {sorted(missing)[:5]}")
    model.load_state_dict(state, strict=False)


def _make_optim(model, cfg, lr_groups=None):
    """Adam at ``cfg.lr``; with ``lr_groups`` {parameter-name prefix: lr}, the trainable
    parameters under a prefix form their own group at that rate (the first prefix that
    matches), the rest one group at ``cfg.lr``."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = []
    for prefix, lr in (lr_groups or {}).items():
        mine = [p for n, p in named if n.startswith(prefix)]
        if not mine:
            raise ValueError(f"learning rate {lr:g} given for parameters named {prefix!r}*, but the "
                             "model has no trainable parameter of that name")
        groups.append({"params": mine, "lr": lr})
        named = [(n, p) for n, p in named if not n.startswith(prefix)]
    if named:
        groups.insert(0, {"params": [p for _, p in named], "lr": cfg.lr})
    opt = torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return opt, torch.optim.lr_scheduler.ExponentialLR(opt, gamma=cfg.gamma)


def _shot_gen(model):
    return getattr(model, "shot_generator", None) or getattr(
        getattr(model, "head_model", None), "shot_generator", None)


def _resume_key(cfg: TrainConfig, lr_groups) -> dict:
    key = cfg.resume_key()
    if lr_groups:  # only when given: checkpoints written without groups keep their key
        key["lr_groups"] = {k: float(v) for k, v in sorted(lr_groups.items())}
    return key


def _load_checkpoint(path, model, opt, sched, gen, key: dict, result: FitResult):
    state = _read_checkpoint(path)
    if state["train_config"] != key:
        raise CheckpointError(f"checkpoint {path} was written with training settings "
                              f"{state['train_config']}, not {key}; use another "
                              "--out or the original settings")
    try:
        _load_state(model, state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        shot = _shot_gen(model)
        if shot is not None and state.get("shot_generator") is not None:
            shot.set_state(state["shot_generator"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint {path} does not fit this model ({exc}); delete it to "
                              "train that model again from its first epoch") from None
    for k, v in state["result"].items():
        setattr(result, k, v)
    result.resumed_from = len(result.history)
    return state["best_state"], state["best_key"], state["bad_epochs"]


def fit(model: nn.Module, train_x, train_y, val_x, val_y, cfg: TrainConfig, *,
        checkpoint: str | os.PathLike | None = None, resume: bool = False,
        progress: bool = True, desc: str = "train", on_epoch_end=None,
        lr_groups: dict | None = None) -> FitResult:
    """Train ``model`` in place; at the end it holds the best-validation weights.

    x: a float tensor (N, D) or a list of N texts (for end-to-end encoders); y: int labels (N,).
    ``lr_groups`` {parameter-name prefix: lr}: those parameters train at their own rate (e.g.
    ``{"head.": 1e-2}``), the others at ``cfg.lr``; recorded in the checkpoint's key.
    ``on_epoch_end(epoch, record)`` is called after each checkpoint (tests use it to interrupt)."""
    from tqdm.auto import tqdm

    train_y, val_y = torch.as_tensor(train_y), torch.as_tensor(val_y)
    if len(train_x) != len(train_y) or len(val_x) != len(val_y):
        raise ValueError(f"x and y lengths differ: train {len(train_x)} vs {len(train_y)}, "
                         f"validation {len(val_x)} vs {len(val_y)}")
    ckpt = Path(checkpoint) if checkpoint else None
    opt, sched = _make_optim(model, cfg, lr_groups)
    ckpt_key = _resume_key(cfg, lr_groups)
    gen = torch.Generator().manual_seed(cfg.seed)
    shot = _shot_gen(model)
    if shot is not None:
        shot.manual_seed(cfg.seed + 7919 if cfg.shot_seed is None else cfg.shot_seed)
    result = FitResult()
    best_state, best_key, bad_epochs = None, (-1.0, float("-inf")), 0
    if resume and ckpt is not None and ckpt.exists():
        best_state, best_key, bad_epochs = _load_checkpoint(ckpt, model, opt, sched, gen, ckpt_key, result)
    start = len(result.history)
    if result.stopped_early:
        start = cfg.epochs
    bar = tqdm(range(start, cfg.epochs), desc=desc, unit="epoch", disable=not progress,
               initial=start, total=cfg.epochs, dynamic_ncols=True)
    try:
        for epoch in bar:
            rec = _run_epoch(model, opt, train_x, train_y, cfg, gen)
            sched.step()
            t0 = time.perf_counter()
            rec["val_acc"], rec["val_loss"] = evaluate(model, val_x, val_y, cfg.eval_batch_size)
            rec["wall_s"] = rec["train_s"] + time.perf_counter() - t0
            rec["epoch"] = epoch + 1
            result.history.append(rec)
            result.wall_s += rec["wall_s"]
            result.train_s += rec["train_s"]
            result.samples_per_s = len(train_y) * len(result.history) / max(result.train_s, 1e-12)
            key = (rec["val_acc"], -rec["val_loss"]) if len(val_y) else (epoch, 0.0)
            if key > best_key:
                best_key, best_state, bad_epochs = key, _trainable_state(model), 0
                result.best_epoch, result.best_val_acc = epoch + 1, rec["val_acc"]
            else:
                bad_epochs += 1
            result.stopped_early = bool(cfg.patience and bad_epochs >= cfg.patience)
            bar.set_postfix(loss=f"{rec['loss']:.4f}", val_acc=f"{rec['val_acc']:.4f}",
                            samples_s=f"{rec['samples_per_s']:.0f}")
            if ckpt is not None:
                _save_atomic({"model": _trainable_state(model), "optimizer": opt.state_dict(),
                              "scheduler": sched.state_dict(), "generator": gen.get_state(),
                              "shot_generator": shot.get_state() if shot is not None else None,
                              "train_config": ckpt_key, "result": _result_state(result),
                              "best_state": best_state, "best_key": best_key,
                              "bad_epochs": bad_epochs}, ckpt)
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1, rec)
            if result.stopped_early:
                break
    except KeyboardInterrupt:
        bar.close()
        raise Interrupted(ckpt if ckpt is not None and ckpt.exists() else None) from None
    bar.close()
    if best_state is not None:
        _load_state(model, best_state)
    return result


def _result_state(result: FitResult) -> dict:
    d = asdict(result)
    d.pop("resumed_from")
    return d


def _run_epoch(model, opt, x, y, cfg, gen) -> dict:
    model.train()
    n = len(y)
    perm = torch.randperm(n, generator=gen).tolist()
    total, correct, t0 = 0.0, 0, time.perf_counter()
    for s in range(0, n, cfg.batch_size):
        idx = perm[s:s + cfg.batch_size]
        logits = model(_take(x, idx))
        loss = nn.functional.cross_entropy(logits, y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
        correct += int((logits.argmax(1) == y[idx]).sum())
    dt = time.perf_counter() - t0
    return {"loss": total / n, "train_acc": correct / n, "train_s": dt,
            "samples_per_s": n / max(dt, 1e-12), "lr": opt.param_groups[0]["lr"]}


def seed_everything(seed: int):
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))
