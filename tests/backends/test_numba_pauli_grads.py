"""The Numba backend's adjoint step of single-qubit ops reads the gradient off three Pauli sums of
the op's output states (numba_lane_kernels.undo_1q) weighted per factor by H = A G A^dagger
(numba_op_steps.u1_pauli_grads): checked against the float64 oracle and finite differences on
ops whose input-dependent factors sit first, in the middle and last (the per-lane walk), with
every factor type (RX, RY, RZ, PhaseShift, constant gates), CNOT-fused ops and padding lanes."""
import numpy as np
import pytest

from hqsim.api import compile_circuit
from hqsim.backends import numba_cpu, reference
from hqsim.ir import Circuit, input, weight
from hqsim.program import OP_CXU1, OP_U1

from core.random_circuits import random_observables

ROTATIONS = ("RX", "RY", "RZ", "PhaseShift")


def _runs_circuit(rng, nq, n_runs, run_len, n_inputs=3, n_weights=6):
    """Runs of single-qubit gates (each run fuses into one U1 op), a CNOT after each run; every
    factor's angle is a weight, an input, or a constant, in random positions."""
    c = Circuit(nq, num_weights=n_weights, num_inputs=n_inputs)
    for _ in range(n_runs):
        q = int(rng.integers(nq))
        for _ in range(run_len):
            kind = rng.integers(4)
            if kind == 3:
                c.append(["H", "S", "T", "SX"][int(rng.integers(4))], [q])
                continue
            name = ROTATIONS[int(rng.integers(len(ROTATIONS)))]
            if kind == 0:
                p = float(rng.uniform(-2, 2)) * input(int(rng.integers(n_inputs))) + float(rng.uniform(-1, 1))
            elif kind == 1:
                p = float(rng.uniform(-2, 2)) * weight(int(rng.integers(n_weights)))
            else:
                p = float(rng.uniform(-3, 3))
            c.append(name, [q], [p])
        if nq > 1:
            t = int(rng.integers(nq - 1))
            c.cnot(q, t if t < q else t + 1)
    return c


@pytest.mark.parametrize("real_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(8))
def test_gradients_of_mixed_factor_runs_match_the_oracle(real_dtype, seed):
    rng = np.random.default_rng(100 + seed)
    nq = int(rng.integers(1, 8))
    c = _runs_circuit(rng, nq, int(rng.integers(3, 12)), int(rng.integers(2, 7)))
    obs = random_observables(rng, nq)
    program = compile_circuit(c, obs).program
    assert np.isin(program.ops[:, 0], (OP_U1, OP_CXU1)).any()
    batch = int(rng.integers(1, 40))
    x = rng.uniform(-np.pi, np.pi, size=(batch, c.num_inputs))
    w = rng.uniform(-np.pi, np.pi, size=c.num_weights)
    cot = rng.normal(size=(batch, len(obs)))
    want_dw, want_dx = reference.vjp(c, obs, x, w, cot)
    got_dw, got_dx = numba_cpu.vjp(program, x, w, cot, real_dtype)
    tol = 1e-10 if real_dtype == np.float64 else 3e-4
    np.testing.assert_allclose(got_dw, want_dw, atol=tol * max(1, batch / 8))
    np.testing.assert_allclose(got_dx, want_dx, atol=tol)


def test_input_factor_last_needs_the_per_lane_walk_and_agrees_with_finite_differences():
    """RZ(w0) RX(x0) RY(w1) PhaseShift(x1) on one qubit then a CNOT: the weights' H depend on
    the lane (an input factor after them); finite differences of the forward pass."""
    c = Circuit(2, num_weights=2, num_inputs=2)
    c.rz(weight(0), 0).rx(0.7 * input(0) + 0.2, 0).ry(weight(1), 0).phase(input(1), 0)
    c.ry(weight(1), 1).cnot(0, 1).rx(input(1), 1)
    program = compile_circuit(c).program
    rng = np.random.default_rng(3)
    x, w = rng.uniform(-2, 2, size=(5, 2)), rng.uniform(-2, 2, size=2)
    cot = rng.normal(size=(5, 2))
    dw, dx = numba_cpu.vjp(program, x, w, cot, np.float64)

    def loss(x_, w_):
        out, _ = numba_cpu.forward(program, x_, w_, np.float64)
        return float(np.sum(out * cot))

    h = 1e-6
    fd_w = [(loss(x, w + h * e) - loss(x, w - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(dw, fd_w, atol=1e-7)
    fd_x = np.zeros_like(x)
    for b in range(x.shape[0]):
        for i in range(2):
            e = np.zeros_like(x)
            e[b, i] = h
            fd_x[b, i] = (loss(x + e, w) - loss(x - e, w)) / (2 * h)
    np.testing.assert_allclose(dx, fd_x, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_pass_adjoint_kernel_against_complex_arithmetic(dtype):
    """undo_1q's arithmetic (the three-multiply matrix product, the three Pauli sums, the sums on
    the stack) against NumPy complex arithmetic: psi <- V psi, lam <- V lam row pair by row pair,
    and tz, gx, gy = Im <lam|Z|psi>, Im <lam|X|psi>, Im <lam|Y|psi> over the output states."""
    from hqsim.backends import numba_lane_kernels as lk
    L, n, bit = lk.LANES, 16, 4
    rng = np.random.default_rng(5)
    psi = rng.normal(size=(n, L)) + 1j * rng.normal(size=(n, L))
    lam = rng.normal(size=(n, L)) + 1j * rng.normal(size=(n, L))
    v = rng.normal(size=(L, 2, 2)) + 1j * rng.normal(size=(L, 2, 2))  # any matrix: the kernel is plain algebra
    c = np.zeros(8 * L)
    for e in range(4):
        c[2 * e * L:(2 * e + 1) * L] = v.reshape(L, 4)[:, e].real
        c[(2 * e + 1) * L:(2 * e + 2) * L] = v.reshape(L, 4)[:, e].imag
    arrays = [np.ascontiguousarray(a, dtype) for a in (psi.real, psi.imag, lam.real, lam.imag)]
    flat = [a.reshape(-1) for a in arrays]
    sums = np.full(lk.PAULI_SUMS * L, 0.5, dtype)  # the kernel adds to what is there
    lk.undo_1q(*flat, n, bit, 0, c.astype(dtype), sums, 0, 1)

    rows0 = np.array([r for r in range(n) if not r & bit])
    x, y, lx, ly = psi[rows0], psi[rows0 + bit], lam[rows0], lam[rows0 + bit]
    want_tz = np.sum(np.imag(np.conj(lx) * x - np.conj(ly) * y), axis=0)
    want_gx = np.sum(np.imag(np.conj(lx) * y + np.conj(ly) * x), axis=0)
    want_gy = np.sum(np.imag(-1j * np.conj(lx) * y + 1j * np.conj(ly) * x), axis=0)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    scale = np.abs(psi).max() * np.abs(lam).max() * n
    for s, want in enumerate((want_tz, want_gx, want_gy)):
        np.testing.assert_allclose(sums[s * L:(s + 1) * L] - 0.5, want, atol=tol * scale)
    out_psi, out_lam = psi.copy(), lam.copy()
    for a, (x0, x1) in ((out_psi, (x, y)), (out_lam, (lx, ly))):
        a[rows0] = v[:, 0, 0] * x0 + v[:, 0, 1] * x1
        a[rows0 + bit] = v[:, 1, 0] * x0 + v[:, 1, 1] * x1
    got_psi = arrays[0] + 1j * arrays[1]
    got_lam = arrays[2] + 1j * arrays[3]
    scale = np.abs(v).max() * max(np.abs(psi).max(), np.abs(lam).max())
    np.testing.assert_allclose(got_psi, out_psi, atol=tol * scale)
    np.testing.assert_allclose(got_lam, out_lam, atol=tol * scale)

