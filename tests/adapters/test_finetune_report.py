"""`hqsim finetune`'s report on hand-made runs (no training): the table's numbers against hand
computations, and what the two plots draw (accuracy against trainable parameters; one training
curve per run)."""
import math

import numpy as np
import pytest

pytest.importorskip("scipy")
pytest.importorskip("matplotlib")
from hqsim.experiments import finetune_report, report  # noqa: E402


def run(model, method, seed, acc, params, kind="classical"):
    return {"model": model, "method": method, "kind": kind, "seed": seed, "per_label": 256,
            "test_acc": acc, "trainable_params": params, "val_acc": 0.5, "wall_s": 10.0 + seed,
            "step_s": 0.5, "tokens_per_s": 1000.0 * (seed + 1), "steps": 4, "lr": 1e-3, "head_lr": 1e-2,
            "history": [{"epoch": e, "loss": 1.0 / e + seed, "val_acc": 0.5} for e in (1, 2)]}


RUNS = [run("QTHA Q=4", "qtha", s, a, 1234, "hybrid") for s, a in enumerate((0.80, 0.84, 0.82))] + \
       [run("LoRA r=4", "lora", s, a, 5678) for s, a in enumerate((0.81, 0.80, 0.85))]


def test_table_numbers(tmp_path):
    rows = {r["model"]: r for r in finetune_report.summarize(RUNS)}
    q = rows["QTHA Q=4"]
    assert q["test_acc"] == pytest.approx(0.82) and q["test_std"] == pytest.approx(0.02)
    half = 4.302652729911275 * 0.02 / math.sqrt(3)   # Student t(0.975, 2 dof) · s / √n
    assert q["ci"] == pytest.approx((0.82 - half, 0.82 + half))
    assert q["wall_s"] == pytest.approx(11.0) and q["tokens_per_s"] == pytest.approx(2000.0)
    table = finetune_report.markdown_table(list(rows.values()))
    assert (f"| QTHA Q=4 | 3 | 82.00 ± 2.00 | {100 * (0.82 - half):.2f}–{100 * (0.82 + half):.2f} | 50.00 | "
            "1,234 | 4 | 11.0 | 0.500 | 2,000 | 0.001 (0.01) |") in table


def test_plots_draw_accuracy_against_trainable_params_and_one_curve_per_run(tmp_path, monkeypatch):
    figures = {}
    real = report._save_figure

    def keep(fig, path):
        figures[path.name] = fig
        return real(fig, path)
    monkeypatch.setattr(report, "_save_figure", keep)
    paths = finetune_report.write_all(tmp_path, {"protocol": "paper", "per_label": [256]}, RUNS)
    assert {p.name for p in paths} >= {"results.json", "results.md", "accuracy_vs_params.png", "curves.png"}
    ax = figures["accuracy_vs_params.png"].axes[0]
    assert ax.get_xscale() == "log"
    points = sorted((float(line.get_xdata()[0]), float(line.get_ydata()[0])) for line in ax.lines
                    if line.get_marker() in ("o", "s"))   # the points, not the error bars' caps
    # flat: pytest 9.2's approx refuses nested sequences
    assert [v for point in points for v in point] == pytest.approx([1234, 82.0, 5678, 82.0])
    loss_ax, val_ax = figures["curves.png"].axes
    assert len(loss_ax.lines) == len(RUNS) == len(val_ax.lines)   # one line per (method, seed)
    assert sorted(tuple(np.round(line.get_ydata(), 6)) for line in loss_ax.lines) == sorted(
        tuple(np.round([1.0 + r["seed"], 0.5 + r["seed"]], 6)) for r in RUNS)
