"""A tiny BERT (2 layers, hidden 12, random weights) and a word-level tokenizer, built in the
test session: the adapters are tested on a real transformers model small enough for float64
finite differences, and the CLI end to end reads it from a saved directory."""
import copy

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers", reason="extra 'peft' (transformers) not installed")
pytest.importorskip("hqsim.nn.layer")

WORDS = ("a the film movie is was not very good bad great dull fun funny boring loved hated it "
         "and but plot acting story best worst ever").split()
HIDDEN = 12


def tiny_bert(dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    cfg = transformers.BertConfig(vocab_size=5 + len(WORDS), hidden_size=HIDDEN, num_hidden_layers=2,
                                  num_attention_heads=2, intermediate_size=16, max_position_embeddings=32)
    return transformers.BertModel(cfg, add_pooling_layer=False).to(dtype).eval()


def tiny_tokenizer(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    return transformers.BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """A saved tiny model directory (config, weights, tokenizer), as `--encoder DIR` takes."""
    path = tmp_path_factory.mktemp("tiny-bert")
    tiny_bert(torch.float32).save_pretrained(path)
    tiny_tokenizer(path).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def pretrained(tmp_path_factory):
    """(encoder, tokenizer) in float64, as ``build_classifier(pretrained=...)`` takes."""
    return tiny_bert(torch.float64), tiny_tokenizer(tmp_path_factory.mktemp("tok"))


def sentences(n, seed=0):
    import random
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9))) for _ in range(n)]


def token_batch(batch=3, tokens=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 5 + len(WORDS), (batch, tokens), generator=g)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def fresh(model):
    return copy.deepcopy(model)
