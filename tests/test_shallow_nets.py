"""mlbook.shallow_nets: many one-hidden-layer networks trained side by side are independent
networks, and the chapter's universal-approximation experiment holds for several seeds."""

from __future__ import annotations

import math

import pytest
import torch

import mlbook
from mlbook import shallow_nets


def test_shallow_nets_are_independent_networks():
    torch.manual_seed(0)
    model = shallow_nets.ShallowNets(
        [2, 3, 5], "tanh", repeats=2, generator=mlbook.generator(0)
    ).double()
    x = torch.linspace(-1, 1, 17, dtype=torch.float64)
    out = model(x)
    assert out.shape == (17, 2, 3)
    # network (repeat 1, width 3) by hand from its own units
    sizes = [2, 3, 5, 2, 3, 5]
    start = sum(sizes[:4])
    sl = slice(start, start + 3)
    by_hand = (torch.tanh(x[:, None] * model.w[sl] + model.c[sl]) * model.a[sl]).sum(1)
    torch.testing.assert_close(out[:, 1, 1], by_hand + model.d[4])
    assert model.units(1, 1) == sl
    parts = model.contributions(x, 1, 1)
    assert parts.shape == (17, 3)
    torch.testing.assert_close(parts.sum(1) + model.d[4], out[:, 1, 1])
    with pytest.raises(ValueError, match="repeat"):
        model.units(2, 0)
    # the gradient of the summed loss, restricted to a network, is that network's own gradient
    target = torch.sin(3 * x)
    mse = ((out - target[:, None, None]) ** 2).mean(0)
    (g_all,) = torch.autograd.grad(mse.sum(), model.a, retain_graph=True)
    (g_one,) = torch.autograd.grad(mse[1, 1], model.a)
    torch.testing.assert_close(g_all[sl], g_one[sl])
    assert g_one[:start].abs().max() == 0


def _target(x):
    return torch.sin(2 * math.pi * x) + 0.4 * torch.cos(5 * math.pi * x) + 0.5 * x


@pytest.mark.parametrize("seed", range(4))
def test_the_chapters_approximation_error_falls_with_width(seed):
    """The notebook's experiment: best-of-3 sup error at the widest nets is far below width 2's."""
    widths = [2, 4, 8, 16, 32, 64, 128, 256]
    x = torch.linspace(-1, 1, 64)
    model, history = shallow_nets.fit_shallow(
        x,
        _target(x),
        widths,
        "tanh",
        repeats=3,
        steps=600,
        lr=0.02,
        generator=mlbook.generator(seed),
    )
    assert history.shape == (600, 3, 8)
    grid = torch.linspace(-1, 1, 2001)
    with torch.no_grad():
        err = (model(grid) - _target(grid)[:, None, None]).abs().amax(0).amin(0)  # (G,)
    assert err[-2:].min() < 0.2 * err[0]
    assert err[-1] < 0.25
    # outside K = [-1, 1] the widest net is far off: the theorem says nothing there
    outside = torch.cat([torch.linspace(-1.5, -1.2, 61), torch.linspace(1.2, 1.5, 61)])
    with torch.no_grad():
        sup_in = (model(grid) - _target(grid)[:, None, None]).abs().amax(0)[:, -1]  # (R,)
        best = sup_in.argmin()
        out = (model(outside)[:, best, -1] - _target(outside)).abs().max()
    assert out > 5 * err[-1]


def test_fit_shallow_error_paths():
    x = torch.linspace(-1, 1, 5)
    with pytest.raises(ValueError, match="same length"):
        shallow_nets.fit_shallow(x, x[:3], [2])
    with pytest.raises(ValueError, match="steps"):
        shallow_nets.fit_shallow(x, x, [2], steps=0)
    with pytest.raises(ValueError, match="widths"):
        shallow_nets.fit_shallow(x, x, [0, 2])
    with pytest.raises(ValueError, match="'sigmoid', 'tanh', 'relu'"):
        shallow_nets.fit_shallow(x, x, [2], activation="sin")
    with pytest.raises(ValueError, match="repeats"):
        shallow_nets.ShallowNets([2], repeats=0)
