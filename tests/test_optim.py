"""mlbook.optim against torch.optim over many random problems and settings, and its errors."""

from __future__ import annotations

import pytest
import torch

import mlbook
from mlbook.optim import SGD, Adam, AdamW


@pytest.fixture(autouse=True)
def _one_thread():
    with mlbook.single_thread():
        yield


def _trajectories(ours, theirs, kwargs, seed, steps=200):
    """Final parameters of both optimisers on the same random non-convex problem."""
    gen = mlbook.generator(seed)
    shapes = [(int(torch.randint(1, 6, (), generator=gen)), 3), (3,)]
    start = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
    x = torch.randn(16, shapes[0][0], generator=gen, dtype=torch.float64)
    finals = []
    for cls in (ours, theirs):
        params = [p.clone().requires_grad_(True) for p in start]
        opt = cls(params, **kwargs)
        for _ in range(steps):
            opt.zero_grad()
            loss = (
                torch.tanh(x @ params[0] + params[1]).pow(2).mean() + 1e-2 * params[0].pow(4).sum()
            )
            loss.backward()
            opt.step()
        finals.append([p.detach() for p in params])
    return finals


SGD_SETTINGS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.2, "momentum": 0.5, "weight_decay": 0.1},
    {"lr": 0.02, "momentum": 0.99, "nesterov": True, "weight_decay": 0.01},
]
ADAM_SETTINGS = [
    {"lr": 1e-2},
    {"lr": 3e-2, "betas": (0.8, 0.99)},
    {"lr": 1e-2, "betas": (0.5, 0.99), "eps": 1e-3},
    {"lr": 5e-3, "weight_decay": 0.1},
    {"lr": 1e-1, "betas": (0.9, 0.999), "eps": 1e-3, "weight_decay": 1.0},
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kwargs", SGD_SETTINGS)
def test_sgd_equals_torch(kwargs, seed):
    ours, theirs = _trajectories(SGD, torch.optim.SGD, kwargs, seed)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kwargs", ADAM_SETTINGS)
@pytest.mark.parametrize(("ours", "theirs"), [(Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)])
def test_adam_and_adamw_equal_torch(ours, theirs, kwargs, seed):
    mine, ref = _trajectories(ours, theirs, kwargs, seed)
    for a, b in zip(mine, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


def test_adamw_default_decay_and_difference_from_adam():
    p = torch.ones(3, requires_grad=True)
    assert AdamW([p]).defaults["weight_decay"] == torch.optim.AdamW([p]).defaults["weight_decay"]
    coupled, decoupled = _trajectories(Adam, AdamW, {"lr": 1e-2, "weight_decay": 0.5}, 0)
    assert (coupled[0] - decoupled[0]).abs().max() > 1e-3


def test_param_groups_and_parameters_without_grad():
    w = torch.ones(2, requires_grad=True)
    frozen = torch.ones(2, requires_grad=True)
    opt = SGD([{"params": [w], "lr": 0.5}, {"params": [frozen]}], lr=0.1)
    w.sum().backward()
    opt.step()
    assert torch.equal(w.detach(), torch.full((2,), 0.5))
    assert torch.equal(frozen.detach(), torch.ones(2))


def test_closure_is_evaluated():
    w = torch.ones(2, requires_grad=True)
    opt = Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (SGD, {"lr": -0.1}, "lr"),
        (SGD, {"lr": 0.1, "momentum": 1.0}, "momentum"),
        (SGD, {"lr": 0.1, "momentum": -0.1}, "momentum"),
        (SGD, {"lr": 0.1, "nesterov": True}, "nesterov"),
        (SGD, {"lr": 0.1, "weight_decay": -1.0}, "weight_decay"),
        (Adam, {"lr": -1e-3}, "lr"),
        (Adam, {"betas": (1.0, 0.999)}, "betas"),
        (Adam, {"betas": (0.9, -0.1)}, "betas"),
        (Adam, {"betas": 0.9}, "betas"),
        (Adam, {"eps": -1e-8}, "eps"),
        (AdamW, {"weight_decay": -0.01}, "weight_decay"),
        (AdamW, {"lr": float("nan")}, "lr"),
    ],
)
def test_bad_arguments_raise(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([torch.ones(1, requires_grad=True)], **kwargs)
