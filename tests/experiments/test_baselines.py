"""Classical baselines: parameter accounting and honest fitting on a small real sample."""
import pytest

torch = pytest.importorskip("torch")

from hqsim.experiments import baselines as bl  # noqa: E402


@pytest.mark.parametrize("target", [5, 100, 124, 388, 389, 390, 391, 392, 777, 886, 5000]
                         + list(range(760, 790)))
def test_exact_param_head_has_exactly_the_target(target):
    x = torch.randn(50, 384)
    head = bl.ExactParamHead(x, target, 2)
    assert bl.count_trainable(head) == target
    assert head(x).shape == (50, 2)


def test_exact_head_rejects_impossible_targets():
    with pytest.raises(ValueError, match="no exact-parameter head"):
        bl.ExactParamHead(torch.randn(10, 8), 4, 2)


@pytest.mark.parametrize("target", [124, 389, 886, 2000])
def test_mlp_bracket(target):
    sizes = bl.mlp_bracket(target, 384, 2)
    counts = [bl.mlp_params(384, h, 2) for h in sizes]
    assert counts == [bl.count_trainable(bl.MLPHead(384, h, 2)) for h in sizes]
    if counts[0] <= target:
        assert counts[0] <= target <= counts[-1]
    else:
        assert sizes == [1]


def test_sklearn_baselines_on_real_embeddings(small_embeddings):
    pytest.importorskip("sklearn")
    (xtr, xva, xte), (ytr, yva, yte) = small_embeddings
    args = (xtr.numpy(), ytr.numpy(), xva.numpy(), yva.numpy(), xte.numpy(), yte.numpy())
    lr = bl.logistic_regression(*args, seed=0)
    assert lr.params == 385 and lr.test_acc > 0.6 and "C" in lr.details
    svc = bl.svc(*args, seed=0)
    assert svc.test_acc > 0.6 and svc.params > 384
