"""QLLMClassifier: structure, parameter counts, gradients through the whole stack."""
import math

import pytest

from .conftest import needs_quantum_layer

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def qllm():
    needs_quantum_layer()
    from hqsim import models
    return models


def tiny(models, **kw):
    base = dict(num_features=6, qubits=3, encoders=2, encoder_layers=1, reuploads=3,
                pqc1_layers=1, pqc2_layers=1, connectivity=1, measured_qubits=2)
    base.update(kw)
    return models.QLLMConfig(**base)


def test_qpu_circuit_matches_ansatz_for_one_encoder(qllm):
    from hqsim.ansatz import reuploading_module
    a = qllm.qpu_circuit(5, 1, 3, 2, 1, 2)
    b = reuploading_module(5, 3, 2, 1, 2)
    assert [repr(g) for g in a.gates] == [repr(g) for g in b.gates]
    assert (a.num_weights, a.num_inputs) == (b.num_weights, b.num_inputs)
    c = qllm.qpu_circuit(4, 2, 3, 1, 1, 1)  # block n uploads encoder n mod E
    ry_inputs = [g.params[0].index for g in c.gates if g.name == "RY" and not g.params[0].is_trainable]
    assert ry_inputs == [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3] and c.num_inputs == 8


@pytest.mark.parametrize("kw", [{}, {"encoders": 1, "measured_qubits": 1},
                                {"final_linear": False, "measured_qubits": 1, "encoders": 1}])
def test_parameter_count(qllm, kw):
    cfg = tiny(qllm, **kw)
    m = qllm.QLLMClassifier(cfg)
    assert m.num_parameters() == qllm.count_parameters(cfg) == sum(m.parameter_breakdown().values())
    assert m(torch.randn(5, 6)).shape == (5, 2)
    paper = qllm.QLLMConfig()  # W2 defaults: 40 encoder + 60 QPU + 24 head
    assert qllm.count_parameters(paper) == 124


def test_gradients_match_finite_differences_through_the_whole_stack(qllm):
    from torch.func import functional_call
    torch.manual_seed(0)
    m = qllm.QLLMClassifier(tiny(qllm), dtype=torch.float64)
    names = [n for n, _ in m.named_parameters()]
    assert any(n.startswith("encoders.1") for n in names) and "qpu.weights" in names
    params = tuple(p.detach().clone().requires_grad_(True) for p in m.parameters())
    x = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)

    def f(x, *ps):
        return functional_call(m, dict(zip(names, ps)), (x,))
    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradient_reaches_amplitudes_and_is_scale_invariant(qllm):
    torch.manual_seed(1)
    m = qllm.QLLMClassifier(tiny(qllm, encoders=1), dtype=torch.float64)
    x = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    out = m(x)
    out.sum().backward()
    assert x.grad.abs().sum() > 0
    # amplitude encoding normalises: the output ignores the norm, so grad ⟂ x
    assert torch.allclose((x.grad * x).sum(1), torch.zeros(2, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(m(3 * x.detach()), out.detach())


def test_shots_are_unbiased_with_straight_through_gradient(qllm):
    from hqsim.models.qllm import sample_shots
    z = torch.tensor([-0.6, 0.0, 0.9], dtype=torch.float64, requires_grad=True)
    gen = torch.Generator().manual_seed(0)
    est = torch.stack([sample_shots(z, 1000, gen) for _ in range(200)])
    assert torch.allclose(est.mean(0), z.detach(), atol=0.01)
    assert torch.all(est.std(0)[:2] > 0.01)
    sample_shots(z, 100, gen).sum().backward()
    assert torch.equal(z.grad, torch.ones(3, dtype=torch.float64))
    assert sample_shots(z, 0, gen) is z


def test_no_final_linear_reads_probability_from_z0(qllm):
    torch.manual_seed(0)
    m = qllm.QLLMClassifier(tiny(qllm, encoders=1, measured_qubits=1, final_linear=False),
                            dtype=torch.float64)
    x = torch.randn(4, 6, dtype=torch.float64)
    p = torch.softmax(m(x), 1)[:, 1]
    z0 = m.quantum_features(x)[:, -1]
    assert torch.allclose(p, (1 + z0) / 2, atol=1e-6)


@pytest.mark.parametrize("kw, msg", [
    ({"qubits": 2}, "cannot amplitude-encode 6 features: need Q >= 3"),
    ({"measured_qubits": 4}, "exceeds qubits"),
    ({"connectivity": 3}, "must be below qubits"),
    ({"encoders": 0}, "encoders must be a positive int"),
    ({"shots": -1}, "shots S must be >= 0"),
    ({"final_linear": False}, "needs num_classes=2 and measured_qubits=1"),
])
def test_bad_config_is_named(qllm, kw, msg):
    with pytest.raises(ValueError, match=msg):
        tiny(qllm, **kw)


def test_bad_input_shape(qllm):
    m = qllm.QLLMClassifier(tiny(qllm))
    with pytest.raises(ValueError, match=r"embeddings must have shape \(batch, 6\)"):
        m(torch.randn(2, 7))
    assert math.isclose(m.config.angle_scale, math.pi)


def test_multiclass_head(qllm):
    cfg = tiny(qllm, num_classes=3)
    m = qllm.QLLMClassifier(cfg)
    assert m(torch.randn(4, 6)).shape == (4, 3)
    assert m.num_parameters() == qllm.count_parameters(cfg)
