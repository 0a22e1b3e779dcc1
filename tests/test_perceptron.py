"""mlbook.perceptron against naive references: the rule, Novikoff's bound, the batched kernel."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import mlbook
from mlbook import perceptron as P

XOR_X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
XOR_Y = torch.tensor([-1.0, 1.0, 1.0, -1.0], dtype=torch.float64)


def naive_perceptron(X, y, lr=1.0, max_epochs=1000, c=1.0):
    """The rule in plain Python floats: the reference the kernels are checked against."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = [0.0] * X.shape[1]
    b = 0.0
    mistakes = 0
    for _ in range(max_epochs):
        count = 0
        for x_i, y_i in zip(X, y, strict=True):
            z = sum(wj * xj for wj, xj in zip(w, x_i, strict=True)) + b
            if y_i * z <= 0:
                w = [wj + lr * y_i * xj for wj, xj in zip(w, x_i, strict=True)]
                b += lr * y_i * c * c
                count += 1
        mistakes += count
        if count == 0:
            return np.array(w), b, mistakes, True
    return np.array(w), b, mistakes, False


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("d", [1, 2, 7])
def test_separable_data_has_the_requested_margin(seed, d):
    X, y, w, b = P.separable_data(40, d, 0.2, mlbook.generator(seed))
    assert X.shape == (40, d) and y.shape == (40,) and w.shape == (d,) and b.shape == ()
    assert math.isclose(w.norm().item(), 1.0, rel_tol=1e-12)
    assert set(y.tolist()) == {-1.0, 1.0}
    assert math.isclose((y * (X @ w + b)).min().item(), 0.2, rel_tol=1e-9)
    X2, *_ = P.separable_data(40, d, 0.2, mlbook.generator(seed))
    assert torch.equal(X, X2)  # deterministic under the seed


@pytest.mark.parametrize("margin", [1e-3, 0.01, 2.0])
def test_separable_data_margin_is_exact_when_points_move_together_or_apart(margin):
    # a margin below the natural gap moves the classes together (t < 0), a large one apart
    for seed in range(10):
        X, y, w, b = P.separable_data(30, 3, margin, mlbook.generator(seed))
        s = y * (X @ w + b)
        assert math.isclose(s.min().item(), margin, rel_tol=1e-9)
        assert bool((s > 0).all()) and set(y.tolist()) == {-1.0, 1.0}


@pytest.mark.parametrize("seed", range(8))
def test_fit_converges_and_separates(seed):
    X, y, _, _ = P.separable_data(80, 3, 0.1, mlbook.generator(seed))
    r = P.fit(X, y)
    assert r.converged and r.history.epoch_mistakes[-1] == 0
    assert bool((y * (X @ r.w + r.b) > 0).all())
    assert r.mistakes == sum(r.history.epoch_mistakes) == len(r.history.index)
    assert r.history.w.shape == (r.mistakes + 1, 3) and r.history.b.shape == (r.mistakes + 1,)
    assert torch.equal(r.history.w[-1], r.w) and torch.equal(r.history.b[-1], r.b)


@pytest.mark.parametrize("c", [0.0, 1.0, 2.5])
def test_fit_matches_the_naive_rule(c):
    X, y, w_star, _ = P.separable_data(50, 4, 0.15, mlbook.generator(3))
    if c == 0.0:  # a separator through the origin for the bias-free perceptron
        y = torch.where(X @ w_star >= 0, 1.0, -1.0).to(X.dtype)
    r = P.fit(X, y, lr=0.3, bias_input=c)
    w, b, mistakes, converged = naive_perceptron(X, y, lr=0.3, c=c)
    assert r.mistakes == mistakes and r.converged == converged
    np.testing.assert_allclose(r.w.numpy(), w, rtol=1e-12, atol=1e-12)
    assert math.isclose(r.b.item(), b, rel_tol=1e-12, abs_tol=1e-12)


def test_fit_accepts_numpy_and_keeps_float32():
    X, y, _, _ = P.separable_data(30, 2, 0.3, mlbook.generator(1))
    r = P.fit(X.numpy(), y.numpy())
    assert r.converged and r.w.dtype == torch.float64
    r32 = P.fit(X.float(), y.float())
    assert r32.w.dtype == torch.float32 and r32.converged


def test_learning_rate_does_not_change_the_mistakes():
    # from w = 0 every iterate scales with lr; a power of two scales exactly
    X, y, _, _ = P.separable_data(60, 3, 0.05, mlbook.generator(4))
    r1, r2 = P.fit(X, y, lr=1.0), P.fit(X, y, lr=0.25)
    assert r1.mistakes == r2.mistakes
    assert torch.equal(r2.w, 0.25 * r1.w) and torch.equal(r2.b, 0.25 * r1.b)


@pytest.mark.parametrize("d", [2, 5, 20])
def test_mistakes_never_exceed_the_bound(d):
    for seed in range(30):
        gamma = 10 ** (-2 + 1.5 * seed / 29)
        X, y, w, b = P.separable_data(50, d, gamma, mlbook.generator(seed))
        r = P.fit(X, y)
        assert r.converged
        assert r.mistakes <= P.novikoff_bound(X, y, w, b)
        assert r.mistakes <= P.novikoff_bound(X, y, r.w, r.b)  # any separator gives a bound
        c = 3.0
        assert P.fit(X, y, bias_input=c).mistakes <= P.novikoff_bound(X, y, w, b, bias_input=c)


def test_the_bound_holds_for_every_presentation_order():
    # the theorem does not depend on the order: shuffle the examples many times
    X, y, w, b = P.separable_data(40, 3, 0.05, mlbook.generator(11))
    bound = P.novikoff_bound(X, y, w, b)
    gen = torch.Generator().manual_seed(0)
    counts = set()
    for _ in range(50):
        perm = torch.randperm(len(y), generator=gen)
        r = P.fit(X[perm], y[perm])
        assert r.converged and r.mistakes <= bound
        counts.add(r.mistakes)
    assert len(counts) > 1  # the orders really differ


def test_novikoff_bound_matches_its_formula():
    X, y, w, b = P.separable_data(25, 3, 0.2, mlbook.generator(7))
    R2 = (X.norm(dim=1) ** 2).max().item() + 1.0  # R~^2 = R^2 + 1
    gamma = 0.2 / math.sqrt(1.0 + b.item() ** 2)  # the augmented margin shrinks
    assert math.isclose(P.novikoff_bound(X, y, w, b), R2 / gamma**2, rel_tol=1e-9)
    # scaling (w, b) does not change the bound
    assert math.isclose(P.novikoff_bound(X, y, 5 * w, 5 * b), R2 / gamma**2, rel_tol=1e-9)
    c = 2.0
    R2c = (X.norm(dim=1) ** 2).max().item() + c * c
    gamma_c = 0.2 / math.sqrt(1.0 + (b.item() / c) ** 2)
    assert math.isclose(P.novikoff_bound(X, y, w, b, bias_input=c), R2c / gamma_c**2, rel_tol=1e-9)


@pytest.mark.parametrize("d", [2, 10, 50])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_fit_many_equals_fit_on_each_set(d, dtype):
    sets = [
        P.separable_data(40, d, 0.02 + 0.03 * k, mlbook.generator(100 + k), dtype=dtype)
        for k in range(12)
    ]
    X = torch.stack([s[0] for s in sets])  # (K, n, d)
    y = torch.stack([s[1] for s in sets])  # (K, n)
    many = P.fit_many(X, y, lr=0.5)
    for k in range(len(sets)):
        one = P.fit(X[k], y[k], lr=0.5)
        assert one.mistakes == many.mistakes[k].item()
        assert one.converged == many.converged[k].item()
        assert one.epochs == many.epochs[k].item()
        assert list(one.history.epoch_mistakes) == many.epoch_mistakes[k, : one.epochs].tolist()
        assert torch.equal(one.w, many.w[k]) and torch.equal(one.b, many.b[k])


def test_fit_many_on_non_separable_sets_and_is_deterministic():
    X = torch.stack([XOR_X, XOR_X * 2.0, XOR_X + 0.5])
    y = torch.stack([XOR_Y, XOR_Y, XOR_Y])
    a = P.fit_many(X, y, max_epochs=20)
    b = P.fit_many(X, y, max_epochs=20)
    assert not a.converged.any() and a.epoch_mistakes.shape == (3, 20)
    assert torch.equal(a.w, b.w) and torch.equal(a.mistakes, b.mistakes)
    for k in range(3):
        one = P.fit(X[k], y[k], max_epochs=20)
        assert one.mistakes == a.mistakes[k].item() and torch.equal(one.w, a.w[k])


def test_xor_never_converges_and_cycles():
    r = P.fit(XOR_X, XOR_Y, max_epochs=200)
    assert not r.converged and r.epochs == 200
    assert min(r.history.epoch_mistakes) > 0
    # integer data, lr = 1: the weights return to (0, 0, 0) after every epoch of 4 updates
    assert r.mistakes == 800
    assert torch.equal(r.history.w[::4], torch.zeros(201, 2, dtype=torch.float64))


@pytest.mark.parametrize(
    "labels, shown",
    [([0.0, 1.0, 1.0, 0.0], r"\[0, 1\]"), ([-1.0, 2.0, 1.0, -1.0], r"\[-1, 1, 2\]")],
)
def test_labels_must_be_plus_minus_one(labels, shown):
    with pytest.raises(ValueError, match=rf"-1 or \+1.*{shown}"):
        P.fit(XOR_X, torch.tensor(labels))
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        P.fit_many(XOR_X[None], torch.tensor(labels)[None])
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        P.novikoff_bound(XOR_X, torch.tensor(labels), torch.ones(2), 0.0)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"shape \(n, d\).*\(4,\)"):
        P.fit(torch.zeros(4), XOR_Y)
    with pytest.raises(ValueError, match=r"y must have shape \(4,\).*\(3,\)"):
        P.fit(XOR_X, XOR_Y[:3])
    with pytest.raises(ValueError, match=r"\(K, n, d\).*\(4, 2\)"):
        P.fit_many(XOR_X, XOR_Y)
    with pytest.raises(ValueError, match=r"y must have shape \(1, 4\)"):
        P.fit_many(XOR_X[None], XOR_Y)
    with pytest.raises(ValueError, match=r"w must have shape \(2,\)"):
        P.novikoff_bound(XOR_X, XOR_Y, torch.ones(3), 0.0)


def test_bad_arguments():
    for kwargs in ({"lr": 0.0}, {"lr": float("nan")}, {"max_epochs": 0}, {"bias_input": -1.0}):
        with pytest.raises(ValueError):
            P.fit(XOR_X, XOR_Y, **kwargs)
    for margin in (0.0, -0.1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="margin"):
            P.separable_data(10, 2, margin, mlbook.generator(0))
    with pytest.raises(ValueError, match="n must"):
        P.separable_data(1, 2, 0.1, mlbook.generator(0))
    with pytest.raises(ValueError, match="d must"):
        P.separable_data(10, 0, 0.1, mlbook.generator(0))


def test_non_finite_inputs_are_rejected():
    # a NaN score is never <= 0, so NaN data would otherwise pass as "converged"
    X_nan = XOR_X.clone()
    X_nan[1, 0] = float("nan")
    with pytest.raises(ValueError, match="X must be finite"):
        P.fit(X_nan, XOR_Y)
    with pytest.raises(ValueError, match="X must be finite"):
        P.fit_many(X_nan[None], XOR_Y[None])
    with pytest.raises(ValueError, match="w must be finite"):
        P.novikoff_bound(XOR_X, XOR_Y, torch.tensor([float("inf"), 1.0]), 0.0)
    with pytest.raises(ValueError, match="b must be finite"):
        P.novikoff_bound(XOR_X, XOR_Y, torch.ones(2), float("nan"))
    with pytest.raises(ValueError, match="X must hold real numbers"):
        P.fit(XOR_X.bool(), XOR_Y)


def test_novikoff_bound_rejects_a_non_separator():
    X, y, w, b = P.separable_data(30, 2, 0.1, mlbook.generator(0))
    with pytest.raises(ValueError, match="does not separate"):
        P.novikoff_bound(X, y, -w, -b)
    with pytest.raises(ValueError, match="does not separate"):
        P.novikoff_bound(XOR_X, XOR_Y, torch.tensor([1.0, 1.0]), -1.0)
    with pytest.raises(ValueError, match="zero"):
        P.novikoff_bound(X, y, torch.zeros(2), 0.0)
    with pytest.raises(ValueError, match="b must be 0"):
        P.novikoff_bound(X, y, w, b, bias_input=0.0)
