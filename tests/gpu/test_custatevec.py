"""The cuStateVec backend.

On any machine: its torch factor matrices and derivatives against the Numba backend's, and
its whole forward and adjoint logic on the CPU with a stand-in for cuStateVec written from the
documented semantics (targets[0] is the least significant bit of a matrix index). On a GPU
with cuquantum-python: the real library against the oracle and the Numba backend.
"""
import numpy as np
import pytest
import torch

from hqsim.backends import custatevec as csv_mod
from hqsim.backends import numba_cpu, reference
from hqsim.backends.numba_cpu import numba_program
from hqsim.backends.numba_matrices import op_matrix
from hqsim.program import OP_U1, OP_U2

from .helpers import random_case


class FakeCuStateVec:
    """apply_matrix_batched / compute_expectation_batched in torch, per the cuStateVec docs."""

    @staticmethod
    def create():
        return 1

    @staticmethod
    def set_stream(handle, stream):
        pass

    @staticmethod
    def apply_matrix_batched_get_workspace_size(*args):
        return 0

    @staticmethod
    def compute_expectation_batched_get_workspace_size(*args):
        return 0

    registry = {}

    @classmethod
    def _tensor(cls, ptr):
        return cls.registry[ptr]

    @classmethod
    def _matrix_op(cls, psi, mats, targets, adjoint=False):
        batch, n = psi.shape
        q = n.bit_length() - 1
        k = len(targets)
        if adjoint:
            mats = mats.conj().transpose(-1, -2)
        # index bit b of the state = axis q-1-b of the (2,)*q view; targets[0] is the matrix LSB
        t = psi.reshape((batch,) + (2,) * q)
        axes = [1 + (q - 1 - b) for b in reversed(targets)]  # matrix MSB first
        t = torch.movedim(t, axes, list(range(1, k + 1))).reshape(batch, 2 ** k, -1)
        t = (mats @ t) if mats.ndim == 3 else torch.einsum("ij,bjr->bir", mats, t)
        t = torch.movedim(t.reshape((batch,) + (2,) * q), list(range(1, k + 1)), axes)
        return t.reshape(batch, n)

    @classmethod
    def apply_matrix_batched(cls, handle, sv, dtype, q, n_svs, stride, map_type, indices, mats, mdtype, layout,
                             adjoint, n_matrices, targets, n_targets, controls, cvals, n_controls, compute, ws,
                             wsize):
        psi, m = cls._tensor(sv), cls._tensor(mats)
        assert n_controls == 0 and layout == csv_mod.MATRIX_LAYOUT_ROW
        assert (map_type == csv_mod.MAP_BROADCAST) == (n_matrices == 1 and m.ndim == 2)
        psi.copy_(cls._matrix_op(psi, m, list(targets), bool(adjoint)))

    @classmethod
    def compute_expectation_batched(cls, handle, sv, dtype, q, n_svs, stride, out, mats, mdtype, layout,
                                    n_matrices, bits, n_bits, compute, ws, wsize):
        psi, m, vals = cls._tensor(sv), cls._tensor(mats), cls._tensor(out)
        vals.copy_((psi.conj() * cls._matrix_op(psi, m, list(bits))).sum(1).to(vals.dtype))


@pytest.fixture
def cpu_custatevec(monkeypatch):
    """The backend running on CPU tensors with FakeCuStateVec (data_ptr -> tensor lookups)."""
    monkeypatch.setattr(csv_mod, "_import_custatevec", lambda: FakeCuStateVec)
    real_ptr = torch.Tensor.data_ptr

    def data_ptr(self):
        p = real_ptr(self)
        FakeCuStateVec.registry[p] = self
        return p
    monkeypatch.setattr(torch.Tensor, "data_ptr", data_ptr)
    yield csv_mod.CuStateVecBackend(place=lambda a: torch.device("cpu"))
    FakeCuStateVec.registry.clear()


@pytest.mark.parametrize("seed", range(8))
def test_torch_factor_matrices_match_numba(seed):
    rng = np.random.default_rng(seed)
    program, _, c, obs, x, w = random_case(rng, 3, 30, 3)
    tf = csv_mod.TorchFactors(program, torch.as_tensor(x), torch.as_tensor(w))
    u4, fm, tmp, m2 = *(np.zeros((4, 4), complex) for _ in range(3)), np.zeros((2, 2), complex)
    for i in range(program.num_ops):
        kind = program.ops[i, 0]
        if kind not in (OP_U1, OP_U2):
            continue
        dim = 2 if kind == OP_U1 else 4
        u, derivs = tf.op(i)
        for b in range(x.shape[0]):
            op_matrix(numba_program(program), i, x[b], w, dim, u4, fm, tmp, m2)
            np.testing.assert_allclose(u[b].numpy(), u4[:dim, :dim], atol=1e-12)


@pytest.mark.parametrize("real_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(10))
def test_forward_and_adjoint_logic_on_cpu(cpu_custatevec, real_dtype, seed):
    rng = np.random.default_rng(50 + seed)
    program, _, c, obs, x, w = random_case(rng, int(rng.integers(1, 6)), 30, int(rng.integers(1, 5)),
                                           amplitude=seed % 3 == 0)
    tol = 1e-9 if real_dtype == np.float64 else 2e-4
    out, states = cpu_custatevec.forward(program, x, w, real_dtype, want_states=True)
    np.testing.assert_allclose(out, reference.expectation(c, obs, x, w), atol=tol * 10)
    np.testing.assert_allclose(states, numba_cpu.forward(program, x, w, np.float64, True)[1], atol=tol * 10)
    cot = rng.normal(size=out.shape)
    dw, dx = cpu_custatevec.vjp(program, x, w, cot, real_dtype)
    rdw, rdx = reference.vjp(c, obs, x, w, cot)
    np.testing.assert_allclose(dw, rdw, atol=tol * 100)
    np.testing.assert_allclose(dx, rdx, atol=tol * 100)


@pytest.mark.gpu
@pytest.mark.parametrize("seed", range(6))
def test_real_custatevec_matches_oracle(seed):
    if not csv_mod.CuStateVecBackend.is_available():
        pytest.skip("needs a CUDA GPU and cuquantum-python")
    be = csv_mod.CuStateVecBackend()
    rng = np.random.default_rng(80 + seed)
    program, _, c, obs, x, w = random_case(rng, int(rng.integers(1, 9)), 30, [1, 3, 7][seed % 3],
                                           amplitude=seed % 2 == 0)
    x0, w0 = x.copy(), w.copy()
    for real_dtype, tol in ((np.float64, 1e-9), (np.float32, 2e-4)):
        out, _ = be.forward(program, x, w, real_dtype)
        np.testing.assert_allclose(out, reference.expectation(c, obs, x, w), atol=tol * 10)
        cot = rng.normal(size=out.shape)
        dw, dx = be.vjp(program, x, w, cot, real_dtype)
        ndw, ndx = numba_cpu.vjp(program, x, w, cot, np.float64, True)
        np.testing.assert_allclose(dw, ndw, atol=tol * 100)
        np.testing.assert_allclose(dx, ndx, atol=tol * 100)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
