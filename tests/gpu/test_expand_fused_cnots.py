"""expand_fused_cnots (hqsim/program.py): the program cuStateVec runs, CXU1 ops split."""
import numpy as np
import pytest

from hqsim import program as program_mod
from hqsim.ansatz import reuploading_module, z_all
from hqsim.backends import numba_cpu
from hqsim.compile import compile_circuit
from hqsim.ir import Z
from hqsim.program import OP_CXU1, OP_PERM, OP_U2, expand_fused_cnots, inverse_permutations


def _w2(q, blocks=2):
    c = reuploading_module(q, blocks=blocks)
    return c, compile_circuit(c, [Z(0)]).program


@pytest.mark.parametrize("cap", [22, 3])
def test_expansion_keeps_the_meaning(monkeypatch, cap):
    """Same states with permutation tables (Q <= cap) and with constant U2 CNOTs (Q > cap)."""
    monkeypatch.setattr(program_mod, "MAX_PERM_QUBITS", cap)
    rng = np.random.default_rng(cap)
    c, prog = _w2(5)
    assert (prog.ops[:, 0] == OP_CXU1).sum() > 10
    exp = expand_fused_cnots(prog)
    assert not (exp.ops[:, 0] == OP_CXU1).any()
    n_perm = [(p.ops[:, 0] == OP_PERM).sum() for p in (prog, exp)]
    n_u2 = [(p.ops[:, 0] == OP_U2).sum() for p in (prog, exp)]
    if cap >= 5:  # every CNOT joins or opens a PERM op
        assert n_perm[1] > n_perm[0] and n_u2[1] == n_u2[0]
    else:  # no new tables: one constant U2 per CXU1
        assert n_perm[1] == n_perm[0] and n_u2[1] - n_u2[0] == (prog.ops[:, 0] == OP_CXU1).sum()
    x, w = rng.uniform(-1, 1, (3, c.num_inputs)), rng.uniform(-3, 3, c.num_weights)
    _, want = numba_cpu.forward(prog, x, w, np.float64, True)
    _, got = numba_cpu.forward(exp, x, w, np.float64, True)
    np.testing.assert_allclose(got, want, atol=1e-12)
    cot = rng.normal(size=(3, 1))
    for a, b in zip(numba_cpu.vjp(exp, x, w, cot, np.float64, True), numba_cpu.vjp(prog, x, w, cot, np.float64, True)):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_no_permutation_tables_above_the_cap():
    """W2 at Q = 23 used to build a 32 MiB table per CXU1 op (GBs in all) and invert each in a
    Python loop; above MAX_PERM_QUBITS the CNOTs become constant U2 ops."""
    _, prog = _w2(23, blocks=1)
    exp = expand_fused_cnots(prog)
    assert exp.perms.nbytes == 0 and exp.inv_perms.nbytes == 0
    assert (exp.ops[:, 0] == OP_U2).sum() - (prog.ops[:, 0] == OP_U2).sum() == (prog.ops[:, 0] == OP_CXU1).sum()


def test_inverse_permutations():
    rng = np.random.default_rng(0)
    perms = np.stack([rng.permutation(64) for _ in range(5)]).astype(np.int32)
    inv = inverse_permutations(perms)
    for p, q in zip(perms, inv):
        np.testing.assert_array_equal(p[q], np.arange(64))
    assert inverse_permutations(np.zeros((0, 8), np.int32)).shape == (0, 8)
