"""The circuit fold pass as the hybrid optimizer runs it: its identity options (checked against
the oracle), ``Segment``s with ``Opaque`` operations, and a non-``Param`` angle type."""
from dataclasses import dataclass

import numpy as np

import hqsim
from hqsim.backends import reference
from hqsim.compile.pass_manager import run_passes
from hqsim.compile.passes import FoldConstants, Opaque, Segment, fold_constants
from hqsim.hybrid.passes import fold as hybrid_fold
from hqsim.ir import Circuit, Gate, Z, weight


def _identity_circuit():
    c = Circuit(2, num_weights=1)
    c.h(0).h(0)                           # a cancelling pair
    c.rx(2 * np.pi, 1)                    # -I: the identity up to a phase
    c.cnot(0, 1).cnot(0, 1)               # a cancelling pair
    c.ry(weight(0), 0).cnot(1, 0)
    return c


def test_compile_default_keeps_phase_identities_and_pairs():
    out = fold_constants(_identity_circuit())
    assert [g.name for g in out] == ["H", "H", "RX", "CNOT", "CNOT", "RY", "CNOT"]


def test_phase_identities_and_cancel_pairs_keep_expectations():
    c = _identity_circuit()
    out = FoldConstants(phase_identities=True, cancel_pairs=True)(c)
    assert [g.name for g in out] == ["RY", "CNOT"]
    w = np.array([0.7])
    obs = [Z(0), Z(1)]
    for o in obs:
        want = reference.expectation(c, [o], np.zeros((1, 0)), w)
        np.testing.assert_allclose(reference.expectation(out, [o], np.zeros((1, 0)), w), want, atol=1e-12)


def test_cancelled_pair_uncovers_the_gate_beneath_in_one_run():
    c = Circuit(1, num_weights=1)
    c.rx(weight(0), 0).ry(0.3, 0).ry(-0.3, 0).rx(weight(0), 0)
    assert [repr(g) for g in fold_constants(c)] == ["RX(2*weight(0))[0]"]


def test_opaque_operations_block_only_their_qubits():
    m = object()
    seg = Segment((Gate("RZ", (0,), (hqsim.const(0.2),)), Gate("RZ", (1,), (hqsim.const(0.1),)),
                   Opaque((0,), m),
                   Gate("RZ", (0,), (hqsim.const(0.3),)), Gate("RZ", (1,), (hqsim.const(0.4),))))
    out = run_passes(seg, [FoldConstants()]).program
    assert isinstance(out, Segment)
    shown = [repr(g) if isinstance(g, Gate) else g.op for g in out.gates]
    assert shown == ["RZ(0.2)[0]", "RZ(0.5)[1]", m, "RZ(0.3)[0]"]


@dataclass(frozen=True)
class Sym:
    """A minimal angle type: a sum of named symbols and a constant."""
    names: tuple
    c: float = 0.0

    @property
    def is_constant(self):
        return not self.names

    def value(self):
        return self.c

    def __add__(self, other):
        return Sym(tuple(sorted(self.names + other.names)), self.c + other.c)


def test_fold_takes_any_angle_type():
    seg = Segment((Gate("CRZ", (0, 1), (Sym(("a",)),)), Gate("CRZ", (0, 1), (Sym(("b",), 1.0),)),
                   Gate("CRZ", (1, 0), (Sym(("c",)),)),             # other roles: no merge
                   Gate("RZ", (1,), (Sym((), 0.0),))))               # angle 0: dropped
    out = FoldConstants()(seg).gates
    assert [(g.name, g.qubits, g.params) for g in out] == [
        ("CRZ", (0, 1), (Sym(("a", "b"), 1.0),)), ("CRZ", (1, 0), (Sym(("c",)),))]


def test_hybrid_peephole_is_the_circuit_fold():
    """hqsim.hybrid's peephole is FoldConstants with both identity options: no twin rules."""
    assert hybrid_fold._PEEPHOLE == FoldConstants(phase_identities=True, cancel_pairs=True)
