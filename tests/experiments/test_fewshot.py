"""Few-shot curves: nested training sets sharing the test set, `hqsim train --per-label 8,16`."""
import json

import numpy as np
import pytest

from hqsim.cli import main

from .conftest import needs_quantum_layer, require_embeddings, write_sst2_sample

torch = pytest.importorskip("torch")


def test_nested_splits_share_the_test_set():
    from hqsim.experiments.data import make_splits
    from hqsim.experiments.fewshot import nested_split
    full = make_splits("paper", 3, per_label=64, max_test=300)
    small, tr, va = nested_split(full, 8, 0.15, 3)
    assert small.test is full.test
    pool = set(full.train.texts) | set(full.validation.texts)
    assert set(small.train.texts) <= pool and set(small.validation.texts) <= pool
    assert not set(small.train.texts) & set(small.validation.texts)
    assert np.bincount(np.concatenate([small.train.labels, small.validation.labels])).tolist() == [8, 8]
    assert len(small.validation) == round(16 * 0.15)
    again = nested_split(full, 8, 0.15, 3)[0]
    assert again.train.texts == small.train.texts  # seeded
    with pytest.raises(ValueError, match="--per-label 80"):
        nested_split(full, 80, 0.15, 3)


def test_per_label_list_gives_a_curve_with_intervals(tmp_path, cache_dir, capsys, monkeypatch):
    needs_quantum_layer()
    require_embeddings()
    pytest.importorskip("sklearn")
    data = write_sst2_sample(tmp_path / "small.tsv", 160)
    out = tmp_path / "run"
    argv = ["train", "--data", str(data), "--per-label", "8,40", "--cache-dir", str(cache_dir),
            "-Q", "9", "-M", "1", "-N", "1", "--pqc2-layers", "1", "-C", "1", "--epochs", "2",
            "--seeds", "0", "1", "--baselines", "lr", "exact", "--out", str(out), "--no-progress"]
    monkeypatch.setattr("sys.argv", ["hqsim", *argv])
    assert main(argv) == 0
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert {r["per_label"] for r in runs} == {8, 40}
    hybrid = [r for r in runs if r["kind"] == "hybrid"]
    assert {r["model"] for r in hybrid} == {"QLLM Q=9 E=1 M=1 N=1 C=1 L1=1 L2=1 [8/label]",
                                            "QLLM Q=9 E=1 M=1 N=1 C=1 L1=1 L2=1 [40/label]"}
    # every size of a seed is tested on the same sentences
    for seed in (0, 1):
        assert len({r["test_n"] for r in runs if r["seed"] == seed}) == 1
    table = (out / "results.md").read_text()
    assert "## Few-shot curve" in table and "8/label" in table and "95 % CI" in table
    assert (out / "few_shot.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(SystemExit):
        main(["train", "--per-label", "8,x"])
