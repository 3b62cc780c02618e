"""hqsim.experiments.report: the per-model summary over seeds."""
import pytest

pytest.importorskip("numpy")

from hqsim.experiments import report


def _run(model, seed, params, acc, kind="classical"):
    return {"model": model, "kind": kind, "seed": seed, "params": params, "test_acc": acc,
            "val_acc": acc, "wall_s": 1.0, "samples_per_s": None}


def test_summary_params_differing_between_seeds_are_not_the_first_seeds():
    """An SVC's stored-number count changes with its support vectors from seed to seed: the row
    gives the median and the range, not whichever seed came first."""
    runs = [_run("SVC (RBF)", s, p, 0.8) for s, p in enumerate([156_696, 120_000, 140_000])]
    runs += [_run("LR", s, 385, 0.7 + 0.01 * s) for s in range(3)]
    rows = {r["model"]: r for r in report.summarize(runs)}
    assert rows["SVC (RBF)"]["params"] == 140_000
    assert rows["SVC (RBF)"]["params_range"] == (120_000, 156_696)
    assert rows["LR"]["params"] == 385 and rows["LR"]["params_range"] == (385, 385)
    assert rows["LR"]["test_acc"] == pytest.approx(0.71)
    assert rows["LR"]["test_std"] == pytest.approx(0.01)
    table = report.markdown_table(list(rows.values()))
    assert "| 140,000 (median; 120,000–156,696) |" in table
    assert "| 385 |" in table


def test_summary_rows_without_params_range_still_render():
    """Rows built by older code (no params_range key) keep their single count."""
    row = {"model": "m", "kind": "hybrid", "seeds": 1, "test_acc": 0.6, "test_std": 0.0,
           "val_acc": 0.6, "params": 124, "wall_s": 1.0, "samples_per_s": 100.0}
    assert "| 124 |" in report.markdown_table([row])
