"""Gate noise in the QLLM model and `hqsim train`: options, errors, where the noise applies,
agreement with the exact density-matrix reference (tests/noise/helpers.py), reproducible
noisy training and exact resume."""
import json

import numpy as np
import pytest

from hqsim.cli import main

from .conftest import needs_quantum_layer, require_embeddings, tiny_config, write_sst2_sample

torch = pytest.importorskip("torch")

from hqsim.experiments.train import Interrupted, TrainConfig, fit, seed_everything  # noqa: E402


def tiny(models, **kw):
    return tiny_config(models, **{"encoders": 1, "reuploads": 2, **kw})


# -- options and errors -------------------------------------------------------------------

def test_noise_options_reach_the_model_configs():
    from hqsim.cli import build_parser
    from hqsim.experiments.cli import experiment_config
    args = build_parser().parse_args(["train", "--noise", "none", "ionq-aria", "depolarizing:1e-3,0.01",
                                      "--trajectories", "8", "32", "--noise-on", "all"])
    cfg = experiment_config(args)
    got = {(m.noise, m.trajectories, m.noise_on) for m in cfg.models}
    # T is ignored without noise: one exact configuration, not one per T
    assert got == {("none", 8, "all"), ("ionq-aria", 8, "all"), ("ionq-aria", 32, "all"),
                   ("depolarizing:0.001,0.01", 8, "all"), ("depolarizing:0.001,0.01", 32, "all")}
    labels = {m.label() for m in cfg.models}
    assert "QLLM Q=10 E=1 M=2 N=4 C=2 noise=depolarizing:0.001,0.01 T=32 on=all" in labels
    assert "QLLM Q=10 E=1 M=2 N=4 C=2" in labels
    default = experiment_config(build_parser().parse_args(["train"])).models
    assert [(m.noise, m.noise_on) for m in default] == [("none", "qpu")]


@pytest.mark.parametrize("argv, words", [
    (["--noise", "ionq"], ["--noise", "unknown noise model", "ionq-aria", "google-weber-2021",
                           "depolarizing:P1[,P2[,READOUT]]"]),
    (["--noise", "depolarizing:0.5,1.5"], ["--noise", "P2 must be a probability in [0, 1]"]),
    (["--noise", "depolarizing"], ["--noise", "needs its parameters"]),
    (["--noise", "depolarizing:x"], ["--noise", "P1 must be a number"]),
    (["--trajectories", "0"], ["--trajectories", "positive integer"]),
    (["--noise-on", "encoders"], ["--noise-on", "qpu", "all"]),
])
def test_bad_noise_options_name_the_argument_and_the_allowed_values(argv, words, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, (w, err)


def test_amplitude_damping_needs_a_hardware_gradient(qllm, capsys, tmp_path):
    with pytest.raises(ValueError, match=r"--noise.*amplitude damping.*--gradient\) parameter-shift or spsa"):
        tiny(qllm, noise="amplitude-damping:0.02")
    assert main(["train", "--noise", "amplitude-damping:0.02", "--out", str(tmp_path / "x")]) == 2
    assert "--gradient" in capsys.readouterr().err
    for mode in ("parameter-shift", "spsa"):
        m = qllm.QLLMClassifier(tiny(qllm, noise="amplitude-damping:0.02", gradient=mode, trajectories=4))
        m(torch.randn(2, 6)).sum().backward()
        assert torch.isfinite(m.qpu.weights.grad).all() and m.qpu.weights.grad.abs().sum() > 0


@pytest.mark.parametrize("kw, msg", [({"trajectories": 0}, r"trajectories T \(--trajectories\)"),
                                     ({"trajectories": 2.5}, "positive int"),
                                     ({"noise_on": "head"}, r"noise_on \(--noise-on\) must be one of qpu, all"),
                                     ({"noise": "depolarizing:0.1,0.2,0.3,0.4"}, "1 to 3")])
def test_bad_noise_config(qllm, kw, msg):
    with pytest.raises(ValueError, match=msg):
        tiny(qllm, **{"noise": "depolarizing:0.01", **kw})


# -- where the noise applies ----------------------------------------------------------------

def test_noise_applies_to_the_qpu_module_by_default(qllm):
    from hqsim.noise import ionq_aria_like
    m = qllm.QLLMClassifier(tiny(qllm, noise="ionq-aria", trajectories=5, encoders=2))
    assert m.qpu.noise_options.noise == ionq_aria_like() and m.qpu.noise_options.trajectories == 5
    assert all(e.noise_options is None for e in m.encoders)
    assert m.shot_generator.active
    every = qllm.QLLMClassifier(tiny(qllm, noise="ionq-aria", trajectories=5, noise_on="all", shots=64))
    for layer in (*every.encoders, every.qpu):
        assert layer.noise_options.noise.name == "ionq-aria-like" and layer.noise_options.shots == 64
    # shots without noise on the encoders keep their shots
    some = qllm.QLLMClassifier(tiny(qllm, noise="depolarizing:0.01", shots=64))
    assert some.encoders[0].noise_options.shots == 64 and some.encoders[0].noise_options.noise is None
    exact = qllm.QLLMClassifier(tiny(qllm))
    assert exact.qpu.noise_options is None and not exact.shot_generator.active


def test_noisy_layers_match_the_density_matrix(qllm):
    """The model's noisy encoder and QPU module (noise on all, readout included) against the
    exact density matrix: outputs and adjoint gradients, mean over 12 seeds of T=300
    trajectories within 5 standard errors (+2e-3)."""
    from tests.noise.helpers import dm_expectations, dm_vjp, seeded_mean_and_error
    from hqsim.ir import Z
    cfg = tiny(qllm, noise="depolarizing:0.04,0.08,0.03", trajectories=300, noise_on="all")
    torch.manual_seed(0)
    m = qllm.QLLMClassifier(cfg, dtype=torch.float64)
    model = cfg.noise_model()
    x = torch.randn(2, 6, dtype=torch.float64)
    angles = torch.rand(2, m.qpu.circuit.num_inputs, dtype=torch.float64) * 3
    g = torch.randn(2, 2, dtype=torch.float64)
    enc, qpu = m.encoders[0], m.qpu
    w_enc, w_qpu = enc.weights.detach().numpy(), qpu.weights.detach().numpy()
    dw, dx = dm_vjp(qpu.circuit, [Z(0), Z(1)], angles.numpy(), w_qpu, g.numpy(), model)
    exact = np.concatenate([dm_expectations(enc.circuit, [Z(q) for q in range(3)], x.numpy(), w_enc, model).ravel(),
                            dm_expectations(qpu.circuit, [Z(0), Z(1)], angles.numpy(), w_qpu, model).ravel(),
                            dw, dx.ravel()])
    clean = dm_expectations(enc.circuit, [Z(q) for q in range(3)], x.numpy(), w_enc).ravel()

    def run(seed):
        m.shot_generator.manual_seed(seed)
        a = angles.clone().requires_grad_(True)
        qpu.weights.grad = None
        out = qpu(a)
        (out * g).sum().backward()
        with torch.no_grad():
            e = enc(x)
        return np.concatenate([e.numpy().ravel(), out.detach().numpy().ravel(),
                               qpu.weights.grad.numpy(), a.grad.numpy().ravel()])
    mean, se = seeded_mean_and_error(run, range(12))
    assert np.all(np.abs(mean - exact) < 5 * se + 2e-3), (mean - exact, se)
    assert np.max(np.abs(exact[:6] - clean)) > 0.05  # the noise is visible at this strength


# -- training -----------------------------------------------------------------------------

def _data(n=48, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x[:, 0] + 0.3 * x[:, 1] > 0).long()
    return x[:32], y[:32], x[32:], y[32:]


def _noisy(qllm, noise="depolarizing:0.01,0.03", **kw):
    seed_everything(3)
    return qllm.QLLMClassifier(qllm.QLLMConfig(num_features=16, qubits=4, encoder_layers=1, reuploads=2,
                                               pqc2_layers=1, connectivity=1, noise=noise, trajectories=4,
                                               **kw))


def test_noisy_training_is_reproducible_under_a_seed(qllm):
    xtr, ytr, xva, yva = _data()
    cfg = TrainConfig(epochs=2, batch_size=8, lr=0.05, seed=1)
    runs = []
    for shot_seed in (None, None, 11):
        model = _noisy(qllm)
        res = fit(model, xtr, ytr, xva, yva, TrainConfig(**{**cfg.__dict__, "shot_seed": shot_seed}),
                  progress=False)
        runs.append(([h["loss"] for h in res.history], model.qpu.weights.detach().clone()))
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])
    assert runs[0][0] != runs[2][0]  # other trajectories, other run
    assert all(np.isfinite(runs[0][0]))
    # the trajectories matter: the exact model trains differently from the same start
    exact = _noisy(qllm, noise="none")
    res = fit(exact, xtr, ytr, xva, yva, cfg, progress=False)
    assert [h["loss"] for h in res.history] != runs[0][0]


def test_noisy_resume_after_interrupt_equals_uninterrupted(qllm, tmp_path):
    xtr, ytr, xva, yva = _data()
    cfg = TrainConfig(epochs=4, batch_size=8, lr=0.05, gamma=0.9, seed=5)
    ref = _noisy(qllm, noise="ionq-aria", shots=32)
    ref_res = fit(ref, xtr, ytr, xva, yva, cfg, progress=False)

    def stop_at_2(epoch, rec):
        if epoch == 2:
            raise KeyboardInterrupt
    ckpt = tmp_path / "noisy.pt"
    with pytest.raises(Interrupted):
        fit(_noisy(qllm, noise="ionq-aria", shots=32), xtr, ytr, xva, yva, cfg, checkpoint=ckpt,
            progress=False, on_epoch_end=stop_at_2)
    resumed = _noisy(qllm, noise="ionq-aria", shots=32)
    res = fit(resumed, xtr, ytr, xva, yva, cfg, checkpoint=ckpt, resume=True, progress=False)
    assert res.resumed_from == 2 and res.epochs_run == 4
    assert [h["loss"] for h in res.history] == [h["loss"] for h in ref_res.history]
    assert [h["val_acc"] for h in res.history] == [h["val_acc"] for h in ref_res.history]
    for (n, a), (_, b) in zip(ref.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), n
    # the checkpoint holds the trajectory generators: the QPU module's (noise) and the encoder's (shots)
    state = torch.load(ckpt, weights_only=False)
    assert state["shot_generator"] is not None and len(state["shot_generator"]) == 2


def test_train_cli_with_noise_writes_it_everywhere(tmp_path, cache_dir, capsys):
    needs_quantum_layer()
    require_embeddings()
    tsv = write_sst2_sample(tmp_path / "small.tsv", 100)
    out = tmp_path / "run"
    argv = ["train", "--data", str(tsv), "--per-label", "30", "-Q", "9", "-M", "1", "-N", "1",
            "--pqc2-layers", "1", "-C", "1", "--epochs", "2", "--noise", "depolarizing:0.01,0.02",
            "--trajectories", "2", "--baselines", "none", "--cache-dir", str(cache_dir), "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    label = "QLLM Q=9 E=1 M=1 N=1 C=1 L1=1 L2=1 noise=depolarizing:0.01,0.02 T=2"
    assert label in capsys.readouterr().out
    data = json.loads((out / "results.json").read_text())
    (run,) = data["runs"]
    assert run["model"] == label and run["config"]["noise"] == "depolarizing:0.01,0.02"
    assert run["config"]["trajectories"] == 2 and run["config"]["noise_on"] == "qpu"
    assert data["meta"]["models"][0]["noise"] == "depolarizing:0.01,0.02"
    assert label in (out / "results.md").read_text()
    assert main(argv + ["--resume"]) == 0  # a finished noisy run resumes to the same record
    again = json.loads((out / "results.json").read_text())
    assert again["runs"][0]["test_acc"] == run["test_acc"]


def test_sweep_config_accepts_noise_options(tmp_path):
    from hqsim.experiments.sweep_cli import SweepConfigError, load_config
    p = tmp_path / "sweep.yaml"
    p.write_text("samples: 6\nhybrid: {noise: [none, ionq-aria, 'depolarizing:0.001,0.01']}\n"
                 "fixed: {trajectories: 8, noise_on: all, epochs: 1}\n")
    trials = load_config(p)["trials"]["hybrid"]
    assert len(trials) == 6 and {t["noise"] for t in trials} <= {"none", "ionq-aria", "depolarizing:0.001,0.01"}
    p.write_text("hybrid: {noise: [ionq]}\n")
    with pytest.raises(SweepConfigError, match="noise"):
        load_config(p)
