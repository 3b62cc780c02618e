"""Liveness analysis and dead-code elimination: meaning preserved, exact output, idempotence."""
from hqsim.hybrid import DceOptions, compute_liveness, eliminate_dead_code, print_qasm
from hqsim.hybrid.ir import GateOp, Measure, Reset

from .hybrid_helpers import assert_equivalent, gates, qasm, quil


def eliminated(p, inputs=None, **options):
    out = eliminate_dead_code(p, DceOptions(**options))
    assert_equivalent(p, out, inputs)
    assert eliminate_dead_code(out, DceOptions(**options)) == out
    return out


def test_dead_classical_code_is_removed():
    p = qasm("""input float[64] x; output float[64] y; float[64] junk; int n;
        junk = x * 3; n = 4; y = x + 1; junk = junk + y;""")
    out = eliminated(p, {"x": 0.5})
    assert [str(v.name) for v in out.variables] == ["x", "y"]
    assert print_qasm(out).endswith("y = x + 1;\n")


def test_gates_outside_the_light_cone_are_removed():
    p = qasm("""output bit c; qubit[4] q;
        h q[0]; h q[1]; cx q[1], q[2]; t q[2]; cx q[0], q[1]; h q[3]; rz(0.2) q[0];
        c = measure q[0];""")
    out = eliminated(p)
    # backward from q[0]: cx q[0],q[1] pulls in q[1], then cx q[1],q[2] pulls in q[2] (but not
    # the later t q[2]); q[3] is never coupled to q[0]
    assert gates(out) == ["H", "H", "CNOT", "CNOT", "RZ"]
    assert out.num_qubits == 3


def test_light_cone_follows_entangling_gates_backwards():
    p = qasm("""output bit c; qubit[3] q; h q[2]; cx q[2], q[1]; cx q[1], q[0]; c = measure q[0];""")
    out = eliminated(p)
    assert gates(out) == ["H", "CNOT", "CNOT"]


def test_unused_qubits_are_compacted_and_registers_shrink():
    p = qasm("output bit[2] c; qubit[2] a; qubit[3] b; x a[1]; h b[2]; "
             "c[0] = measure a[1]; c[1] = measure b[2];")
    out = eliminated(p)
    assert [(r.name, r.size) for r in out.registers] == [("a", 1), ("b", 1)]
    assert "x a[0];" in print_qasm(out) and "c[1] = measure b[0];" in print_qasm(out)


def test_compaction_can_be_switched_off():
    p = qasm("output bit c; qubit[3] q; h q[2]; c = measure q[2];")
    assert eliminated(p, compact_qubits=False).num_qubits == 3
    assert eliminated(p).num_qubits == 1


def test_measurement_with_dead_result_is_kept_while_its_qubit_is_live():
    # the measurement collapses q[0] before the CNOT copies it: removing it changes c
    p = qasm("""output bit c; qubit[2] q; bit junk; h q[0]; junk = measure q[0];
        cx q[0], q[1]; h q[0]; c = measure q[0];""")
    out = eliminated(p)
    assert sum(isinstance(i, Measure) for i in out.instructions()) == 2


def test_measurement_of_dead_qubit_with_dead_result_is_removed():
    p = qasm("output bit c; qubit[2] q; bit junk; h q[1]; cx q[1], q[0]; junk = measure q[1]; "
             "c = measure q[0];")
    out = eliminated(p)
    assert sum(isinstance(i, Measure) for i in out.instructions()) == 1
    assert gates(out) == ["H", "CNOT"]  # the CNOT still matters: it entangles q[0]


def test_reset_kills_liveness_of_earlier_local_gates():
    p = qasm("""output bit[2] c; qubit[2] q; h q[0]; cx q[0], q[1]; t q[1]; h q[1]; reset q[1];
        x q[1]; c = measure q;""")
    out = eliminated(p)
    assert gates(out) == ["H", "CNOT", "X"]  # t, h on q[1] before the reset are unobservable
    assert any(isinstance(i, Reset) for i in out.instructions())


def test_reset_of_dead_qubit_is_removed():
    p = qasm("output bit c; qubit[2] q; h q[0]; reset q[1]; c = measure q[0];")
    assert not any(isinstance(i, Reset) for i in eliminated(p).instructions())


def test_liveness_across_a_loop_keeps_loop_carried_values():
    p = qasm("""output int n; int i; int waste; while (i < 4) { n = n + i; waste = waste + n; i = i + 1; }""")
    out = eliminated(p)
    text = print_qasm(out)
    assert "waste" not in text and "n = n + i;" in text and "i = i + 1;" in text


def test_gate_angle_variables_stay_live():
    p = qasm("""input float[64] x; output bit c; qubit[1] q; float[64] a; a = x * 2;
        h q[0]; rz(a) q[0]; h q[0]; c = measure q[0];""")
    out = eliminated(p, {"x": 0.9})
    assert "a = x * 2;" in print_qasm(out)


def test_compute_liveness_facts():
    p = qasm("input float[64] x; output bit c; qubit[2] q; rz(x) q[1]; h q[0]; c = measure q[0];")
    facts = compute_liveness(p)
    live = facts.live_in[p.entry]
    assert live.qubits == frozenset({0}) and ("x", None) not in live.classical


def test_quil_program_without_output_pragma_keeps_all_memory():
    p = quil("DECLARE a INTEGER\nDECLARE b INTEGER\nMOVE a 3\nMOVE b 4\nH 0\n")
    out = eliminated(p)
    assert len(list(out.instructions())) == 2  # every region is an output; H 0 is dead
    assert not any(isinstance(i, GateOp) for i in out.instructions())
