"""`hqsim train` and `hqsim sweep` end to end on a small real sample: outputs exist and parse."""
import json

import pytest

from hqsim.cli import main

from .conftest import needs_quantum_layer, require_embeddings, write_sst2_sample

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def small_tsv(tmp_path_factory):
    return write_sst2_sample(tmp_path_factory.mktemp("data") / "small.tsv", 160)


def test_train_cli_outputs_exist_and_parse(small_tsv, cache_dir, tmp_path, capsys, monkeypatch):
    needs_quantum_layer()
    require_embeddings()
    pytest.importorskip("sklearn")
    out = tmp_path / "run"
    argv = ["train", "--data", str(small_tsv), "--per-label", "40", "--cache-dir", str(cache_dir),
            "-Q", "9", "-M", "1", "-N", "1", "--pqc2-layers", "1", "-C", "1", "--epochs", "2",
            "--seeds", "0", "1", "--baselines", "lr", "mlp", "exact", "--out", str(out), "--no-progress"]
    monkeypatch.setattr("sys.argv", ["hqsim", *argv])
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "trainable parameters" in printed and str(out / "results.json") in printed
    assert (out / "command.txt").read_text().startswith("hqsim train --data ")
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["split_sizes"] == {"train": 68, "validation": 12, "test": 80}
    models = {r["model"] for r in data["runs"]}
    hybrid = "QLLM Q=9 E=1 M=1 N=1 C=1 L1=1 L2=1"
    assert hybrid in models and "logistic regression" in models
    params = {r["model"]: r["params"] for r in data["runs"]}
    assert params[hybrid] == 9 + 18 + 22
    assert params[f"classical head, {params[hybrid]} params"] == params[hybrid]
    assert {r["seed"] for r in data["runs"]} == {0, 1}
    for r in data["runs"]:
        assert 0 <= r["test_acc"] <= 1
    table = (out / "results.md").read_text()
    assert "| model |" in table and "± " in table and hybrid in table
    for png in ("curves.png", "accuracy_vs_params.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # resuming a finished run repeats nothing: no checkpoint written, no baseline refitted
    from hqsim.experiments import baselines

    def refit(*args, **kwargs):
        raise AssertionError("a finished baseline was fitted again on --resume")
    monkeypatch.setattr(baselines, "logistic_regression", refit)
    mtime = (out / "checkpoints").stat().st_mtime
    monkeypatch.setattr("sys.argv", ["hqsim", *argv, "--resume"])
    assert main(argv + ["--resume"]) == 0
    first, resumed = (out / "command.txt").read_text().splitlines()
    assert first.startswith("hqsim train ") and "--resume" not in first
    assert resumed.startswith("# resumed ") and resumed.endswith("--resume")
    again = json.loads((out / "results.json").read_text())
    assert [r["test_acc"] for r in again["runs"]] == [r["test_acc"] for r in data["runs"]]
    assert (out / "checkpoints").stat().st_mtime == mtime


def test_train_cli_errors(tmp_path, capsys):
    assert main(["train", "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err
    bad = tmp_path / "bad.tsv"
    bad.write_text("sentence\tlabel\ngood\t1\n\t0\n")
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "bad.tsv:3: empty text" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "-Q", "0"])


def test_help_names_every_paper_hyperparameter(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for flag in ("--qubits", "--encoders", "--encoder-layers", "--reuploads", "--pqc1-layers",
                 "--pqc2-layers", "--connectivity", "--batch-size", "--shots", "--final-linear",
                 "--lr", "--gamma", "--weight-decay", "--epochs", "--seeds", "--measured-qubits",
                 "--gradient", "--shot-seed"):
        assert flag in text
    for symbol in ("Q", "E", "M", "N", "L1", "L2", "C", "B", "S", "F", "L", "γ", "ρ", "Q_m"):
        assert any(f"{a}{symbol}{b}" in text for a, b in ((" ", " "), (" ", "\n"), ("", ":"), (" ", ",")))


def test_shots_and_gradient_options_reach_the_model_configs():
    from hqsim.cli import build_parser
    from hqsim.experiments.cli import experiment_config
    args = build_parser().parse_args(["train", "-S", "0", "1024", "--gradient", "adjoint", "spsa",
                                      "--shot-seed", "7"])
    cfg = experiment_config(args)
    assert {(m.shots, m.gradient) for m in cfg.models} == {(0, "adjoint"), (0, "spsa"),
                                                            (1024, "adjoint"), (1024, "spsa")}
    assert cfg.train.shot_seed == 7
    assert any(m.label().endswith("S=1024 grad=spsa") for m in cfg.models)


def write_sweep(tmp_path, body):
    p = tmp_path / "sweep.yaml"
    p.write_text(body)
    return p


def test_sweep_config_errors_are_clear(tmp_path, capsys):
    from hqsim.experiments.sweep_cli import SweepConfigError, load_config
    with pytest.raises(SweepConfigError, match="unknown keys"):
        load_config(write_sweep(tmp_path, "hybrid: {qubits: [9]}\nextra: 1\n"))
    with pytest.raises(SweepConfigError, match="unknown `hqsim train` option"):
        load_config(write_sweep(tmp_path, "hybrid: {qbits: [9, 10]}\n"))
    with pytest.raises(SweepConfigError, match="seeds must be"):
        load_config(write_sweep(tmp_path, "seeds: zero\n"))
    with pytest.raises(SweepConfigError, match="bad distribution"):
        load_config(write_sweep(tmp_path, "hybrid: {lr: {loguniform: [0, 1]}}\n"))
    with pytest.raises(SweepConfigError, match="unknown baselines"):
        load_config(write_sweep(tmp_path, "baselines: {knn: {}}\n"))
    with pytest.raises(SweepConfigError, match="bias-amplitude"):
        load_config(write_sweep(tmp_path, "hybrid: {bias_amplitude: [-1]}\n"))
    cfg = load_config(write_sweep(tmp_path, "samples: 4\nhybrid: {qubits: [9, 10], lr: {loguniform: [0.001, 0.1]},"
                                            " angle_affine: [on, off]}\nseeds: [0, 1]\n"
                                            "baselines: {lr: {C: {loguniform: [0.01, 10]}}}\nfixed: {epochs: 1}\n"))
    assert {f: len(t) for f, t in cfg["trials"].items()} == {"hybrid": 4, "lr": 4}  # the same budget
    assert all(0.001 <= t["lr"] <= 0.1 and t["qubits"] in (9, 10) for t in cfg["trials"]["hybrid"])
    again = load_config(tmp_path / "sweep.yaml")
    assert again["trials"] == cfg["trials"]  # reproducible draws: --resume sees the same trials
    assert main(["sweep", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read sweep config" in capsys.readouterr().err


def test_sweep_without_ray_says_how_to_install(tmp_path, capsys, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_ray(name, *a, **kw):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real(name, *a, **kw)
    monkeypatch.setattr(builtins, "__import__", no_ray)
    p = write_sweep(tmp_path, "hybrid: {qubits: [9]}\nfixed: {epochs: 1}\n")
    assert main(["sweep", str(p)]) == 2
    assert "pip install 'hqsim[sweep]'" in capsys.readouterr().err


def test_sweep_screens_every_family_on_ray_and_tests_once(small_tsv, cache_dir, tmp_path, monkeypatch):
    """The screen end to end on a tiny config: equal trial counts, selection by validation,
    one test pass per selected configuration and evaluation seed, resumable."""
    pytest.importorskip("ray.tune", reason="ray[tune] not installed (optional extra 'sweep')")
    needs_quantum_layer()
    require_embeddings()
    pytest.importorskip("sklearn")
    from hqsim.experiments import screen_report
    p = write_sweep(tmp_path, f"""name: tiny
samples: 2
seeds: [0]
eval_seeds: [0, 1]
fixed: {{data: ["{small_tsv}"], per_label: 40, cache_dir: "{cache_dir}", qubits: 9,
        encoder_layers: 1, reuploads: 1, pqc2_layers: 1, epochs: 2}}
hybrid: {{bias_amplitude: [0, 1], lr: {{loguniform: [0.003, 0.03]}}}}
baselines:
  lr: {{C: {{loguniform: [0.01, 100]}}}}
  exact: {{lr: {{loguniform: [0.003, 0.03]}}}}
asha: {{grace_period: 1, reduction_factor: 2}}
""")
    tested = []
    real = screen_report._evaluate_one
    monkeypatch.setattr(screen_report, "_evaluate_one",
                        lambda out, family, options, seed, progress: tested.append((family, seed))
                        or real(out, family, options, seed, progress))
    out = tmp_path / "sweep"
    assert main(["sweep", str(p), "--out", str(out), "--num-cpus", "2", "--no-progress"]) == 0
    doc = json.loads((out / "screen.json").read_text())
    assert {f: len(d["trials"]) for f, d in doc["families"].items()} == {"hybrid": 2, "lr": 2, "exact": 2}
    hybrid = doc["families"]["hybrid"]
    assert hybrid["selected"]["metrics"]["val_acc"] == max(t["metrics"]["val_acc"] for t in hybrid["trials"])
    # the exact head was screened at the selected hybrid's parameter count
    assert {t["options"]["params"] for t in doc["families"]["exact"]["trials"]} == {
        hybrid["selected"]["metrics"]["params"]}
    assert sorted(tested) == sorted((f, s) for f in ("hybrid", "lr", "exact") for s in (0, 1))
    data = json.loads((out / "results.json").read_text())
    assert len(data["runs"]) == 6 and all(r["test_correct"] for r in data["runs"])
    table = (out / "results.md").read_text()
    assert "| family | trials run" in table and "95 % CI" in table and "Paired differences" in table
    assert (out / "screen.png").read_bytes()[:4] == b"\x89PNG"
    tested.clear()
    assert main(["sweep", str(p), "--out", str(out), "--resume", "--num-cpus", "2", "--no-progress"]) == 0
    assert tested == []  # nothing trained or tested again
