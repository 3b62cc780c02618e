"""Quil front end and printer: constructs, semantics, round trips, malformed input."""
import pytest

from hqsim.hybrid import (EmitError, HybridSyntaxError, UnsupportedConstruct, parse_quil_program,
                          print_quil, run)
from hqsim.hybrid.ir import Role, ScalarType

from .hybrid_helpers import assert_equivalent, gates, qasm, quil


def test_declarations_pragmas_and_roles():
    p = quil("""DECLARE ro BIT[2]
DECLARE theta REAL[2]
DECLARE n INTEGER
DECLARE scratch REAL
PRAGMA INPUT theta
PRAGMA OUTPUT ro n
""")
    roles = {v.name: (v.role, v.type, v.size) for v in p.variables}
    assert roles == {"ro": (Role.OUTPUT, ScalarType.BIT, 2), "theta": (Role.INPUT, ScalarType.FLOAT, 2),
                     "n": (Role.OUTPUT, ScalarType.INT, None), "scratch": (Role.LOCAL, ScalarType.FLOAT, None)}


def test_without_output_pragma_every_non_input_region_is_an_output():
    p = quil("DECLARE a BIT\nDECLARE x REAL\nPRAGMA INPUT x\n")
    assert p.outputs == ("a",) and p.inputs == ("x",)


def test_classical_instructions():
    p = quil("""DECLARE i INTEGER[4]
DECLARE r REAL[2]
DECLARE b BIT[5]
MOVE i[0] 7
ADD i[0] 3
SUB i[0] 1
MUL i[0] 2
DIV i[0] 4
MOVE i[1] -5
NEG i[1]
MOVE i[2] 12
AND i[2] 10
MOVE i[3] 12
IOR i[3] 3
XOR i[3] 1
MOVE r[0] 1.5
MUL r[0] 3.0
CONVERT r[1] i[0]
EQ b[0] i[0] 4
GT b[1] r[0] 4.0
LE b[2] i[1] 5
LT b[3] i[1] 5
NOT b[3]
GE b[4] r[0] r[1]
""")
    assert run(p).outputs == {"i": (4, 5, 8, 14), "r": (4.5, 4.0), "b": (1, 1, 1, 1, 1)}


def test_gates_modifiers_and_parameter_expressions():
    p = quil("""DECLARE ro BIT[3]
DECLARE th REAL
PRAGMA INPUT th
H 0
RX(2*th + pi/4) 1
PHASE(-th/2) 1
DAGGER S 0
DAGGER T 0
CONTROLLED RX(SIN(th)^2) 0 1
CONTROLLED DAGGER RZ(th) 1 0
CPHASE(0.3) 0 2
CCNOT 0 1 2
CSWAP 2 0 1
MEASURE 0 ro[0]
MEASURE 1 ro[1]
MEASURE 2 ro[2]
""")
    assert gates(p) == ["H", "RX", "PhaseShift", "Sdg", "Tdg", "CRX", "CRZ", "CPhase", "CCNOT", "CSWAP"]
    ref = qasm("""input float[64] th; output bit[3] ro; qubit[3] q;
        h q[0]; rx(2 * th + pi / 4) q[1]; p(-th / 2) q[1]; sdg q[0]; tdg q[0];
        crx(sin(th) ** 2) q[0], q[1]; crz(-th) q[1], q[0]; cp(0.3) q[0], q[2];
        ccx q[0], q[1], q[2]; cswap q[2], q[0], q[1]; ro = measure q;""")
    assert_equivalent(p, ref, {"th": 0.7})


def test_control_flow_labels_and_halt():
    p = quil("""DECLARE n INTEGER
DECLARE go BIT
LABEL @loop
ADD n 1
LT go n 3
JUMP-WHEN @loop go
JUMP-UNLESS @skip go
ADD n 100
LABEL @skip
JUMP @end
ADD n 1000
LABEL @end
HALT
ADD n 5
""")
    assert run(p).outputs == {"n": 3, "go": 0}


def test_reset_all_and_measure_discard_and_comments():
    p = quil("""DECLARE ro BIT[2]  # two bits
X 0   # flip
X 1
MEASURE 1
RESET
MEASURE 0 ro[0]
MEASURE 1 ro[1]
""")
    assert run(p).outputs == {"ro": (0, 0)}


def test_semicolon_separated_instructions_and_nop():
    p = quil("DECLARE ro BIT\nX 0; NOP; MEASURE 0 ro\n")
    assert run(p).outputs == {"ro": 1}


@pytest.mark.parametrize("src,inputs", [
    ("DECLARE ro BIT[2]\nH 0\nCNOT 0 1\nMEASURE 0 ro[0]\nMEASURE 1 ro[1]\n", None),
    ("""DECLARE t REAL
DECLARE ro BIT
DECLARE n INTEGER
PRAGMA INPUT t
PRAGMA OUTPUT ro n
LABEL @a
RX(t) 0
MEASURE 0 ro
ADD n 1
LT ro n 3
JUMP-WHEN @a ro
""", {"t": 0.9}),
])
def test_print_then_parse_round_trip(src, inputs):
    p = quil(src)
    text = print_quil(p)
    again = parse_quil_program(text, name="t")
    assert_equivalent(p, again, inputs)
    assert print_quil(again) == text


def test_qasm_program_printed_as_quil_keeps_its_meaning():
    p = qasm("""input float[64] a; output int n; output bit[2] c; output float[64] f; qubit[2] q;
        int k = 3;
        n = (k * 7) / 2 - (k > 1) + (!(k == 1) || k < 0);
        f = a - a / 3.0 * -a + float[64](n);
        sx q[0]; U(0.1, a, 0.3) q[1]; cy q[0], q[1]; crx(a) q[1], q[0]; tdg q[0];
        c = measure q;
        if (c[0] != c[1]) { n = -n; } else { f = f * 2; }
        while (n < 10) { n += 3; }""")
    text = print_quil(p)
    assert "RX(pi/2) 0" in text and "CONTROLLED Y 0 1" in text and "DAGGER T 0" in text
    assert_equivalent(p, parse_quil_program(text), {"a": 0.4})


@pytest.mark.parametrize("src,message", [
    ("output int n; int k; n = k % 3;", "% in a classical assignment"),
    ("output float[64] f; f = sin(1.0 * f);", "sin() in a classical assignment"),
    ("output int n; array[int, 3] a; int i; n = a[i];", "constant indices"),
    ("output int n; n = 2 ** n;", "** in a classical assignment"),
])
def test_what_quil_cannot_express_is_reported(src, message):
    with pytest.raises(EmitError, match=message.replace("*", r"\*").replace("(", r"\(").replace(")", r"\)")):
        print_quil(qasm(src))


BAD = [  # (source, line, message)
    ("H 0\nRX( 0\n", 2, "syntax error"),
    ("FOO BAR BAZ(", 1, "syntax error"),
    ("DECLARE ro BIT\nMEASURE 0 r0\n", 2, "undeclared memory region 'r0'"),
    ("DECLARE ro BIT[2]\nMEASURE 0 ro[2]\n", 2, "index 2 out of range for ro[2]"),
    ("DECLARE x REAL\nMEASURE 0 x\n", 2, "cannot MEASURE into REAL"),
    ("H 0\nJUMP @nowhere\n", 2, "jump to undefined label @nowhere"),
    ("LABEL @a\nLABEL @a\n", 2, "label @a is defined twice"),
    ("DECLARE x REAL\nDECLARE x BIT\n", 2, "declared twice"),
    ("ISWAP 0 1\n", 1, "gate ISWAP is not supported"),
    ("RX 0\n", 1, "gate RX takes 1 parameter(s)"),
    ("CNOT 0 0\n", 1, "repeated qubit"),
    ("H 0\nDEFGATE G:\n    1, 0\n    0, 1\n", 2, "DEFGATE is not supported"),
    ("DEFCIRCUIT BELL:\n    H 0\n", 1, "DEFCIRCUIT is not supported"),
    ("DECLARE a REAL\nLOAD a b c\n", 2, "LOAD is not supported"),
    ("WAIT\n", 1, "WAIT is not supported"),
    ("DECLARE o OCTET\n", 1, "memory type OCTET is not supported"),
    ("FORKED RX(0.1, 0.2) 0 1\n", 1, "FORKED"),
    ("CONTROLLED H 0 1\n", 1, "ctrl @ H is not supported"),
    ("RX(1+2i) 0\n", 1, "complex parameter"),
    ("DECLARE x REAL\nPRAGMA INPUT y\n", 2, "undeclared memory region 'y'"),
    ("DECLARE x REAL\nPRAGMA INPUT x\nMOVE x 1.0\n", 3, "cannot write to input region 'x'"),
    ("  H 0\n", 1, "indented line"),
    ("H q\n", 1, "not a fixed qubit index"),
]


@pytest.mark.parametrize("src,line,message", BAD)
def test_malformed_programs_give_located_errors(src, line, message):
    with pytest.raises(HybridSyntaxError) as info:
        parse_quil_program(src, "bad.quil")
    err = info.value
    assert message in err.message, err.format()
    assert err.line == line and err.column >= 1, err.format()
    assert err.format().startswith(f"bad.quil:{line}:")


def test_unsupported_constructs_use_their_own_error_class():
    with pytest.raises(UnsupportedConstruct):
        quil("WAIT\n")
