"""``hqsim compile`` through ``python -m hqsim.cli``, against golden files.

Golden files live in tests/hybrid/golden: ``<input>.<case>.out.<ext>`` is the printed program
and ``<input>.<case>.report.json`` the JSON report with run times blanked. Regenerate after an
intended change with ``HQSIM_UPDATE_GOLDEN=1 pytest tests/hybrid/test_hybrid_cli.py`` and review
the diff.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hqsim.hybrid import parse_qasm_program, parse_quil_program

from .hybrid_helpers import assert_equivalent

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("HQSIM_UPDATE_GOLDEN") == "1"
TIMES = ("measured_seconds", "pass_seconds", "compile_seconds")

CASES = [  # (input, case name, arguments, inputs for the equivalence check)
    ("fold.qasm", "fold", ["--passes", "fold", "--input", "x=0.3"], {"x": 0.3}),
    ("dce.qasm", "dce", ["--passes", "dce", "--input", "x=0.3"], {"x": 0.3}),
    ("unroll.qasm", "unroll", ["--passes", "unroll"], None),
    ("reorder.qasm", "reorder", ["--passes", "reorder", "--input", "x=0.3"], {"x": 0.3}),
    ("lpqe.qasm", "lpqe", ["--passes", "lpqe", "--input", "x=0.3"], {"x": 0.3}),
    ("pipeline.quil", "O2", ["-O2", "--input", "theta=0.8"], {"theta": 0.8}),
    ("pipeline.quil", "O1-qasm", ["-O1", "--emit", "qasm", "--cost-model", "ionq"], None),
    ("fold.qasm", "O2-quil", ["-O2", "--emit", "quil", "--shots", "4"], None),
]


def hqsim(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "hqsim.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def _blank_times(report):
    for key in TIMES:
        if key in report:
            report[key] = None
    for row in report["rows"]:
        for key in TIMES:
            if key in row:
                row[key] = None
    return report


def _check_golden(path: Path, text: str):
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"missing golden file {path.name}; run with HQSIM_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{path.name} differs from the golden file"


@pytest.mark.parametrize("source,case,args,inputs", CASES, ids=[f"{s}-{c}" for s, c, _, _ in CASES])
def test_golden(tmp_path, source, case, args, inputs):
    emit = args[args.index("--emit") + 1] if "--emit" in args else source.rsplit(".", 1)[1]
    out = tmp_path / f"out.{emit}"
    proc = hqsim("compile", str(GOLDEN / source), *args, "--report", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    _check_golden(GOLDEN / f"{source}.{case}.out.{emit}", text)
    report = _blank_times(json.loads(proc.stdout))
    _check_golden(GOLDEN / f"{source}.{case}.report.json", json.dumps(report, indent=2) + "\n")
    parse_in = parse_qasm_program if source.endswith(".qasm") else parse_quil_program
    parse_out = parse_qasm_program if emit == "qasm" else parse_quil_program
    assert_equivalent(parse_in((GOLDEN / source).read_text()), parse_out(text), inputs)


def test_text_report_goes_to_stderr_and_program_to_stdout():
    proc = hqsim("compile", str(GOLDEN / "dce.qasm"), "--passes", "fold,dce", "--shots", "2")
    assert proc.returncode == 0
    assert proc.stdout.startswith("OPENQASM 3.0;")
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("program dce   passes: fold,dce   cost model: unit   shots: 2")
    assert lines[1].split() == ["stage", "QIN", "QCT", "wall", "static", "QIN", "static", "QCT",
                                "static", "wall", "instrs", "measured", "ms", "pass", "ms"]
    assert [l.split()[0] for l in lines[2:-1]] == ["input", "fold", "dce", "output"]
    assert lines[-1].startswith("reduction   QIN ")


def test_help_explains_every_option():
    proc = hqsim("compile", "--help")
    assert proc.returncode == 0
    for option in ("--passes", "-O", "--emit", "-o OUT", "--report", "--cost-model", "--input",
                   "--shots", "--seed", "--max-unroll", "fold", "unroll", "dce", "reorder", "lpqe",
                   "QIN", "QCT", "exit status"):
        assert option in proc.stdout, option


def test_help_and_choices_come_from_the_pass_declaration():
    from hqsim.hybrid.pipeline import OPT_LEVELS, PASSES
    proc = hqsim("compile", "--help")
    text = " ".join(proc.stdout.split())
    for name, spec in PASSES.items():
        assert f"{name} {spec.help}" in text, name
    assert f"from: {','.join(PASSES)}" in text
    for level, names in OPT_LEVELS.items():
        assert f"-O{level} {','.join(names) or 'none'}" in text


@pytest.mark.parametrize("source,expected", [
    ("bad_syntax.qasm", "bad_syntax.qasm:4:9: error: syntax error: missing ';' at 'q'"),
    ("bad_unsupported.qasm", "bad_unsupported.qasm:5:1: error: box is not supported"),
    ("bad_memory.quil", "bad_memory.quil:3:1: error: undeclared memory region 'r0' (add DECLARE r0 ...)"),
])
def test_malformed_input_exits_2_with_location(source, expected):
    proc = hqsim("compile", source, cwd=GOLDEN)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == expected


@pytest.mark.parametrize("args,message", [
    (["missing.qasm"], "missing.qasm: error: No such file or directory"),
    (["prog.txt"], "unknown language"),
    ([str(GOLDEN / "dce.qasm"), "--passes", "fold,bogus"], "unknown pass(es) bogus"),
    ([str(GOLDEN / "dce.qasm"), "--input", "nope=1"], "the program's inputs are ['x']"),
    ([str(GOLDEN / "dce.qasm"), "--input", "x"], "NAME=VALUE"),
])
def test_usage_errors_exit_2(args, message):
    proc = hqsim("compile", *args)
    assert proc.returncode == 2 and message in proc.stderr


def test_argparse_rejects_conflicting_levels():
    proc = hqsim("compile", str(GOLDEN / "dce.qasm"), "-O1", "--passes", "fold")
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr


def test_program_that_cannot_be_emitted_exits_1(tmp_path):
    src = tmp_path / "mod.qasm"
    src.write_text('OPENQASM 3.0;\ninput int k;\noutput int n;\nn = k % 3;\n')
    proc = hqsim("compile", str(src), "--emit", "quil", "-O0")
    assert proc.returncode == 1 and "cannot emit quil" in proc.stderr and "%" in proc.stderr
