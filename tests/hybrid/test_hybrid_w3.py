"""The W3 suite (bench/hybrid/programs): every program parses in both languages, the OpenQASM 3
and Quil versions mean the same, -O2 keeps the meaning, and the headline effects hold."""
from pathlib import Path

import pytest

from hqsim.hybrid import (compute_metrics, eliminate_dead_code, from_circuit, optimize,
                          parse_qasm_program, parse_quil_program, print_qasm)
from hqsim import ansatz

from .hybrid_helpers import assert_equivalent, distance

PROGRAMS = Path(__file__).resolve().parents[2] / "bench" / "hybrid" / "programs"
INPUTS = {"vqe": {"theta0": 0.7}, "qaoa": {"gamma0": 0.8, "beta0": 0.4}, "teleport": {"theta": 1.1},
          "rus": {}, "deadcode": {"x": 0.9}, "ghz_parity": {}, "ipe": {"phi": 2.0}, "grover": {},
          "prep": {"x": 0.3}, "bitflip": {"theta": 0.8}}


def load(name, lang):
    parse = parse_qasm_program if lang == "qasm" else parse_quil_program
    return parse((PROGRAMS / f"{name}.{lang}").read_text(), f"{name}.{lang}", name)


def test_suite_has_ten_programs_in_both_languages_plus_qllm():
    names = {p.stem for p in PROGRAMS.glob("*.qasm")}
    assert set(INPUTS) | {"qllm"} <= names and len(names) >= 11
    assert all((PROGRAMS / f"{n}.quil").exists() for n in names)


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_qasm_and_quil_versions_agree_and_O2_keeps_the_meaning(name):
    a, b = load(name, "qasm"), load(name, "quil")
    inputs = INPUTS[name]
    assert distance(a, b, inputs) < 1e-9
    assert_equivalent(a, optimize(a), inputs)
    assert_equivalent(b, optimize(b), inputs)


@pytest.mark.parametrize("name,metric", [("deadcode", "qin"), ("ghz_parity", "qin"),
                                         ("prep", "qct"), ("vqe", "qct"), ("ipe", "qct")])
def test_headline_reductions(name, metric):
    p = load(name, "qasm")
    before = compute_metrics(p, INPUTS[name], measure_time=False)
    after = compute_metrics(optimize(p), INPUTS[name], measure_time=False)
    assert getattr(after, metric) < getattr(before, metric)


def test_qllm_light_cone_prunes_gates_of_a_small_qllm_circuit():
    circuit = ansatz.reuploading_module(4, blocks=2, pqc1_layers=1, pqc2_layers=2, connectivity=2)
    program = from_circuit(circuit, measure=(0,), weights=[0.1 * k for k in range(circuit.num_weights)])
    pruned = eliminate_dead_code(program)
    n = lambda p: sum(1 for _ in p.instructions())  # noqa: E731
    assert n(pruned) < n(program)
    assert_equivalent(program, pruned, {"x": [0.3, -0.2, 0.5, 1.0]})
    assert_equivalent(program, optimize(program), {"x": [0.3, -0.2, 0.5, 1.0]})


def test_committed_qllm_program_is_the_one_hqsim_exports():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_qllm", PROGRAMS.parent / "make_qllm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert print_qasm(module.qllm_program()) == (PROGRAMS / "qllm.qasm").read_text()
