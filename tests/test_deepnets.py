"""mlbook.deepnets: initialisation scales against torch.nn.init, propagation against a direct
computation, the deep MLP and its training loop, and the errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import mlbook
from mlbook.core import TrainLog
from mlbook.deepnets import DeepMLP, init_std, propagate, spirals, train_classifier
from mlbook.optim import Adam


@pytest.fixture(autouse=True)
def _one_thread():
    with mlbook.single_thread():
        yield


@pytest.mark.parametrize(("fan_in", "fan_out"), [(3, 5), (64, 32), (128, 128)])
def test_init_std_matches_torch_init(fan_in, fan_out):
    w = torch.empty(fan_out, fan_in)
    nn.init.xavier_normal_(w, generator=mlbook.generator(0))
    ours = init_std("xavier", fan_in, fan_out) * torch.randn(
        fan_out, fan_in, generator=mlbook.generator(0)
    )
    torch.testing.assert_close(w, ours, rtol=1e-6, atol=0)
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=mlbook.generator(1))
    ours = init_std("he", fan_in, fan_out) * torch.randn(
        fan_out, fan_in, generator=mlbook.generator(1)
    )
    torch.testing.assert_close(w, ours, rtol=1e-6, atol=0)
    assert init_std("lecun", fan_in, fan_out, gain=2.0) == pytest.approx(2 / math.sqrt(fan_in))


def test_propagate_equals_a_direct_computation():
    out = propagate(3, 8, "tanh", 0.4, batch=5, generator=mlbook.generator(2))
    gen = mlbook.generator(2)
    h = torch.randn(5, 8, generator=gen)
    ws = [(0.4 * torch.randn(8, 8, generator=gen)).requires_grad_(True) for _ in range(3)]
    h0 = h
    pre = []
    for w in ws:
        a = h @ w.T
        a.retain_grad()
        pre.append(a)
        h = torch.tanh(a)
    r = torch.randn(8, generator=gen)
    (h @ r).sum().backward()
    torch.testing.assert_close(out["variance"], torch.stack([a.detach().var() for a in pre]))
    torch.testing.assert_close(
        out["grad_norm"], torch.stack([a.grad.pow(2).sum(1).mean().sqrt() for a in pre])
    )
    # dL/dW of the first layer is delta1^T x summed over the batch
    torch.testing.assert_close(
        out["weight_grad_norm"][0], (pre[0].grad.T @ h0).norm() / 5, rtol=1e-5, atol=1e-7
    )


def test_relu_he_keeps_the_variance_and_xavier_halves_it():
    he = propagate(10, 512, "relu", init_std("he", 512, 512), 256, mlbook.generator(3))
    xa = propagate(10, 512, "relu", init_std("xavier", 512, 512), 256, mlbook.generator(3))
    assert 0.5 < (he["variance"][-1] / he["variance"][0]).item() < 2
    assert (xa["variance"][-1] / xa["variance"][0]).item() == pytest.approx(2.0**-9, rel=0.5)


def test_spirals_shapes_and_labels():
    x, y = spirals(100, classes=4, generator=mlbook.generator(4))
    assert x.shape == (100, 2) and y.shape == (100,)
    assert set(y.tolist()) <= {0, 1, 2, 3}


@pytest.mark.parametrize(("residual", "norm"), [(False, None), (True, None), (False, "batch")])
def test_deep_mlp_trains_and_logs(residual, norm):
    x, y = spirals(64, generator=mlbook.generator(5))
    mlbook.seed_all(6)
    net = DeepMLP(2, 8, 3, 3, residual=residual, norm=norm)
    assert net(x).shape == (64, 3)
    log = train_classifier(
        net, x, y, Adam(net.parameters(), lr=1e-2), 30, x_val=x, y_val=y, eval_every=10
    )
    assert isinstance(log, TrainLog) and len(log.losses) == 30
    assert len(log.metrics["grad_first"]) == 30
    assert log.metrics["val_step"] == [0, 10, 20, 30]
    assert log.losses[-1] < log.losses[0]


def test_training_stops_on_a_non_finite_loss():
    x, y = spirals(32, generator=mlbook.generator(7))
    net = DeepMLP(2, 4, 1, 3)
    with torch.no_grad():
        net.out.weight.fill_(float("nan"))
    log = train_classifier(net, x, y, Adam(net.parameters()), 10)
    assert len(log.losses) == 1 and math.isnan(log.losses[0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: init_std("glorot", 3, 3), "scheme"),
        (lambda: init_std("he", 0, 3), "fan_in"),
        (lambda: init_std("he", 3, 3, gain=-1.0), "gain"),
        (lambda: propagate(0, 4, "relu", 1.0), "depth"),
        (lambda: propagate(2, 4, "swish", 1.0), "activation"),
        (lambda: propagate(2, 4, "relu", 0.0), "std"),
        (lambda: DeepMLP(2, 4, 2, 3, norm="layer"), "norm"),
        (lambda: DeepMLP(2, 0, 2, 3), "width"),
        (lambda: spirals(0), "n"),
    ],
)
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
