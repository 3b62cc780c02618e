"""IR values, expression semantics, validation, the builder, CFG analyses."""
import math

import pytest

from hqsim.hybrid import (HybridRuntimeError, ProgramBuilder, ProgramError, ScalarType,
                          compute_cfg, compute_constants, validate)
from hqsim.hybrid.analyses.constants import TOP
from hqsim.hybrid.exprs import coerce, evaluate, fold_constant, infer_type, simplify
from hqsim.hybrid.ir import (Assign, Binary, Block, Branch, Call, Const, GateOp, Halt, Jump,
                             Measure, Program, QubitRegister, Ref, Unary, VarDecl)

from .hybrid_helpers import qasm


def ev(e):
    return evaluate(e, lambda n, i: {"x": 2.5, "k": 7}[n])


def test_const_equality_includes_the_type():
    assert Const(1) != Const(1.0) and Const(True) == Const(1) and hash(Const(2)) == hash(Const(2))
    with pytest.raises(ValueError):
        Const(float("nan"))
    with pytest.raises(TypeError):
        Const("1")


@pytest.mark.parametrize("expr,value", [
    (Binary("/", Const(7), Const(2)), 3), (Binary("/", Const(-7), Const(2)), -3),
    (Binary("/", Const(7.0), Const(2)), 3.5), (Binary("%", Const(-7), Const(3)), -1),
    (Binary("**", Const(2), Const(10)), 1024), (Binary("**", Const(2), Const(-1)), 0.5),
    (Binary("<", Ref("x"), Const(3)), 1), (Binary("&&", Const(2), Const(0)), 0),
    (Unary("!", Const(0)), 1), (Unary("~", Const(5)), -6), (Binary("<<", Const(1), Const(3)), 8),
    (Call("int", (Const(-2.7),)), -2), (Call("bit", (Const(0.5),)), 1),
    (Call("sin", (Const(math.pi / 2),)), 1.0), (Call("floor", (Ref("x"),)), 2.0),
    (Ref("x") * 2 + Ref("k"), 12.0),
])
def test_expression_semantics(expr, value):
    out = ev(expr)
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize("expr,message", [
    (Binary("/", Const(1), Const(0)), "division by zero"),
    (Binary("&", Const(1.5), Const(1)), "needs integer operands"),
    (Call("log", (Const(-1.0),)), "log"),
    (Call("exp", (Const(1e6),)), "exp"),
])
def test_expression_errors(expr, message):
    with pytest.raises(HybridRuntimeError, match=message):
        ev(expr)


def test_simplify_folds_known_parts_and_keeps_failing_ones():
    def lookup(name, idx):
        if name == "k":
            return 7
        from hqsim.hybrid.exprs import Unknown
        raise Unknown()
    assert simplify(Ref("x") * (Ref("k") + 1), lookup) == Binary("*", Ref("x"), Const(8))
    assert simplify(Binary("/", Ref("k"), Const(0)), lookup) == Binary("/", Const(7), Const(0))
    assert fold_constant(Ref("x") + 0) == Ref("x") and fold_constant(Ref("x") + 0.0) != Ref("x")


def test_coerce_and_infer_type():
    assert coerce(ScalarType.INT, 2.9) == 2 and coerce(ScalarType.BIT, 5) == 1
    assert coerce(ScalarType.FLOAT, 3) == 3.0
    var_map = {"c": VarDecl("c", ScalarType.BIT, 2), "f": VarDecl("f", ScalarType.FLOAT)}
    assert infer_type(Ref("c"), var_map) is ScalarType.INT
    assert infer_type(Ref("c", Const(0)) + 1, var_map) is ScalarType.INT
    assert infer_type(Ref("f") * 2, var_map) is ScalarType.FLOAT
    assert infer_type(Ref("f").lt(1), var_map) is ScalarType.BOOL


def _program(*instrs, term=None, variables=(), nq=2):
    return Program((Block("entry", instrs, term or Halt()),), variables, (QubitRegister("q", nq),))


@pytest.mark.parametrize("program,message", [
    (_program(GateOp("FOO", (0,))), "unknown gate 'FOO'"),
    (_program(GateOp("CNOT", (0,))), "CNOT takes 2 qubit"),
    (_program(GateOp("H", (2,))), "qubit 2 out of range"),
    (_program(GateOp("CZ", (1, 1))), "repeated qubit"),
    (_program(Assign(Ref("x"), Const(1))), "undeclared variable 'x'"),
    (_program(Assign(Ref("a", Const(3)), Const(1)), variables=(VarDecl("a", ScalarType.INT, 2),)),
     "index 3 out of range"),
    (_program(Assign(Ref("a"), Const(1)), variables=(VarDecl("a", ScalarType.INT, 2),)),
     "without an index"),
    (_program(Measure(0, Ref("f")), variables=(VarDecl("f", ScalarType.FLOAT),)), "float variable"),
    (_program(term=Jump("nowhere")), "undefined label 'nowhere'"),
    (_program(term=Branch(Ref("b"), "entry", "entry")), "undeclared variable 'b'"),
])
def test_validation_errors(program, message):
    with pytest.raises(ProgramError, match=message):
        validate(program)


def test_duplicate_labels_and_variables():
    with pytest.raises(ProgramError, match="defined twice"):
        validate(Program((Block("a"), Block("a")), ()))
    with pytest.raises(ProgramError, match="declared twice"):
        validate(Program((Block("a"),), (VarDecl("x", ScalarType.INT), VarDecl("x", ScalarType.BIT))))


def test_builder_rejects_unknown_gates_and_bad_control_flow():
    b = ProgramBuilder()
    with pytest.raises(ValueError, match="unknown gate"):
        b.gate("FOO", 0)
    with pytest.raises(ValueError, match="break outside a loop"):
        b.break_()


def test_ir_is_immutable():
    from dataclasses import FrozenInstanceError
    p = qasm("output int n; n = 1;")
    with pytest.raises(FrozenInstanceError):
        p.blocks = ()
    with pytest.raises(FrozenInstanceError):
        p.blocks[0].instructions[0].value = Const(2)
    assert isinstance(p.blocks, tuple) and isinstance(p.blocks[0].instructions, tuple)


def test_cfg_dominators_and_loops():
    p = qasm("output int n; for int i in [0:2] { if (i == 1) { n += 1; } } n += 2;")
    cfg = compute_cfg(p)
    assert len(cfg.loops) == 1
    loop = cfg.loops[0]
    assert all(cfg.dominates(loop.header, b) for b in loop.body)
    assert cfg.rpo[0] == p.entry


def test_constant_facts_join_loop_values_to_top():
    p = qasm("output int n; int i; while (i < 3) { i += 1; } n = 5;")
    facts = compute_constants(p)
    header = compute_cfg(p).loops[0].header
    assert facts.entry[header].cl[("i", None)] is TOP
    assert facts.entry[header].cl[("n", None)] == 0


def test_missing_front_end_dependencies_give_a_clear_error(monkeypatch):
    import builtins

    from hqsim.hybrid import MissingDependencyError, parse_qasm_program, parse_quil_program
    real_import = builtins.__import__

    def fake_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.split(".")[0] in ("openqasm3", "quil", "antlr4"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingDependencyError, match=r"openqasm3\[parser\]==1.0.1"):
        parse_qasm_program("OPENQASM 3.0;\n")
    with pytest.raises(MissingDependencyError, match="quil==0.37.2"):
        parse_quil_program("H 0\n")
