"""W1 and W2 against circuits built independently, by hand, in Cirq (its own simulator)."""
import numpy as np
import pytest

import hqsim

cirq = pytest.importorskip("cirq")


def _z_expectations(circuit, qubits, initial_state=None):
    state = cirq.Simulator(dtype=np.complex128).simulate(
        circuit, qubit_order=qubits, initial_state=initial_state).final_state_vector
    probs = np.abs(state) ** 2
    n = len(qubits)
    idx = np.arange(2 ** n)
    return np.array([np.sum(probs * (1 - 2 * ((idx >> (n - 1 - q)) & 1))) for q in range(n)])


def test_w1_rpqc_against_cirq():
    q_n, r_n, l_n, c_n = 4, 3, 2, 1
    rng = np.random.default_rng(0)
    x = rng.uniform(-np.pi, np.pi, size=(3, q_n))
    theta = rng.uniform(-np.pi, np.pi, size=(r_n, l_n, q_n, 3))
    got = hqsim.expectation(hqsim.ansatz.rpqc(q_n, r_n, l_n, c_n), x, theta.reshape(-1))
    qs = cirq.LineQubit.range(q_n)
    for b in range(3):
        ops = []
        for r in range(r_n):
            ops += [cirq.ry(x[b, q]).on(qs[q]) for q in range(q_n)]
            for l in range(l_n):
                for q in range(q_n):
                    ops += [cirq.rz(theta[r, l, q, 0]).on(qs[q]), cirq.ry(theta[r, l, q, 1]).on(qs[q]),
                            cirq.rz(theta[r, l, q, 2]).on(qs[q])]
                ops += [cirq.CNOT(qs[q], qs[(q + c_n) % q_n]) for q in range(q_n)]
        np.testing.assert_allclose(got[b], _z_expectations(cirq.Circuit(ops), qs), atol=1e-9)


def test_w2_encoder_and_qpu_module_against_cirq():
    q_n, d, m_layers, conn = 4, 11, 2, 2
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(2, d))
    enc = hqsim.ansatz.amplitude_encoder(q_n, d, m_layers, conn)
    we = rng.uniform(-np.pi, np.pi, size=enc.num_weights)
    got = hqsim.expectation(enc, emb, we)
    qs = cirq.LineQubit.range(q_n)

    def ring(ws, layers):
        ops, k = [], 0
        for _ in range(layers):
            for c in range(1, conn + 1):
                for j in range(q_n):
                    ops += [cirq.CNOT(qs[j], qs[(j + c) % q_n]), cirq.ry(ws[k]).on(qs[(j + c) % q_n])]
                    k += 1
        return ops

    for b in range(2):
        init = np.zeros(2 ** q_n, dtype=np.complex128)
        init[:d] = emb[b] / np.linalg.norm(emb[b])
        want = _z_expectations(cirq.Circuit(ring(we, m_layers)), qs, initial_state=init)
        np.testing.assert_allclose(got[b], want, atol=1e-9)

    mod = hqsim.ansatz.reuploading_module(q_n, blocks=3, pqc1_layers=1, pqc2_layers=2, connectivity=conn)
    wm = rng.uniform(-np.pi, np.pi, size=mod.num_weights)
    angles = got  # encoder outputs feed the QPU module, as in the model
    out = hqsim.expectation(mod, angles, wm, observables=[hqsim.Z(0)])
    n1 = conn * q_n
    for b in range(2):
        ops = []
        for _ in range(3):
            ops += [cirq.ry(angles[b, q]).on(qs[q]) for q in range(q_n)]
            ops += ring(wm[:n1], 1)
        ops += ring(wm[n1:], 2)
        np.testing.assert_allclose(out[b, 0], _z_expectations(cirq.Circuit(ops), qs)[0], atol=1e-9)
