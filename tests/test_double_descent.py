"""mlbook.double_descent: least squares against torch.linalg, the random-features risk against a
naive per-trial reference, and the Gaussian-design risk against its closed form."""

from __future__ import annotations

import math

import pytest
import torch

import mlbook
from mlbook.double_descent import (
    fit_least_squares,
    gaussian_design_risk,
    gaussian_design_risk_formula,
    random_features_risk,
    random_features_risk_grid,
)

DT = torch.float64


@pytest.mark.parametrize("p", [5, 20, 60])
def test_min_norm_equals_pinv_and_lstsq(p):
    gen = mlbook.generator(0)
    Phi, y = (
        torch.randn(3, 20, p, generator=gen, dtype=DT),
        torch.randn(3, 20, generator=gen, dtype=DT),
    )
    beta = fit_least_squares(Phi, y)
    ref = (torch.linalg.pinv(Phi) @ y.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(beta, ref, rtol=1e-7, atol=1e-9)
    gelsd = torch.linalg.lstsq(Phi, y.unsqueeze(-1), driver="gelsd").solution.squeeze(-1)
    torch.testing.assert_close(beta, gelsd, rtol=1e-7, atol=1e-9)


def test_min_norm_of_a_rank_deficient_matrix():
    gen = mlbook.generator(1)
    Phi = torch.randn(10, 3, generator=gen, dtype=DT) @ torch.randn(3, 8, generator=gen, dtype=DT)
    y = torch.randn(10, generator=gen, dtype=DT)
    torch.testing.assert_close(fit_least_squares(Phi, y), torch.linalg.pinv(Phi) @ y)


@pytest.mark.parametrize("p", [5, 40])
def test_ridge_equals_the_primal_formula_and_tends_to_min_norm(p):
    gen = mlbook.generator(2)
    Phi, y = torch.randn(15, p, generator=gen, dtype=DT), torch.randn(15, generator=gen, dtype=DT)
    lam = 0.3
    primal = torch.linalg.solve(Phi.T @ Phi + 15 * lam * torch.eye(p, dtype=DT), Phi.T @ y)
    torch.testing.assert_close(fit_least_squares(Phi, y, ridge=lam), primal)
    torch.testing.assert_close(
        fit_least_squares(Phi, y, ridge=1e-12), fit_least_squares(Phi, y), rtol=1e-5, atol=1e-7
    )


def naive_random_features_risk(n_train, ps, noise, ridge, d, trials, generator, n_test):
    """Per trial and per p with torch.linalg.pinv / solve, in the draw order of the module."""
    X = torch.randn(trials, n_train + n_test, d, generator=generator, dtype=DT)
    beta = torch.randn(trials, d, 1, generator=generator, dtype=DT) / math.sqrt(d)
    W = torch.randn(trials, d, max(ps), generator=generator, dtype=DT)
    eps = torch.randn(trials, n_train, 1, generator=generator, dtype=DT)
    out = []
    for p in ps:
        errs = []
        for t in range(trials):
            Phi = torch.relu(X[t] @ W[t, :, :p] / math.sqrt(d)) / math.sqrt(p)
            f = (X[t] @ beta[t]).squeeze(-1)
            y = f[:n_train] + noise * eps[t, :, 0]
            A = Phi[:n_train]
            if ridge == 0:
                a = torch.linalg.pinv(A) @ y
            else:
                a = torch.linalg.solve(A.T @ A + n_train * ridge * torch.eye(p, dtype=DT), A.T @ y)
            errs.append(((Phi[n_train:] @ a - f[n_train:]) ** 2).mean())
        out.append(torch.stack(errs).median())
    return torch.stack(out)


@pytest.mark.parametrize(("noise", "ridge"), [(0.0, 0.0), (0.5, 0.0), (0.5, 1e-2)])
def test_random_features_risk_matches_a_naive_reference(noise, ridge):
    ps = [5, 12, 20, 30, 60]
    kw = {"n_train": 20, "ps": ps, "noise": noise, "ridge": ridge, "d": 4, "trials": 5}
    risk = random_features_risk(**kw, generator=mlbook.generator(3), n_test=50)
    ref = naive_random_features_risk(**kw, generator=mlbook.generator(3), n_test=50)
    assert risk.shape == (len(ps),)
    torch.testing.assert_close(risk, ref, rtol=1e-6, atol=1e-10)


def test_grid_equals_separate_calls_and_is_reproducible():
    ps = [10, 30, 50]
    grid = random_features_risk_grid(
        30, ps, [0.0, 1.0], [0.0, 0.1], d=5, trials=4, generator=mlbook.generator(4)
    )
    assert grid.shape == (2, 2, 3)
    for i, noise in enumerate([0.0, 1.0]):
        for j, ridge in enumerate([0.0, 0.1]):
            single = random_features_risk(
                30, ps, noise, ridge, d=5, trials=4, generator=mlbook.generator(4)
            )
            torch.testing.assert_close(grid[i, j], single)


def test_random_features_peak_at_the_interpolation_threshold():
    ps = [10, 20, 25, 30, 35, 40, 60, 120]
    risk = random_features_risk(30, ps, noise=0.5, trials=20, generator=mlbook.generator(5))
    assert ps[int(risk.argmax())] == 30
    assert risk[-1] < 0.1 * risk[ps.index(30)]


def test_gaussian_design_formula_special_cases():
    beta = torch.zeros(50, dtype=DT)
    R = gaussian_design_risk_formula(20, [5, 18, 19, 20, 21, 22, 40], beta, noise=2.0)
    assert R[0].item() == pytest.approx(4 * 5 / 14)
    assert R[1].item() == pytest.approx(4 * 18 / 1)
    assert all(math.isinf(r) for r in R[2:5].tolist())
    assert R[5].item() == pytest.approx(4 * 20 / 1)
    assert R[6].item() == pytest.approx(4 * 20 / 19)
    ones = torch.ones(10, dtype=DT)  # noiseless, all coordinates used: bias (1 − n/p)‖β‖²
    assert gaussian_design_risk_formula(4, [10], ones).item() == pytest.approx(10 * (1 - 4 / 10))


@pytest.mark.parametrize("beta_kind", ["zero", "decaying"])
def test_gaussian_design_monte_carlo_matches_the_closed_form(beta_kind):
    D, n = 60, 20
    beta = torch.zeros(D, dtype=DT) if beta_kind == "zero" else 1 / torch.arange(1, D + 1, dtype=DT)
    ps = [3, 8, 12, 30, 45, 60]
    mc = gaussian_design_risk(n, ps, beta, noise=0.5, trials=4000, generator=mlbook.generator(6))
    formula = gaussian_design_risk_formula(n, ps, beta, noise=0.5)
    torch.testing.assert_close(mc, formula, rtol=0.08, atol=0)


def test_errors_are_for_people():
    Phi, y = torch.zeros(4, 3), torch.zeros(4)
    with pytest.raises(ValueError, match="Phi must be"):
        fit_least_squares(torch.zeros(3), y)
    with pytest.raises(ValueError, match="y must have shape"):
        fit_least_squares(Phi, torch.zeros(5))
    with pytest.raises(ValueError, match="ridge must be"):
        fit_least_squares(Phi, y, ridge=-1.0)
    with pytest.raises(ValueError, match="n_train must be a positive integer"):
        random_features_risk(0, [3])
    with pytest.raises(ValueError, match="at least one"):
        random_features_risk(10, [])
    with pytest.raises(ValueError, match="each of ps"):
        random_features_risk(10, [3, 0])
    with pytest.raises(ValueError, match="noise must be"):
        random_features_risk(10, [3], noise=-0.1)
    with pytest.raises(ValueError, match="at least one value"):
        random_features_risk_grid(10, [3], [], [0.0])
    with pytest.raises(ValueError, match="at most 5"):
        gaussian_design_risk_formula(10, [6], torch.zeros(5))
    with pytest.raises(ValueError, match="1-D tensor"):
        gaussian_design_risk(10, [2], torch.zeros(2, 2))
