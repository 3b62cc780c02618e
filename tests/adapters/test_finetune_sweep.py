"""`hqsim finetune` as trials of `hqsim sweep` (kind: finetune) on the tiny BERT directory: the
config's errors, one trial run in-process (lockstep seeds, no test set, the same training as
`hqsim finetune`), and the screen end to end on Ray Tune (equal trial counts per method, selection
by validation, one test pass per selection and evaluation seed, resume repeats nothing)."""
import json
from pathlib import Path

import pytest

from hqsim.cli import main

from .conftest import sentences

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("scipy")
pytest.importorskip("yaml")

POSITIVE = {"good", "great", "fun", "funny", "loved", "best"}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rows = [(s, int(bool(POSITIVE & set(s.split())))) for s in sentences(200, seed=11)]
    path = tmp_path_factory.mktemp("data") / "tiny.tsv"
    path.write_text("sentence\tlabel\n" + "\n".join(f"{s}\t{y}" for s, y in rows) + "\n")
    return path


def fixed(tiny_dir, data_file, cache):
    return (f'{{encoder: "{tiny_dir}", data: ["{data_file}"], per_label: 8, max_test: 40, steps: 2, '
            f'max_length: 16, cache_dir: "{cache}"}}')


def write(tmp_path, body):
    p = tmp_path / "screen.yaml"
    p.write_text(body)
    return p


def test_finetune_screen_config_errors_are_clear(tiny_dir, data_file, tmp_path):
    from hqsim.experiments.sweep_cli import SweepConfigError, load_config
    f = fixed(tiny_dir, data_file, tmp_path / "cache")
    cases = [
        ("kind: prune\nmethods: {qtha: {}}\n", "kind must be one of train, finetune"),
        ("kind: finetune\n", "needs methods"),
        ("kind: finetune\nhybrid: {qubits: [9]}\nmethods: {qtha: {}}\n", "takes methods .* not hybrid"),
        ("methods: {qtha: {}}\n", "methods belongs to a kind: finetune screen"),
        (f"kind: finetune\nfixed: {f}\nmethods: {{dora: {{}}}}\n", "unknown fine-tuning method family 'dora'"),
        (f"kind: finetune\nfixed: {f}\nmethods: {{qtha: {{qtha_qbits: [2]}}}}\n",
         r"qtha: unknown `hqsim finetune` option\(s\).*--qtha-qbits"),
        (f"kind: finetune\nfixed: {f}\nmethods: {{qtha: {{seeds: [1]}}}}\n", "'seeds' is not a trial option"),
        (f"kind: finetune\nfixed: {f}\nmethods: {{lora: {{lora_rank: [[1, 2]]}}}}\n", "give lora_rank one value"),
        (f"kind: finetune\nfixed: {f}\nmethods: {{head: {{per_label: '4,8'}}}}\n", "one per_label size"),
        (f"kind: finetune\nfixed: {f}\nmethods: {{qtha: {{head_lr: [-1]}}}}\n", "--head-lr: must be > 0"),
        (f"kind: finetune\nfixed: {f}\nmethods: {{head: {{lr: [0.1], head_lr: [0.1]}}}}\n", "not both"),
    ]
    for body, message in cases:
        with pytest.raises(SweepConfigError, match=message):
            load_config(write(tmp_path, body))
    cfg = load_config(write(tmp_path, f"kind: finetune\nsamples: 3\nfixed: {f}\nmethods:\n"
                                      "  qtha: {qtha_qubits: [1, 2], lr: {loguniform: [0.001, 0.01]}}\n"
                                      "  lora-r2: {lora_rank: 2, lr: {loguniform: [0.001, 0.01]}}\n"
                                      "  head: {lr: {loguniform: [0.001, 0.1]}}\n"))
    assert cfg["kind"] == "finetune"
    assert {f: len(t) for f, t in cfg["trials"].items()} == {"qtha": 3, "lora-r2": 3, "head": 3}
    assert all(0.001 <= t["lr"] <= 0.01 and t["qtha_qubits"] in (1, 2) for t in cfg["trials"]["qtha"])
    example = load_config(Path(__file__).resolve().parents[2] / "bench" / "screens" / "peft_sst2.yaml")  # the shipped example parses, budgets equal
    assert example["kind"] == "finetune" and {len(t) for t in example["trials"].values()} == {8}


def test_a_trial_is_hqsim_finetune_on_the_screen_seeds_without_a_test_set(tiny_dir, data_file, tmp_path,
                                                                           monkeypatch):
    """One trial in-process: a report per epoch (seeds in lockstep), prepared with an empty test
    split, and the same training as the selected configuration's evaluation run (losses equal)."""
    import yaml

    from hqsim.experiments import finetune, finetune_screen
    options = {**yaml.safe_load(fixed(tiny_dir, data_file, tmp_path / "cache")),
               "qtha_qubits": 2, "qtha_layers": 1, "mpo_cores": 2, "lr": 0.01, "head_lr": 0.05}
    test_sizes = []
    real = finetune.FinetuneExperiment.prepare

    def prepare(self, method, splits, seed, per_label):
        test_sizes.append(len(splits.test))
        return real(self, method, splits, seed, per_label)
    monkeypatch.setattr(finetune.FinetuneExperiment, "prepare", prepare)
    reports = []
    metrics = finetune_screen.run_trial("qtha", options, [0, 1], tmp_path / "trial", reports.append)
    assert len(reports) == 2 and [m["epoch"] for m in reports] == [1, 2]  # 2 steps = 2 epochs of 1 step
    assert test_sizes == [0, 0]                                         # no test set in a trial
    assert metrics["params"] == 4 * (2 * 12 + 12 * 2 + 3 * 1 * 2 + 32 + 18) + 12 * 2 + 2
    trial_ck = torch.load(tmp_path / "trial" / "checkpoints" / "seed0.pt", weights_only=False)
    assert [g["lr"] for g in trial_ck["optimizer"]["param_groups"]] == [0.01, 0.05]
    # a finished trial only reports again
    again = []
    assert finetune_screen.run_trial("qtha", options, [0, 1], tmp_path / "trial", again.append) == metrics
    assert again == reports
    rec = finetune_screen.evaluate_one(tmp_path, "qtha", options, 0, progress=False)
    assert test_sizes[-1] == 40 and rec["test_n"] == 40 and rec["family"] == "qtha"
    assert [h["loss"] for h in rec["history"]] == [h["loss"] for h in trial_ck["result"]["history"]]
    # head-only trains on cached sentence features; its trial has an empty test block too
    head = {k: v for k, v in options.items() if not k.startswith(("qtha", "mpo", "lr"))}
    assert finetune_screen.run_trial("head", head, [0], tmp_path / "head", lambda m: None)["params"] == 12 * 2 + 2
    assert test_sizes[-1] == 0


def test_finetune_screen_on_ray_selects_by_validation_and_tests_once(tiny_dir, data_file, tmp_path,
                                                                      monkeypatch):
    pytest.importorskip("ray.tune", reason="ray[tune] not installed (optional extra 'sweep')")
    from hqsim.experiments import screen_report
    p = write(tmp_path, f"""name: tiny-ft
kind: finetune
samples: 2
seeds: [0]
eval_seeds: [0, 1]
fixed: {fixed(tiny_dir, data_file, tmp_path / "cache")}
methods:
  qtha: {{qtha_qubits: [1, 2], qtha_layers: 1, mpo_cores: 2, lr: {{loguniform: [0.001, 0.03]}}}}
  lora-r1: {{lora_rank: 1, lr: {{loguniform: [0.001, 0.03]}}}}
  head: {{lr: {{loguniform: [0.003, 0.1]}}}}
asha: {{grace_period: 1, reduction_factor: 2}}
""")
    tested = []
    real = screen_report._evaluate_finetune_one
    monkeypatch.setattr(screen_report, "_evaluate_finetune_one",
                        lambda out, family, options, seed, progress: tested.append((family, seed))
                        or real(out, family, options, seed, progress))
    out = tmp_path / "sweep"
    assert main(["sweep", str(p), "--out", str(out), "--num-cpus", "2", "--no-progress"]) == 0
    doc = json.loads((out / "screen.json").read_text())
    families = ("qtha", "lora-r1", "head")
    assert {f: len(d["trials"]) for f, d in doc["families"].items()} == {f: 2 for f in families}
    for f in families:
        done = [t for t in doc["families"][f]["trials"] if t["done"]]
        assert doc["families"][f]["selected"]["metrics"]["val_acc"] == max(t["metrics"]["val_acc"] for t in done)
    assert sorted(tested) == sorted((f, s) for f in families for s in (0, 1))
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert len(runs) == 6 and all(r["test_correct"] and r["test_n"] == 40 for r in runs)
    for r in runs:  # each evaluation ran its family's selected configuration
        assert r["lr"] == doc["families"][r["family"]]["selected"]["options"]["lr"]
    assert {r["method"] for r in runs} == {"qtha", "lora", "head"}
    table = (out / "results.md").read_text()
    assert "| family | trials run" in table and "every fine-tuning method" in table
    assert "| trainable params |" in table and "tokens/s" in table and "Paired differences" in table
    assert (out / "screen.png").read_bytes()[:4] == b"\x89PNG"
    tested.clear()
    assert main(["sweep", str(p), "--out", str(out), "--resume", "--num-cpus", "2", "--no-progress"]) == 0
    assert tested == []  # nothing trained or tested again
