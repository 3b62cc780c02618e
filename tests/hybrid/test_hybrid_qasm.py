"""OpenQASM 3 front end and printer: constructs, semantics, round trips, malformed input."""
import math

import pytest

from hqsim.hybrid import (HybridSyntaxError, UnsupportedConstruct, parse_qasm_program, print_qasm,
                          run)
from hqsim.hybrid.ir import GateOp, Role, ScalarType

from .hybrid_helpers import HEADER, assert_equivalent, gates, qasm


def outputs(src, inputs=None, seed=0):
    return run(qasm(src), inputs, seed=seed).outputs


def test_declarations_roles_and_registers():
    p = qasm("""input float[64] th; input array[float[64], 3] xs; output bit[2] c; output int n;
        qubit[2] q; qreg r[1]; int k; bool b; angle[20] a; uint u;""")
    roles = {v.name: (v.role, v.type, v.size) for v in p.variables}
    assert roles["th"] == (Role.INPUT, ScalarType.FLOAT, None)
    assert roles["xs"] == (Role.INPUT, ScalarType.FLOAT, 3)
    assert roles["c"] == (Role.OUTPUT, ScalarType.BIT, 2)
    assert roles["k"][0] is Role.LOCAL and roles["a"][1] is ScalarType.FLOAT
    assert [(r.name, r.size) for r in p.registers] == [("q", 2), ("r", 1)]


def test_without_output_declarations_every_top_level_variable_is_an_output():
    p = qasm("int a = 1; float[64] b; for int k in [0:1] { b += k; }")
    assert p.outputs == ("a", "b")


def test_arithmetic_semantics():
    out = outputs("""output int a; output int b; output float[64] f; output int m; output bool z;
        a = 7 / 2 + (-7) / 2; b = -7 % 3 + 2 ** 3 + (1 << 4) + (5 & 3) + (5 | 2) + (5 ^ 1) + ~0;
        f = 7.0 / 2 + float[64](3) + sin(pi / 2) + sqrt(4.0) + floor(2.5) + ceiling(2.5);
        m = int(2.9) + int(-2.9); z = !(1 < 2) || (2 >= 2 && 3 != 3);""")
    assert out == {"a": 0, "b": -1 + 8 + 16 + 1 + 7 + 4 - 1, "f": 3.5 + 3 + 1 + 2 + 2 + 3, "m": 0, "z": 0}


def test_compound_assignment_and_bit_register_as_integer():
    out = outputs("""output int n; output bit[3] c; qubit[3] q; x q[0]; x q[2];
        c = measure q; n = c; n += 1; n *= 3; n -= 2; n <<= 1;""")
    assert out == {"c": (1, 0, 1), "n": ((5 + 1) * 3 - 2) * 2}


def test_bitstring_and_array_literals():
    out = outputs('output bit[3] c; output int s; array[int, 2] a = {4, 5}; c = "101"; s = a[0] * a[1];')
    assert out == {"c": (1, 0, 1), "s": 20}


def test_gate_definitions_modifiers_and_broadcast():
    p = qasm("""output bit[2] c; qubit[2] q; qubit[3] r;
        gate bell a, b { h a; cx a, b; }
        gate rot(t) a { rz(t / 2) a; ry(t) a; }
        bell q[0], q[1]; rot(0.4) q; inv @ rot(0.4) q[1]; ctrl @ x q[1], q[0]; pow(2) @ s q[0];
        ctrl(2) @ x r[0], r[1], r[2]; ctrl @ ctrl @ x r[2], r[1], r[0];""")
    assert gates(p) == ["H", "CNOT", "RZ", "RY", "RZ", "RY", "RY", "RZ", "CNOT", "S", "S",
                        "CCNOT", "CCNOT"]
    ops = [g for g in p.instructions() if isinstance(g, GateOp)]
    assert ops[6].params[0].value == pytest.approx(-0.4)
    assert ops[-2].qubits == (2, 3, 4) and ops[-1].qubits == (4, 3, 2)


def test_ctrl_of_a_user_gate_and_gphase():
    p = qasm("""output bit[2] c; qubit[2] q; gate g a { x a; gphase(pi / 2); }
        h q[0]; ctrl @ g q[0], q[1]; c = measure q;""")
    assert gates(p) == ["H", "CNOT", "PhaseShift"]


def test_u_u2_and_inverse_of_u():
    p = qasm("output bit c; qubit[1] q; U(0.1, 0.2, 0.3) q[0]; inv @ U(0.1, 0.2, 0.3) q[0]; "
             "u2(0.5, 0.6) q[0]; c = measure q[0];")
    ref = qasm("output bit c; qubit[1] q; u2(0.5, 0.6) q[0]; c = measure q[0];")
    assert_equivalent(p, ref)


def test_measure_forms_and_registers():
    p = qasm("""output bit[2] c; bit d; qubit[2] q; c = measure q; measure q[0] -> c[1];
        d = measure q[1]; measure q;""")
    assert len([i for i in p.instructions()]) == 6


def test_for_over_set_and_step_and_qubit_indexed_expansion():
    out = outputs("""output int s; output bit[4] c; qubit[4] q;
        for int i in {1, 5, 7} { s += i; }
        for int i in [10:-3:4] { s += i; }
        for int i in [0:3] { if (i % 2 == 0) { x q[i]; } }
        c = measure q;""")
    assert out == {"s": 13 + 10 + 7 + 4, "c": (1, 0, 1, 0)}


def test_break_continue_end():
    out = outputs("""output int n; output int m;
        for int i in [0:9] { if (i == 2) { continue; } if (i == 5) { break; } n += i; }
        while (true) { m += 1; if (m >= 3) { end; } }
        n = 100;""")
    assert out == {"n": 0 + 1 + 3 + 4, "m": 3}


def test_runtime_loop_with_input_bound():
    out = outputs("input int k; output int s; for int i in [0:k] { s += i; }", {"k": 4})
    assert out == {"s": 10}


def test_block_scopes_shadow_and_rename():
    p = qasm("output int x; int y; for int i in [0:1] { int x = 5; y += x; } x = y;")
    assert run(p).outputs == {"x": 10}
    assert len({v.name for v in p.variables}) == len(p.variables)


@pytest.mark.parametrize("src", [
    "output bit[2] c; qubit[2] q; h q[0]; cx q[0], q[1]; c = measure q;",
    """input float[64] t; output int n; output bit b; qubit[1] q; int i;
       while (i < 3) { rx(t * i) q[0]; b = measure q[0]; if (b) { n += 1; } else { n -= 1; } i += 1; }""",
    """output bit[3] c; qubit[3] q; for int i in [0:2] { h q[i]; } c = measure q;
       if (c[0] == 1 && c[1] == 0) { reset q[2]; } else { x q[2]; } c[2] = measure q[2];""",
    "output float[64] f; f = -(2.5 ** 2) - (-1.5) * 2 + 1e-05;",
])
def test_print_then_parse_round_trip(src):
    p = qasm(src)
    text = print_qasm(p)
    again = parse_qasm_program(text, name="t")
    assert_equivalent(p, again, {"t": 0.4} if "input" in src else None)
    assert print_qasm(again) == text  # the printer is a fixed point


def test_unstructured_control_flow_prints_as_a_dispatch_loop():
    from hqsim.hybrid import parse_quil_program
    p = parse_quil_program("""DECLARE n INTEGER
DECLARE b BIT
JUMP @b
LABEL @a
ADD n 1
LT b n 5
JUMP-WHEN @b b
HALT
LABEL @b
ADD n 10
LT b n 30
JUMP-WHEN @a b
""")
    text = print_qasm(p)
    assert "while (pc >= 0)" in text
    assert_equivalent(p, parse_qasm_program(text))


# -- malformed and unsupported input -----------------------------------------------------
BAD = [  # (program body after the header, line of the error in the whole source, message)
    ("qubit q\nh q;", 4, "missing ';'"),
    ("qubit q;\nh q $;", 4, "token recognition error"),
    ("int x = 3 +;", 3, "syntax error"),
    ("qubit q;\nfoo q;", 4, "unknown gate 'foo'"),
    ("qubit q;\nh r;", 4, "undeclared identifier 'r'"),
    ("qubit[2] q;\nh q[5];", 4, "qubit index 5 out of range"),
    ("qubit[2] q;\ncx q[0], q[0];", 4, "repeated qubit"),
    ("qubit q;\nrx q;", 4, "takes 1 angle"),
    ("qubit[2] q;\nqubit[3] r;\ncx q, r;", 5, "different sizes"),
    ("int x;\nx = y + 1;", 4, "undeclared identifier 'y'"),
    ("qubit q;\nx = 1;", 4, "undeclared identifier 'x'"),
    ("input float[64] t;\nt = 1;", 4, "cannot assign to input"),
    ("const int n = 2;\nn = 3;", 4, "cannot assign to 'n'"),
    ("int n;\nqubit[n] q;", 4, "compile-time constant"),
    ("bit[2] c;\nqubit[3] q;\nc = measure q;", 5, "measuring 3 qubit(s) into 2 bit(s)"),
    ("float[64] f;\nqubit q;\nf = measure q;", 5, "cannot measure into a float"),
    ("int i;\nqubit[2] q;\nwhile (i < 2) { h q[i]; i += 1; }", 5, "compile-time constant"),
    ("break;", 3, "'break' statement outside loop"),
    ("def f(int a) -> int { return a; }", 3, "subroutine definition is not supported"),
    ("qubit[2] q;\nnegctrl @ x q[0], q[1];", 4, "negctrl"),
    ("qubit[2] q;\nctrl @ h q[0], q[1];", 4, "ctrl @ H is not supported"),
    ("qubit[2] q;\nch q[0], q[1];", 4, "gate 'ch' is not supported"),
    ('include "other.inc";', 2, "include 'other.inc' is not supported"),
    ("complex[float[64]] z;", 3, "type complex is not supported"),
    ("array[int, 2, 2] a;", 3, "one-dimensional"),
    ("qubit q;\nbox { h q; }", 4, "box is not supported"),
    ("qubit q;\ndelay[10ns] q;", 4, "not supported"),
    ("int x;\nswitch (x) { case 0 { } }", 4, "switch statement is not supported"),
    ("qubit q;\nh $0;", 4, "physical qubits"),
    ("gate g a { h a; }\ngate g a { x a; }", 4, "already defined"),
    ("int x;\nint x;", 4, "already declared"),
    ("int x;\nx = popcount(3);", 4, "function popcount() is not supported"),
    ("gate g a { int k; }\nqubit q;\ng q;", 3, "cannot declare classical variables in a gate"),
    ("gate r a { r a; }\nqubit q;\nr q;", 3, "recursively"),
]


@pytest.mark.parametrize("body,line,message", BAD)
def test_malformed_programs_give_located_errors(body, line, message):
    source = ("OPENQASM 3.0;\n" if body.startswith("include") else HEADER) + body
    with pytest.raises(HybridSyntaxError) as info:
        parse_qasm_program(source, "bad.qasm")
    err = info.value
    assert message in err.message, err.format()
    assert err.line == line, err.format()
    assert err.column is not None and 1 <= err.column <= len(source.splitlines()[line - 1]) + 1
    assert err.format() == f"bad.qasm:{err.line}:{err.column}: error: {err.message}"


def test_unsupported_constructs_use_their_own_error_class():
    with pytest.raises(UnsupportedConstruct):
        qasm("qubit q;\nbox { h q; }")


def test_missing_stdgates_include_is_reported():
    with pytest.raises(HybridSyntaxError, match='missing include "stdgates.inc"'):
        parse_qasm_program("OPENQASM 3.0;\nqubit q;\nh q;\n")
    p = parse_qasm_program("OPENQASM 3.0;\nqubit q;\nU(pi, 0, pi) q;\n")
    assert gates(p) == ["U3"]


def test_pi_constant_and_angle_folding_in_gate_arguments():
    p = qasm("qubit q; rx(pi / 2) q;")
    assert p.blocks[0].instructions[0].params[0].value == pytest.approx(math.pi / 2)
