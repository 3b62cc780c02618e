"""Every gate of GATES, one at a time, through each exporter that reads its GateSpec names
(OpenQASM 2 and 3, Cirq): the exported gate, run by an independent interpreter (test_qasm's
OpenQASM runner, cirq.unitary), equals the GateSpec's matrix up to a global phase."""
import numpy as np
import pytest

from hqsim.backends import reference
from hqsim.ir import GATES, Circuit

cirq = pytest.importorskip("cirq")
pytest.importorskip("openqasm3")

from hqsim.interop.cirq import to_cirq  # noqa: E402
from hqsim.interop.qasm import to_qasm  # noqa: E402

from .test_qasm import run_qasm  # noqa: E402

ANGLES = (0.37, -1.21, 2.05)


def _one_gate(name: str) -> Circuit:
    spec = GATES[name]
    c = Circuit(spec.num_qubits)
    for q in range(spec.num_qubits):  # a state on which every gate acts visibly
        c.ry(0.3 + 0.4 * q, q).rz(0.9 - 0.2 * q, q)
    c.append(name, tuple(range(spec.num_qubits)), list(ANGLES[:spec.num_params]))
    return c


@pytest.mark.parametrize("version", ["2.0", "3.0"])
@pytest.mark.parametrize("name", sorted(GATES))
def test_qasm_export_of_each_gate(name, version):
    c = _one_gate(name)
    got = run_qasm(to_qasm(c, version, measure=False))
    want = reference.statevector(c, np.zeros((1, 0)), np.zeros(0))[0]
    assert cirq.allclose_up_to_global_phase(got, want, atol=1e-10)


@pytest.mark.parametrize("name", sorted(GATES))
def test_cirq_export_of_each_gate(name):
    spec = GATES[name]
    c = Circuit(spec.num_qubits)
    c.append(name, tuple(range(spec.num_qubits)), list(ANGLES[:spec.num_params]))
    got = to_cirq(c).unitary(qubit_order=cirq.LineQubit.range(spec.num_qubits))
    assert cirq.allclose_up_to_global_phase(got, spec.matrix(*ANGLES[:spec.num_params]), atol=1e-12)


@pytest.mark.parametrize("name", sorted(n for n in GATES if not GATES[n].decomposition))
def test_cirq_noise_model_reads_each_exported_gate_back(name):
    """NoiseModel.to_cirq picks a gate's channel by the hqsim name of each Cirq op to_cirq wrote."""
    from hqsim.noise.cirq_model import hqsim_gate_name
    spec = GATES[name]
    c = Circuit(spec.num_qubits)
    c.append(name, tuple(range(spec.num_qubits)), list(ANGLES[:spec.num_params]))
    ops = list(to_cirq(c).all_operations())
    assert [hqsim_gate_name(op.gate) for op in ops] == [name]
