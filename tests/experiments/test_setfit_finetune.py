"""`--setfit` and `--finetune-encoder` on tiny real samples (offline MiniLM; seconds on CPU)."""
import json

import pytest

from hqsim.cli import main
from hqsim.experiments.stats import unpack_correct

from .conftest import needs_quantum_layer, require_embeddings, write_sst2_sample

torch = pytest.importorskip("torch")

TINY_MODEL = ["-Q", "9", "-M", "1", "-N", "1", "--pqc2-layers", "1", "-C", "1", "--epochs", "1"]


@pytest.fixture(scope="module")
def tiny_tsv(tmp_path_factory):
    return write_sst2_sample(tmp_path_factory.mktemp("data") / "tiny.tsv", 60)


def test_train_cli_setfit_end_to_end(tiny_tsv, cache_dir, tmp_path):
    """SetFit fine-tunes the body on the training split (1 pair iteration), every model gets its
    embeddings, and SetFit's own classifier is a baseline; a second run reuses the saved body."""
    needs_quantum_layer()
    require_embeddings()
    pytest.importorskip("sklearn")
    pytest.importorskip("setfit")
    out = tmp_path / "run"
    argv = ["train", "--data", str(tiny_tsv), "--per-label", "8", "--max-test", "16",
            "--cache-dir", str(cache_dir), *TINY_MODEL, "--setfit", "--setfit-iterations", "1",
            "--baselines", "lr", "setfit", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["setfit"] is True
    assert data["meta"]["split_sizes"] == {"train": 14, "validation": 2, "test": 16}
    models = {r["model"]: r for r in data["runs"]}
    assert {"QLLM Q=9 E=1 M=1 N=1 C=1 L1=1 L2=1", "logistic regression (SetFit emb.)",
            "SetFit (contrastive + LR)"} <= set(models)
    for r in data["runs"]:  # the recorded per-sentence outcomes agree with the accuracy
        correct = unpack_correct(r["test_correct"], r["test_n"])
        assert r["test_n"] == 16 and r["test_acc"] == pytest.approx(correct.mean(), abs=1e-12)
    body = out / "setfit" / "seed-0" / "body"
    assert (body / "modules.json").exists() and (out / "setfit" / "seed-0" / "head.joblib").exists()
    # the fine-tuned body differs from the base model: its embeddings differ
    from hqsim.experiments.embeddings import embed
    texts = ["a gorgeous, witty film", "a dull mess"]
    base, tuned = embed(texts, None, cache_dir, progress=False), embed(texts, body, cache_dir, progress=False)
    assert base.shape == tuned.shape and not (abs(base - tuned) < 1e-4).all()


def test_finetune_encoder_gradients_reach_the_last_transformer_layer(cache_dir):
    needs_quantum_layer()
    require_embeddings()
    from hqsim.experiments.embeddings import TrainableEncoder
    from hqsim.experiments.runner import FinetuneModel
    from hqsim.models import QLLMClassifier, QLLMConfig
    torch.manual_seed(0)
    enc = TrainableEncoder.build(None, 1)
    trainable = [n for n, p in enc.named_parameters() if p.requires_grad]
    assert trainable and all("layer.5." in n for n in trainable)  # MiniLM-L6: the last layer only
    model = FinetuneModel(enc, QLLMClassifier(QLLMConfig(num_features=384, qubits=9, encoder_layers=1,
                                                         reuploads=1, pqc2_layers=1, connectivity=1)))
    logits = model(["a gorgeous, witty film", "a dull mess", "it is a movie"])
    torch.nn.functional.cross_entropy(logits, torch.tensor([1, 0, 1])).backward()
    grads = {n: p.grad for n, p in enc.named_parameters() if p.requires_grad}
    assert all(g is not None for g in grads.values())
    assert any(g.abs().sum() > 0 for n, g in grads.items() if "attention" in n)
    assert sum(g.abs().sum() for g in grads.values()) > 0
    frozen = [p for n, p in enc.named_parameters() if "layer.0." in n]
    assert frozen and all(p.grad is None and not p.requires_grad for p in frozen)


def test_train_cli_finetune_encoder_end_to_end(tiny_tsv, cache_dir, tmp_path):
    needs_quantum_layer()
    require_embeddings()
    out = tmp_path / "ft"
    argv = ["train", "--data", str(tiny_tsv), "--per-label", "8", "--max-test", "16",
            "--cache-dir", str(cache_dir), *TINY_MODEL, "--finetune-encoder", "1",
            "--baselines", "none", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    data = json.loads((out / "results.json").read_text())
    (run,) = data["runs"]
    assert run["model"].endswith("+FT1") and run["test_n"] == 16
    assert run["test_acc"] == pytest.approx(unpack_correct(run["test_correct"], 16).mean(), abs=1e-12)
    # the hybrid's 49 quantum/head parameters plus MiniLM's last transformer layer
    assert run["params"] > 49 + 100_000


def test_finetune_encoder_refuses_parameter_shift(tiny_tsv, tmp_path, capsys):
    argv = ["train", "--data", str(tiny_tsv), *TINY_MODEL, "--finetune-encoder", "--gradient",
            "parameter-shift", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main(argv) == 2
    assert "not with --finetune-encoder" in capsys.readouterr().err


def test_setfit_body_reused_only_for_the_same_texts_seed_and_settings(tmp_path):
    """A saved body is reused (with its recorded fine-tuning time) for the same training data,
    seed and settings; other settings, or a body without its record, are fine-tuned afresh
    instead of silently reused."""
    require_embeddings()
    pytest.importorskip("setfit")
    from hqsim.experiments.baselines import setfit_finetune, setfit_key
    from hqsim.experiments.data import load_sst2
    from hqsim.experiments.embeddings import default_model_path
    dev = load_sst2()["dev"]
    texts, labels = dev.texts[:8], dev.labels[:8]
    base, out = default_model_path(), tmp_path / "seed-0"
    key = setfit_key(texts, labels, base, 0, 1, 16, 1)
    assert key == setfit_key(list(texts), [int(v) for v in labels], base, 0, 1, 16, 1)
    for other in (setfit_key(texts[::-1], labels[::-1], base, 0, 1, 16, 1),
                  setfit_key(texts, [1 - v for v in labels], base, 0, 1, 16, 1),
                  setfit_key(texts, labels, base, 1, 1, 16, 1),
                  setfit_key(texts, labels, base, 0, 2, 16, 1)):
        assert other != key
    first = setfit_finetune(texts, labels, base, out, seed=0, num_iterations=1)
    assert first.train_s > 0 and json.loads((out / "setfit.json").read_text())["key"] == key
    again = setfit_finetune(texts, labels, base, out, seed=0, num_iterations=1)
    assert again.train_s == first.train_s  # reused: the recorded time, no new fine-tuning
    stamp = (out / "body" / "modules.json").stat().st_mtime_ns
    other = setfit_finetune(texts, labels, base, out, seed=1, num_iterations=1)
    assert other.train_s != first.train_s
    assert (out / "body" / "modules.json").stat().st_mtime_ns != stamp
    assert json.loads((out / "setfit.json").read_text())["seed"] == 1
    (out / "setfit.json").unlink()  # a body saved without its record is not trusted
    legacy = setfit_finetune(texts, labels, base, out, seed=1, num_iterations=1)
    assert legacy.train_s != other.train_s and (out / "setfit.json").exists()
