"""How the Numba backend's functions are compiled (hqsim/backends/numba_jit.py): the flags that
its speed rests on must be there, and a borrowing function must not leak or free arrays."""
import numpy as np

from hqsim.backends import numba_drivers, numba_jit, numba_matrices, numba_matrices_1q, numba_op_steps, numba_product


def test_numba_has_the_flag_hook():
    assert numba_jit.HAVE_FLAG_HOOK  # a Numba upgrade that drops it must show up here


def test_per_op_functions_are_compiled_without_reference_counting():
    """Each array passed to an ordinary njit function costs an atomic incref and decref per call;
    with the program passed as one structure that was 39 % of a W1 step."""
    for module, names in ((numba_op_steps, ("apply_op", "_apply_block", "fill_1q", "_fill_u1", "_fill_ry",
                                            "_fill_u2", "undo_1q_op", "undo_u2_op", "_undo_block", "_ry_grads",
                                            "_u1_grads", "u1_pauli_grads")),
                          (numba_product, ("prefix_columns", "product_forward", "product_adjoint")),
                          (numba_drivers, ("_initial_state", "_amplitude_gradient")),
                          (numba_matrices, ("op_matrix", "chain_grads", "factor_matrix")),
                          (numba_matrices_1q, ("u1_chain", "u1_pauli_chain", "ry_chain"))):
        for name in names:
            assert numba_jit.is_borrowing(getattr(module, name)), name


def test_reference_counting_is_not_inherited_by_callees():
    """Numba compiles a callee with its caller's reference counting unless told otherwise: an
    allocating function called from a borrowing one must still compile and run."""
    @numba_jit.jit(cache=False)
    def allocating(a):
        t = np.zeros(a.shape[0])
        for i in range(a.shape[0]):
            t[i] = 2 * a[i]
        s = 0.0
        for i in range(a.shape[0]):
            s += t[i]
        return s

    @numba_jit.jit_borrowing(cache=False)
    def borrowing(a, out):
        out[0] = allocating(a)

    a, out = np.arange(5.0), np.zeros(1)
    for _ in range(1000):  # refcounts off by one would free a (or leak) within a few calls
        borrowing(a, out)
    assert out[0] == 20.0 and a.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
