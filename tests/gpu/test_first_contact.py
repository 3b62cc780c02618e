"""bench/gpu/first_contact.sh's control flow, without a GPU: a fake nvidia-smi, the smoke phase
on the cpu-emulated device against the shipped golden answers, a phase cut off by its cap, and
the outputs (at most five files, rewritten after every phase, full logs archived)."""
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from hqsim.backends.cuda_emulated import is_available

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "gpu" / "first_contact.sh"


@pytest.mark.skipif(shutil.which("timeout") is None or not is_available(), reason="needs coreutils timeout and g++")
def test_first_contact_script_runs_every_phase_under_its_cap(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'name, driver_version'\necho 'FAKE GPU, 0.0'\n")
    (fake / "nvidia-smi").chmod(0o755)
    out = tmp_path / "out"
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", FC_PHASES="env smoke tests",
               FC_SMOKE_ARGS="--device cpu-emulated --quick --max-cases 2", FC_CAP_tests="1")
    proc = subprocess.run(["bash", str(SCRIPT), str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= 5 and {"summary.md", "smoke.json", "logs.tar.gz"} <= set(files), files
    summary = (out / "summary.md").read_text()
    assert "| env | ok |" in summary and "| smoke | ok |" in summary, summary
    assert "| tests | TIMEOUT (cap 1s) |" in summary, summary  # the cap cut it; nothing after broke
    assert "FAKE GPU" in summary  # the env phase ran the fake nvidia-smi
    smoke = json.loads((out / "smoke.json").read_text())
    assert smoke["summary"]["pass"] > 0 and smoke["summary"]["FAIL"] == smoke["summary"]["ERROR"] == 0
    with tarfile.open(out / "logs.tar.gz") as tar:
        names = {Path(n).name for n in tar.getnames()}
    assert {"env.log", "smoke.log", "tests.log", "phases.log"} <= names, names
