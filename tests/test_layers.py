"""mlbook.layers against torch.nn over many random shapes and settings, and its errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import mlbook
from mlbook.layers import BatchNorm1d, Dropout, LayerNorm


@pytest.fixture(autouse=True)
def _one_thread():
    with mlbook.single_thread():
        yield


def _randn(shape, seed):
    gen = mlbook.generator(seed)
    return 3 * torch.randn(shape, generator=gen, dtype=torch.float64) + 1


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", [(2, 1), (8, 5), (3, 4, 7), (64, 16), (5, 3, 1)])
@pytest.mark.parametrize(("eps", "momentum"), [(1e-5, 0.1), (1e-3, 0.5), (0.1, 1.0), (1e-5, 0.0)])
def test_batchnorm_equals_torch_in_training_and_evaluation(shape, eps, momentum, seed):
    ours = BatchNorm1d(shape[1], eps=eps, momentum=momentum).double()
    ref = nn.BatchNorm1d(shape[1], eps=eps, momentum=momentum).double()
    with torch.no_grad():
        for m in (ours, ref):
            m.weight.copy_(_randn(shape[1], seed + 10))
            m.bias.copy_(_randn(shape[1], seed + 20))
    for k in range(3):
        x = _randn(shape, seed + 100 * k)
        torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours.running_mean, ref.running_mean)
    torch.testing.assert_close(ours.running_var, ref.running_var)
    assert ours.num_batches_tracked.item() == ref.num_batches_tracked.item() == 3
    ours.eval(), ref.eval()
    x = _randn(shape, seed + 7)
    torch.testing.assert_close(ours(x), ref(x))


def test_batchnorm_gradients_equal_torch():
    x = _randn((10, 4), 0).requires_grad_(True)
    x2 = x.detach().clone().requires_grad_(True)
    ours, ref = BatchNorm1d(4).double(), nn.BatchNorm1d(4).double()
    w = _randn((10, 4), 1)
    (ours(x) * w).sum().backward()
    (ref(x2) * w).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad)


def test_batchnorm_state_dict_loads_into_torch():
    ours = BatchNorm1d(3)
    ours(torch.randn(8, 3, generator=mlbook.generator(0)))
    ref = nn.BatchNorm1d(3)
    ref.load_state_dict(ours.state_dict())
    torch.testing.assert_close(ref.running_var, ours.running_var)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("shape", "normalized"),
    [((4, 6), 6), ((2, 3, 8), (8,)), ((2, 3, 8), (3, 8)), ((1, 5), 5), ((7, 2, 2, 3), (2, 2, 3))],
)
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_layernorm_equals_torch(shape, normalized, eps, seed):
    ours = LayerNorm(normalized, eps=eps).double()
    ref = nn.LayerNorm(normalized, eps=eps).double()
    with torch.no_grad():
        for m in (ours, ref):
            m.weight.copy_(_randn(m.weight.shape, seed + 1))
            m.bias.copy_(_randn(m.bias.shape, seed + 2))
    x = _randn(shape, seed)
    torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours(x[:1]), ours(x)[:1])  # independent of the rest of the batch


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
@pytest.mark.parametrize("shape", [(5,), (16, 8), (2, 3, 4)])
def test_dropout_equals_torch_under_the_same_global_seed(p, shape):
    x = _randn(shape, 3)
    mlbook.seed_all(11)
    ours = Dropout(p)(x)
    mlbook.seed_all(11)
    ref = nn.Dropout(p)(x)
    torch.testing.assert_close(ours, ref)
    assert torch.equal(Dropout(p).eval()(x), nn.Dropout(p).eval()(x))


def test_dropout_with_generator_keeps_the_mean_and_scales_kept_values():
    x = torch.ones(200_000, dtype=torch.float64)
    y = Dropout(0.25, generator=mlbook.generator(0))(x)
    assert set(torch.unique(y).tolist()) <= {0.0, 1 / 0.75}
    assert abs(y.mean().item() - 1.0) < 0.01


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Dropout(1.0), "p"),
        (lambda: Dropout(-0.1), "p"),
        (lambda: BatchNorm1d(0), "num_features"),
        (lambda: BatchNorm1d(3, momentum=1.5), "momentum"),
        (lambda: BatchNorm1d(3, eps=0), "eps"),
        (lambda: LayerNorm(()), "normalized_shape"),
        (lambda: LayerNorm((3, 0)), "normalized_shape"),
        (lambda: LayerNorm(4, eps=-1), "eps"),
    ],
)
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="shape"):
        BatchNorm1d(3)(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="more than one value"):
        BatchNorm1d(3)(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="end in"):
        LayerNorm(4)(torch.zeros(2, 5))
