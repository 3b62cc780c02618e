"""``hqsim compile`` on hostile programs (issue 17, items 4-5): empty files, deep nesting, huge
registers and declarations, run-time errors with their source line, bad -o paths, unrolling
linear in the trip-count limit, and one interpreter step budget per command with progress."""
import json

import pytest

from hqsim.cli import main
from hqsim.hybrid import compute_metrics, output_distribution
from hqsim.hybrid import interpreter as interp
from hqsim.hybrid.errors import HybridRuntimeError, StepLimit
from hqsim.hybrid.limits import MAX_CLASSICAL_ELEMENTS, NestingTooDeep, run_deep
from hqsim.hybrid.metrics import StepBudget
from hqsim.hybrid.passes import unroll as unroll_mod
from hqsim.hybrid.passes.unroll import UnrollOptions, unroll_loops

from .hybrid_helpers import HEADER, qasm, quil


def compile_(capsys, tmp_path, name, source, *args):
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    code = main(["compile", str(path), *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err, str(path)


@pytest.mark.parametrize("name, source", [("e.qasm", ""), ("c.qasm", "// nothing\n"), ("e.quil", "")])
def test_empty_programs_compile(capsys, tmp_path, name, source):
    code, _, err, _ = compile_(capsys, tmp_path, name, source)
    assert code == 0 and "program " in err


@pytest.mark.parametrize("name, source", [
    ("if50.qasm", HEADER + "qubit[1] q;\nbit[1] c;\nint x = 1;\n" + "if (x == 1) {\n" * 50
     + "h q[0];\n" + "}\n" * 50 + "c[0] = measure q[0];\n"),
    ("parens300.qasm", HEADER + "qubit[1] q;\nfloat a = " + "(" * 300 + "0.5" + ")" * 300
     + ";\nrx(a) q[0];\n"),
    ("sum5000.qasm", HEADER + "qubit[1] q;\nfloat a = " + " + ".join(["0.001"] * 5000)
     + ";\nrx(a) q[0];\n"),
    ("sum500.quil", "DECLARE ro BIT[1]\nRX(" + "+".join(["0.01"] * 500) + ") 0\nMEASURE 0 ro[0]\n"),
])
def test_deep_nesting_compiles(capsys, tmp_path, name, source):
    code, _, err, _ = compile_(capsys, tmp_path, name, source, "--shots", "1")
    assert code == 0, err


def test_nesting_past_the_limit_is_a_clean_error():
    def dive(n):
        return dive(n + 1)
    with pytest.raises(NestingTooDeep, match="nested too deeply"):
        run_deep(dive, 0)
    assert run_deep(lambda a, b=2: a + b, 1) == 3
    with pytest.raises(KeyError):
        run_deep(dict().__getitem__, "x")


@pytest.mark.parametrize("name, source, qubits", [
    ("q40.qasm", HEADER + "qubit[40] q;\nbit[40] c;\nh q[0];\ncx q[0], q[39];\nc = measure q;\n", 40),
    ("q100k.qasm", HEADER + "qubit[100000] q;\nbit[1] c;\nh q[5];\nc[0] = measure q[5];\n", 100000),
    ("h64.quil", "DECLARE ro BIT[1]\nH 64\nMEASURE 64 ro[0]\n", 65),
])
def test_programs_too_big_to_simulate_compile_with_static_metrics(capsys, tmp_path, name, source, qubits):
    code, out, err, _ = compile_(capsys, tmp_path, name, source, "--report", "json", "-o",
                                 str(tmp_path / "out"), "--passes", "fold")
    assert code == 0, err
    report = json.loads(out)
    first = report["rows"][0]
    assert first["qin"] is None and first["measured_seconds"] is None
    assert f"{qubits:,} qubits need" in first["note"] and "budget is 24 qubits" in first["note"]
    assert first["static_qin"] >= 2 and first["static_qct"] > 0 and first["static_wall"] > 0


def test_static_metrics_equal_executed_ones_without_branches():
    p = qasm("qubit[2] q;\nbit[2] c;\ninput float x;\nh q[0];\nrx(x) q[1];\nfloat y = x * 2;\n"
             "cx q[0], q[1];\nc[0] = measure q[0];\nry(y) q[0];\nc[1] = measure q[1];\n")
    assert len(p.blocks) == 1
    m = compute_metrics(p, {"x": 0.3}, measure_time=False)
    assert (m.static_qin, m.static_qct, m.static_wall) == (m.qin, m.qct, m.wall)


@pytest.mark.parametrize("name, source, where, message", [
    ("big.quil", "DECLARE c BIT[100000000]\nH 0\n", ":1:1:", "800,000,000 bytes of classical memory"),
    ("huge.quil", "H 0\nDECLARE c BIT[1000000000000]\n", ":2:1:", "8,000,000,000,000 bytes"),
    ("big.qasm", HEADER + "qubit[1] q;\nbit[100000000] c;\n", ":4:1:", "800,000,000 bytes"),
    ("qreg.qasm", HEADER + "qubit[100000000] q;\n", ":3:1:", "100,000,000 qubits; hqsim compile handles at most"),
    ("qidx.quil", "H 100000000\n", ":1:1:", "100,000,001 qubits"),
    ("idx.qasm", HEADER + "qubit[2] q;\nbit[2] c;\nint i = 5;\nc[i] = measure q[0];\n", ":6:1:",
     "index 5 out of range for c[2]"),
    ("idx.quil", "DECLARE ro BIT[2]\nMEASURE 0 ro[5]\n", ":2:1:", "index 5 out of range for ro[2]"),
    ("cidx.qasm", HEADER + "qubit[1] q;\nbit[3] c;\nc[5] = measure q[0];\n", ":5:1:",  # a constant index
     "measure: index 5 out of range for c[3]"),
    ("div.qasm", HEADER + "qubit[1] q;\nint d = 0;\nint i = 1;\nif (i == 1) {\n  d = 3 / (i - 1);\n}\n",
     ":7:3:", "division by zero"),
    ("sep.quil", "# a comment with \u2028 and \x0c inside\nDECLARE ro BIT[1]\nMEASURE 0 ro[3]\n", ":3:1:",
     "index 3 out of range"),
])
def test_known_failures_name_the_file_position_and_bytes(capsys, tmp_path, name, source, where, message):
    code, _, err, path = compile_(capsys, tmp_path, name, source)
    assert code == 2 and f"{path}{where} error: " in err and message in err, err
    assert MAX_CLASSICAL_ELEMENTS == 1 << 24


def test_output_path_errors(capsys, tmp_path):
    src = HEADER + "qubit[1] q;\nh q[0];\n"
    for out, why in ((tmp_path, "is a directory"), (tmp_path / "no" / "x.qasm", "does not exist")):
        code, stdout, err, _ = compile_(capsys, tmp_path, "p.qasm", src, "-o", str(out))
        assert code == 2 and f"-o {out}: " in err and why in err and stdout == ""


def test_unrolling_analyses_a_loop_log_many_times(monkeypatch):
    calls = []
    real = unroll_mod.compute_constants
    monkeypatch.setattr(unroll_mod, "compute_constants", lambda p: calls.append(1) or real(p))
    big = qasm("qubit[1] q;\nbit[1] c;\nint n = 0;\nfor int i in [0:999999999] { n += 1; }\n"
               "h q[0];\nc[0] = measure q[0];\n")
    assert unroll_loops(big, UnrollOptions(max_iterations=1000)) is big  # gives up
    assert len(calls) <= 12  # 1, 2, 4, ... 1001 copies: 11 analyses (one per copy before)
    calls.clear()
    small = qasm("qubit[1] q;\noutput int n;\nfor int i in [0:36] { n += i; }\nrx(0.1 * n) q[0];\n")
    out = unroll_loops(small, UnrollOptions(max_iterations=64))
    assert out is not small and len(calls) <= 7
    assert output_distribution(out).probs == output_distribution(small).probs
    assert unroll_loops(small, UnrollOptions(max_iterations=30)) is small


LOOP = qasm("qubit[1] q;\noutput int n;\nwhile (n < 200) { n += 1; }\nh q[0];\n")


def test_one_step_budget_per_command_with_progress(monkeypatch):
    seen = []
    monkeypatch.setattr(interp, "PROGRESS_EVERY", 64)
    budget = StepBudget(total=1000, progress=lambda what, steps: seen.append((what, steps)))
    m = compute_metrics(LOOP, shots=3, measure_time=False, budget=budget, label="input")
    assert m.qin is None and "budget of 1,000 steps" in m.note and m.static_qin == 1
    assert seen and seen[0][0] == "input shot 1/3" and [s for _, s in seen] == sorted(s for _, s in seen)
    assert any(w == "input shot 2/3" for w, _ in seen)
    full = compute_metrics(LOOP, shots=2, measure_time=False)
    assert full.qin == 1 and full.note is None


def test_a_run_past_the_shot_limit_is_the_programs_error(monkeypatch, capsys, tmp_path):
    from hqsim.hybrid import metrics
    monkeypatch.setattr(metrics, "SHOT_STEPS", 100)
    with pytest.raises(StepLimit, match="did not halt within 100 steps"):
        compute_metrics(LOOP, shots=1, measure_time=False)
    code, _, err, path = compile_(capsys, tmp_path, "loop.qasm",
                                  HEADER + "qubit[1] q;\nint n;\nwhile (true) { n += 1; }\n")
    assert code == 2 and f"{path}: error: program did not halt within" in err
    assert issubclass(StepLimit, HybridRuntimeError)


def test_quil_line_numbers_ignore_unicode_separators():
    with pytest.raises(Exception, match=r":3:1: error: .*undeclared"):
        quil("# x\u2028y\x0cz\nH 0\nMEASURE 0 r[0]\n")
