"""Double descent: least squares with more parameters than data (chapter 7).

Two models. Random ReLU features, the model of Belkin et al. (2019) and Mei & Montanari (2022):
features relu(Wx/√d)/√p of Gaussian inputs, fitted by minimum-norm least squares or ridge
(:func:`random_features_risk`). Linear regression on the first p coordinates of an isotropic
Gaussian input, whose expected risk has the closed form :eq:`eq-dd-gauss-under` /
:eq:`eq-dd-gauss-over` (Belkin, Hsu & Xu 2020; Hastie et al. 2022): :func:`gaussian_design_risk`
estimates it by Monte Carlo and :func:`gaussian_design_risk_formula` evaluates it.
Every risk is the test mean-squared error against the noiseless target, E[(f̂(x) − f*(x))²].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from mlbook._checks import nonneg, positive_int, tensor_ndim

__all__ = [
    "fit_least_squares",
    "gaussian_design_risk",
    "gaussian_design_risk_formula",
    "random_features_risk",
    "random_features_risk_grid",
]


def _as_ps(ps: Sequence[int], name: str = "ps", upper: int | None = None) -> list[int]:
    ps = [positive_int(p, f"each of {name}") for p in ps]
    if not ps:
        raise ValueError(f"{name} must hold at least one number of features")
    if upper is not None and max(ps) > upper:
        raise ValueError(f"each of {name} must be at most {upper}, got {max(ps)}")
    return ps


def _inverse_spectrum(evals: torch.Tensor, ridge: float, n: int) -> torch.Tensor:
    """1/(e + nλ) for the eigenvalues e of a PSD Gram matrix; for λ = 0 the pseudo-inverse, with
    eigenvalues below size·ε·(the largest) counted as zero, as ``torch.linalg.pinv`` does."""
    if ridge > 0:
        return 1 / (evals + n * ridge)
    tol = evals.shape[-1] * torch.finfo(evals.dtype).eps * evals.amax(-1, keepdim=True)
    return torch.where(evals > tol, 1 / evals.clamp_min(torch.finfo(evals.dtype).tiny), 0.0)


def _spectral_solve(G: torch.Tensor, v: torch.Tensor, ridge: float, n: int) -> torch.Tensor:
    """(G + nλI)⁻¹ v (the pseudo-inverse for λ = 0) for a batch of symmetric PSD matrices G."""
    evals, U = torch.linalg.eigh(G)
    inv = _inverse_spectrum(evals, ridge, n)
    return U @ (inv.unsqueeze(-1) * (U.transpose(-1, -2) @ v))


def fit_least_squares(Phi: torch.Tensor, y: torch.Tensor, ridge: float = 0.0) -> torch.Tensor:
    """Coefficients minimising ‖Φa − y‖²/n + λ‖a‖², :eq:`eq-dd-ridge`; batched over leading
    dimensions: ``Phi`` (…, n, p), ``y`` (…, n) → (…, p).

    ``ridge == 0`` gives the minimum-norm least-squares solution Φ⁺y (:eq:`eq-dd-min-norm`);
    ``ridge > 0`` gives (ΦᵀΦ + nλI)⁻¹Φᵀy = Φᵀ(ΦΦᵀ + nλI)⁻¹y. Both go through the eigenvectors
    of the smaller Gram matrix (ΦᵀΦ if p < n, else ΦΦᵀ), several times faster than an SVD of Φ;
    ``torch.linalg.pinv(Phi) @ y`` is the reference the tests compare with.
    """
    if not isinstance(Phi, torch.Tensor) or Phi.ndim < 2:
        raise ValueError(f"Phi must be a tensor (..., n, p), got {Phi!r}")
    if not isinstance(y, torch.Tensor) or y.shape != Phi.shape[:-1]:
        raise ValueError(f"y must have shape {tuple(Phi.shape[:-1])}, got {getattr(y, 'shape', y)}")
    ridge = nonneg(ridge, "ridge")
    n, p = Phi.shape[-2:]
    PhiT, y = Phi.transpose(-1, -2), y.unsqueeze(-1)
    if p >= n:
        return (PhiT @ _spectral_solve(Phi @ PhiT, y, ridge, n)).squeeze(-1)
    return _spectral_solve(PhiT @ Phi, PhiT @ y, ridge, n).squeeze(-1)


def random_features_risk(
    n_train: int,
    ps: Sequence[int],
    noise: float = 0.0,
    ridge: float = 0.0,
    d: int = 10,
    trials: int = 10,
    generator: torch.Generator | None = None,
    *,
    n_test: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Test mean-squared error of random ReLU features, the median over ``trials``: (len(ps),).

    Each trial draws inputs x ~ N(0, I_d), a linear target f*(x) = β·x with β ~ N(0, I_d/d)
    (so Var f* ≈ 1), labels y = f*(x) + ``noise``·ε, and p_max = max(ps) random directions
    W ~ N(0, I); the model with p features uses the first p of them, φ(x) = relu(Wx/√d)/√p,
    fitted as :func:`fit_least_squares` does (minimum norm when ``ridge == 0``). The error is
    measured against f* on ``n_test`` fresh inputs. The median, not the mean, summarises the
    trials: near p = n the error is heavy-tailed (for Gaussian features its expectation is
    infinite, :eq:`eq-dd-gauss-under`), and a mean over a few trials is ruled by one of them.
    """
    grid = random_features_risk_grid(
        n_train, ps, [noise], [ridge], d, trials, generator, n_test=n_test, device=device
    )
    return grid[0, 0]


def random_features_risk_grid(
    n_train: int,
    ps: Sequence[int],
    noises: Sequence[float],
    ridges: Sequence[float],
    d: int = 10,
    trials: int = 10,
    generator: torch.Generator | None = None,
    *,
    n_test: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """:func:`random_features_risk` for every noise level and ridge at once, on the same data,
    directions and noise draws: (len(noises), len(ridges), len(ps)).

    One eigendecomposition per p serves every noise and ridge: for p ≥ n of the kernel ΦΦᵀ
    (the dual form, accumulated as p grows), for p < n of ΦᵀΦ.
    """
    n_train, d = positive_int(n_train, "n_train"), positive_int(d, "d")
    trials, n_test = positive_int(trials, "trials"), positive_int(n_test, "n_test")
    ps = _as_ps(ps)
    noises = [nonneg(s, "each noise") for s in noises]
    ridges = [nonneg(r, "each ridge") for r in ridges]
    if not noises or not ridges:
        raise ValueError("noises and ridges must each hold at least one value")
    opts = {"generator": generator, "dtype": torch.float64}
    X = torch.randn(trials, n_train + n_test, d, **opts)
    beta = torch.randn(trials, d, 1, **opts) / math.sqrt(d)
    W = torch.randn(trials, d, max(ps), **opts)
    eps = torch.randn(trials, n_train, 1, **opts)
    X, beta, W, eps = (t.to(device) for t in (X, beta, W, eps))
    target = X @ beta
    sigma = torch.tensor(noises, dtype=X.dtype, device=X.device).view(-1, 1, 1, 1)
    y = target[:, :n_train] + sigma * eps  # (noises, trials, n, 1)
    test_target = target[:, n_train:]
    features = torch.relu(X @ W / math.sqrt(d))
    train, test = features[:, :n_train], features[:, n_train:]
    K_train = torch.zeros(trials, n_train, n_train, dtype=X.dtype, device=X.device)
    K_test = torch.zeros(trials, n_test, n_train, dtype=X.dtype, device=X.device)
    done, risks = 0, {}
    for p in sorted(set(ps)):
        new_train = train[..., done:p]
        K_train += new_train @ new_train.transpose(-1, -2)
        K_test += test[..., done:p] @ new_train.transpose(-1, -2)
        done = p
        if p >= n_train:  # dual form: Φ_test Φᵀ (ΦΦᵀ + nλI)⁺ y with Φ = features/√p
            evals, U = torch.linalg.eigh(K_train / p)
            proj, apply = U.transpose(-1, -2) @ y, K_test / p @ U
        else:
            Phi, Phi_test = train[..., :p] / math.sqrt(p), test[..., :p] / math.sqrt(p)
            evals, U = torch.linalg.eigh(Phi.transpose(-1, -2) @ Phi)
            proj, apply = U.transpose(-1, -2) @ (Phi.transpose(-1, -2) @ y), Phi_test @ U
        row = []
        for ridge in ridges:
            inv = _inverse_spectrum(evals, ridge, n_train).unsqueeze(-1)
            pred = apply @ (inv * proj)  # (noises, trials, n_test, 1)
            row.append((pred - test_target).pow(2).mean(dim=(2, 3)).median(dim=1).values)
        risks[p] = torch.stack(row, dim=1)  # (noises, ridges)
    return torch.stack([risks[p] for p in ps], dim=-1).cpu()


def gaussian_design_risk(
    n_train: int,
    ps: Sequence[int],
    beta: torch.Tensor,
    noise: float = 0.0,
    trials: int = 200,
    generator: torch.Generator | None = None,
    *,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Monte Carlo risk E[(x·β̂ − x·β)²] of minimum-norm least squares on the first p
    coordinates of x ~ N(0, I_D), y = x·β + noise·ε, D = len(beta): (len(ps),), the mean
    over ``trials``. For isotropic x the risk given β̂ is exactly ‖β̂ − β‖², so no test set is
    drawn. Compare with :func:`gaussian_design_risk_formula`.
    """
    tensor_ndim(beta, "beta", 1, "(D,)")
    n_train, trials = positive_int(n_train, "n_train"), positive_int(trials, "trials")
    ps, noise = _as_ps(ps, upper=len(beta)), nonneg(noise, "noise")
    X = torch.randn(trials, n_train, len(beta), generator=generator, dtype=torch.float64)
    eps = torch.randn(trials, n_train, generator=generator, dtype=torch.float64)
    beta, X, eps = (t.to(device=device, dtype=torch.float64) for t in (beta, X, eps))
    y = X @ beta + noise * eps
    risks = []
    for p in ps:
        b = fit_least_squares(X[..., :p], y)
        err = (b - beta[:p]).pow(2).sum(-1) + beta[p:].pow(2).sum()
        risks.append(err.mean())
    return torch.stack(risks).cpu()


def gaussian_design_risk_formula(
    n_train: int, ps: Sequence[int], beta: torch.Tensor, noise: float = 0.0
) -> torch.Tensor:
    """Closed form of :func:`gaussian_design_risk` (Belkin, Hsu & Xu 2020, Theorem 1), with
    s² = ‖β_{>p}‖² + σ² (what the first p coordinates cannot explain, plus noise):

    p ≤ n − 2:  ‖β_{>p}‖² + s² p/(n − p − 1)                  :eq:`eq-dd-gauss-under`
    p ≥ n + 2:  ‖β_{≤p}‖²(1 − n/p) + ‖β_{>p}‖² + s² n/(p − n − 1)   :eq:`eq-dd-gauss-over`

    and +∞ for n − 1 ≤ p ≤ n + 1 (the expectation diverges).
    """
    tensor_ndim(beta, "beta", 1, "(D,)")
    n = positive_int(n_train, "n_train")
    ps, noise = _as_ps(ps, upper=len(beta)), nonneg(noise, "noise")
    sq = beta.to(torch.float64).pow(2)
    out = []
    for p in ps:
        head, tail = sq[:p].sum().item(), sq[p:].sum().item()
        s2 = tail + noise**2
        if p <= n - 2:
            out.append(tail + s2 * p / (n - p - 1))
        elif p >= n + 2:
            out.append(head * (1 - n / p) + tail + s2 * n / (p - n - 1))
        else:
            out.append(math.inf)
    return torch.tensor(out, dtype=torch.float64)
