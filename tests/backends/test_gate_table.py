"""Every gate of GATES x every parameter kind x every backend here x both dtypes, deterministic
(PennyLane Lightning's Test_GateImplementations_* in spirit):

- the gate on a random 3-qubit state matches its GateSpec matrix applied by hand (and the
  reference backend);
- the gate then its inverse (hqsim.ir.inverse) is the identity;
- the adjoint gradient of every angle matches central finite differences of the float64
  oracle (the generator path of every kernel, per parameter kind).

Random circuits (tests/core/test_backends.py) mix gates; this table names the failing cell.
"""
import numpy as np
import pytest

from hqsim.backends import reference
from hqsim.compile import compile_circuit
from hqsim.ir import GATES, Circuit, PauliString, X, Y, Z, input, weight

from .available import BACKENDS

NUM_QUBITS = 3
BATCH = 3
# Where each arity acts: reversed and non-adjacent qubits catch ordering mistakes.
QUBITS = {1: (1,), 2: (2, 0)}
KINDS = {  # parameter kind -> angle k of the gate (k = 0, 1, 2)
    "const": lambda k: 0.4 + 0.9 * k,
    "weight": lambda k: weight(k),
    "input": lambda k: input(k),
    "affine-weight": lambda k: -1.3 * weight(k) + 0.2,
    "affine-input": lambda k: 0.7 * input(k) - 0.5,
}
CASES = [(name, kind) for name, spec in GATES.items()
         for kind in (KINDS if spec.num_params else ("none",))]
TOL = {np.float64: 1e-10, np.float32: 2e-5}
GRAD_TOL = {np.float64: 1e-6, np.float32: 2e-3}


def _prepared(seed: int) -> tuple[Circuit, np.ndarray]:
    """A circuit that starts with a random constant 3-qubit unitary, and that unitary."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    q, r = np.linalg.qr(z)
    u = q * (np.diag(r) / np.abs(np.diag(r)))
    c = Circuit(NUM_QUBITS, num_weights=3, num_inputs=3)
    c.unitary(u, list(range(NUM_QUBITS)))
    return c, u


def _append_gate(c: Circuit, name: str, kind: str) -> Circuit:
    spec = GATES[name]
    params = [KINDS[kind](k) for k in range(spec.num_params)]
    return c.append(name, QUBITS[spec.num_qubits], params)


def _args(seed: int):
    rng = np.random.default_rng(1000 + seed)
    return rng.uniform(-np.pi, np.pi, size=(BATCH, 3)), rng.uniform(-np.pi, np.pi, size=3)


def _embed(m: np.ndarray, qubits) -> np.ndarray:
    """The 8x8 matrix of gate matrix m on ``qubits`` (qubit 0 most significant)."""
    k = len(qubits)
    order = list(qubits) + [q for q in range(NUM_QUBITS) if q not in qubits]
    full = np.kron(m, np.eye(2 ** (NUM_QUBITS - k))).reshape([2] * (2 * NUM_QUBITS))
    inv = np.argsort(order)
    axes = list(inv) + [NUM_QUBITS + i for i in inv]
    return full.transpose(axes).reshape(8, 8)


def _by_hand(name, kind, u0, x, w) -> np.ndarray:
    spec = GATES[name]
    out = []
    for b in range(BATCH):
        angles = [KINDS[kind](k) for k in range(spec.num_params)]
        vals = [a if isinstance(a, float) else a.value(w, x[b]) for a in angles]
        out.append(_embed(spec.matrix(*vals), QUBITS[spec.num_qubits]) @ u0[:, 0])
    return np.stack(out)


def _states(backend, circuit, x, w, real_dtype):
    compiled = compile_circuit(circuit, [Z(0)], optimize=False)
    _, states = backend.forward(compiled, x, w, real_dtype, True)
    return np.asarray(states)


@pytest.mark.parametrize("name,kind", CASES)
@pytest.mark.parametrize("backend_id,real_dtype", BACKENDS)
def test_gate_matches_its_matrix(name, kind, backend_id, real_dtype, backends):
    c, u0 = _prepared(hash((name, kind)) % 1000)
    c = _append_gate(c, name, kind)
    x, w = _args(1)
    got = _states(backends[backend_id], c, x, w, real_dtype)
    want = _by_hand(name, kind, u0, x, w)
    np.testing.assert_allclose(got, want, atol=TOL[real_dtype])
    np.testing.assert_allclose(reference.statevector(c, x, w), want, atol=1e-12)


@pytest.mark.parametrize("name,kind", CASES)
@pytest.mark.parametrize("backend_id,real_dtype", BACKENDS)
def test_gate_then_inverse_is_identity(name, kind, backend_id, real_dtype, backends):
    c, u0 = _prepared(7)
    gate_only = _append_gate(Circuit(NUM_QUBITS, num_weights=3, num_inputs=3), name, kind)
    c.extend(gate_only.gates).extend(gate_only.inverse().gates)
    x, w = _args(2)
    got = _states(backends[backend_id], c, x, w, real_dtype)
    np.testing.assert_allclose(got, np.broadcast_to(u0[:, 0], got.shape), atol=TOL[real_dtype])


PARAMETRIC = [(n, k) for n, k in CASES if k not in ("none", "const")]
OBSERVABLE = Z(0) @ X(1) + 0.5 * Y(2) + PauliString(((0, "X"), (2, "Z")), -0.3) + 0.8 * Z(1)


@pytest.mark.parametrize("name,kind", PARAMETRIC)
@pytest.mark.parametrize("backend_id,real_dtype", BACKENDS)
def test_adjoint_gradient_matches_finite_differences(name, kind, backend_id, real_dtype, backends):
    c, _ = _prepared(11)
    c = _append_gate(c, name, kind)
    c.extend(_prepared(12)[0].gates)  # a random unitary after the gate: the adjoint walks past it
    x, w = _args(3)
    compiled = compile_circuit(c, [OBSERVABLE])
    cot = np.array([[1.0], [-0.5], [2.0]])
    dw, dx = backends[backend_id].vjp(compiled, x, w, cot, real_dtype, True)

    def f(xx, ww):
        return float(np.sum(cot * reference.expectation(c, [OBSERVABLE], xx, ww)))

    h = 1e-6
    fd_w = np.array([(f(x, w + h * e) - f(x, w - h * e)) / (2 * h) for e in np.eye(3)])
    fd_x = np.zeros_like(x)
    for b in range(BATCH):
        for j in range(3):
            e = np.zeros_like(x)
            e[b, j] = h
            fd_x[b, j] = (f(x + e, w) - f(x - e, w)) / (2 * h)
    np.testing.assert_allclose(np.asarray(dw), fd_w, atol=GRAD_TOL[real_dtype])
    np.testing.assert_allclose(np.asarray(dx), fd_x, atol=GRAD_TOL[real_dtype])
    assert np.abs(fd_w).sum() + np.abs(fd_x).sum() > 1e-3  # the angle does matter here
