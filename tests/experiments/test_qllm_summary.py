"""bench/qllm_summary.py: combined summaries of run directories (issue 14's records): rows over
seeds, each directory's own paired differences under its label, asked-for pairs, and the clear
errors (a model that differs between unlabelled directories, a directory without results)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from hqsim.experiments import report
from hqsim.experiments.stats import pack_correct

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "qllm_summary.py"
spec = importlib.util.spec_from_file_location("qllm_summary", SCRIPT)
summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(summary)

N = 200


def _run(model, kind, seed, correct, params=124):
    correct = np.asarray(correct, dtype=bool)
    return {"model": model, "kind": kind, "seed": seed, "params": params, "val_acc": 0.5,
            "test_acc": float(correct.mean()), "test_correct": pack_correct(correct), "test_n": N}


def _write(tmp_path, name, hybrid_right, lr_right):
    """A run dir with a hybrid, LR and the 124-parameter head on seeds 0 and 1; ``*_right`` is
    how many of the N test sentences each gets right (the first ones)."""
    runs = []
    for seed in (0, 1):
        for model, kind, k in (("QLLM", "hybrid", hybrid_right), ("logistic regression", "classical", lr_right),
                               ("classical head, 124 params", "classical", 150)):
            runs.append(_run(model, kind, seed, np.arange(N) < k + seed))
    report.write_results(tmp_path / name, {"protocol": "paper"}, runs)
    return tmp_path / name


def test_labelled_directories_keep_their_own_pairs_and_asked_pairs(tmp_path, capsys):
    a, b = _write(tmp_path, "a", 120, 160), _write(tmp_path, "b", 140, 170)
    out = tmp_path / "sum.json"
    assert summary.main(["--run", f"A={a}", "--run", f"B={b}", "--pair", "B: QLLM", "A: QLLM",
                         "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    rows = {r["model"]: r for r in doc["rows"]}
    assert rows["A: QLLM"]["test_acc"] == pytest.approx((120 + 121) / 2 / N)
    assert doc["per_seed"]["B: logistic regression"] == [[0, 170 / N], [1, 171 / N]]
    diffs = {(p["model"], p["versus"]): p["diff"] for p in doc["paired"]}
    # each directory's own pairs, under its label: hybrid − LR = (120 − 160) / N on every seed
    assert diffs[("A: QLLM", "A: logistic regression")] == pytest.approx(-40 / N)
    assert diffs[("B: QLLM", "B: classical head, 124 params")] == pytest.approx(-10 / N)
    assert diffs[("B: QLLM", "A: QLLM")] == pytest.approx(20 / N)
    assert "| B: QLLM | A: QLLM | 2 | +10.00 |" in capsys.readouterr().out


def test_unlabelled_directories_that_disagree_are_refused(tmp_path):
    a, b = _write(tmp_path, "a", 120, 160), _write(tmp_path, "b", 140, 170)
    with pytest.raises(SystemExit, match="differs between"):
        summary.main(["--run", str(a), "--run", str(b), "--out", str(tmp_path / "s.json")])


def test_a_directory_without_results_is_named(tmp_path, capsys):
    assert summary.main(["--run", str(tmp_path / "none"), "--out", str(tmp_path / "s.json")]) == 2
    assert "none" in capsys.readouterr().err
