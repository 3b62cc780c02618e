"""Shared helpers for the hybrid-optimizer tests: parsing shorthands, the equivalence check
(exact output distributions through the interpreter) and a Hypothesis strategy of random
hybrid programs."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from hqsim.hybrid import (ProgramBuilder, ScalarType, output_distribution, parse_qasm_program,
                          parse_quil_program, total_variation)
from hqsim.hybrid.ir import Binary, Const, Ref, Unary

TOL = 1e-9
HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def qasm(body: str, name: str = "t"):
    """Parse an OpenQASM 3 program (the header is added when missing)."""
    src = body if body.lstrip().startswith("OPENQASM") else HEADER + body
    return parse_qasm_program(src, f"{name}.qasm", name)


def quil(src: str, name: str = "t"):
    return parse_quil_program(src, f"{name}.quil", name)


def distance(a, b, inputs=None, max_paths: int = 20_000) -> float:
    da = output_distribution(a, inputs, max_paths=max_paths)
    db = output_distribution(b, inputs, max_paths=max_paths)
    return total_variation(da.probs, db.probs) + da.missing + db.missing


def assert_equivalent(a, b, inputs=None, tol: float = TOL) -> None:
    """Same output distribution (deterministic programs: same outputs) within ``tol``."""
    d = distance(a, b, inputs)
    assert d <= tol, f"output distributions differ by {d:.3g}\n--- before\n{a}\n--- after\n{b}"


def gates(program) -> list[str]:
    """Names of the gates of a program, in block order."""
    from hqsim.hybrid.ir import GateOp
    return [i.name for i in program.instructions() if isinstance(i, GateOp)]


# -- random programs --------------------------------------------------------------------------
ONE_QUBIT = ("H", "X", "Y", "Z", "S", "Sdg", "T", "SX", "RX", "RY", "RZ", "PhaseShift", "U3")
TWO_QUBIT = ("CNOT", "CZ", "CY", "SWAP", "CRX", "CRZ", "CPhase")
ANGLES = (0.0, math.pi / 2, math.pi, -math.pi / 2, 2 * math.pi, 0.3, -1.1)


class _Gen:
    def __init__(self, draw, n: int):
        self.draw, self.n, self.loops = draw, n, 0
        self.b = ProgramBuilder("random")
        self.q = self.b.qubits(n)
        self.x = self.b.input("x", ScalarType.FLOAT)
        self.bits = self.b.output("c", ScalarType.BIT, 2)
        self.f = self.b.output("f", ScalarType.FLOAT)
        self.i = self.b.output("i", ScalarType.INT)
        self.t = self.b.var("t", ScalarType.FLOAT)

    def value(self, depth: int = 0):
        d = self.draw
        leaves = [Const(d(st.sampled_from(ANGLES))), self.x, self.f, self.t, Ref("i"),
                  self.bits[d(st.integers(0, 1))], Const(d(st.integers(-2, 3)))]
        choice = d(st.integers(0, len(leaves) + (2 if depth < 2 else -1)))
        if choice < len(leaves):
            return leaves[choice]
        if choice == len(leaves):
            return Unary("-", self.value(depth + 1))
        return Binary(d(st.sampled_from(("+", "-", "*"))), self.value(depth + 1), self.value(depth + 1))

    def cond(self):
        d = self.draw
        return Binary(d(st.sampled_from(("==", "<", ">=", "!="))), self.value(1), Const(d(st.integers(0, 1))))

    def statement(self, depth: int) -> None:
        d, b = self.draw, self.b
        kind = d(st.sampled_from(["g1", "g1", "g2", "g2", "measure", "reset", "assign", "assign",
                                  "if", "for", "while"] if depth < 2 else
                                 ["g1", "g2", "measure", "assign"]))
        qs = d(st.permutations(self.q))
        if kind == "g1":
            name = d(st.sampled_from(ONE_QUBIT))
            n_par = {"RX": 1, "RY": 1, "RZ": 1, "PhaseShift": 1, "U3": 3}.get(name, 0)
            b.gate(name, qs[0], params=[self.angle() for _ in range(n_par)])
        elif kind == "g2" and self.n >= 2:
            name = d(st.sampled_from(TWO_QUBIT))
            b.gate(name, qs[0], qs[1], params=[self.angle()] if name in ("CRX", "CRZ", "CPhase") else [])
        elif kind == "measure":
            b.measure(qs[0], self.bits[d(st.integers(0, 1))] if d(st.booleans()) else None)
        elif kind == "reset":
            b.reset(qs[0])
        elif kind == "assign":
            b.assign(d(st.sampled_from([self.f, self.t, Ref("i")])), self.value())
        elif kind == "if":
            with b.if_(self.cond(), has_else=d(st.booleans())) as arms:
                self.body(depth + 1)
                if arms.has_else:
                    arms.else_()
                    self.body(depth + 1)
        elif kind == "for":
            self.loops += 1
            with b.for_range(f"k{self.loops}", 0, d(st.integers(0, 2))):
                self.body(depth + 1)
        elif kind == "while":
            self.loops += 1
            w = b.var(f"w{self.loops}", ScalarType.INT)
            b.assign(w, 0)
            bound = w.lt(d(st.integers(0, 2)))
            if d(st.booleans()):  # also stop on a measured bit: not unrollable
                bound = bound.logical_and(self.bits[0].eq(0))
            with b.while_(bound):
                self.body(depth + 1)
                b.assign(w, w + 1)

    def angle(self):
        return self.value(1) if self.draw(st.booleans()) else Const(self.draw(st.sampled_from(ANGLES)))

    def body(self, depth: int) -> None:
        for _ in range(self.draw(st.integers(1, 3))):
            self.statement(depth)


@st.composite
def random_programs(draw, max_qubits: int = 3, max_statements: int = 8):
    """Random valid hybrid programs: gates (constant and classical angles), measurements,
    resets, arithmetic, if/else, constant-bound for loops and bounded while loops."""
    g = _Gen(draw, draw(st.integers(1, max_qubits)))
    for q in g.q:  # mostly start in superposition so that measurements are random
        prep = draw(st.sampled_from(["", "H", "RY"]))
        if prep:
            g.b.gate(prep, q, params=[g.x + 0.4] if prep == "RY" else [])
    for _ in range(draw(st.integers(1, max_statements))):
        g.statement(0)
    g.b.measure(g.q[0], g.bits[0])
    return g.b.build()


random_inputs = st.fixed_dictionaries({"x": st.sampled_from([0.0, 0.7, -1.3, math.pi / 2])})
