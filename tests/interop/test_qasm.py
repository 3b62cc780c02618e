"""OpenQASM export: parsed by the reference OpenQASM 3 parser and run by a small independent
state-vector interpreter of the standard gates, then compared with hqsim."""
import math

import numpy as np
import pytest

import hqsim

cirq = pytest.importorskip("cirq")
openqasm3 = pytest.importorskip("openqasm3")
from openqasm3 import ast  # noqa: E402

from hqsim.interop.google import compile_for_google  # noqa: E402
from hqsim.interop.ionq import compile_for_ionq  # noqa: E402
from hqsim.interop.qasm import to_qasm  # noqa: E402

from .helpers import random_args, random_circuit  # noqa: E402

C128 = np.dtype("complex128")
_X = np.array([[0, 1], [1, 0]], complex)
_Y = np.array([[0, -1j], [1j, 0]])
_Z = np.diag([1.0 + 0j, -1.0])


def _r(p, a):
    return math.cos(a / 2) * np.eye(2) - 1j * math.sin(a / 2) * p


def _u3(t, p, l):
    c, s = math.cos(t / 2), math.sin(t / 2)
    return np.array([[c, -np.exp(1j * l) * s], [np.exp(1j * p) * s, np.exp(1j * (p + l)) * c]])


def _ctrl(u):
    out = np.eye(4, dtype=complex)
    out[2:, 2:] = u
    return out


GATES = {
    "h": lambda: np.array([[1, 1], [1, -1]]) / math.sqrt(2), "x": lambda: _X, "y": lambda: _Y,
    "z": lambda: _Z, "s": lambda: np.diag([1, 1j]), "sdg": lambda: np.diag([1, -1j]),
    "t": lambda: np.diag([1, np.exp(1j * math.pi / 4)]), "tdg": lambda: np.diag([1, np.exp(-1j * math.pi / 4)]),
    "sx": lambda: np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2,
    "sxdg": lambda: np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]]) / 2,
    "rx": lambda a: _r(_X, a), "ry": lambda a: _r(_Y, a), "rz": lambda a: _r(_Z, a),
    "p": lambda a: np.diag([1, np.exp(1j * a)]), "u1": lambda a: np.diag([1, np.exp(1j * a)]),
    "u3": _u3, "U": _u3, "u2": lambda p, l: _u3(math.pi / 2, p, l), "cx": lambda: _ctrl(_X), "cz": lambda: _ctrl(_Z),
    "swap": lambda: np.eye(4)[[0, 2, 1, 3]], "crx": lambda a: _ctrl(_r(_X, a)),
    "cry": lambda a: _ctrl(_r(_Y, a)), "crz": lambda a: _ctrl(_r(_Z, a)),
    "cu3": lambda t, p, l: _ctrl(_u3(t, p, l)),
}
_OPS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


def _eval(e, env):
    if isinstance(e, (ast.FloatLiteral, ast.IntegerLiteral)):
        return float(e.value)
    if isinstance(e, ast.Identifier):
        return math.pi if e.name in ("pi", "π") else env[e.name]
    if isinstance(e, ast.UnaryExpression):
        assert e.op.name == "-"
        return -_eval(e.expression, env)
    if isinstance(e, ast.BinaryExpression):
        return float(_OPS[e.op.name](_eval(e.lhs, env), _eval(e.rhs, env)))
    raise AssertionError(f"unexpected expression {e}")


def run_qasm(text, env=None):
    """Final state (qubit 0 most significant) of an OpenQASM 2/3 program of standard gates."""
    prog = openqasm3.parse(text)
    psi = n = None
    declared = set()
    for st in prog.statements:
        if isinstance(st, ast.QubitDeclaration):
            n = st.size.value
            psi = np.zeros((2,) * n, complex)
            psi[(0,) * n] = 1
        elif isinstance(st, ast.IODeclaration):
            declared.add(st.identifier.name)
        elif isinstance(st, ast.QuantumGate):
            m = GATES[st.name.name](*[_eval(a, env or {}) for a in st.arguments])
            qs = [q.indices[0][0].value for q in st.qubits]
            k = len(qs)
            t = np.moveaxis(psi, qs, range(k)).reshape(2 ** k, -1)
            psi = np.moveaxis((m @ t).reshape((2,) * n), range(k), qs)
    assert declared == set(env or {}), (declared, env)
    return psi.reshape(-1)


@pytest.mark.parametrize("version", ["2.0", "3.0"])
@pytest.mark.parametrize("seed", range(4))
def test_exported_program_runs_to_the_same_state(seed, version):
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, num_qubits=3, num_gates=30)
    c = c.replace_gates([g for g in c.gates if not (g.name == "Unitary" and len(g.qubits) > 1)])
    x, w = random_args(rng, c)
    got = run_qasm(to_qasm(c, version, weights=w, inputs=x[0]))
    assert cirq.allclose_up_to_global_phase(got, hqsim.statevector(c, x, w, dtype=C128)[0], atol=1e-10)


def test_qasm3_keeps_unbound_inputs_as_input_parameters():
    c = hqsim.Circuit(2, num_inputs=2, num_weights=1)
    c.ry(hqsim.input(0), 0).rz(0.5 * hqsim.input(1) + 0.25, 1).cnot(0, 1).rzz(hqsim.weight(0), 0, 1)
    text = to_qasm(c, "3.0", weights=[0.75])
    assert text == "\n".join([
        "OPENQASM 3.0;", 'include "stdgates.inc";', "input float[64] x0;", "input float[64] x1;",
        "qubit[2] q;", "bit[2] c;", "ry(x0) q[0];", "rz((0.5*x1 + 0.25)) q[1];", "cx q[0], q[1];",
        "cx q[0], q[1];", "rz(0.75) q[1];", "cx q[0], q[1];", "c = measure q;", ""])
    for x in ([0.3, -1.2], [2.0, 0.1]):
        want = hqsim.statevector(c, np.array([x]), np.array([0.75]), dtype=C128)[0]
        got = run_qasm(text, {"x0": x[0], "x1": x[1]})
        assert cirq.allclose_up_to_global_phase(got, want, atol=1e-12)
    with pytest.raises(ValueError, match="OpenQASM 2 has no runtime parameters: bind w0, x0, x1"):
        to_qasm(c, "2.0")
    with pytest.raises(ValueError, match="version must be 2.0 or 3.0"):
        to_qasm(c, "4")


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_compiled_circuits_export_through_cirq(version):
    c = hqsim.ansatz.rpqc(3, reuploads=1, layers=1)
    rng = np.random.default_rng(2)
    w, x = rng.uniform(-np.pi, np.pi, c.num_weights), rng.uniform(-np.pi, np.pi, (1, 3))
    want = hqsim.statevector(c, x, w, dtype=C128)[0]
    ionq, _ = compile_for_ionq(c, "qis", weights=w, inputs=x)
    assert cirq.allclose_up_to_global_phase(run_qasm(to_qasm(ionq, version)), want, atol=1e-8)
    google = compile_for_google(c, "rainbow", "cz", weights=w, inputs=x).circuit
    state = run_qasm(to_qasm(google, version))  # qubits in sorted (physical) order
    expected = cirq.final_state_vector(google, qubit_order=sorted(google.all_qubits()), dtype=np.complex128)
    assert cirq.allclose_up_to_global_phase(state, expected, atol=1e-8)


def test_symbolic_compiled_circuit_exports_with_inputs():
    c = hqsim.ansatz.rpqc(2, reuploads=1, layers=1)
    w = np.linspace(-1, 1, c.num_weights)
    google = compile_for_google(c, "rainbow", "cz", weights=w).circuit
    text = to_qasm(google, "3.0")
    x = {"x0": 0.4, "x1": -0.9}
    expected = cirq.final_state_vector(cirq.resolve_parameters(google, x),
                                       qubit_order=sorted(google.all_qubits()), dtype=np.complex128)
    assert cirq.allclose_up_to_global_phase(run_qasm(text, x), expected, atol=1e-10)


def test_two_qubit_unitaries_and_amplitude_encoding_go_through_cirq():
    enc = hqsim.ansatz.amplitude_encoder(2, 3, layers=1, connectivity=1)
    x, w = np.array([[0.3, -0.5, 0.8]]), np.array([0.1, 0.2])
    text = to_qasm(enc, "3.0", weights=w, inputs=x[0])
    assert cirq.allclose_up_to_global_phase(run_qasm(text), hqsim.statevector(enc, x, w, dtype=C128)[0],
                                            atol=1e-8)
