"""``hqsim train`` run directories (issue 17, items 1-2): --resume refuses a changed
configuration and lists it, a missing or busy directory is an error, a run directory is not
overwritten by accident, and damaged files are named. Training itself is replaced by a stub
that records one result (the run-directory logic runs before and around it); the real
end-to-end resume is in test_cli.py."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from hqsim.cli import main
from hqsim.experiments import runner

torch = pytest.importorskip("torch")


@pytest.fixture
def stub_training(monkeypatch):
    """No encoder, random embeddings, and each hybrid "training" records one result; returns
    the list of (model, seed) trained. Everything else (splits, run directory, reports) is real."""
    from hqsim.experiments import embeddings
    trained = []
    monkeypatch.setattr(embeddings, "resolve_model", lambda encoder: "stub-encoder")
    monkeypatch.setattr(embeddings, "model_label", str)
    monkeypatch.setattr(runner.Experiment, "_embed",
                        lambda self, splits, enc: [torch.randn(len(p), 4) for p in
                                                   (splits.train, splits.validation, splits.test)])

    def run_hybrid(self, mc, splits, xs, ys, seed):
        if not self._done(mc.label(), seed):
            trained.append((mc.label(), seed))
            self._record({"model": mc.label(), "kind": "hybrid", "seed": seed, "params": 1,
                          "test_acc": 0.5, "val_acc": 0.5, "wall_s": 0.0, "samples_per_s": None})
    monkeypatch.setattr(runner.Experiment, "_run_hybrid", run_hybrid)
    return trained


def _data(tmp_path, name, n):
    p = tmp_path / name
    p.write_text("sentence\tlabel\n" + "".join(f"s {name} {i}\t{i % 2}\n" for i in range(n)))
    return p


def _train(*extra):
    return main(["train", "-Q", "9", "--epochs", "1", "--baselines", "none", "--no-progress", *extra])


def test_resume_with_other_data_or_options_is_refused_with_the_differences(tmp_path, stub_training, capsys):
    sst, other = _data(tmp_path, "a.tsv", 40), _data(tmp_path, "b.tsv", 40)
    out = str(tmp_path / "R")
    assert _train("--data", str(sst), "--per-label", "8", "--out", out) == 0
    before = (tmp_path / "R" / "results.json").read_bytes()
    capsys.readouterr()
    # the case: another file and --per-label on --resume
    assert _train("--data", str(other), "--per-label", "16", "--out", out, "--resume") == 2
    err = capsys.readouterr().err
    assert "another configuration" in err and "experiment.per_label: 8 → 16" in err
    assert "data[0].sha256" in err and "--force-new" in err
    # a changed learning rate (-L), a changed model option, one more seed
    for extra, diff in ((["-L", "0.05"], "experiment.train.lr: 0.01 → 0.05"),
                        (["-M", "3"], "experiment.models[0].encoder_layers: 2 → 3"),
                        (["--seeds", "0", "1"], "experiment.seeds: [0] → [0, 1]")):
        assert _train("--data", str(sst), "--per-label", "8", "--out", out, "--resume", *extra) == 2
        assert diff in capsys.readouterr().err
    assert (tmp_path / "R" / "results.json").read_bytes() == before
    assert stub_training == [("QLLM Q=9 E=1 M=2 N=4 C=2", 0)]
    # the same options resume; the data file may move (it is known by its content)
    moved = tmp_path / "moved.tsv"
    os.rename(sst, moved)
    assert _train("--data", str(moved), "--per-label", "8", "--out", out, "--resume") == 0
    assert len(stub_training) == 1  # finished: nothing trained again


def test_missing_busy_and_held_directories(tmp_path, stub_training, capsys):
    data = str(_data(tmp_path, "a.tsv", 40))
    out = tmp_path / "R"
    assert _train("--data", data, "--per-label", "8", "--out", str(out), "--resume") == 2
    assert "does not exist" in capsys.readouterr().err and not out.exists()
    assert _train("--data", data, "--per-label", "8", "--out", str(out)) == 0
    assert _train("--data", data, "--per-label", "8", "--out", str(out), "-Q", "10") == 2
    assert "already holds a run" in capsys.readouterr().err
    assert _train("--data", data, "--per-label", "8", "--out", str(out), "--resume", "--force-new") == 2
    assert _train("--data", data, "--per-label", "8", "--out", str(out), "--force-new") == 0
    assert len(json.loads((out / "results.json").read_text())["runs"]) == 1
    assert len(stub_training) == 2  # trained again from scratch
    ready = tmp_path / "locked"
    child = textwrap.dedent(f"""
        import json, pathlib, time
        from hqsim.experiments.rundir import RunDir
        key = json.loads((pathlib.Path({str(out)!r}) / "config.json").read_text())["key"]
        rd = RunDir.open({str(out)!r}, key, resume=True, command="hqsim train -Q 10")
        pathlib.Path({str(ready)!r}).touch()
        time.sleep(60)
    """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([sys.executable, "-c", child], env={**os.environ, "PYTHONPATH": root})
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        capsys.readouterr()
        assert _train("--data", data, "--per-label", "8", "--out", str(out), "--resume") == 2
        assert f"in use by process {proc.pid}" in capsys.readouterr().err
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_damaged_results_file_is_named(tmp_path, stub_training, capsys):
    data = str(_data(tmp_path, "a.tsv", 40))
    out = tmp_path / "R"
    assert _train("--data", data, "--per-label", "8", "--out", str(out)) == 0
    text = (out / "results.json").read_text()
    (out / "results.json").write_text(text[: len(text) // 2])
    capsys.readouterr()
    assert _train("--data", data, "--per-label", "8", "--out", str(out), "--resume") == 2
    assert f"{out / 'results.json'}:" in capsys.readouterr().err


def test_damaged_checkpoint_is_named(tmp_path):
    from hqsim.experiments.train import CheckpointError, TrainConfig, fit
    x, y = torch.randn(8, 3), torch.tensor([0, 1] * 4)
    ckpt = tmp_path / "m.pt"
    fit(torch.nn.Linear(3, 2), x, y, x, y, TrainConfig(epochs=1), checkpoint=ckpt, progress=False)
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=f"checkpoint {ckpt} is damaged"):
        fit(torch.nn.Linear(3, 2), x, y, x, y, TrainConfig(epochs=2), checkpoint=ckpt, resume=True,
            progress=False)
    torch.save({"model": {}}, ckpt)
    with pytest.raises(CheckpointError, match=f"checkpoint {ckpt} is not a training checkpoint"):
        fit(torch.nn.Linear(3, 2), x, y, x, y, TrainConfig(epochs=2), checkpoint=ckpt, resume=True,
            progress=False)


def test_ignored_options_are_errors(tmp_path, stub_training, capsys):
    assert _train("--labels", "neg,pos", "--out", str(tmp_path / "S")) == 2
    assert "--labels applies to --data files only" in capsys.readouterr().err
    a, b = str(_data(tmp_path, "a.tsv", 40)), str(_data(tmp_path, "b.tsv", 40))
    assert _train("--data", a, b, "--protocol", "standard", "--per-label", "8",
                  "--out", str(tmp_path / "T")) == 2
    assert "--per-label applies to --protocol paper only" in capsys.readouterr().err
    assert _train("--data", a, "--per-label", "20", "--out", str(tmp_path / "U")) == 2
    assert "the test set is empty" in capsys.readouterr().err


@pytest.mark.parametrize("argv, named", [
    (["--seeds", "-1"], "argument --seeds: must be an integer in 0 .. 2^63-1, got -1"),
    (["--angle-scale", "inf"], "argument --angle-scale: must be a finite number, got inf"),
    (["-S", "100000000000"], "argument -S/--shots: must be at most 100,000,000"),
    (["-L", "nan"], "argument -L/--lr/--learning-rate: must be a finite number > 0, got nan"),
    (["--gamma", "1.5"], "argument --gamma/--decay: must be a number in (0, 1], got 1.5"),
    (["--val-fraction", "1"], "argument --val-fraction: must be a number in (0, 1), got 1"),
    (["-Q", "1e3"], "argument -Q/--qubits: must be an integer, got '1e3'"),
    (["--shot-seed", "x"], "argument --shot-seed: must be an integer, got 'x'"),
])
def test_bad_option_values_name_the_option(capsys, argv, named):
    with pytest.raises(SystemExit) as exc:
        main(["train", *argv])
    assert exc.value.code == 2 and named in capsys.readouterr().err


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

VALUES = st.sampled_from(["0", "1", "-1", "2", "9", "0.5", "1e3", "nan", "inf", "-inf", "", "x",
                          "99999999999999999999", "on", "off", "none", "adjoint", "qpu", "\x00"])
OPTIONS = st.sampled_from(["-Q", "-E", "-M", "-N", "-C", "-S", "-B", "-L", "--gamma", "--epochs",
                           "--seeds", "--patience", "--per-label", "--val-fraction", "--max-test",
                           "--angle-scale", "--weight-decay", "--shot-seed", "--trajectories",
                           "--noise", "--gradient", "-F", "--measured-qubits", "--pqc1-layers",
                           "--labels", "--protocol", "--format", "--encoding", "--text-column"])


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(opts=st.lists(st.tuples(OPTIONS, VALUES), max_size=4))
def test_fuzzed_train_options_end_in_a_result_or_a_clean_error(tmp_path_factory, stub_training,
                                                              capsys, opts):
    data = _data(tmp_path_factory.mktemp("d"), "a.tsv", 40)
    argv = ["--data", str(data), "--per-label", "8", "--out", str(tmp_path_factory.mktemp("o") / "R")]
    for opt, value in opts:
        argv += [opt, value]
    try:
        code = _train(*argv)
    except SystemExit as exc:  # argparse refused a value, naming the option
        assert exc.code == 2 and "error: argument" in capsys.readouterr().err
        return
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err and (code == 0 or "error:" in err)
