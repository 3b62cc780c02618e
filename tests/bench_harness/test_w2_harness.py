"""bench/w2_cpu.py's oracle check: a contestant whose initial logits or first-batch gradients
differ from the reference is reported as failed and never trained or timed. Small stand-in
models (a linear layer) keep this test free of Numba compiles; no timing is asserted."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is a directory of scripts at the repository root
    sys.path.insert(0, str(ROOT))

from bench import w2_cpu  # noqa: E402


def _model(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(384, 2))


@pytest.fixture()
def ref_file(tmp_path):
    x_np, y_np = w2_cpu._data(384)
    logits, grads = w2_cpu.check_values(_model(0).double(), torch.tensor(x_np), torch.tensor(y_np))
    path = tmp_path / "ref.npz"
    np.savez(path, logits=logits, **grads)
    return path


def test_matching_contestant_is_trained(ref_file, monkeypatch):
    monkeypatch.setattr(w2_cpu, "build_model", lambda name, q: _model(0))
    res = w2_cpu.worker("stand-in", 10, max_seconds=0.0, ref_path=str(ref_file))
    assert "error" not in res and res["samples_per_s"] > 0
    assert max(res["errors"].values()) < w2_cpu.TOL / 10  # float32 against the float64 reference


@pytest.mark.parametrize("seed", [1, 2])
def test_wrong_contestant_is_rejected_and_not_timed(ref_file, monkeypatch, seed):
    monkeypatch.setattr(w2_cpu, "build_model", lambda name, q: _model(seed))
    res = w2_cpu.worker("stand-in", 10, max_seconds=0.0, ref_path=str(ref_file))
    assert res["error"].startswith("failed the oracle check")
    assert "samples_per_s" not in res and "seconds" not in res


def test_compare_flags_a_missing_or_misshapen_gradient():
    ref = {"logits": np.ones((16, 2)), "w": np.ones(3)}
    assert w2_cpu.compare(ref, np.ones((16, 2)), {"w": np.ones(3)})[0]
    assert not w2_cpu.compare(ref, np.ones((16, 2)), {"w": np.ones(4)})[0]
    assert not w2_cpu.compare(ref, np.ones((16, 2)), {"v": np.ones(3)})[0]
    assert not w2_cpu.compare(ref, np.full((16, 2), np.nan), {"w": np.ones(3)})[0]
