"""bench/walk_profile_cpu.py: its copies of the backend's one-thread walks must still compute what
the backend computes (the script checks this and stops otherwise), and it reports every step
kind. No timing is asserted (speed is measured in bench/, never in tests)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is a directory of scripts at the repository root
    sys.path.insert(0, str(ROOT))

from bench import walk_profile_cpu  # noqa: E402


def test_the_profiled_walks_are_the_backends_and_every_step_is_reported(capsys):
    walk_profile_cpu.main(["--qubits", "5", "--batch", "16", "--rounds", "1"])
    out = capsys.readouterr().out
    for line in ("forward:", "adjoint:", "U1", "PERM", "product prefix", "observables", "lambda from the observables"):
        assert line in out, line
    assert "per unit (op index" not in out


def test_per_op_lists_every_walked_unit_with_its_qubits(capsys):
    walk_profile_cpu.main(["--qubits", "5", "--batch", "16", "--rounds", "1", "--per-op"])
    out = capsys.readouterr().out
    assert out.count("per unit (op index, kind, target, control or -, us):") == 2  # forward and adjoint
    rows = [line.split() for line in out.splitlines() if line.startswith("    ")]
    assert rows and all(len(r) == 5 and r[1] in ("U1", "CXU1", "PERM") and float(r[4]) >= 0 for r in rows)
    assert any(r[1] == "CXU1" and r[3] != "-" for r in rows) and any(r[1] == "U1" and r[3] == "-" for r in rows)


def test_a_batch_the_lanes_do_not_divide_is_refused(capsys):
    import pytest
    with pytest.raises(SystemExit):
        walk_profile_cpu.main(["--batch", "20"])
    assert "--batch must be a positive multiple of 16" in capsys.readouterr().err
