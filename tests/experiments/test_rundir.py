"""hqsim.experiments.rundir: the lock, the recorded configuration, atomic writes (issue 17,
items 1-2). Processes that hold a lock or die mid-write are real subprocesses."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from hqsim.experiments import rundir
from hqsim.experiments.rundir import ConfigMismatch, RunDir, RunDirError
from hqsim.outputs import OutputError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _spawn(code: str, ready):
    """Run ``code`` in a child Python; wait until it has created ``ready``."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env)
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"child did not start (exit {proc.returncode})")
        time.sleep(0.05)
    return proc


def test_atomic_write_replaces_whole_and_a_failed_write_leaves_the_old_file(tmp_path):
    p = tmp_path / "r.json"
    rundir.atomic_write(p, "old")
    rundir.atomic_write(p, b"new")
    assert p.read_text() == "new"

    def fails(fh):
        fh.write(b"half")
        raise RuntimeError("disk on fire")
    with pytest.raises(RuntimeError):
        rundir.atomic_write_with(p, fails)
    assert p.read_text() == "new" and os.listdir(tmp_path) == ["r.json"]
    with pytest.raises(OutputError, match="cannot write .*nope"):
        rundir.atomic_write(tmp_path / "r.json" / "nope", "x")  # parent is a file


def test_a_write_killed_midway_leaves_a_temporary_the_next_open_removes(tmp_path):
    ready = tmp_path / "writing"
    proc = _spawn(f"""
        import pathlib, time
        from hqsim.experiments.rundir import atomic_write_with
        def slow(fh):
            fh.write(b"partial checkpoint")
            fh.flush()
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(60)
        atomic_write_with(pathlib.Path({str(tmp_path)!r}) / "checkpoints" / "m-seed0.pt", slow)
    """, ready)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = list((tmp_path / "checkpoints").iterdir())
    assert len(left) == 1 and left[0].name.endswith(".tmp")  # the stale .tmp
    with RunDir.open(tmp_path, {"a": 1}) as rd:
        assert rd.cleaned == left
    assert list((tmp_path / "checkpoints").iterdir()) == []


def test_second_process_is_refused_with_the_holders_pid_and_the_lock_dies_with_it(tmp_path):
    run = tmp_path / "run"
    ready = tmp_path / "locked"
    proc = _spawn(f"""
        import pathlib, time
        from hqsim.experiments.rundir import RunDir
        rd = RunDir.open({str(run)!r}, {{"a": 1}}, command="hqsim train -Q 9")
        pathlib.Path({str(ready)!r}).touch()
        time.sleep(60)
    """, ready)
    try:
        with pytest.raises(RunDirError, match=rf"in use by process {proc.pid} .*hqsim train -Q 9"):
            RunDir.open(run, {"a": 1}, resume=True)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with RunDir.open(run, {"a": 1}, resume=True) as rd:  # a killed holder leaves no stale lock
        assert rd.resumed
        assert (run / ".lock").read_text().split("\n")[0] == str(os.getpid())


def test_configuration_is_recorded_and_resume_lists_every_difference(tmp_path):
    key = {"hqsim": "0.1.0", "experiment": {"per_label": 256, "models": [{"qubits": 9}]},
           "data": [{"sha256": "aa", "bytes": 10}]}
    with RunDir.open(tmp_path, key, info={"data_files": ["x.tsv"]}, command="hqsim train a") as rd:
        assert not rd.resumed
    recorded = json.loads((tmp_path / "config.json").read_text())
    assert recorded["key"] == key and recorded["info"]["data_files"] == ["x.tsv"]
    other = {**key, "experiment": {"per_label": 16, "models": [{"qubits": 9}, {"qubits": 10}]},
             "data": [{"sha256": "bb", "bytes": 10}]}
    with pytest.raises(ConfigMismatch) as err:
        RunDir.open(tmp_path, other, resume=True)
    assert err.value.differences == ["experiment.per_label: 256 → 16",
                                     'experiment.models: [{"qubits": 9}] → [{"qubits": 9}, {"qubits": 10}]',
                                     'data[0].sha256: "aa" → "bb"']
    assert "--force-new" in str(err.value) and str(tmp_path / "config.json") in str(err.value)
    with RunDir.open(tmp_path, key, resume=True, command="hqsim train a --resume") as rd:
        assert rd.resumed
    lines = (tmp_path / "command.txt").read_text().splitlines()
    assert lines[0] == "hqsim train a" and lines[1].startswith("# resumed ") and lines[1].endswith("--resume")


def test_new_force_new_and_missing_directories(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(RunDirError, match="--resume: .*run does not exist"):
        RunDir.open(run, {}, resume=True, must_exist=True)
    assert not run.exists()
    RunDir.open(run, {"a": 1}).close()
    (run / "results.json").write_text("{}")
    (run / "checkpoints").mkdir()
    with pytest.raises(RunDirError, match="already holds a run .*--resume.*--force-new"):
        RunDir.open(run, {"a": 2}, outputs=("results.json", "checkpoints"))
    with RunDir.open(run, {"a": 2}, force_new=True, outputs=("results.json", "checkpoints")) as rd:
        assert not rd.resumed
    assert not (run / "results.json").exists() and not (run / "checkpoints").exists()
    assert json.loads((run / "config.json").read_text())["key"] == {"a": 2}
    (run / "config.json").unlink()
    (run / "results.json").write_text("{}")
    with pytest.raises(RunDirError, match="no config.json"):
        RunDir.open(run, {"a": 2}, resume=True, outputs=("results.json",))
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(RunDirError, match="is not a directory"):
        RunDir.open(f, {})


def test_damaged_json_names_the_file_and_position(tmp_path):
    p = tmp_path / "results.json"
    p.write_text('{"runs": [1, 2')
    with pytest.raises(RunDirError, match=r"results\.json:1:\d+: damaged JSON"):
        rundir.read_json(p)
    p.write_bytes(b"\xff\xfe")
    with pytest.raises(RunDirError, match="results.json is damaged"):
        rundir.read_json(p)


def test_describe_takes_every_dataclass_field_so_new_options_are_recorded():
    @dataclasses.dataclass(frozen=True)
    class Model:
        qubits: int = 9
        added_later: str = "lora"
        cache: str = dataclasses.field(default="/tmp", metadata={"run_key": False})

    @dataclasses.dataclass(frozen=True)
    class Exp:
        models: tuple = (Model(),)
        rate: float = float("inf")
    assert rundir.describe(Exp()) == {"models": [{"qubits": 9, "added_later": "lora"}], "rate": "inf"}


def test_experiment_run_key_holds_every_model_and_training_field():
    from hqsim.experiments.runner import ExperimentConfig, run_key
    from hqsim.experiments.train import TrainConfig
    from hqsim.models import QLLMConfig
    key = run_key(ExperimentConfig(models=(QLLMConfig(qubits=9),)))
    exp = key["experiment"]
    assert set(exp["models"][0]) == {f.name for f in dataclasses.fields(QLLMConfig)}
    assert set(exp["train"]) == {f.name for f in dataclasses.fields(TrainConfig)}
    assert "cache_dir" not in exp and "data_files" not in exp
    assert len(key["data"]) == 3 and all(len(d["sha256"]) == 64 for d in key["data"])
    assert key["hqsim"]
