"""The architecture options of QLLMConfig (issue 14): each changes the model as stated, every
one trains through correct gradients (finite differences), and the CLI presets resolve."""
import pytest

from .conftest import tiny_config

torch = pytest.importorskip("torch")

OPTIONS = {
    "bias": dict(bias_amplitude=0.7),
    "affine": dict(angle_affine=True),
    "separate": dict(reupload_weights="separate"),
    "enc_ring": dict(encoder_connectivity=2, encoder_layers=2),
    "compression": dict(compression=5, bias_amplitude=0.5),
    "classical_encoder": dict(encoder_kind="classical"),
    "qpu_off": dict(qpu=False),
    "skip_off": dict(encoders_to_head=False),
    "head_norm": dict(head_norm=True),
    "readout3": dict(measured_qubits=3),
}


def _model(qllm, seed=0, **kw):
    torch.manual_seed(seed)
    return qllm.QLLMClassifier(tiny_config(qllm, **kw), dtype=torch.float64)


def test_bias_amplitude_breaks_the_sign_symmetry(qllm):
    x = torch.randn(4, 6, dtype=torch.float64)
    plain = _model(qllm)
    # real gates and Z measurements: every encoder output is an even function of x
    assert torch.allclose(plain.encoder_outputs(x), plain.encoder_outputs(-x), atol=1e-12)
    assert torch.allclose(plain(x), plain(-x), atol=1e-12)
    biased = _model(qllm, bias_amplitude=0.7)
    assert biased.encoder_inputs(x).shape == (4, 7)
    assert (biased.encoder_outputs(x) - biased.encoder_outputs(-x)).abs().max() > 1e-3
    assert (biased(x) - biased(-x)).abs().max() > 1e-4
    # the bias amplitude sits after the normalised embedding: scale invariance is kept
    assert torch.allclose(biased(3 * x), biased(x), atol=1e-12)


def test_angle_affine_starts_at_the_fixed_scale_and_learns(qllm):
    x = torch.randn(3, 6, dtype=torch.float64)
    fixed, affine = _model(qllm), _model(qllm, angle_affine=True)
    assert affine.angle_scale.shape == affine.angle_offset.shape == (6,)  # E·Q = 2·3
    assert torch.allclose(fixed(x), affine(x), atol=1e-12)  # same draws: a = π, b = 0
    with torch.no_grad():
        affine.angle_offset[0] = 0.5
    assert (fixed(x) - affine(x)).abs().max() > 1e-6
    affine(x).sum().backward()
    assert affine.angle_scale.grad.abs().sum() > 0 and affine.angle_offset.grad.abs().sum() > 0


def test_separate_block_weights_generalise_the_shared_ones(qllm):
    shared, separate = _model(qllm), _model(qllm, reupload_weights="separate")
    cfg = shared.config
    per_layer = cfg.connectivity * cfg.qubits
    assert shared.qpu.weights.numel() == (cfg.pqc1_layers + cfg.pqc2_layers) * per_layer
    assert separate.qpu.weights.numel() == (cfg.reuploads * cfg.pqc1_layers + cfg.pqc2_layers) * per_layer
    # separate weights set to N copies of the shared PQC1 weights give the shared model
    w = shared.qpu.weights.detach()
    n1 = cfg.pqc1_layers * per_layer
    separate.load_state_dict({**shared.state_dict(),
                              "qpu.weights": torch.cat([w[:n1]] * cfg.reuploads + [w[n1:]])})
    x = torch.randn(3, 6, dtype=torch.float64)
    assert torch.allclose(shared(x), separate(x), atol=1e-12)
    with torch.no_grad():
        separate.qpu.weights[0] += 0.3  # block 0 only
    assert (shared(x) - separate(x)).abs().max() > 1e-6


def test_encoder_depth_and_connectivity(qllm):
    m = _model(qllm, encoder_layers=3, encoder_connectivity=2, connectivity=1)
    enc = m.encoders[0].circuit
    assert enc.num_weights == 3 * 2 * 3  # M · C_enc · Q
    cnots = sorted({(g.qubits[0], g.qubits[1]) for g in enc.gates if g.name == "CNOT"})
    assert (0, 2) in cnots and (0, 1) in cnots  # rings c = 1 and c = 2
    qpu_cnots = {(g.qubits[0], g.qubits[1]) for g in m.qpu.circuit.gates if g.name == "CNOT"}
    assert (0, 2) not in qpu_cnots  # the QPU module keeps C = 1


def test_compression_feeds_the_encoding(qllm):
    m = _model(qllm, compression=5)
    x = torch.randn(3, 6, dtype=torch.float64)
    assert torch.allclose(m.encoder_inputs(x), m.compress(x))
    assert m.encoders[0].circuit.amplitude_encoding.size == 5
    with pytest.raises(ValueError, match="H=9 compressed features"):
        tiny_config(qllm, compression=9)  # 2^3 < 9


def test_classical_encoder_replaces_the_quantum_one_with_the_same_outputs(qllm):
    from hqsim import QuantumLayer
    m = _model(qllm, encoder_kind="classical")
    assert not any(isinstance(e, QuantumLayer) for e in m.encoders)
    z = m.encoder_outputs(torch.randn(5, 6, dtype=torch.float64))
    assert z.shape == (5, 6) and z.abs().max() <= 1
    assert m.parameter_breakdown()["encoders"] == 2 * (6 + 1) * 3


def test_ablation_switches_change_what_the_head_sees(qllm):
    x = torch.randn(3, 6, dtype=torch.float64)
    off = _model(qllm, qpu=False)
    assert off.qpu is None and off.head.in_features == 6
    assert torch.allclose(off.quantum_features(x), off.encoder_outputs(x))
    skip = _model(qllm, encoders_to_head=False)
    assert skip.head.in_features == 2  # Q_m
    m3 = _model(qllm, measured_qubits=3)
    assert m3.head.in_features == 6 + 3 and m3.qpu(m3.encoder_outputs(x)).shape == (3, 3)
    with pytest.raises(ValueError, match="leave the head without inputs"):
        tiny_config(qllm, qpu=False, encoders_to_head=False)


def test_head_norm_standardises_the_head_inputs(qllm):
    m = _model(qllm, head_norm=True)
    m.train()
    seen = {}
    m.head.register_forward_pre_hook(lambda mod, args: seen.setdefault("x", args[0]))
    m(torch.randn(32, 6, dtype=torch.float64))
    assert torch.allclose(seen["x"].mean(0), torch.zeros(8, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(seen["x"].var(0, unbiased=False), torch.ones(8, dtype=torch.float64), atol=1e-3)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_gradients_match_finite_differences_through_each_option(qllm, name):
    from torch.func import functional_call
    m = _model(qllm, seed=3, **OPTIONS[name])
    m.eval()  # head_norm: running statistics (batch statistics also pass, but couple the batch)
    if m.head_norm is not None:
        m.head_norm.running_mean.uniform_(-0.2, 0.2)
    names = [n for n, _ in m.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in m.parameters())
    x = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)

    def f(x, *ps):
        return functional_call(m, dict(zip(names, ps)), (x,))
    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_parameter_count_and_label_of_each_option(qllm, name):
    cfg = tiny_config(qllm, **OPTIONS[name])
    m = qllm.QLLMClassifier(cfg)
    assert m.num_parameters() == qllm.count_parameters(cfg) == sum(m.parameter_breakdown().values())
    assert cfg.label() != tiny_config(qllm).label()  # checkpoints and tables tell them apart


@pytest.mark.parametrize("kw, match", [
    (dict(bias_amplitude=-1.0), "bias_amplitude c"), (dict(bias_amplitude=float("nan")), "bias_amplitude"),
    (dict(reupload_weights="some"), "reupload_weights"), (dict(encoder_kind="optical"), "encoder_kind"),
    (dict(compression=-2), "compression"), (dict(encoder_connectivity=3), "encoder_connectivity C=3"),
    (dict(qpu=False, final_linear=False, measured_qubits=1, encoders=1), "needs qpu"),
    (dict(bias_amplitude=1.0, num_features=8), "plus the bias amplitude"),
])
def test_bad_options_are_named(qllm, kw, match):
    with pytest.raises(ValueError, match=match):
        tiny_config(qllm, **kw)


def test_presets_fill_unset_options_and_explicit_options_win(monkeypatch):
    from hqsim.cli import build_parser
    from hqsim.experiments import presets
    from hqsim.experiments.cli import experiment_config
    paper = experiment_config(build_parser().parse_args(["train"]))
    (m,) = paper.models
    assert m.label() == "QLLM Q=10 E=1 M=2 N=4 C=2" and paper.train.lr == 0.01
    fake = {**presets.PAPER, "bias_amplitude": [0.5], "qubits": [11], "lr": 0.003, "head_norm": [True]}
    monkeypatch.setitem(presets.PRESETS, "tuned", fake)
    cfg = experiment_config(build_parser().parse_args(["train", "--preset", "tuned", "-Q", "12",
                                                       "--head-norm", "off"]))
    (m,) = cfg.models
    assert (m.qubits, m.bias_amplitude, m.head_norm, cfg.train.lr) == (12, 0.5, False, 0.003)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--preset", "best"])


def test_option_grid_reaches_the_model_configs():
    from hqsim.cli import build_parser
    from hqsim.experiments.cli import experiment_config
    args = build_parser().parse_args(["train", "--bias-amplitude", "0", "1", "--angle-affine", "on",
                                      "--reupload-weights", "separate", "--compression", "64",
                                      "--encoder-kind", "quantum", "classical"])
    labels = {m.label() for m in experiment_config(args).models}
    assert labels == {"QLLM Q=10 E=1 M=2 N=4 C=2 H=64 affine blocks=separate",
                      "QLLM Q=10 E=1 M=2 N=4 C=2 bias=1 H=64 affine blocks=separate",
                      "QLLM Q=10 E=1 M=2 N=4 C=2 H=64 enc=classical affine blocks=separate",
                      "QLLM Q=10 E=1 M=2 N=4 C=2 bias=1 H=64 enc=classical affine blocks=separate"}


def test_tuned_preset_is_the_screens_recorded_selection():
    """--preset tuned trains exactly trial 22 of bench/screens/qllm_sst2.yaml, the screen's
    validation-selected hybrid (bench/RESULTS_qllm.md, section 6)."""
    from pathlib import Path

    from hqsim.cli import build_parser
    from hqsim.experiments.cli import experiment_config
    from hqsim.experiments.screen import split_options, train_args
    from hqsim.experiments.sweep_cli import load_config
    screen = Path(__file__).resolve().parents[2] / "bench" / "screens" / "qllm_sst2.yaml"
    trial = load_config(screen)["trials"]["hybrid"][22]
    _, selected = train_args(split_options("hybrid", trial)[0])
    tuned = experiment_config(build_parser().parse_args(["train", "--preset", "tuned"]))
    assert tuned.models == selected.models and tuned.train == selected.train
    (m,) = tuned.models
    assert m.label() == "QLLM Q=10 E=2 M=2 N=4 C=2 Qm=10 Cenc=3 H=64 affine blocks=separate norm"


@pytest.mark.parametrize("name", ["qllm_sst2", "qllm_sst2_quantum"])
def test_recorded_screens_parse_and_draw_the_same_trials(name):
    """The screens recorded in bench/RESULTS_qllm.md (sections 6 and 6c) still parse (every
    trial's options are checked by load_config) and the compression-free screen fixes H = 0."""
    from pathlib import Path

    from hqsim.experiments.sweep_cli import load_config
    path = Path(__file__).resolve().parents[2] / "bench" / "screens" / f"{name}.yaml"
    sweep = load_config(path)
    assert all(len(t) == sweep["samples"] == 50 for t in sweep["trials"].values())
    assert load_config(path, samples=5)["trials"]["hybrid"] == sweep["trials"]["hybrid"][:5]
    if name == "qllm_sst2_quantum":
        assert {t["compression"] for t in sweep["trials"]["hybrid"]} == {0}
