"""A sentence classifier around a pre-trained transformer encoder, fine-tuned by one method.

    texts ─▶ tokenizer ─▶ encoder (adapters / LoRA inside, or all weights, or none trained)
          ─▶ mean of the token states (attention mask) ─▶ L2-normalised, ×√D ─▶ linear head ─▶ logits

The pooling is sentence-transformers' (all-MiniLM-L6-v2's modules: mean pooling, then
normalisation), so the frozen model's features are its sentence embeddings; the √D factor
gives them unit variance per coordinate on average, which keeps the head's learning rate in
the usual range. The head is trained by every method.
"""
from __future__ import annotations

import copy
import math
import pickle
from pathlib import Path

import torch
from torch import nn

from ..experiments.rundir import atomic_write_with
from . import _deps
from .inject import adapter_state_dict, inject_adapters, load_adapter_state_dict, merge_adapters
from .options import ADAPTERS, FullConfig, HeadConfig, LoRAConfig, from_dict
from .targets import find_targets

ADAPTER_FORMAT = "hqsim.peft/1"
_PRETRAINED: dict = {}


def load_pretrained(model_dir) -> tuple:
    """(encoder, tokenizer) from a local transformers / sentence-transformers directory, loaded
    once per process (callers get the cached pristine copy: deep-copy before training)."""
    key = str(Path(model_dir).resolve())
    if key not in _PRETRAINED:
        tf = _deps.transformers()
        tf.utils.logging.set_verbosity_error()
        tf.utils.logging.disable_progress_bar()
        tokenizer = tf.AutoTokenizer.from_pretrained(key, local_files_only=True)
        try:  # BERT-style models: no pooler (mean pooling is used; an unused pooler would count as trainable)
            encoder = tf.AutoModel.from_pretrained(key, local_files_only=True, add_pooling_layer=False)
        except TypeError:
            encoder = tf.AutoModel.from_pretrained(key, local_files_only=True)
        _PRETRAINED[key] = (encoder, tokenizer)
    return _PRETRAINED[key]


def _apply_method(encoder: nn.Module, method) -> nn.Module:
    if isinstance(method, FullConfig):
        return encoder.requires_grad_(True)
    if isinstance(method, HeadConfig):
        return encoder.requires_grad_(False)
    if isinstance(method, LoRAConfig):
        find_targets(encoder, method.target_modules)  # the same clear error as the adapters'
        pf = _deps.peft()
        targets = method.target_modules if isinstance(method.target_modules, str) else list(method.target_modules)
        cfg = pf.LoraConfig(r=method.rank, lora_alpha=method.alpha or method.rank, lora_dropout=0.0,
                            target_modules=targets, bias="none")
        return pf.get_peft_model(encoder, cfg)
    if isinstance(method, ADAPTERS):
        inject_adapters(encoder, method)
        return encoder
    raise TypeError(f"unknown fine-tuning method config {type(method).__name__}")


class SentenceClassifier(nn.Module):
    """``model(texts)`` → logits (B, num_classes). ``texts``: a list of strings. In eval mode
    long lists run in chunks of ``eval_batch`` sentences of similar length (less padding)."""

    def __init__(self, encoder: nn.Module, tokenizer, num_classes: int, method, *,
                 max_length: int = 128, eval_batch: int = 64):
        super().__init__()
        self.method = method
        self.tokenizer, self.max_length, self.eval_batch = tokenizer, max_length, eval_batch
        dtype = next(encoder.parameters()).dtype
        self.encoder = _apply_method(encoder, method)
        hidden = self.encoder.config.hidden_size
        self.head = nn.Linear(hidden, num_classes, dtype=dtype)
        self.feature_scale = math.sqrt(hidden)

    def tokenize(self, texts) -> dict:
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                             return_tensors="pt")
        dev = self.head.weight.device
        return {"input_ids": enc["input_ids"].to(dev), "attention_mask": enc["attention_mask"].to(dev)}

    def count_tokens(self, texts) -> int:
        """Tokens the encoder sees for ``texts`` (special tokens included, padding not)."""
        enc = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)
        return sum(len(ids) for ids in enc["input_ids"])

    def _embed_batch(self, texts) -> torch.Tensor:
        enc = self.tokenize(texts)
        states = self.encoder(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        return nn.functional.normalize(pooled, dim=-1) * self.feature_scale

    def embed(self, texts) -> torch.Tensor:
        """Sentence features (B, hidden): mean-pooled, L2-normalised, scaled by √hidden."""
        texts = list(texts)
        if self.training or len(texts) <= self.eval_batch:
            return self._embed_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = torch.cat([self._embed_batch([texts[i] for i in order[s:s + self.eval_batch]])
                         for s in range(0, len(texts), self.eval_batch)])
        return out[torch.argsort(torch.as_tensor(order, device=out.device))]

    def forward(self, texts):
        return self.head(self.embed(texts))

    # -- adapters: weights alone, merging --------------------------------------------------
    def adapter_state(self) -> dict:
        """The trained weights (adapters or LoRA, the head; all weights for full fine-tuning)."""
        return adapter_state_dict(self)

    def save_adapter(self, path) -> Path:
        """Save the method config and ``adapter_state()`` to ``path`` (torch format), atomically."""
        state = {"format": ADAPTER_FORMAT, "method": self.method.to_dict(),
                 "num_classes": self.head.out_features, "state": self.adapter_state()}
        return atomic_write_with(path, lambda fh: torch.save(state, fh))

    def load_adapter(self, path):
        """Load weights saved by ``save_adapter`` into this model, built with the same method."""
        try:
            saved = torch.load(path, map_location=self.head.weight.device, weights_only=False)
        except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as exc:
            raise ValueError(f"cannot read adapter file {path}: {exc}") from None
        if not isinstance(saved, dict) or saved.get("format") != ADAPTER_FORMAT:
            raise ValueError(f"{path} is not an hqsim.peft adapter file")
        if from_dict(saved["method"]) != self.method:
            raise ValueError(f"{path} holds a {from_dict(saved['method']).label()} adapter; this model "
                             f"is built for {self.method.label()}")
        if saved["num_classes"] != self.head.out_features:
            raise ValueError(f"{path} was trained for {saved['num_classes']} classes, this model has "
                             f"{self.head.out_features}")
        load_adapter_state_dict(self, saved["state"])

    def merge(self) -> "SentenceClassifier":
        """Fold the update into the encoder's weights (LoRA, QuanTA, QPA), in place; full
        fine-tuning and the head need nothing. QTHA refuses (ValueError)."""
        if isinstance(self.method, LoRAConfig):
            self.encoder = self.encoder.merge_and_unload()
        elif isinstance(self.method, ADAPTERS):
            merge_adapters(self.encoder)
        return self


def build_classifier(method, num_classes: int, model_dir=None, *, pretrained=None,
                     max_length: int = 128, dtype=torch.float32) -> SentenceClassifier:
    """A classifier for ``method`` on a fresh copy of the pre-trained encoder (``pretrained``
    (encoder, tokenizer), else loaded from ``model_dir``). Seed torch first: adapters and the
    head are initialised randomly."""
    if pretrained is None:
        if model_dir is None:
            raise ValueError("build_classifier needs model_dir or pretrained=(encoder, tokenizer)")
        pretrained = load_pretrained(model_dir)
    encoder, tokenizer = pretrained
    encoder = copy.deepcopy(encoder).to(dtype)
    return SentenceClassifier(encoder, tokenizer, num_classes, method, max_length=max_length)
