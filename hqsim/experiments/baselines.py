"""Classical baselines on the same splits, seeds and embeddings as the hybrid model. The only
module that imports scikit-learn and setfit.

- ``logistic_regression``: C chosen by stratified 5-fold cross-validation inside the training
  split (never the validation or test sets).
- ``svc``: RBF SVC, C and gamma by the same cross-validation.
- ``MLPHead``: one hidden layer (tanh); ``mlp_bracket`` picks hidden sizes whose parameter
  counts bracket the hybrid model's.
- ``ExactParamHead``: a classical head with exactly the hybrid's trainable-parameter count.
- ``setfit_finetune``: SetFit's contrastive fine-tuning of the sentence-transformer plus its
  logistic-regression head (offline, from the same base model).

Parameter counts: trainable numbers for the torch heads and LR; for SVC, the numbers the
fitted model stores (support vectors × D + dual coefficients + intercept).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

INSTALL_HINT = "pip install 'hqsim[experiments]' (scikit-learn, setfit); add -c constraints-cpu.txt on CPU"


def _sklearn():
    try:
        import sklearn  # noqa: F401
        from sklearn import linear_model, model_selection, svm
    except ImportError as exc:
        raise ImportError(f"the classical baselines need scikit-learn: {INSTALL_HINT}") from exc
    return linear_model, model_selection, svm


@dataclass
class BaselineResult:
    name: str
    params: int
    val_acc: float
    test_acc: float
    wall_s: float
    details: dict = field(default_factory=dict)
    test_pred: object = None   # predicted labels of the test rows (per-sentence CIs, paired tests)


def _cv(y, seed):
    _, model_selection, _ = _sklearn()
    folds = int(min(5, np.bincount(y).min()))
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 training samples of every label")
    return model_selection.StratifiedKFold(folds, shuffle=True, random_state=seed)


def _acc(model, x, y):
    return float((model.predict(x) == y).mean()) if len(y) else float("nan")


def logistic_regression(xtr, ytr, xva, yva, xte, yte, seed: int = 0,
                        name: str = "logistic regression") -> BaselineResult:
    """L2 logistic regression; C from 10 values in [1e-3, 1e3] by CV on the training split."""
    linear_model, _, _ = _sklearn()
    t0 = time.perf_counter()
    model = linear_model.LogisticRegressionCV(Cs=np.logspace(-3, 3, 10).tolist(), cv=_cv(ytr, seed),
                                              max_iter=5000, random_state=seed, scoring="accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scikit-learn 1.9 API-transition notices
        model.fit(xtr, ytr)
    params = int(model.coef_.size + model.intercept_.size)
    return _result(name, params, model, xva, yva, xte, yte, t0, {"C": float(np.ravel(model.C_)[0])})


def svc(xtr, ytr, xva, yva, xte, yte, seed: int = 0, name: str = "SVC (RBF)") -> BaselineResult:
    """RBF SVC; C in {0.1..100}, gamma in {'scale', 0.1, 1, 10} by CV on the training split."""
    _, model_selection, svm = _sklearn()
    t0 = time.perf_counter()
    grid = {"C": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0], "gamma": ["scale", 0.1, 1.0, 10.0]}
    search = model_selection.GridSearchCV(svm.SVC(kernel="rbf"), grid, cv=_cv(ytr, seed), n_jobs=1)
    search.fit(xtr, ytr)
    model = search.best_estimator_
    return _result(name, svc_params(model), model, xva, yva, xte, yte, t0, dict(search.best_params_))


def svc_params(model) -> int:
    """Numbers a fitted SVC stores: support vectors × D + dual coefficients + intercepts."""
    return int(model.support_vectors_.size + model.dual_coef_.size + model.intercept_.size)


def _result(name, params, model, xva, yva, xte, yte, t0, details) -> BaselineResult:
    pred = model.predict(xte) if len(yte) else np.zeros(0, dtype=int)
    return BaselineResult(name, params, _acc(model, xva, yva), float((pred == yte).mean()) if len(yte) else float("nan"),
                          time.perf_counter() - t0, details, pred)


def mlp_params(num_features: int, hidden: int, num_classes: int) -> int:
    return (num_features + 1) * hidden + (hidden + 1) * num_classes


def mlp_bracket(target: int, num_features: int, num_classes: int) -> list[int]:
    """Hidden sizes h_lo <= h_hi with mlp_params(h_lo) <= target <= mlp_params(h_hi) where
    possible; when even one hidden unit exceeds ``target``, just [1]."""
    per = num_features + 1 + num_classes
    lo = (target - num_classes) // per
    if lo < 1:
        return [1]
    return [lo] if mlp_params(num_features, lo, num_classes) == target else [lo, lo + 1]


class MLPHead(nn.Module):
    """Linear(D, h) → tanh → Linear(h, K)."""

    def __init__(self, num_features: int, hidden: int, num_classes: int = 2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(num_features, hidden), nn.Tanh(),
                                 nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.net(x)


def exact_layout(target: int, num_features: int, num_classes: int) -> tuple[int, int, bool]:
    """(hidden h, first-layer weights n1, output bias?) with n1 + h·K (+ K) == target and
    (h-1)·(D+1) < n1 <= h·(D+1) (the first layer sees the features plus a constant 1)."""
    d = num_features + 1
    if target < 2 * num_classes + 1:
        raise ValueError(f"no exact-parameter head with {target} parameters for {num_classes} classes")
    guess = max(1, (target - num_classes) // (d + num_classes))
    for h in range(max(1, guess - 1), guess + 3):
        for out_bias in (True, False):
            n1 = target - h * num_classes - (num_classes if out_bias else 0)
            if (h - 1) * d < n1 <= h * d:
                return h, n1, out_bias
    raise ValueError(f"no exact-parameter head layout for {target} parameters")


class ExactParamHead(nn.Module):
    """A one-hidden-layer tanh network with exactly ``target`` trainable parameters.

    The inputs are first rotated onto the training split's principal axes (a fixed, untrained
    orthogonal map, like the frozen embedding itself) and a constant 1 is appended (the hidden
    bias); the first layer's ``n1`` weights fill its (h, D+1) matrix row by row, so the last
    hidden unit sees only the leading principal components; the output layer has h·K weights
    and, where the count allows, K biases."""

    def __init__(self, train_x: torch.Tensor, target: int, num_classes: int = 2):
        super().__init__()
        d = train_x.shape[1]
        self.hidden, self.n1, out_bias = exact_layout(target, d, num_classes)
        x = train_x.double()
        mean = x.mean(0)
        _, _, vt = torch.linalg.svd(x - mean, full_matrices=True)
        self.register_buffer("mean", mean.to(train_x.dtype))
        self.register_buffer("rotation", vt.T.contiguous().to(train_x.dtype))
        self.w1 = nn.Parameter(torch.randn(self.n1, dtype=train_x.dtype) / np.sqrt(min(d, self.n1)))
        self.out = nn.Linear(self.hidden, num_classes, bias=out_bias, dtype=train_x.dtype)
        self.width = d + 1

    def forward(self, x):
        z = (x - self.mean) @ self.rotation
        z = torch.cat([z, z.new_ones(z.shape[0], 1)], dim=1)
        w = torch.cat([self.w1, self.w1.new_zeros(self.hidden * self.width - self.n1)])
        return self.out(torch.tanh(z @ w.view(self.hidden, self.width).T))


def count_trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# -- SetFit ---------------------------------------------------------------------------------
@dataclass
class SetFitOutcome:
    body_dir: Path        # the fine-tuned sentence-transformer, loadable by embeddings.embed
    head: object          # SetFit's fitted logistic-regression head (scikit-learn)
    train_s: float
    params: int           # head parameters (the body is counted separately in the report)


def setfit_finetune(texts, labels, model_dir, out_dir, seed: int = 0, num_iterations: int = 5,
                    batch_size: int = 16, num_epochs: int = 1) -> SetFitOutcome:
    """Contrastive fine-tuning of ``model_dir`` on (texts, labels) with SetFit, offline; saves
    the fine-tuned body under ``out_dir``. A body already there is reused only when its
    ``setfit.json`` says it was fine-tuned from the same texts, labels, base model, seed and
    settings (``setfit_key``); its recorded fine-tuning time is reported again."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from datasets import Dataset
        from setfit import SetFitModel, Trainer, TrainingArguments
    except ImportError as exc:
        raise ImportError(f"--setfit and the SetFit baseline need setfit==1.2.0: {INSTALL_HINT}") from exc
    import joblib

    out_dir = Path(out_dir)
    body, head_file, info_file = out_dir / "body", out_dir / "head.joblib", out_dir / "setfit.json"
    key = setfit_key(texts, labels, model_dir, seed, num_iterations, batch_size, num_epochs)
    info = _read_json(info_file)
    if ((body / "modules.json").exists() and head_file.exists() and info is not None
            and info.get("key") == key):
        head = joblib.load(head_file)
        return SetFitOutcome(body, head, float(info.get("train_s", 0.0)),
                             int(head.coef_.size + head.intercept_.size))
    # nothing saved, or saved from other texts, labels, base model, seed or settings (or by a
    # version that did not record them): fine-tune afresh rather than reuse a foreign body
    info_file.unlink(missing_ok=True)
    t0 = time.perf_counter()
    model = SetFitModel.from_pretrained(str(model_dir), local_files_only=True)
    args = TrainingArguments(batch_size=batch_size, num_iterations=num_iterations,
                             num_epochs=num_epochs, seed=seed, report_to="none",
                             output_dir=str(out_dir / "trainer"), save_strategy="no",
                             logging_strategy="no", show_progress_bar=True)
    ds = Dataset.from_dict({"text": list(texts), "label": [int(v) for v in labels]})
    Trainer(model=model, args=args, train_dataset=ds).train()
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "body.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.model_body.save(str(tmp))
    shutil.rmtree(body, ignore_errors=True)
    os.replace(tmp, body)
    joblib.dump(model.model_head, head_file)
    head = model.model_head
    train_s = time.perf_counter() - t0
    tmp_info = out_dir / "setfit.json.tmp"
    tmp_info.write_text(json.dumps({"key": key, "train_s": train_s, "seed": seed,
                                    "num_iterations": num_iterations, "batch_size": batch_size,
                                    "num_epochs": num_epochs, "base_model": str(model_dir)}))
    os.replace(tmp_info, info_file)
    return SetFitOutcome(body, head, train_s, int(head.coef_.size + head.intercept_.size))


def setfit_key(texts, labels, model_dir, seed, num_iterations, batch_size, num_epochs) -> str:
    """What a saved SetFit body was fine-tuned from: training texts and labels, base model,
    seed and trainer settings (a saved body is reused only when all of them match)."""
    from .embeddings import model_key
    h = hashlib.sha256()
    h.update(json.dumps({"model": model_key(Path(model_dir)), "seed": int(seed),
                         "num_iterations": int(num_iterations), "batch_size": int(batch_size),
                         "num_epochs": int(num_epochs)}, sort_keys=True).encode())
    for t, y in zip(texts, labels, strict=True):
        h.update(json.dumps([str(t), int(y)]).encode())
    return h.hexdigest()


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


SETFIT_NAME = "SetFit (contrastive + LR)"


def setfit_result(outcome: SetFitOutcome, xva, yva, xte, yte) -> BaselineResult:
    """SetFit's own classifier evaluated on embeddings from its fine-tuned body."""
    head = outcome.head
    pred = head.predict(xte)
    return BaselineResult(SETFIT_NAME, outcome.params, _acc(head, xva, yva), float((pred == yte).mean()),
                          outcome.train_s, {"body": str(outcome.body_dir)}, pred)
