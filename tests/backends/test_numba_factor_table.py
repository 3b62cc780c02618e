"""The Numba backend keeps a program's weight-only factor table for the next call with the
same weights (numba_cpu._factor_table): a call with other weights, or with the same array
changed in place, must not reuse it."""
import numpy as np

import hqsim
from hqsim.api import compile_circuit
from hqsim.backends import numba_cpu


def _program():
    return compile_circuit(hqsim.ansatz.rpqc(4, 2, 1, 1)).program


def test_other_weights_and_in_place_changes_are_not_served_the_old_table():
    program = _program()
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (5, program.num_inputs))
    w1 = rng.uniform(-1, 1, program.num_weights)
    w2 = rng.uniform(-1, 1, program.num_weights)
    first = numba_cpu.forward(program, x, w1, np.float64)[0]
    other = numba_cpu.forward(program, x, w2, np.float64)[0]
    assert not np.allclose(first, other)
    np.testing.assert_allclose(numba_cpu.forward(program, x, w1, np.float64)[0], first, rtol=0, atol=0)
    w = w1.copy()
    numba_cpu.forward(program, x, w, np.float64)
    w[:] = w2  # same array, new values
    np.testing.assert_allclose(numba_cpu.forward(program, x, w, np.float64)[0], other, rtol=0, atol=0)


def test_forward_then_vjp_with_shared_table_match_fresh_calls():
    program = _program()
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (3, program.num_inputs))
    w = rng.uniform(-1, 1, program.num_weights)
    g = rng.normal(size=(3, program.num_observables))
    numba_cpu.forward(program, x, w, np.float64)  # fills the table for w
    dw_shared, dx_shared = numba_cpu.vjp(program, x, w, g, np.float64)
    numba_cpu._FACTORS.clear()
    dw_fresh, dx_fresh = numba_cpu.vjp(program, x, w, g, np.float64)
    np.testing.assert_array_equal(dw_shared, dw_fresh)
    np.testing.assert_array_equal(dx_shared, dx_fresh)
