"""The Numba backend's real-rotation path: U1 and CXU1 ops made only of RY factors run real
2x2 kernels, and their adjoint step reads one number per lane (Im <lam|Y|psi>) instead of the
matrix gradient. Checked against the float64 oracle, next to ops that must keep the complex
path, in both precisions, for batches that do and do not fill the 16-lane groups."""
from __future__ import annotations

import numpy as np
import pytest

from hqsim import ansatz
from hqsim.api import compile_circuit
from hqsim.backends import get_backend, numba_cpu
from hqsim.backends.numba_matrices_1q import u1_all_ry
from hqsim.ir import Circuit, Z, input, weight
from hqsim.models.qllm import qpu_circuit


def _all_ry_ops(program):
    return [bool(u1_all_ry(program.factors, op[3], op[4])) for op in program.ops]


def _against_oracle(circ, obs, batch, dtype, seed=0, need_x=True):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(batch, circ.num_inputs))
    w = rng.uniform(-2, 2, size=circ.num_weights)
    compiled = compile_circuit(circ, obs)
    cot = rng.normal(size=(batch, len(compiled.observables)))
    ref = get_backend("reference")
    want_out, _ = ref.forward(compiled, x, w, np.float64, False)
    want_dw, want_dx = ref.vjp(compiled, x, w, cot, np.float64, True)
    out, states = numba_cpu.forward(compiled.program, x, w, dtype, True)
    tol = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(out, want_out, atol=tol)
    for kept in (states, None):  # with the forward's final states, and recomputing them
        dw, dx = numba_cpu.vjp(compiled.program, x, w, cot, dtype, need_x, kept)
        np.testing.assert_allclose(dw, want_dw, atol=tol * 10)
        if need_x:
            np.testing.assert_allclose(dx, want_dx, atol=tol * 10)
        else:
            assert dx is None
    return compiled.program


def _mixed_circuit():
    """Per-sample RY (inputs), shared RY (weights, sums of angles with coefficients, constant
    angles), RY after CNOTs (CXU1) and ops that are not all-RY (H, RX, RZ) in between."""
    c = Circuit(4, num_weights=8, num_inputs=4)
    for q in range(4):
        c.ry(input(q), q)
    c.ry(weight(0), 0).ry(0.3, 0).ry(2.0 * weight(1) + 0.5, 0)
    c.cnot(0, 1).ry(weight(2), 1).cnot(1, 2).ry(input(1), 2).ry(weight(3), 2)
    c.h(3).ry(weight(4), 3).cnot(3, 0).rx(weight(5), 0).cnot(2, 3).ry(weight(6), 3)
    c.rz(input(2), 1).ry(weight(7), 1).cnot(0, 2).ry(-1.5 * input(3), 2)
    return c


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch", [1, 16, 21])
def test_mixed_real_and_complex_ops_match_the_oracle(dtype, batch):
    program = _against_oracle(_mixed_circuit(), [Z(0), Z(1) @ Z(3), Z(2)], batch, dtype)
    real = _all_ry_ops(program)
    assert any(real) and not all(real)  # both paths are exercised


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_qllm_circuits_take_the_real_path_and_match_the_oracle(dtype):
    qpu = qpu_circuit(6, num_encoders=2, blocks=3, pqc1_layers=1, pqc2_layers=2, connectivity=2)
    enc = ansatz.amplitude_encoder(6, 40, layers=2, connectivity=2)
    for circ, obs in ((qpu, [Z(0), Z(1)]), (enc, [Z(q) for q in range(6)])):
        program = _against_oracle(circ, obs, 19, dtype, seed=3)
        assert all(_all_ry_ops(program))  # the W2 model runs no complex 1q pass at all


def test_real_path_without_input_gradients():
    _against_oracle(_mixed_circuit(), [Z(1)], 5, np.float64, need_x=False)
