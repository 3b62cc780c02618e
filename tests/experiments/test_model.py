"""QLLMClassifier: structure, parameter counts, gradients through the whole stack."""
import math

import pytest

from .conftest import tiny_config

torch = pytest.importorskip("torch")




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
    cfg = tiny_config(qllm, **kw)
    m = qllm.QLLMClassifier(cfg)
    assert m.num_parameters() == qllm.count_parameters(cfg) == sum(m.parameter_breakdown().values())
    assert m(torch.randn(5, 6)).shape == (5, 2)
    paper = qllm.QLLMConfig()  # W2 defaults: 40 encoder + 60 QPU + 24 head
    assert qllm.count_parameters(paper) == 124


def test_gradients_match_finite_differences_through_the_whole_stack(qllm):
    from torch.func import functional_call
    torch.manual_seed(0)
    m = qllm.QLLMClassifier(tiny_config(qllm), dtype=torch.float64)
    names = [n for n, _ in m.named_parameters()]
    assert any(n.startswith("encoders.1") for n in names) and "qpu.weights" in names
    params = tuple(p.detach().clone().requires_grad_(True) for p in m.parameters())
    x = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)

    def f(x, *ps):
        return functional_call(m, dict(zip(names, ps)), (x,))
    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradient_reaches_amplitudes_and_is_scale_invariant(qllm):
    torch.manual_seed(1)
    m = qllm.QLLMClassifier(tiny_config(qllm, encoders=1), dtype=torch.float64)
    x = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    out = m(x)
    out.sum().backward()
    assert x.grad.abs().sum() > 0
    # amplitude encoding normalises: the output ignores the norm, so grad ⟂ x
    assert torch.allclose((x.grad * x).sum(1), torch.zeros(2, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(m(3 * x.detach()), out.detach())


def test_shots_go_through_quantum_layer_estimator(qllm):
    for mode in ("adjoint", "parameter-shift", "spsa"):
        m = qllm.QLLMClassifier(tiny_config(qllm, shots=64, gradient=mode))
        for layer in (*m.encoders, m.qpu):
            assert layer.noise_options.shots == 64 and layer.noise_options.gradient == mode
        out = m(torch.randn(3, 6))
        out.sum().backward()
        assert all(torch.isfinite(p.grad).all() for p in m.parameters())
        assert mode == "adjoint" or "grad=" + mode in m.config.label()
    exact = qllm.QLLMClassifier(tiny_config(qllm))
    assert all(layer.noise_options is None for layer in (*exact.encoders, exact.qpu))
    # S = 0 with a non-adjoint mode: exact expectations, hardware-style gradient
    ps = qllm.QLLMClassifier(tiny_config(qllm, gradient="parameter-shift"))
    assert ps.qpu.noise_options.shots is None and ps.qpu.noise_options.gradient == "parameter-shift"


def test_shot_estimates_are_unbiased_and_sampled_jointly(qllm):
    from hqsim import expectation
    from hqsim.ir import Z
    torch.manual_seed(0)
    m = qllm.QLLMClassifier(tiny_config(qllm, encoders=1, shots=1), dtype=torch.float64, shot_seed=3)
    layer = m.encoders[0]
    x = torch.randn(1, 6, dtype=torch.float64).repeat(4000, 1)
    with torch.no_grad():
        one_shot = layer(x)
    assert set(one_shot.unique().tolist()) <= {-1.0, 1.0}
    circ, w = layer.circuit, layer.weights.detach().numpy()
    exact = expectation(circ, x[:1].numpy(), w)[0]
    zz = expectation(circ, x[:1].numpy(), w, observables=[Z(0) @ Z(1)])[0, 0]
    # 4000 rows of one shot each: means within 4 standard errors of the exact values
    tol = 4 / 4000 ** 0.5
    assert torch.allclose(one_shot.mean(0), torch.as_tensor(exact), atol=tol)
    # the qubits of one shot come from one bitstring: <Z0 Z1> is the parity's mean
    assert abs((one_shot[:, 0] * one_shot[:, 1]).mean().item() - zz) < tol


def test_adjoint_mode_gives_the_exact_gradient(qllm):
    torch.manual_seed(0)
    cfg = tiny_config(qllm, encoders=1)
    exact = qllm.QLLMClassifier(cfg, dtype=torch.float64)
    shots = qllm.QLLMClassifier(qllm.QLLMConfig(**{**cfg.to_dict(), "shots": 256}), dtype=torch.float64)
    shots.load_state_dict(exact.state_dict())
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    c = torch.randn(5, 3, dtype=torch.float64)
    grads = []
    for model in (exact, shots):
        x.grad = None
        out = model.encoders[0](x)
        (out * c).sum().backward()
        grads.append((model.encoders[0].weights.grad.clone(), x.grad.clone(), out.detach()))
    assert torch.allclose(grads[0][0], grads[1][0], atol=1e-10)   # weights
    assert torch.allclose(grads[0][1], grads[1][1], atol=1e-10)   # amplitudes
    assert not torch.allclose(grads[0][2], grads[1][2])           # the forward is sampled


def test_parameter_shift_with_many_shots_approaches_the_exact_gradient(qllm):
    torch.manual_seed(0)
    cfg = tiny_config(qllm, encoders=1, measured_qubits=1)
    exact = qllm.QLLMClassifier(cfg, dtype=torch.float64)
    ps = qllm.QLLMClassifier(qllm.QLLMConfig(**{**cfg.to_dict(), "shots": 200_000,
                                               "gradient": "parameter-shift"}), dtype=torch.float64)
    ps.load_state_dict(exact.state_dict())
    angles = torch.randn(2, ps.qpu.circuit.num_inputs, dtype=torch.float64)
    for model in (exact, ps):
        model.qpu(angles).sum().backward()
    assert torch.allclose(exact.qpu.weights.grad, ps.qpu.weights.grad, atol=0.03)


def test_shot_seeds_are_reproducible_and_checkpointable(qllm):
    def build(seed):
        torch.manual_seed(0)
        return qllm.QLLMClassifier(tiny_config(qllm, shots=50), shot_seed=seed)
    x = torch.randn(4, 6)
    with torch.no_grad():
        a, b, c = build(1), build(1), build(2)
        fa, fb, fc = a.quantum_features(x), b.quantum_features(x), c.quantum_features(x)
        assert torch.equal(fa, fb) and not torch.equal(fa, fc)
        state = a.shot_generator.get_state()
        nxt = a.quantum_features(x)
        assert not torch.equal(nxt, fa)           # successive calls draw new shots
        a.shot_generator.set_state(state)
        assert torch.equal(a.quantum_features(x), nxt)
        c.shot_generator.manual_seed(1)
        assert torch.equal(c.quantum_features(x), fa)
    with pytest.raises(ValueError, match="shot generator state holds"):
        a.shot_generator.set_state(state[:1])


def test_no_final_linear_reads_probability_from_z0(qllm):
    torch.manual_seed(0)
    m = qllm.QLLMClassifier(tiny_config(qllm, encoders=1, measured_qubits=1, final_linear=False),
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
    ({"shots": -1}, "shots S must be an int >= 0"),
    ({"gradient": "backprop"}, "gradient must be one of adjoint, parameter-shift, spsa"),
    ({"final_linear": False}, "needs num_classes=2 and measured_qubits=1"),
])
def test_bad_config_is_named(qllm, kw, msg):
    with pytest.raises(ValueError, match=msg):
        tiny_config(qllm, **kw)


def test_bad_input_shape(qllm):
    m = qllm.QLLMClassifier(tiny_config(qllm))
    with pytest.raises(ValueError, match=r"embeddings must have shape \(batch, 6\)"):
        m(torch.randn(2, 7))
    assert math.isclose(m.config.angle_scale, math.pi)


def test_multiclass_head(qllm):
    cfg = tiny_config(qllm, num_classes=3)
    m = qllm.QLLMClassifier(cfg)
    assert m(torch.randn(4, 6)).shape == (4, 3)
    assert m.num_parameters() == qllm.count_parameters(cfg)
