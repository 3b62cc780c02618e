"""The tensor-network maps against explicit matrices, and QPA's probabilities against hqsim's
statevector."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("hqsim.nn.layer")
from hqsim.peft.qpa import QPAGenerator, walsh_hadamard, z_strings  # noqa: E402
from hqsim.peft.options import QPAConfig  # noqa: E402
from hqsim.peft.tensors import MPO, apply_gates, factorize, gate_shapes, identity_gate  # noqa: E402


def test_factorize():
    assert factorize(384, 3) == (8, 8, 6)
    assert factorize(384, 4) == (6, 4, 4, 4)
    assert factorize(12, 2) == (4, 3)
    assert factorize(7, 3) == (7, 1, 1)
    for d, k in ((384, 5), (1536, 3), (1000, 4)):
        assert math.prod(factorize(d, k)) == d and len(factorize(d, k)) == k


def test_mpo_is_the_contraction_of_its_cores():
    torch.manual_seed(0)
    mpo = MPO(12, 6, cores=2, bond=3, zero_last=False, dtype=torch.float64)
    g1, g2 = mpo.cores  # (1, 3, 4, 3), (3, 2, 3, 1): W[(o1 o2), (i1 i2)] = Σ_b G1[0,o1,i1,b] G2[b,o2,i2,0]
    w = torch.einsum("pib,bqj->pqij", g1[0], g2[..., 0]).reshape(6, 12)
    x = torch.randn(5, 7, 12, dtype=torch.float64)
    assert torch.allclose(mpo(x), x @ w.T, atol=1e-12)
    assert torch.equal(MPO(12, 6, 2, 3, dtype=torch.float64)(x), torch.zeros(5, 7, 6, dtype=torch.float64))


def test_quanta_gates_are_kronecker_factors():
    """Three axes (2, 3, 2): the gate on axes (0, 2) is G ⊗ I_3 on the right index order."""
    in_dims = out_dims = (2, 3, 2)
    spec = gate_shapes(in_dims, out_dims)
    assert [p for p, _ in spec] == [(0, 1), (0, 2), (1, 2)]
    torch.manual_seed(1)
    gates = [torch.randn(s, dtype=torch.float64) for _, s in spec]
    x = torch.randn(4, 12, dtype=torch.float64)
    dense = torch.eye(12, dtype=torch.float64)
    for (m, n), g in zip([p for p, _ in spec], gates):
        full = torch.einsum({(0, 1): "ABab,Cc->ABCabc", (0, 2): "ACac,Bb->ABCabc",
                             (1, 2): "BCbc,Aa->ABCabc"}[(m, n)], g, torch.eye(in_dims[3 - m - n],
                                                                                 dtype=torch.float64))
        dense = full.reshape(12, 12) @ dense
    assert torch.allclose(apply_gates(x, gates, [p for p, _ in spec], in_dims, out_dims), x @ dense.T,
                          atol=1e-12)


def test_quanta_shapes_change_at_the_last_gate_of_each_axis():
    spec = gate_shapes((4, 3, 2), (2, 3, 5))
    assert [s for _, s in spec] == [(4, 3, 4, 3), (2, 2, 4, 2), (3, 5, 3, 2)]
    g = identity_gate((2, 3, 4, 3), torch.float64)
    assert g.shape == (2, 3, 4, 3) and g.sum() == 6


def test_qpa_probabilities_are_the_statevector_squared():
    import hqsim
    torch.manual_seed(2)
    gen = QPAGenerator({"a": (6, 5)}, QPAConfig(rank=3, chunk=4, layers=3), torch.float64)
    n = gen.num_qubits
    assert n == math.ceil(math.log2(math.ceil(3 * 11 / 4)))
    psi = hqsim.statevector(gen.qnn.circuit, np.zeros((1, 0)), gen.qnn.weights.detach().numpy())[0]
    p = gen.probabilities().detach().numpy()
    assert np.allclose(p, np.abs(psi) ** 2, atol=1e-12) and abs(p.sum() - 1) < 1e-12
    assert len(z_strings(n)) == 2 ** n - 1


def test_walsh_hadamard_is_the_kronecker_power():
    h = torch.tensor([[1.0, 1.0], [1.0, -1.0]], dtype=torch.float64)
    full = torch.kron(torch.kron(h, h), h)
    v = torch.randn(8, dtype=torch.float64)
    assert torch.allclose(walsh_hadamard(v, 3), full @ v, atol=1e-12)
