"""Fuzzing the hybrid tools (issue 17): token- and line-level mutations of every program in
bench/hybrid/programs and tests/hybrid/golden. For every mutant:

- parsing, optimizing (-O2), printing and re-parsing raise nothing but HybridError, within a
  CPU-time cap per case;
- when the optimizer accepts it and the interpreter can enumerate it, the output distribution
  is the same before optimization, after it, and after printing and re-parsing;
- where cheap (one block: constant gates, then measurements into output bits), the
  interpreter's distribution of the measured bits equals Cirq's state-vector probabilities
  (an independent simulator and independent gate matrices).

Hypothesis runs derandomized (the same cases in CI every time); a failure prints the mutant.
"""
from __future__ import annotations

import math
import re
import time
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hqsim.hybrid import output_distribution, total_variation  # noqa: E402
from hqsim.hybrid.errors import HybridError  # noqa: E402
from hqsim.hybrid.frontends.qasm import parse_qasm_program  # noqa: E402
from hqsim.hybrid.frontends.quil import parse_quil_program  # noqa: E402
from hqsim.hybrid.ir import Assign, Const, GateOp, Measure  # noqa: E402
from hqsim.hybrid.limits import run_deep  # noqa: E402
from hqsim.hybrid.pipeline import PipelineOptions, run_pipeline  # noqa: E402
from hqsim.hybrid.printers.qasm import print_qasm  # noqa: E402
from hqsim.hybrid.printers.quil import print_quil  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for d in (ROOT / "bench/hybrid/programs", ROOT / "tests/hybrid/golden")
                 for p in d.iterdir() if p.suffix in (".qasm", ".quil") and ".out." not in p.name)
TEXTS = {p.name: p.read_text() for p in SOURCES}
PARSE = {".qasm": parse_qasm_program, ".quil": parse_quil_program}
PRINT = {".qasm": print_qasm, ".quil": print_quil}
TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+\.\d*(?:[eE][-+]?\d+)?|\d+|\S")
NUMBERS = ["0", "1", "2", "3", "-1", "7", "64", "0.5", "3.141592653589793", "1e300", "1000000",
           "999999999", "-0.0"]
PUNCT = [";", "{", "}", "(", ")", "[", "]", ",", "=", "==", "+", "-", "*", "/", "%", "<", ">", "!",
         "&&", "||", ":", "@", "#", "\"", "//", "\u2028"]
CPU_CAP_S = 20.0           # per case; the slowest accepted mutants take ~1 s of CPU
MAX_QUBITS = 8             # enumerate distributions only up to this many qubits
MAX_PATHS, MAX_STEPS = 512, 20_000


@st.composite
def mutants(draw):
    name = draw(st.sampled_from(sorted(TEXTS)))
    lines = TEXTS[name].split("\n")
    for _ in range(draw(st.integers(1, 3))):
        lines = _mutate(draw, lines)
    return name, "\n".join(lines)


def _mutate(draw, lines: list[str]) -> list[str]:
    i = draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(["delete", "duplicate", "swap", "move", "token", "token", "token"]))
    if op == "delete":
        return lines[:i] + lines[i + 1:]
    if op == "duplicate":
        return lines[:i + 1] + lines[i:]
    if op in ("swap", "move"):
        j = draw(st.integers(0, len(lines) - 1))
        out = list(lines)
        if op == "swap":
            out[i], out[j] = out[j], out[i]
        else:
            out.insert(j, out.pop(i))
        return out
    toks = [(m.start(), m.end()) for m in TOKEN.finditer(lines[i])]
    if not toks:
        return lines
    a, b = toks[draw(st.integers(0, len(toks) - 1))]
    word = lines[i][a:b]
    how = draw(st.sampled_from(["number", "punct", "delete", "double", "word"]))
    new = {"number": lambda: draw(st.sampled_from(NUMBERS)),
           "punct": lambda: draw(st.sampled_from(PUNCT)),
           "delete": lambda: "",
           "double": lambda: word + " " + word,
           "word": lambda: draw(st.sampled_from(TOKEN.findall(" ".join(lines)) or ["x"]))}[how]()
    return lines[:i] + [lines[i][:a] + new + lines[i][b:]] + lines[i + 1:]


def _distribution(program):
    try:
        d = output_distribution(program, max_paths=MAX_PATHS, max_steps=MAX_STEPS)
    except HybridError:
        return None  # a run-time error, too many paths or steps: nothing to compare
    return d


def _check(name: str, source: str) -> str:
    """What was checked: "rejected", "refused", "too big", "not enumerable", "equal" or
    "equal and cirq"."""
    suffix = Path(name).suffix
    try:
        program = run_deep(PARSE[suffix], source, name, "m")
    except HybridError:
        return "rejected"  # with a message: fine
    try:
        result = run_deep(run_pipeline, program, PipelineOptions())
        printed = run_deep(PRINT[suffix], result.program)
        again = run_deep(PARSE[suffix], printed, "printed" + suffix, "m")
    except HybridError:
        return "refused"  # the optimizer or printer, with a message
    if program.num_qubits > MAX_QUBITS:
        return "too big"
    before = _distribution(program)
    if before is None:
        return "not enumerable"
    for stage, p in (("optimized", result.program), ("printed and re-parsed", again)):
        after = _distribution(p)
        assert after is not None, f"{stage} program fails where the input ran"
        gap = total_variation(before.probs, after.probs)
        assert gap <= 1e-9 + before.missing + after.missing, f"{stage}: distributions differ by {gap:.3g}"
    return "equal and cirq" if _check_against_cirq(result.program, before) else "equal"


def _check_against_cirq(program, dist) -> bool:
    """Cirq's probabilities of the measured bits, for one-block programs of constant gates
    followed by measurements into output bits (skipped for any other shape)."""
    cirq = pytest.importorskip("cirq")
    if len(program.blocks) != 1 or program.num_qubits > MAX_QUBITS:
        return False
    ins = program.blocks[0].instructions
    gates = [i for i in ins if isinstance(i, GateOp)]
    measures = [i for i in ins if isinstance(i, Measure)]
    if not measures or ins[:len(gates)] != tuple(gates) or any(
            not all(isinstance(p, Const) for p in g.params) for g in gates):
        return False
    written = {i.target.name for i in ins if isinstance(i, Assign)}
    targets = [(m.qubit, m.target) for m in measures]
    if any(t is None or t.name in written or t.name not in program.outputs for _, t in targets) or \
            len({q for q, _ in targets}) != len(targets) or len({(t.name, t.index) for _, t in targets}) != len(targets):
        return False
    ops = [_cirq_op(cirq, g) for g in gates]
    if any(op is None for op in ops):
        return False
    qubits = cirq.LineQubit.range(program.num_qubits)
    circuit = cirq.Circuit(ops, cirq.I.on_each(*qubits))
    probs = np.abs(cirq.final_state_vector(circuit, qubit_order=qubits, dtype=np.complex128)) ** 2
    expected: dict = {}
    for index, p in enumerate(probs):
        bits = tuple((index >> (program.num_qubits - 1 - q)) & 1 for q, _ in targets)
        expected[bits] = expected.get(bits, 0.0) + p
    seen: dict = {}
    for key, p in dist.probs.items():
        out = dict(key)
        bits = tuple(_read(out, program, t) for _, t in targets)
        seen[bits] = seen.get(bits, 0.0) + p
    gap = 0.5 * sum(abs(expected.get(k, 0.0) - seen.get(k, 0.0)) for k in set(expected) | set(seen))
    assert gap <= 1e-6 + dist.missing, f"interpreter and Cirq differ by {gap:.3g}"
    return True


def _read(out: dict, program, target):
    v = out[target.name]
    return int(v[target.index.value]) if program.var_map[target.name].size is not None else int(v)


def _cirq_op(cirq, g: GateOp):
    a = [float(p.value) for p in g.params]
    table = {
        "I": lambda: cirq.I, "H": lambda: cirq.H, "X": lambda: cirq.X, "Y": lambda: cirq.Y,
        "Z": lambda: cirq.Z, "S": lambda: cirq.S, "Sdg": lambda: cirq.S ** -1, "T": lambda: cirq.T,
        "Tdg": lambda: cirq.T ** -1, "SX": lambda: cirq.X ** 0.5, "RX": lambda: cirq.rx(a[0]),
        "RY": lambda: cirq.ry(a[0]), "RZ": lambda: cirq.rz(a[0]),
        "PhaseShift": lambda: cirq.ZPowGate(exponent=a[0] / math.pi), "CNOT": lambda: cirq.CNOT,
        "CZ": lambda: cirq.CZ, "CY": lambda: cirq.ControlledGate(cirq.Y), "SWAP": lambda: cirq.SWAP,
        "CRX": lambda: cirq.ControlledGate(cirq.rx(a[0])), "CRY": lambda: cirq.ControlledGate(cirq.ry(a[0])),
        "CRZ": lambda: cirq.ControlledGate(cirq.rz(a[0])),
        "CPhase": lambda: cirq.CZPowGate(exponent=a[0] / math.pi), "CCNOT": lambda: cirq.CCX,
        "CSWAP": lambda: cirq.CSWAP}
    make = table.get(g.name)
    return None if make is None else make().on(*[cirq.LineQubit(q) for q in g.qubits])


def test_every_source_program_is_checked_unmutated():
    assert len(SOURCES) >= 25
    outcomes = {p.name: _check(p.name, p.read_text()) for p in SOURCES}
    assert {n for n, o in outcomes.items() if o == "rejected"} == {n for n in outcomes if n.startswith("bad_")}
    assert sum(o == "equal and cirq" for o in outcomes.values()) >= 3, outcomes


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutants())
def test_mutated_programs(case):
    name, source = case
    t0 = time.process_time()
    try:
        _check(name, source)
    except Exception as exc:  # noqa: BLE001 - any exception but HybridError is what this hunts
        raise AssertionError(f"{type(exc).__name__}: {exc}\n--- mutant of {name}:\n{source}") from exc
    spent = time.process_time() - t0
    assert spent < CPU_CAP_S, f"{spent:.1f} s of CPU on a mutant of {name}:\n{source}"


OPTION_VALUES = {
    "--passes": ["fold", "fold,dce", "unroll,unroll", "nope", "", ",", "lpqe,reorder,fold"],
    "-O": ["0", "1", "2", "3", "-1", "x"],
    "--emit": ["qasm", "quil", "c"],
    "--report": ["text", "json", "xml"],
    "--cost-model": ["unit", "ionq", "google", "fast"],
    "--input": ["x=0.3", "x=nan", "x=1,2", "=1", "x", "theta=1e308", "marked=abc", "c=1"],
    "--shots": ["1", "0", "-3", "100000", "2.5", "1e3"],
    "--seed": ["0", "-1", "99999999999999999999", "s"],
    "--max-unroll": ["0", "-1", "100000", "1000000000", "1e9"],
}


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(TEXTS)),
       opts=st.lists(st.sampled_from(sorted(OPTION_VALUES)).flatmap(
           lambda o: st.tuples(st.just(o), st.sampled_from(OPTION_VALUES[o]))), max_size=3))
def test_fuzzed_compile_options_never_crash(capsys, tmp_path_factory, name, opts):
    from hqsim.cli import main
    path = tmp_path_factory.mktemp("p") / name
    path.write_text(TEXTS[name])
    argv = ["compile", str(path), "-o", str(path.with_suffix(".out"))]
    for opt, value in opts:
        argv += [opt, value]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: a bad value or a usage error, named
        assert exc.code == 2 and "error: " in capsys.readouterr().err
        return
    err = capsys.readouterr().err
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err
