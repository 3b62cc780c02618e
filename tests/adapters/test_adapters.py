"""The adapters on a tiny real BERT: unchanged model at initialisation, gradients against
finite differences (float64), one batched hqsim call per adapted layer and step, exact
parameter counts, merging (and its refusal), bad options."""
import pytest

from .conftest import HIDDEN, fresh, tiny_bert, token_batch

torch = pytest.importorskip("torch")
hp = pytest.importorskip("hqsim.peft")
from hqsim.nn.layer import QuantumLayer  # noqa: E402
from hqsim.peft import (QPAConfig, QTHAConfig, QuanTAConfig, adapters, count_trainable,  # noqa: E402
                        inject_adapters, merge_adapters)

TINY = {"qtha": QTHAConfig(qubits=2, layers=1, mpo_bond=2, mpo_cores=2),
        "qpa": QPAConfig(rank=2, chunk=8, layers=2, hidden=(4,)),
        "quanta": QuanTAConfig(axes=2)}


def adapted(method, dtype=torch.float64, seed=0):
    model = tiny_bert(dtype)
    torch.manual_seed(seed)
    inject_adapters(model, TINY[method])
    return model


def perturb(model, scale=0.3, seed=1):
    """Move every trainable weight off its initial value (zero-initialised ones included), so
    that every path of the adapter carries a gradient."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))


@pytest.mark.parametrize("method", sorted(TINY))
def test_model_unchanged_at_init(method):
    base = tiny_bert()
    model = adapted(method)
    batch = token_batch()
    assert torch.equal(model(**batch).last_hidden_state, base(**batch).last_hidden_state)
    perturb(model)  # and the adapter does change the model once its weights move
    assert not torch.allclose(model(**batch).last_hidden_state, base(**batch).last_hidden_state)


def test_lora_baseline_unchanged_at_init():
    peft = pytest.importorskip("peft")
    base = tiny_bert()
    model = peft.get_peft_model(fresh(base), peft.LoraConfig(r=2, target_modules=["query", "value"]))
    batch = token_batch()
    assert torch.equal(model(**batch).last_hidden_state, base(**batch).last_hidden_state)


@pytest.mark.parametrize("method", sorted(TINY))
def test_gradients_match_finite_differences(method):
    """Autograd (hqsim's adjoint for the QNN weights and for the angles, hence P) against
    central differences, float64, on entries of every trainable tensor (about 24 in all)."""
    model = adapted(method)
    perturb(model)
    batch = token_batch(batch=2, tokens=4)
    weights = torch.randn(2, 4, HIDDEN, dtype=torch.float64, generator=torch.Generator().manual_seed(3))

    def loss():
        return (model(**batch).last_hidden_state * weights).sum()

    loss().backward()
    g = torch.Generator().manual_seed(4)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    per_tensor = max(1, 24 // len(trainable))
    checked = 0
    for name, p in trainable:
        for i in torch.randperm(p.numel(), generator=g)[:per_tensor].tolist():
            flat = p.data.view(-1)
            old, eps = flat[i].item(), 1e-6
            with torch.no_grad():
                flat[i] = old + eps
                up = loss().item()
                flat[i] = old - eps
                down = loss().item()
                flat[i] = old
            fd = (up - down) / (2 * eps)
            assert abs(p.grad.view(-1)[i].item() - fd) <= 1e-6 + 1e-5 * abs(fd), (name, i)
            checked += 1
    assert checked >= 12


class CountingBackend:
    """Wraps the backend a QuantumLayer picks; records the batch of every call."""

    def __init__(self, inner):
        self.inner, self.forward_rows, self.vjp_rows = inner, [], []

    def __getattr__(self, name):  # arrays, keeps_states, ...: the wrapped backend's
        found = getattr(self.inner, name)
        if name != "forward_kept":
            return found

        def forward_kept(compiled, x, *args, **kw):  # the training path's forward (where the backend has one)
            self.forward_rows.append(x.shape[0])
            return found(compiled, x, *args, **kw)
        return forward_kept

    def forward(self, compiled, x, *args, **kw):
        self.forward_rows.append(x.shape[0])
        return self.inner.forward(compiled, x, *args, **kw)

    def vjp(self, compiled, x, *args, **kw):
        self.vjp_rows.append(x.shape[0])
        return self.inner.vjp(compiled, x, *args, **kw)


@pytest.fixture
def counting(monkeypatch):
    from hqsim.nn import layer
    made = []
    real = layer.get_backend

    def get_backend(*args, **kwargs):
        made.append(CountingBackend(real(*args, **kwargs)))
        return made[-1]
    monkeypatch.setattr(layer, "get_backend", get_backend)
    return made


def _rows(counting, kind):
    return [n for c in counting for n in getattr(c, kind)]


def test_qtha_runs_one_batched_call_per_layer_per_step(counting):
    model = adapted("qtha", torch.float32)
    layers = len(adapters(model))
    assert layers == 4  # query and value of 2 layers
    batch, tokens = 3, 5
    for _ in range(2):  # two training steps
        counting.clear()
        model(**token_batch(batch, tokens)).last_hidden_state.sum().backward()
        assert _rows(counting, "forward_rows") == [batch * tokens] * layers
        assert _rows(counting, "vjp_rows") == [batch * tokens] * layers


def test_qpa_generates_once_per_step(counting):
    model = adapted("qpa", torch.float32)
    for _ in range(2):
        counting.clear()
        model(**token_batch(4, 6)).last_hidden_state.sum().backward()
        assert _rows(counting, "forward_rows") == [1]
        assert _rows(counting, "vjp_rows") == [1]


def test_parameter_counts_by_hand():
    # Linear(12, 12) in a tiny BERT: query and value of 2 layers = 4 adapted layers
    # QTHA Q=2 L=1 χ=2, 2 cores: P 2·12 + U 12·2 + PQC 3·1·2 + MPO 12=4·3: (1,4,4,2) 32 + (2,3,3,1) 18
    assert count_trainable(adapted("qtha")) == 4 * (24 + 24 + 6 + 32 + 18)
    # QTHA with a learned fusion weight: one more number per layer
    m = tiny_bert()
    inject_adapters(m, QTHAConfig(qubits=2, layers=1, mpo_cores=2, fusion="learned"))
    assert count_trainable(m) == 4 * (24 + 24 + 6 + 32 + 18 + 1)
    # QuanTA N=2: 12 = 4·3, one gate on the pair (0, 1): (4·3)² = 144
    assert count_trainable(adapted("quanta")) == 4 * 144
    # QPA r=2: 4 layers × 2·(12+12) = 192 generated numbers, chunk 8 → 24 basis states → 5 qubits;
    # QNN 2 layers × 5 RY = 10; MLP (5 bits + p = 6) → 4 → 8: 6·4+4 + 4·8+8 = 68
    qpa = adapted("qpa")
    assert qpa.qpa_generator.num_qubits == 5
    assert count_trainable(qpa) == 10 + 68


def test_quanta_non_square_and_mpo_counts():
    model = torch.nn.Sequential(torch.nn.Linear(12, 6, dtype=torch.float64))
    inject_adapters(model, QuanTAConfig(target_modules="0", axes=2))
    # 12 = 4·3 → 6 = 3·2: one gate (3, 2, 4, 3)
    assert count_trainable(model) == 3 * 2 * 4 * 3
    model = torch.nn.Sequential(torch.nn.Linear(12, 6, dtype=torch.float64))
    inject_adapters(model, QTHAConfig(target_modules="0", qubits=3, layers=2, mpo_bond=3, mpo_cores=2))
    # P 3·12 + U 6·3 + PQC 3·2·3 + MPO (1,3,4,3) 36 + (3,2,3,1) 18
    assert count_trainable(model) == 36 + 18 + 18 + 36 + 18


@pytest.mark.parametrize("method", ["quanta", "qpa"])
def test_merge_gives_the_same_function(method):
    model = adapted(method)
    perturb(model)
    batch = token_batch()
    before = model(**batch).last_hidden_state
    assert len(merge_adapters(model)) == 4
    assert not adapters(model) and not hasattr(model, "qpa_generator")
    assert all(type(m) is torch.nn.Linear for n, m in model.named_modules() if n.endswith(("query", "value")))
    assert torch.allclose(model(**batch).last_hidden_state, before, atol=1e-12, rtol=0)


def test_merging_a_copy_leaves_the_original_regenerating():
    """QPA regenerates its matrices at every forward (a pre-hook on the model); merging a deep
    copy must not unhook the original."""
    model = adapted("qpa")
    merge_adapters(fresh(model))
    perturb(model)
    batch = token_batch()
    before = model(**batch).last_hidden_state
    perturb(model, seed=5)
    assert not torch.allclose(model(**batch).last_hidden_state, before)


def test_qtha_merge_is_refused_and_leaves_the_model_intact():
    model = adapted("qtha")
    with pytest.raises(ValueError, match="QTHA cannot be merged.*not linear"):
        merge_adapters(model)
    assert len(adapters(model)) == 4


def test_bad_options_get_clear_errors():
    with pytest.raises(ValueError, match=r"qubits=13 exceeds the width of '.*query'.*qubits <= 12"):
        inject_adapters(tiny_bert(), QTHAConfig(qubits=13))
    with pytest.raises(ValueError, match="matched no module.*named .*'query'"):
        inject_adapters(tiny_bert(), QTHAConfig(target_modules=("qkv",)))
    with pytest.raises(ValueError, match="selects 'encoder.layer.0.attention', a BertAttention"):
        inject_adapters(tiny_bert(), QuanTAConfig(target_modules=r"encoder\.layer\.0\.attention"))
    with pytest.raises(ValueError, match="QPA needs 5 qubits.*max_qubits=4"):
        inject_adapters(tiny_bert(), QPAConfig(rank=2, chunk=8, max_qubits=4))
    with pytest.raises(ValueError, match="fusion must be one of"):
        QTHAConfig(fusion="sum")
    with pytest.raises(ValueError, match="axes must be >= 2"):
        QuanTAConfig(axes=1)
    with pytest.raises(ValueError, match="already holds adapters"):
        inject_adapters(adapted("quanta"), TINY["qtha"])



@pytest.mark.parametrize("make, message", [
    (lambda: QTHAConfig(qubits=2.5), "QTHA: qubits must be a positive integer, got 2.5"),
    (lambda: QTHAConfig(layers=True), "QTHA: layers must be a positive integer, got True"),
    (lambda: QTHAConfig(mpo_bond="2"), "QTHA: mpo_bond must be a positive integer, got '2'"),
    (lambda: QTHAConfig(fusion_weight="half"), "QTHA: fusion_weight must be a number, got 'half'"),
    (lambda: QTHAConfig(fusion_weight=1.0), r"fusion_weight α must be in \(0, 1\)"),
    (lambda: QTHAConfig(backend=3), "QTHA: backend must be an hqsim backend name"),
    (lambda: QTHAConfig(target_modules=()), "target_modules must be a regular expression or a non-empty list"),
    (lambda: QPAConfig(hidden=16), "QPA: hidden must be a list of layer widths, got 16"),
    (lambda: QPAConfig(hidden=(16, 0)), "QPA: hidden must be a positive integer, got 0"),
    (lambda: QPAConfig(chunk=-1), "QPA: chunk must be a positive integer, got -1"),
    (lambda: QuanTAConfig(axes=3.0), "QuanTA: axes must be a positive integer, got 3.0"),
    (lambda: hp.LoRAConfig(rank=0), "LoRA: rank must be a positive integer, got 0"),
    (lambda: hp.LoRAConfig(alpha="8"), "LoRA: alpha must be a number, got '8'"),
    (lambda: hp.from_dict({"method": "dora", "rank": 2}), r"unknown fine-tuning method 'dora'; choose from \['qtha'"),
])
def test_options_are_typed_and_checked_on_creation(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_options_round_trip_through_their_dicts():
    for cfg in (*TINY.values(), hp.LoRAConfig(rank=8, alpha=16.0), hp.FullConfig(), hp.HeadConfig(),
                QTHAConfig(target_modules=r".*\.query", fusion="learned", fusion_weight=0.25)):
        assert hp.from_dict(cfg.to_dict()) == cfg


def test_unknown_method_configs_are_refused():
    with pytest.raises(TypeError, match="inject_adapters takes QTHAConfig, QPAConfig or QuanTAConfig, got "
                                        "LoRAConfig .LoRA goes through the peft library."):
        inject_adapters(tiny_bert(), hp.LoRAConfig())


def test_missing_transformers_or_peft_is_a_clear_error(monkeypatch):
    from hqsim.peft import _deps

    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    monkeypatch.setattr(_deps.importlib, "import_module", missing)
    with pytest.raises(ModuleNotFoundError, match=r"fine-tuning a transformer needs the 'transformers' "
                                                  r"package, which is not installed: pip install 'hqsim\[peft\]'"):
        _deps.transformers()
    with pytest.raises(ModuleNotFoundError, match=r"the LoRA baseline needs the 'peft' package"):
        _deps.peft()


def test_transformers_and_peft_are_imported_by_hqsim_peft_deps_only():
    """No other module of hqsim imports them (so `import hqsim` and `hqsim train` never need them)."""
    import ast
    from pathlib import Path
    root = Path(hp.__file__).resolve().parents[1]
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if any(n.split(".")[0] in ("transformers", "peft") for n in names):
                found.append(str(path.relative_to(root)))
    assert found == []  # _deps imports them by name through importlib, only when a model is built


@pytest.mark.gpu
@pytest.mark.parametrize("method", sorted(TINY))
def test_adapters_on_cuda_match_cpu(method):
    """The same adapted model on a CUDA device (the QNN on hqsim's CUDA backend) gives the
    CPU's outputs and gradients. Needs a GPU; skipped without one."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    cpu = adapted(method)
    perturb(cpu)
    gpu = fresh(cpu).to("cuda")
    batch = token_batch()
    out_cpu = cpu(**batch).last_hidden_state
    out_gpu = gpu(**{k: v.cuda() for k, v in batch.items()}).last_hidden_state
    assert torch.allclose(out_gpu.cpu(), out_cpu, atol=1e-8)
    out_cpu.square().sum().backward()
    out_gpu.square().sum().backward()
    for (n, a), (_, b) in zip(cpu.named_parameters(), gpu.named_parameters()):
        if a.requires_grad:
            assert torch.allclose(b.grad.cpu(), a.grad, atol=1e-7), n


@pytest.mark.parametrize("method", ["qtha", "qpa"])
def test_quantum_paths_run_on_the_cpu_emulated_cuda_device(method, counting):
    """The adapters' QNNs on hqsim's CUDA backend (its kernels and host driver, on the
    cpu-emulated device CI builds; a GPU runs the same code) give the Numba backend's outputs
    and gradients, in the same number of batched calls. Skipped only without a C++ compiler."""
    from tests.backends.available import backend_or_skip
    emulated = backend_or_skip("cuda-emulated")
    ref = adapted(method)
    perturb(ref)
    emu = fresh(ref)
    layers = [m for m in emu.modules() if isinstance(m, QuantumLayer)]
    assert layers
    for layer in layers:
        layer.backend = emulated   # an already-built backend object is used as is
    counting.clear()
    batch = token_batch(batch=2, tokens=3)
    out_ref = ref(**batch).last_hidden_state
    out_emu = emu(**batch).last_hidden_state
    assert torch.allclose(out_emu, out_ref, atol=1e-12, rtol=0)
    out_ref.square().sum().backward()
    out_emu.square().sum().backward()
    for (n, a), (_, b) in zip(ref.named_parameters(), emu.named_parameters()):
        if a.requires_grad:
            assert torch.allclose(b.grad, a.grad, atol=1e-11, rtol=1e-9), n
    from hqsim.backends.cuda import CudaBackend
    used = [c for c in counting if isinstance(c.inner, CudaBackend)]
    rows = [n for c in used for n in c.forward_rows]
    # QTHA: one call per adapted layer over every token; QPA: one generator call per forward
    assert rows == ([2 * 3] * 4 if method == "qtha" else [1])


@pytest.mark.parametrize("method", sorted(TINY))
def test_adapters_are_built_on_the_device_of_the_layer_they_wrap(method):
    """Every adapter weight and buffer lands on the wrapped layer's device (here 'meta', which
    any machine has; on a GPU 'cuda', where QuantumLayer's "auto" backend then runs hqsim's CUDA
    backend on the CUDA tensors)."""
    model = tiny_bert().to("meta")
    torch.manual_seed(0)
    inject_adapters(model, TINY[method])
    tensors = [t for n, t in list(model.named_parameters()) + list(model.named_buffers())]
    assert tensors and {t.device.type for t in tensors} == {"meta"}
