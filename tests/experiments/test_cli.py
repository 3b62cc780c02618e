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
        load_config(write_sweep(tmp_path, "grid: {qubits: [9]}\nextra: 1\n"))
    with pytest.raises(SweepConfigError, match="unknown `hqsim train` option"):
        load_config(write_sweep(tmp_path, "grid: {qbits: [9, 10]}\n"))
    with pytest.raises(SweepConfigError, match="seeds must be"):
        load_config(write_sweep(tmp_path, "seeds: zero\n"))
    cfg = load_config(write_sweep(tmp_path, "grid: {qubits: [9, 10], lr: 0.1}\nseeds: [0, 1]\n"
                                            "fixed: {epochs: 1, baselines: [none]}\n"))
    assert len(cfg["trials"]) == 4
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
    p = write_sweep(tmp_path, "grid: {qubits: [9]}\nfixed: {epochs: 1}\n")
    assert main(["sweep", str(p)]) == 2
    assert "pip install 'hqsim[sweep]'" in capsys.readouterr().err


@pytest.mark.slow  # starts Ray twice (~1 min alone on 2 cores); skipped without ray[tune]
def test_sweep_runs_on_ray_and_gathers(small_tsv, cache_dir, tmp_path):
    pytest.importorskip("ray.tune", reason="ray[tune] not installed (optional extra 'sweep')")
    needs_quantum_layer()
    require_embeddings()
    p = write_sweep(tmp_path, f"""name: tiny
grid: {{connectivity: [1, 2]}}
seeds: [0]
fixed: {{data: ["{small_tsv}"], per_label: 40, cache_dir: "{cache_dir}", qubits: 9,
        encoder_layers: 1, reuploads: 1, pqc2_layers: 1, epochs: 1, baselines: [lr]}}
""")
    out = tmp_path / "sweep"
    assert main(["sweep", str(p), "--out", str(out), "--num-cpus", "2"]) == 0
    data = json.loads((out / "results.json").read_text())
    names = {r["model"] for r in data["runs"]}
    assert any("C=1" in n for n in names) and any("C=2" in n for n in names)
    assert (out / "results.md").exists()
    assert main(["sweep", str(p), "--out", str(out), "--resume", "--num-cpus", "2"]) == 0
