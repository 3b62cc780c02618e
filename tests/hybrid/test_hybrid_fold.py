"""fold_constants: classical constant propagation, quantum (Pauli-state) propagation, rotation
merging, branch folding. Each case: exact expected output, meaning preserved, idempotence."""
import math

import pytest

from hqsim.hybrid import FoldOptions, fold_constants, print_qasm
from hqsim.hybrid.ir import Assign, Const, GateOp, Measure, Ref

from .hybrid_helpers import assert_equivalent, gates, qasm


def folded(src, inputs=None, **options):
    p = qasm(src)
    out = fold_constants(p, FoldOptions(**options))
    assert_equivalent(p, out, inputs)
    assert fold_constants(out, FoldOptions(**options)) == out  # idempotent
    return out


def body(program) -> str:
    """The printed program without its header and declarations."""
    lines = print_qasm(program).splitlines()
    return "\n".join(l for l in lines if not l.startswith(("OPENQASM", "include", "//", "input",
                                                          "output", "qubit", "int", "float", "bit", "bool", "array")))


def test_classical_constants_are_propagated_and_folded():
    out = folded("""output float[64] y; output int n; qubit[1] q;
        float[64] a = 0.5; int k = 3;
        y = a * k + 1; n = k * k - 1 + 7 / 2;
        rx(y) q[0];""")
    assert body(out) == "a = 0.5;\nk = 3;\ny = 2.5;\nn = 11;\nrx(2.5) q[0];"


def test_hybrid_gate_becomes_quantum_when_its_angle_is_constant():
    out = folded("""output bit c; qubit[1] q; float[64] t = pi / 4;
        ry(2 * t) q[0]; c = measure q[0];""")
    ry = [i for i in out.instructions() if isinstance(i, GateOp)][0]
    assert ry.params == (Const(math.pi / 2),)


def test_inputs_are_not_constants():
    out = folded("input float[64] x; output float[64] y; y = x * 2 + 3 * 4;", {"x": 0.25})
    assert body(out) == "y = x * 2 + 12;"


def test_cnot_with_control_known_zero_disappears():
    out = folded("output bit[2] c; qubit[2] q; cx q[0], q[1]; h q[1]; c = measure q;")
    assert gates(out) == ["H"]


def test_cnot_with_control_known_one_becomes_x():
    out = folded("output bit[2] c; qubit[2] q; x q[0]; cx q[0], q[1]; h q[0]; c = measure q;")
    assert gates(out) == ["X", "X", "H"]


def test_cnot_with_target_minus_becomes_z_on_control():
    out = folded("""output bit[2] c; qubit[2] q; h q[0]; x q[1]; h q[1];
        cx q[0], q[1]; h q[0]; c = measure q;""")
    assert gates(out) == ["H", "X", "H", "Z", "H"]


def test_cnot_with_target_plus_disappears():
    out = folded("output bit[2] c; qubit[2] q; h q[0]; h q[1]; cx q[0], q[1]; c = measure q;")
    assert gates(out) == ["H", "H"]


def test_phase_on_basis_state_and_symmetric_cz():
    out = folded("""output bit[2] c; qubit[2] q; rz(0.3) q[0]; t q[0]; h q[1];
        cz q[1], q[0]; c = measure q;""")
    assert gates(out) == ["H"]


def test_measurement_of_known_basis_state_becomes_assignment():
    out = folded("output bit[2] c; qubit[2] q; x q[1]; c = measure q;")
    assert [i for i in out.instructions() if not isinstance(i, GateOp)] == [
        Assign(Ref("c", Const(0)), Const(0)), Assign(Ref("c", Const(1)), Const(1))]


def test_reset_of_zero_qubit_disappears_but_not_after_a_gate():
    out = folded("output bit c; qubit[1] q; reset q[0]; h q[0]; reset q[0]; c = measure q[0];")
    assert body(out) == "h q[0];\nreset q[0];\nc = 0;"


def test_hybrid_rotation_on_its_own_axis_eigenstate_is_dropped():
    out = folded("input float[64] x; output bit c; qubit[1] q; rz(x) q[0]; h q[0]; rx(x) q[0]; "
                 "h q[0]; c = measure q[0];", {"x": 0.4})
    assert gates(out) == []


def test_same_axis_rotations_merge_and_identities_vanish():
    out = folded("""input float[64] x; output bit c; qubit[1] q; h q[0];
        rz(0.25) q[0]; rz(0.5) q[0]; rx(x) q[0]; rx(1.0) q[0]; ry(pi) q[0]; ry(pi) q[0];
        s q[0]; sdg q[0]; c = measure q[0];""", {"x": 0.3})
    assert body(out) == "h q[0];\nrz(0.75) q[0];\nrx(x + 1.0) q[0];\nc = measure q[0];"


def test_symmetric_additive_gates_merge_in_either_qubit_order():
    """CPhase is symmetric (hqsim.ir.gates: the rule hqsim.compile's fold reads too)."""
    out = folded("""input float[64] x; output bit[2] c; qubit[2] q; h q[0]; h q[1];
        cp(x) q[0], q[1]; cp(0.5) q[1], q[0]; crz(0.5) q[0], q[1]; crz(0.5) q[1], q[0];
        c = measure q;""", {"x": 0.3})
    assert body(out).splitlines()[2:5] == ["cp(x + 0.5) q[0], q[1];", "crz(0.5) q[0], q[1];",
                                           "crz(0.5) q[1], q[0];"]


def test_hybrid_rotations_do_not_merge_across_a_write_of_their_variable():
    out = folded("""input float[64] x; output bit c; qubit[1] q; float[64] a; h q[0];
        a = x; rz(a) q[0]; a = a * 2; rz(a) q[0]; c = measure q[0];""", {"x": 0.3})
    assert gates(out) == ["H", "RZ", "RZ"]


def test_constant_branch_is_folded_and_dead_arm_removed():
    out = folded("""output bit c; qubit[1] q; int mode = 2;
        if (mode == 1) { x q[0]; } else { h q[0]; }
        c = measure q[0];""")
    assert body(out) == "mode = 2;\nh q[0];\nc = measure q[0];"
    assert len(out.blocks) == 1


def test_branch_on_measured_value_is_kept():
    out = folded("""output bit[2] c; qubit[2] q; h q[0]; c[0] = measure q[0];
        if (c[0]) { x q[1]; } c[1] = measure q[1];""")
    assert len(out.blocks) > 1
    assert "if (c[0])" in print_qasm(out)


def test_quantum_propagation_can_be_switched_off():
    out = folded("output bit[2] c; qubit[2] q; cx q[0], q[1]; c = measure q;", quantum=False)
    assert gates(out) == ["CNOT"]
    assert any(isinstance(i, Measure) for i in out.instructions())


def test_loop_carried_values_are_not_folded():
    out = folded("""output int n; int i = 0; while (i < 3) { i += 1; n = n + i; }""")
    assert body(out).count("i = i + 1") == 1


@pytest.mark.parametrize("angle", [0.0, 2 * math.pi, 4 * math.pi])
def test_rotation_by_multiple_of_two_pi_is_removed(angle):
    out = folded(f"output bit c; qubit[1] q; h q[0]; rx({angle}) q[0]; c = measure q[0];")
    assert gates(out) == ["H"]


def test_toffoli_with_one_control_one_becomes_cnot():
    out = folded("output bit[3] c; qubit[3] q; x q[0]; h q[1]; ccx q[0], q[1], q[2]; c = measure q;")
    assert gates(out) == ["X", "H", "CNOT"]
    assert [i.qubits for i in out.instructions() if isinstance(i, GateOp)][-1] == (1, 2)
