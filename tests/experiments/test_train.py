"""The training loop: learning on real data, exact resume, Ctrl-C leaves a checkpoint."""
import pytest

from .conftest import needs_quantum_layer, require_embeddings

torch = pytest.importorskip("torch")

from hqsim.experiments.train import Interrupted, TrainConfig, evaluate, fit, seed_everything  # noqa: E402


@pytest.fixture(scope="module")
def real_sample(cache_dir):
    """128 sentences per label (218 train / 38 validation) and 600 test sentences."""
    require_embeddings()
    from hqsim.experiments.data import make_splits
    from hqsim.experiments.embeddings import embed
    s = make_splits("paper", 0, per_label=128, max_test=600)
    parts = (s.train, s.validation, s.test)
    return ([torch.from_numpy(embed(p.texts, cache_dir=cache_dir, progress=False)) for p in parts],
            [torch.as_tensor(p.labels) for p in parts])


def test_short_hybrid_run_beats_chance_clearly(real_sample):
    needs_quantum_layer()
    from hqsim.models import QLLMClassifier, QLLMConfig
    (xtr, xva, xte), (ytr, yva, yte) = real_sample
    seed_everything(0)
    model = QLLMClassifier(QLLMConfig(qubits=9, encoder_layers=2, reuploads=2, pqc2_layers=1))
    res = fit(model, xtr, ytr, xva, yva, TrainConfig(epochs=8, lr=0.05), progress=False)
    acc, _ = evaluate(model, xte, yte)
    # chance is 0.5; with 600 test sentences its standard deviation is 0.02
    assert acc >= 0.56, f"test accuracy {acc:.3f}"
    assert res.history[-1]["loss"] < res.history[0]["loss"] - 0.05
    assert 0 < res.samples_per_s and len(res.history) == 8


def _tiny_hybrid(shots=50):
    from hqsim.models import QLLMClassifier, QLLMConfig
    seed_everything(3)
    return QLLMClassifier(QLLMConfig(num_features=384, qubits=9, encoder_layers=1, reuploads=1,
                                     pqc2_layers=1, connectivity=1, shots=shots))


def test_resume_after_interrupt_equals_uninterrupted(small_embeddings, tmp_path):
    needs_quantum_layer()
    (xtr, xva, _), (ytr, yva, _) = small_embeddings
    xtr, ytr = xtr[:48], ytr[:48]
    cfg = TrainConfig(epochs=4, batch_size=16, lr=0.05, gamma=0.9, seed=5)
    ref = _tiny_hybrid()
    ref_res = fit(ref, xtr, ytr, xva, yva, cfg, progress=False)

    def stop_at_2(epoch, rec):
        if epoch == 2:
            raise KeyboardInterrupt
    ckpt = tmp_path / "ck.pt"
    with pytest.raises(Interrupted) as err:
        fit(_tiny_hybrid(), xtr, ytr, xva, yva, cfg, checkpoint=ckpt, progress=False,
            on_epoch_end=stop_at_2)
    assert err.value.checkpoint == ckpt and ckpt.exists()
    assert not list(tmp_path.glob("*.tmp"))
    resumed = _tiny_hybrid()
    res = fit(resumed, xtr, ytr, xva, yva, cfg, checkpoint=ckpt, resume=True, progress=False)
    assert res.resumed_from == 2 and res.epochs_run == 4
    assert [h["loss"] for h in res.history] == [h["loss"] for h in ref_res.history]
    for (n, a), (_, b) in zip(ref.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), n
    # resuming a finished run trains nothing and restores the best weights
    again = _tiny_hybrid()
    res2 = fit(again, xtr, ytr, xva, yva, cfg, checkpoint=ckpt, resume=True, progress=False)
    assert res2.epochs_run == 4 and torch.equal(again.qpu.weights, ref.qpu.weights)


def test_resume_refuses_other_settings(small_embeddings, tmp_path):
    from hqsim.experiments.baselines import MLPHead
    (xtr, xva, _), (ytr, yva, _) = small_embeddings
    ckpt = tmp_path / "mlp.pt"
    fit(MLPHead(384, 2), xtr, ytr, xva, yva, TrainConfig(epochs=1), checkpoint=ckpt, progress=False)
    with pytest.raises(ValueError, match="written with training settings"):
        fit(MLPHead(384, 2), xtr, ytr, xva, yva, TrainConfig(epochs=2, lr=0.5), checkpoint=ckpt,
            resume=True, progress=False)


def test_early_stopping_and_best_weights(small_embeddings):
    from hqsim.experiments.baselines import MLPHead
    (xtr, xva, _), (ytr, yva, _) = small_embeddings
    torch.manual_seed(0)
    m = MLPHead(384, 4)
    res = fit(m, xtr, ytr, xva, yva, TrainConfig(epochs=200, lr=0.05, patience=3), progress=False)
    assert res.stopped_early and res.epochs_run < 200
    assert res.epochs_run - res.best_epoch == 3
    assert evaluate(m, xva, yva)[0] == pytest.approx(res.best_val_acc)


@pytest.mark.parametrize("kw, msg", [({"epochs": 0}, "epochs"), ({"lr": 0}, "learning rate L"),
                                     ({"gamma": 1.5}, "decay γ")])
def test_bad_train_config(kw, msg):
    with pytest.raises(ValueError, match=msg):
        TrainConfig(**kw)


def test_lr_groups_train_each_group_at_its_rate(tmp_path):
    """fit(lr_groups={"head.": ...}): Adam's first step moves every weight by about its group's
    rate (|Δw| = lr·|g|/(|g|+eps)), and the checkpoint records the groups in its resume key."""
    from torch import nn

    from hqsim.experiments.train import CheckpointError, TrainConfig, fit

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head = nn.Linear(4, 3), nn.Linear(3, 2)

        def forward(self, x):
            return self.head(torch.tanh(self.body(x)))

    torch.manual_seed(0)
    net = Net()
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    x, y = torch.randn(8, 4), torch.tensor([0, 1] * 4)
    cfg = TrainConfig(epochs=1, batch_size=8, lr=1e-3)
    ckpt = tmp_path / "c.pt"
    # no validation set: the last epoch's weights are kept, so the one step's change is visible
    fit(net, x, y, x[:0], y[:0], cfg, progress=False, checkpoint=ckpt, lr_groups={"head.": 5e-2})
    for n, p in net.named_parameters():
        step = (p.detach() - before[n]).abs()
        lr = 5e-2 if n.startswith("head.") else 1e-3
        assert torch.allclose(step, torch.full_like(step, lr), rtol=1e-3), n
    state = torch.load(ckpt, weights_only=False)
    assert [g["lr"] for g in state["optimizer"]["param_groups"]] == [1e-3, 5e-2]
    with pytest.raises(CheckpointError, match="lr_groups"):
        fit(Net(), x, y, x[:0], y[:0], cfg, progress=False, checkpoint=ckpt, resume=True)
    with pytest.raises(ValueError, match="no trainable parameter of that name"):
        fit(Net(), x, y, x[:0], y[:0], cfg, progress=False, lr_groups={"classifier.": 1e-2})
