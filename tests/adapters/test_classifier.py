"""The sentence classifier of every method on the tiny BERT: trained weights saved alone and
loaded into a fresh model give identical logits; merging keeps the function; bad loads are
refused clearly."""
import pytest

from .conftest import sentences

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
from hqsim.peft import (FullConfig, HeadConfig, LoRAConfig, QPAConfig, QTHAConfig,  # noqa: E402
                        QuanTAConfig, build_classifier)

METHODS = {"qtha": QTHAConfig(qubits=2, layers=1, mpo_cores=2),
           "qpa": QPAConfig(rank=2, chunk=8, layers=2, hidden=(4,)),
           "quanta": QuanTAConfig(axes=2), "lora": LoRAConfig(rank=2), "full": FullConfig(),
           "head": HeadConfig()}


def trained(method, pretrained, seed=0, steps=2):
    torch.manual_seed(seed)
    model = build_classifier(METHODS[method], 3, pretrained=pretrained, dtype=torch.float64)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    texts, labels = sentences(6), torch.tensor([0, 1, 2, 0, 1, 2])
    model.train()
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(texts), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_save_then_load_gives_identical_logits(method, pretrained, tmp_path):
    texts = sentences(5, seed=9)
    model = trained(method, pretrained)
    path = model.save_adapter(tmp_path / "adapter.pt")
    other = build_classifier(METHODS[method], 3, pretrained=pretrained, dtype=torch.float64)
    other.eval()
    with torch.no_grad():
        assert not torch.equal(other(texts), model(texts))  # a fresh model differs ...
        other.load_adapter(path)
        assert torch.equal(other(texts), model(texts))      # ... until the adapter is loaded
    saved = torch.load(path, weights_only=False)["state"]
    assert not any(".base." in k for k in saved) or method == "full"  # frozen weights stay out
    if method != "full":
        assert sum(v.numel() for v in saved.values()) < 2000


@pytest.mark.parametrize("method", ["quanta", "qpa", "lora"])
def test_merged_classifier_gives_the_same_logits(method, pretrained):
    model = trained(method, pretrained)
    texts = sentences(5, seed=4)
    with torch.no_grad():
        before = model(texts)
        model.merge()
        assert torch.allclose(model(texts), before, atol=1e-12, rtol=0)
    assert not any("lora" in n or "gates" in n or "generator" in n for n, _ in model.named_parameters())


def test_qtha_classifier_refuses_to_merge(pretrained):
    model = trained("qtha", pretrained, steps=0)
    with pytest.raises(ValueError, match="QTHA cannot be merged"):
        model.merge()


def test_loading_a_mismatched_adapter_is_refused(pretrained, tmp_path):
    path = trained("quanta", pretrained, steps=0).save_adapter(tmp_path / "q.pt")
    other = build_classifier(METHODS["qtha"], 3, pretrained=pretrained, dtype=torch.float64)
    with pytest.raises(ValueError, match="holds a QuanTA N=2 adapter; this model is built for QTHA"):
        other.load_adapter(path)
    two = build_classifier(METHODS["quanta"], 2, pretrained=pretrained, dtype=torch.float64)
    with pytest.raises(ValueError, match="trained for 3 classes, this model has 2"):
        two.load_adapter(path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read adapter file"):
        other.load_adapter(tmp_path / "junk.pt")


def test_eval_in_length_sorted_chunks_matches_one_batch(pretrained):
    model = trained("qtha", pretrained, steps=1)
    model.eval_batch = 4
    texts = sentences(11, seed=5)
    with torch.no_grad():
        chunked = model(texts)
        one = torch.cat([model.head(model._embed_batch([t])) for t in texts])
    assert torch.allclose(chunked, one, atol=1e-10, rtol=0)
