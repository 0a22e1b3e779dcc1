"""mlbook.autodiff: every operation of Value (reverse mode) and Dual (forward mode) against
torch.autograd in float64, shared subexpressions, accumulation, error paths and the drawing."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch

from mlbook.autodiff import Dual, Value, forward_gradient, reverse_gradient
from mlbook.autodiff_draw import draw_graph

matplotlib.use("Agg")

SEEDS = range(5)


def _rand(seed: int, n: int, positive: bool = False) -> list[float]:
    x = np.random.default_rng(seed).normal(size=n) * 1.5
    if positive:
        x = np.abs(x) + 0.1
    else:  # keep away from 0, where relu has its kink
        x = np.where(np.abs(x) < 0.05, 0.3, x)
    return x.tolist()


UNARY = {
    "exp": (lambda v: v.exp(), torch.exp, False),
    "log": (lambda v: v.log(), torch.log, True),
    "tanh": (lambda v: v.tanh(), torch.tanh, False),
    "relu": (lambda v: v.relu(), torch.relu, False),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid, False),
    "neg": (lambda v: -v, torch.neg, False),
    "pow2": (lambda v: v**2, lambda t: t**2, False),
    "pow3": (lambda v: v**3, lambda t: t**3, False),
    "pow-1": (lambda v: v**-1, lambda t: t**-1, False),
    "pow0": (lambda v: v**0, lambda t: t**0, False),
    "pow0.5": (lambda v: v**0.5, lambda t: t**0.5, True),
    "pow-2.5": (lambda v: v**-2.5, lambda t: t**-2.5, True),
    "rpow": (lambda v: 2.5**v, lambda t: 2.5**t, False),
}

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def _torch_grads(fn, xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", UNARY)
def test_unary_value_and_dual_match_torch(name, seed):
    op, top, positive = UNARY[name]
    (x,) = _rand(seed, 1, positive)
    want, (dwant,) = _torch_grads(top, [x])
    v = Value(x)
    out = op(v)
    out.backward()
    assert out.data == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert v.grad == pytest.approx(dwant, rel=1e-12, abs=1e-15)
    d = op(Dual(x, 1.0))
    assert d.data == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert d.tangent == pytest.approx(dwant, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", BINARY)
def test_binary_value_and_dual_match_torch(name, seed):
    op = BINARY[name]
    a, b = _rand(seed, 2)
    want, (da, db) = _torch_grads(op, [a, b])
    va, vb = Value(a), Value(b)
    out = op(va, vb)
    out.backward()
    assert out.data == pytest.approx(want, rel=1e-12)
    assert (va.grad, vb.grad) == pytest.approx((da, db), rel=1e-12)
    assert op(Dual(a, 1.0), Dual(b)).tangent == pytest.approx(da, rel=1e-12)
    assert op(Dual(a), Dual(b, 1.0)).tangent == pytest.approx(db, rel=1e-12)
    # reflected operators: a plain number on either side
    for left_const in (True, False):
        v = Value(b if left_const else a)
        out = op(a, v) if left_const else op(v, b)
        out.backward()
        assert out.data == pytest.approx(want, rel=1e-12)
        assert v.grad == pytest.approx(db if left_const else da, rel=1e-12)
        d = op(a, Dual(b, 1.0)) if left_const else op(Dual(a, 1.0), b)
        assert d.tangent == pytest.approx(db if left_const else da, rel=1e-12)


def _composite(x, y, z, exp, log, tanh, sigmoid, relu):
    a = x * y  # used three times below: a shared subexpression
    b = a + a * z - y / (z * z + 1.0)
    c = tanh(b) * a + sigmoid(a - x) * relu(x + 3.0)
    return c + log(a * a + 1.0) + exp(-0.5 * z) / (1.0 + y**2) + (2.0 - a) ** 3


@pytest.mark.parametrize("seed", SEEDS)
def test_composite_with_shared_subexpressions_matches_torch(seed):
    xs = _rand(seed, 3)
    want, grads = _torch_grads(
        lambda x, y, z: _composite(
            x, y, z, torch.exp, torch.log, torch.tanh, torch.sigmoid, torch.relu
        ),
        xs,
    )

    def f(v):
        return _composite(
            *v,
            exp=lambda t: t.exp(),
            log=lambda t: t.log(),
            tanh=lambda t: t.tanh(),
            sigmoid=lambda t: t.sigmoid(),
            relu=lambda t: t.relu(),
        )

    vs = [Value(x) for x in xs]
    out = f(vs)
    out.backward()
    assert out.data == pytest.approx(want, rel=1e-12)
    assert [v.grad for v in vs] == pytest.approx(grads, rel=1e-10)
    assert forward_gradient(f, xs) == pytest.approx(grads, rel=1e-10)
    assert reverse_gradient(f, xs) == pytest.approx(grads, rel=1e-10)


def test_a_node_used_twice_gets_the_sum_of_both_paths():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    y = Value(-2.0)
    s = y + y
    s.backward()
    assert y.grad == 2.0
    z = Value(0.5)
    t = z.tanh()
    (t * t + t).backward()  # d/dz (t² + t) = (2t + 1)(1 − t²)
    assert z.grad == pytest.approx((2 * math.tanh(0.5) + 1) * (1 - math.tanh(0.5) ** 2))


def test_leaves_accumulate_across_backward_calls_intermediates_do_not():
    x = Value(2.0)
    h = x * 3.0
    y = h * h  # dy/dh = 2h = 12, dy/dx = 36
    y.backward()
    assert (x.grad, h.grad, y.grad) == (36.0, 12.0, 1.0)
    y.backward()
    assert (x.grad, h.grad, y.grad) == (72.0, 12.0, 1.0)  # like torch leaf tensors
    y.zero_grad()
    assert (x.grad, h.grad, y.grad) == (0.0, 0.0, 0.0)
    y.backward()
    assert x.grad == 36.0


def test_topological_order_puts_children_first_and_handles_deep_graphs():
    x = Value(1.0)
    y = x
    for _ in range(20000):  # far beyond Python's recursion limit
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**20000, rel=1e-9)
    order = y.topological_order()
    position = {id(v): i for i, v in enumerate(order)}
    assert all(position[id(c)] < position[id(v)] for v in order for c in v.children)


def test_sigmoid_and_power_edge_cases_follow_torch():
    assert Value(-1000.0).sigmoid().data == 0.0  # no overflow
    assert Value(1000.0).sigmoid().data == 1.0
    assert Dual(-1000.0, 1.0).sigmoid().tangent == 0.0
    for n in (0.5, 1.0, 2.0, 0.0):
        v = Value(0.0)
        (v**n).backward()
        t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        (t**n).backward()
        assert v.grad == t.grad.item()
    for n in (2, 3.0):  # a negative base with an integer exponent is fine
        want, (dwant,) = _torch_grads(lambda t, n=n: t**n, [-1.5])
        v = Value(-1.5)
        (v**n).backward()
        assert (v.grad, Dual(-1.5, 1.0).__pow__(n).tangent) == pytest.approx((dwant, dwant))


def test_numpy_scalars_are_accepted_on_either_side():
    v = Value(3.0)
    out = np.float64(2.0) * v + np.int64(1)
    assert isinstance(out, Value) and out.data == 7.0
    assert (Dual(3.0, 1.0) * np.float64(2.0)).tangent == 2.0


@pytest.mark.parametrize("cls", [Value, Dual])
def test_error_paths(cls):
    with pytest.raises(ValueError, match="positive"):
        cls(0.0).log()
    with pytest.raises(ValueError, match="positive"):
        cls(-1.0).log()
    with pytest.raises(ValueError, match="real number"):
        cls("a")
    with pytest.raises(ValueError, match="real number"):
        cls(True)
    with pytest.raises(ValueError, match="constant int or float"):
        cls(2.0) ** cls(2.0)
    with pytest.raises(ValueError, match="exponent must be a real number"):
        cls(2.0) ** "3"
    with pytest.raises(ValueError, match="negative base"):
        cls(-2.0) ** 0.5
    with pytest.raises(ValueError, match="zero base"):
        cls(0.0) ** -1
    with pytest.raises(ValueError, match="division by zero"):
        cls(1.0) / 0
    with pytest.raises(ValueError, match="division by zero"):
        1.0 / cls(0.0)
    with pytest.raises(ValueError, match="base must be positive"):
        (-2.0) ** cls(1.0)
    with pytest.raises(ValueError, match="overflows"):
        cls(800.0).exp()
    with pytest.raises(ValueError, match="operand"):
        cls(1.0) + "x"
    with pytest.raises(ValueError, match="cannot mix"):
        cls(1.0) * (Dual(1.0) if cls is Value else Value(1.0))


def test_gradient_helpers_check_their_input():
    for bad in ("abc", [], [1.0, "a"], 3.0):
        with pytest.raises(ValueError):
            forward_gradient(lambda v: v[0], bad)
        with pytest.raises(ValueError):
            reverse_gradient(lambda v: v[0], bad)
    assert forward_gradient(lambda v: 3.0, [1.0, 2.0]) == [0.0, 0.0]  # constant f
    assert reverse_gradient(lambda v: 3.0, [1.0, 2.0]) == [0.0, 0.0]


def test_forward_and_reverse_gradients_agree_on_a_long_function():
    rng = np.random.default_rng(0)
    x = rng.normal(size=40).tolist()

    def f(v):
        out = 0.0
        for i in range(len(v)):
            out = out + v[i].tanh() * v[(i + 1) % len(v)]
        return out

    def ft(t):
        return (torch.tanh(t) * torch.roll(t, -1)).sum()

    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ft(t).backward()
    assert forward_gradient(f, x) == pytest.approx(t.grad.tolist(), rel=1e-12)
    assert reverse_gradient(f, x) == pytest.approx(t.grad.tolist(), rel=1e-12)


@pytest.mark.parametrize("n", [1, 4, 32])
def test_forward_mode_takes_n_passes_and_reverse_mode_one(n):
    """The cost argument of the chapter: forward mode calls f once per input, reverse mode once."""
    calls = {"forward": 0, "reverse": 0}

    def counted(mode):
        def f(v):
            calls[mode] += 1
            return sum((t.tanh() * t for t in v), 0.0)

        return f

    x = np.random.default_rng(n).normal(size=n).tolist()
    fwd = forward_gradient(counted("forward"), x)
    rev = reverse_gradient(counted("reverse"), x)
    assert calls == {"forward": n, "reverse": 1}
    assert fwd == pytest.approx(rev, rel=1e-12)


def test_draw_graph_draws_every_node_and_checks_its_input():
    x, w = Value(2.0, "入力 x"), Value(-0.5, "$w$")
    out = (x * w + 1.0).tanh()
    out.label = "出力"
    out.backward()
    ax = draw_graph(out, title="計算グラフ")
    texts = [t.get_text() for t in ax.texts]
    n_values, n_ops = len(out.topological_order()), sum(bool(v.op) for v in out.topological_order())
    assert len(texts) == n_values + n_ops
    assert any("入力 x" in t and "勾配" in t for t in texts)
    assert ax.get_title() == "計算グラフ"
    assert all("勾配" not in t.get_text() for t in draw_graph(out, show_grad=False).texts)
    with pytest.raises(ValueError, match="needs a Value"):
        draw_graph(3.0)
    big = Value(1.0)
    for _ in range(50):
        big = big + 1.0
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(big)
    matplotlib.pyplot.close("all")
