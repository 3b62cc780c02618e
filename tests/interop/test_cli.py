"""``hqsim export`` through the real command parser; golden files in tests/interop/golden/.

Regenerate the golden files with ``HQSIM_UPDATE_GOLDEN=1 pytest tests/interop/test_cli.py``.
"""
import json
import os
from pathlib import Path

import numpy as np
import pytest

import hqsim
from hqsim.cli import main

cirq = pytest.importorskip("cirq")
pytest.importorskip("cirq_ionq")

from hqsim.interop.cirq import to_cirq  # noqa: E402
from hqsim.interop.jsonfmt import circuit_from_json, circuit_to_json  # noqa: E402

from .test_ionq import _close  # noqa: E402
from .test_qasm import run_qasm  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HQSIM_UPDATE_GOLDEN") == "1"


def _run(capsys, *argv):
    code = main(["export", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _golden(name, text):
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    return path.read_text()


def test_ionq_json_of_a_circuit_file_matches_golden(capsys):
    code, out, _ = _run(capsys, GOLDEN / "small.json", "--to", "ionq-json")
    assert code == 0
    _close(json.loads(out), json.loads(_golden("small.ionq.json", out)))
    body = json.loads(out)
    assert body["type"] == "ionq.multi-circuit.v1" and len(body["input"]["circuits"]) == 2


def test_qasm3_of_a_named_model_matches_golden_and_runs(capsys, tmp_path):
    code, out, err = _run(capsys, "rpqc:Q=2,R=1,L=1", "--to", "qasm3",
                          "--weights", GOLDEN / "rpqc_weights.json", "-o", tmp_path / "w1.qasm")
    assert code == 0 and out == "" and "random weights" not in err
    text = (tmp_path / "w1.qasm").read_text()
    assert text == _golden("rpqc_q2.qasm", text)
    c = hqsim.ansatz.rpqc(2, 1, 1)
    w = np.array(json.loads((GOLDEN / "rpqc_weights.json").read_text()))
    x = np.array([[0.3, -0.8]])
    assert cirq.allclose_up_to_global_phase(run_qasm(text, {"x0": 0.3, "x1": -0.8}),
                                            hqsim.statevector(c, x, w, dtype=np.dtype("complex128"))[0])


def test_cirq_json_round_trips_and_feeds_back_in(capsys, tmp_path):
    code, out, _ = _run(capsys, "qpu:Q=3,N=2,L1=1,L2=1,C=1", "--to", "cirq-json", "--seed", "3")
    assert code == 0
    circuit = cirq.read_json(json_text=out)
    c = hqsim.ansatz.reuploading_module(3, 2, 1, 1, 1)
    w = np.random.default_rng(3).uniform(0, 2 * np.pi, c.num_weights)
    assert circuit == to_cirq(c, w)
    path = tmp_path / "prog.json"
    path.write_text(out)
    code, qasm, _ = _run(capsys, path, "--to", "qasm3")
    assert code == 0 and "input float[64] x2;" in qasm


def test_google_target_with_report(capsys):
    code, out, err = _run(capsys, GOLDEN / "small.json", "--to", "cirq-json",
                          "--target", "google:rainbow:sqrt_iswap", "--report")
    assert code == 0 and err.count("compiled for google:rainbow:sqrt_iswap") == 2
    assert "2q depth" in err and "before gates:" in err
    circuits = cirq.read_json(json_text=out)
    assert len(circuits) == 2 and all(isinstance(q, cirq.GridQubit) for q in circuits[0].all_qubits())


def test_json_description_round_trip():
    data = json.loads((GOLDEN / "small.json").read_text())
    c, w, x = circuit_from_json(data)
    again = circuit_to_json(c, w, x)
    c2, w2, x2 = circuit_from_json(again)
    assert [(g.name, g.qubits, g.params) for g in c2.gates] == [(g.name, g.qubits, g.params) for g in c.gates]
    np.testing.assert_array_equal(hqsim.expectation(c2, x2, w2), hqsim.expectation(c, x, w))


@pytest.mark.parametrize("argv, message", [
    (["rpqc:R=2", "--to", "qasm3"], "needs Q=<qubits>"),
    (["rpqc:Q=2,K=1", "--to", "qasm3"], "bad model option 'K=1'"),
    (["bogus:Q=2", "--to", "qasm3"], "unknown model 'bogus'"),
    ([GOLDEN / "small.json", "--to", "qasm3"], "OpenQASM export takes one sample"),
    ([GOLDEN / "small.json", "--to", "ionq-json", "--target", "google:rainbow"], "needs an IonQ target"),
    (["rpqc:Q=2,R=1", "--to", "qasm2"], "OpenQASM 2 has no runtime parameters"),
    (["rpqc:Q=2,R=1", "--to", "ionq-json", "--target", "ionq:aria"], "needs resolved parameters"),
    (["rpqc:Q=30,R=1", "--to", "cirq-json", "--target", "google:rainbow"], "has 23"),
    (["rpqc:Q=2,R=1", "--to", "ionq-json"], "needs values for x0, x1: pass --inputs"),
])
def test_errors_exit_2_with_a_message(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == "" and message in err


def test_help_explains_model_or_program(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = capsys.readouterr().out
    for fragment in ("MODEL_OR_PROGRAM", "rpqc:Q=4", "FILE.json", "cirq.to_json", "ionq:aria", "google:PROC"):
        assert fragment in text


def test_plain_import_and_command_parser_do_not_import_cirq():
    import subprocess
    import sys
    code = ("import sys, hqsim, hqsim.cli, hqsim.interop; hqsim.cli.build_parser(); "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('cirq', 'sympy', 'cirq_ionq')], "
            "sorted(m for m in sys.modules if m.startswith(('cirq', 'sympy')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


def test_missing_dependency_error_names_the_install_command():
    from hqsim.interop import _deps
    with pytest.raises(ModuleNotFoundError, match=r"needs the cirq-ionq package .*pip install 'hqsim\[cirq\]'"):
        _deps._require("cirq_ionq_not_installed_here", "cirq-ionq")
