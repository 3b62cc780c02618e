"""Fused blocks on the Numba backend (numba_block_kernels via numba_op_steps): forward states,
expectations and adjoint gradients of fused programs against the float64 oracle and against
the same program unfused, in both precisions, for batches that do and do not fill the 16-lane
groups; gradients against finite differences and the parameter-shift rule; the slot tables."""
from __future__ import annotations

import numpy as np
import pytest

from hqsim import ansatz
from hqsim.backends import numba_cpu, reference
from hqsim.backends.numba_block_kernels import MEMBER_MAP, MEMBER_PAIRS, MEMBER_SIGN
from hqsim.backends.numba_block_plan import plan_blocks
from hqsim.compile import compile_circuit, compile_for_expectation, fuse_gates, lower
from hqsim.ir import Circuit, Z, input, weight
from hqsim.models.qllm import qpu_circuit

from core.random_circuits import random_args, random_circuit, random_observables
from core.test_gradients import finite_differences

TOL = {np.float64: 1e-10, np.float32: 3e-4}


def _programs(circ, obs, k):
    opt = compile_for_expectation(circ, obs)
    return lower(opt, obs), lower(fuse_gates(opt, max_qubits=k), obs)


def _check(circ, obs, k, batch, dtype, seed):
    rng = np.random.default_rng(seed)
    x, w = random_args(rng, circ, batch)
    if circ.amplitude_encoding is not None:
        s = circ.amplitude_encoding
        x[:, s.start:s.start + s.size] = rng.uniform(0.2, 1.0, size=(batch, s.size))
    cot = rng.normal(size=(batch, len(obs)))
    plain, fused = _programs(circ, obs, k)
    assert fused.blocks.shape[0] > 0
    want = reference.expectation(circ, obs, x, w)
    want_dw, want_dx = reference.vjp(circ, obs, x, w, cot)
    tol = TOL[dtype]
    out, states = numba_cpu.forward(fused, x, w, dtype, True)
    np.testing.assert_allclose(out, want, atol=tol)
    plain_out, plain_states = numba_cpu.forward(plain, x, w, dtype, True)
    np.testing.assert_allclose(states, plain_states, atol=tol)  # fused == unfused, state by state
    for kept in (states, None):
        dw, dx = numba_cpu.vjp(fused, x, w, cot, dtype, True, kept)
        np.testing.assert_allclose(dw, want_dw, atol=tol * 20)
        np.testing.assert_allclose(dx, want_dx, atol=tol * 20)
    return fused


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch", [1, 16, 21])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_w1_blocks_match_the_oracle(dtype, batch, k):
    circ = ansatz.rpqc(6, 2, 2)
    _check(circ, [Z(q) for q in range(6)], k, batch, dtype, seed=k)


@pytest.mark.parametrize("seed", range(12))
def test_random_circuits_with_blocks_match_the_oracle(seed):
    """Every gate kind: fusable ones in blocks (U1, CXU1 with and without a matrix, CZ, constant
    gates), the others (two-qubit rotations, SWAP, dense unitaries) between them."""
    rng = np.random.default_rng(100 + seed)
    nq = int(rng.integers(2, 7))
    circ = random_circuit(rng, nq, 60, n_weights=5, n_inputs=3, amplitude=seed % 4 == 0)
    for q in range(nq):  # make CNOT chains and CZs common
        if q % 2 == 0:
            circ.cnot(q, (q + 1) % nq)
        else:
            circ.ry(input(q % 3), q)
        if nq > 2 and q % 3 == 0:
            circ.cz(q, (q + 2) % nq)
    obs = random_observables(rng, nq, count=2)
    dtype = np.float64 if seed % 2 == 0 else np.float32
    _check(circ, obs, int(rng.integers(2, 5)), int(rng.choice([1, 16, 19])), dtype, seed)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_w2_blocks_run_real_members(dtype):
    """W2's QPU module (RY rotations and CNOT rings only) and an amplitude-encoded ring PQC."""
    fused = _check(qpu_circuit(8, num_encoders=2, blocks=2), [Z(0)], 4, 17, dtype, seed=3)
    amp = Circuit(6, amplitude_encoding=40, num_weights=12, num_inputs=40)
    amp.extend(ansatz.ring_pqc(6, 1, 2).gates)
    _check(amp, [Z(q) for q in range(6)], 3, 5, dtype, seed=4)
    plan = plan_blocks(fused)
    members = plan.member_kind[np.concatenate([np.arange(b[0], b[0] + b[1]) for b in plan.blocks])]
    real = plan.member_real[np.concatenate([np.arange(b[0], b[0] + b[1]) for b in plan.blocks])]
    assert np.any((members == MEMBER_PAIRS) & real)  # the real-arithmetic path is exercised


def test_fused_gradients_match_finite_differences_and_parameter_shift():
    c = Circuit(4, num_weights=6, num_inputs=4)
    for q in range(4):
        c.ry(input(q), q).rz(weight(q), q)
    for q in range(4):
        c.cnot(q, (q + 1) % 4)
    c.rx(weight(4), 0).ry(0.5 * weight(5) + 0.1, 2).cz(1, 3).ry(weight(4), 3)
    obs = [Z(0), Z(2) @ Z(3)]
    rng = np.random.default_rng(5)
    x, w = random_args(rng, c, 3)
    g = rng.normal(size=(3, len(obs)))
    compiled = compile_circuit(c, obs, fuse=3)
    assert compiled.program.blocks.shape[0] > 0
    dw, dx = numba_cpu.vjp(compiled.program, x, w, g, np.float64, True)
    fw, fx = finite_differences(c, obs, x, w, g)
    np.testing.assert_allclose(dw, fw, atol=1e-6)
    np.testing.assert_allclose(dx, fx, atol=1e-6)
    shift = np.zeros_like(w)  # parameter shift: every weight enters one rotation with scale 1 here
    for i in (0, 1, 2, 3):
        e = np.zeros_like(w)
        e[i] = np.pi / 2
        f = [np.sum(g * numba_cpu.forward(compiled.program, x, w + s * e, np.float64)[0]) for s in (1, -1)]
        shift[i] = (f[0] - f[1]) / 2
    np.testing.assert_allclose(dw[:4], shift[:4], atol=1e-9)


def test_block_slots_follow_the_cnots():
    """A block of bare CNOTs moves no data: its final slot map is the composed permutation."""
    c = Circuit(3, num_weights=1)
    c.ry(weight(0), 0).cnot(0, 1).cnot(1, 2).cnot(2, 0).cz(0, 2).ry(weight(0), 1)
    program = lower(fuse_gates(c, max_qubits=3), [Z(0)])
    plan = plan_blocks(program)
    first, count, k = (int(v) for v in plan.blocks[0, :3])
    kinds = plan.member_kind[first:first + count].tolist()
    assert MEMBER_MAP in kinds and MEMBER_SIGN in kinds and MEMBER_PAIRS in kinds
    # psi'[r] = psi[perm[r]] for CNOT(0->1), CNOT(1->2), CNOT(2->0) on bits (4, 2, 1)
    perm = np.arange(8)
    for c_bit, t_bit in ((4, 2), (2, 1), (1, 4)):
        perm = perm[[r ^ t_bit if r & c_bit else r for r in range(8)]]
    assert plan.final[:8].tolist() == perm.tolist()
    assert plan.blocks[0, 5] == 1  # not the identity: the tile is put back in order


def test_a_backend_that_ignores_blocks_runs_the_members():
    """The blocks table only annotates (hqsim/program.py): the CUDA kernels, which do not read
    it, run a fused program's member ops (U1, CXU1 with an identity matrix, CZ) as they stand.
    Checked on the cpu-emulated device against the oracle."""
    from hqsim.backends.cuda import CudaBackend, CudaOptions
    if not CudaBackend.is_available("cpu-emulated"):
        pytest.skip("no C++ compiler for the cpu-emulated device")
    backend = CudaBackend(CudaOptions(device="cpu-emulated"))
    c = ansatz.rpqc(4, 1, 1)
    c.cz(0, 2)
    obs = [Z(q) for q in range(4)]
    compiled = compile_circuit(c, obs, fuse=3)
    assert compiled.program.blocks.shape[0] > 0
    rng = np.random.default_rng(7)
    x, w = random_args(rng, c, 3)
    cot = rng.normal(size=(3, len(obs)))
    out, _ = backend.forward(compiled.program, x, w, np.float64, False)
    np.testing.assert_allclose(out, reference.expectation(c, obs, x, w), atol=1e-10)
    dw, dx = backend.vjp(compiled.program, x, w, cot, np.float64, True)
    want_dw, want_dx = reference.vjp(c, obs, x, w, cot)
    np.testing.assert_allclose(dw, want_dw, atol=1e-9)
    np.testing.assert_allclose(dx, want_dx, atol=1e-9)


def test_block_kernels_are_compiled_only_for_programs_with_blocks():
    """A program without blocks reaches the drivers with a 1-d ``blocks`` array, for which
    numba_op_steps.apply_block / undo_block resolve to nothing at compile time: the block
    kernels (minutes of cold compile on a loaded machine) are not compiled for it."""
    import numba

    from hqsim.backends.numba_op_steps import _has_blocks
    c = ansatz.rpqc(num_qubits=4, reuploads=1, layers=1)
    obs = [Z(0)]
    plain = numba_cpu.numba_program(compile_circuit(c, obs).program)
    fused = numba_cpu.numba_program(compile_circuit(c, obs, fuse=3).program)
    assert plain.blocks.ndim == 1 and fused.blocks.ndim == 2
    assert not _has_blocks(numba.typeof(plain)) and _has_blocks(numba.typeof(fused))
