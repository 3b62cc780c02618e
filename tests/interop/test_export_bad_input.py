"""``hqsim export`` on hostile input (issue 17, items 4 and 8): NaN/inf weights are refused by
every exporter, unreadable or malformed files and bad -o paths are clean errors naming the
file (exit 2), and anything unexpected is an internal-error message, never a traceback (exit 3)."""
import json

import numpy as np
import pytest

import hqsim
from hqsim.cli import main

cirq = pytest.importorskip("cirq")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hqsim.interop.jsonfmt import circuit_to_json  # noqa: E402
from hqsim.interop.qasm import hqsim_to_qasm  # noqa: E402

MODEL = "rpqc:Q=2,R=1,L=1"


def _export(capsys, *argv):
    code = main(["export", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("fmt", ["qasm3", "qasm2", "cirq-json", "ionq-json"])
def test_nonfinite_weights_refused_by_every_format(tmp_path, capsys, bad, fmt):
    c = hqsim.ansatz.rpqc(2, reuploads=1, layers=1)
    w = np.zeros(c.num_weights)
    w[3] = bad
    np.save(tmp_path / "w.npy", w)
    code, out, err = _export(capsys, MODEL, "--to", fmt, "--weights", tmp_path / "w.npy")
    assert code == 2 and out == ""
    assert f"--weights {tmp_path / 'w.npy'}: holds NaN or inf (first at index 3)" in err
    (tmp_path / "w.json").write_text(json.dumps([0.0] * 7 + [1e999]))  # json writes Infinity
    code, out, err = _export(capsys, MODEL, "--to", fmt, "--weights", tmp_path / "w.json")
    assert code == 2 and "holds NaN or inf (first at index 7)" in err


def test_nonfinite_values_refused_by_the_library_exporters():
    c = hqsim.ansatz.rpqc(2, reuploads=1, layers=1)
    w = np.zeros(c.num_weights)
    w[0] = np.nan
    with pytest.raises(ValueError, match=r"weights contain NaN or inf \(first at index 0\)"):
        hqsim_to_qasm(c, "3.0", w)
    with pytest.raises(ValueError, match="inputs contain NaN or inf"):
        hqsim_to_qasm(c, "3.0", np.zeros(c.num_weights), [0.0, np.inf])
    with pytest.raises(ValueError, match="weights contain NaN or inf"):
        circuit_to_json(c, w)
    with pytest.raises(ValueError, match="NaN or inf"):
        hqsim.interop.to_cirq(c, w)


def test_json_model_with_nan_weights_and_damaged_files(tmp_path, capsys):
    c = hqsim.ansatz.rpqc(2, reuploads=1, layers=1)
    data = circuit_to_json(c, np.zeros(c.num_weights))
    data["weights"][2] = float("nan")
    (tmp_path / "m.json").write_text(json.dumps(data))  # json writes NaN, and reads it back
    code, _, err = _export(capsys, tmp_path / "m.json", "--to", "qasm3")
    assert code == 2 and f"{tmp_path / 'm.json'}: weights: holds NaN or inf (first at index 2)" in err
    (tmp_path / "cut.json").write_text(json.dumps(data)[:40])
    code, _, err = _export(capsys, tmp_path / "cut.json", "--to", "qasm3")
    assert code == 2 and f"{tmp_path / 'cut.json'}:1:" in err and "not valid JSON" in err
    for bad in ({"num_qubits": 2, "gates": [{"gate": "H", "qubits": [0]}], "amplitude_encoding": 3},
                {"num_qubits": "two", "gates": []}, {"num_qubits": 2, "gates": 5}, [1, 2]):
        (tmp_path / "s.json").write_text(json.dumps(bad))
        code, _, err = _export(capsys, tmp_path / "s.json", "--to", "qasm3")
        assert code == 2 and str(tmp_path / "s.json") in err and "Traceback" not in err


def test_output_path_errors_name_the_path(tmp_path, capsys):
    for out, why in ((tmp_path, "is a directory"), (tmp_path / "no" / "x.qasm", "does not exist")):
        code, stdout, err = _export(capsys, MODEL, "--to", "qasm3", "-o", out)
        assert code == 2 and f"-o {out}: " in err and why in err and stdout == ""
    code, _, _ = _export(capsys, MODEL, "--to", "qasm3", "-o", tmp_path / "ok.qasm")
    assert code == 0 and (tmp_path / "ok.qasm").read_text().startswith("OPENQASM 3.0;")
    assert [p.name for p in tmp_path.iterdir()] == ["ok.qasm"]  # no temporary left


def test_an_unexpected_error_is_reported_not_a_traceback(monkeypatch, capsys):
    from hqsim.interop import cli as export_cli

    def boom(args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(export_cli, "export_text", boom)
    monkeypatch.delenv("HQSIM_TRACEBACK", raising=False)
    code, _, err = _export(capsys, MODEL, "--to", "qasm3")
    assert code == 3
    assert f"hqsim export: internal error on {MODEL}: RuntimeError: a bug" in err
    assert "please report it" in err and "Traceback" not in err
    saved = err.split("the traceback is in ")[1].split(" ")[0]
    text = open(saved).read()
    assert "Traceback" in text and "RuntimeError: a bug" in text


HOSTILE = st.sampled_from(["", "-1", "0", "1e9", "nan", "inf", "Q=", "Q=2", "Q=99", "x", ":", ",",
                           "Q=2,Q=3", "Q=-2", "Q=2,R=0", "D=5", "\x00", "é", "Q=2,L=100000"])


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["rpqc", "ring", "qpu", "encoder", "nope", ""]), opts=st.lists(HOSTILE, max_size=3),
       fmt=st.sampled_from(["qasm3", "qasm2", "cirq-json"]),
       target=st.sampled_from([None, "ionq", "ionq:aria", "google:rainbow", "bogus", "google:"]),
       seed=st.sampled_from(["0", "-1", "x", "99999999999999999999"]))
def test_fuzzed_export_options_never_crash(capsys, name, opts, fmt, target, seed):
    argv = [f"{name}:{','.join(opts)}", "--to", fmt, "--seed", seed]
    if target:
        argv += ["--target", target]
    try:
        code, _, err = _export(capsys, *argv)
    except SystemExit as exc:  # argparse: a bad option value
        assert exc.code == 2
        return
    assert code in (0, 2), err
    assert "Traceback" not in err
