"""Measuring the diffusion models of :mod:`mlbook.generative.diffusion` (chapter 13): the ELBO of
a trained noise predictor, the energy distance between two samples, and the Fokker–Planck
equation that the forward chain discretises, solved on a grid as a reference."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from mlbook._checks import nonneg
from mlbook.generative.diffusion import DDPMSchedule, _posterior_variance, q_sample

__all__ = ["ddpm_elbo", "energy_distance", "fokker_planck_1d"]


@torch.no_grad()
def ddpm_elbo(
    model: nn.Module,
    x0: torch.Tensor,
    schedule: DDPMSchedule,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A one-sample Monte Carlo estimate of the evidence lower bound (Ho et al. 2020, eq. 5)
    of log p_theta(x0) in nats, per data point: -(L_T + sum_{t>=1} L_{t-1} + L_0).

    Reverse variances sigma_t^2 = beta~_t for the KL terms (so each is a squared mean error
    / (2 beta~_t)); the last step (index 0) is a Gaussian decoder N(mu_theta(x_1), beta_1 I).
    Returns (n,).
    """
    dev = x0.device
    schedule = schedule.to(dev)
    betas, alphas, ab = schedule
    n, d, T = x0.shape[0], x0.shape[1], schedule.T
    var = _posterior_variance(schedule)
    # L_T: KL(q(x_T | x0) || N(0, I)) in closed form
    m, v = ab[-1].sqrt() * x0, 1 - ab[-1]
    total = 0.5 * ((m**2).sum(1) + d * (v - 1 - torch.log(v)))
    t = torch.arange(T, device=dev).repeat_interleave(n)  # all T indices for every point
    x0r = x0.repeat(T, 1)
    eps = torch.randn(x0r.shape, device=dev, generator=generator)
    x_t = q_sample(x0r, t, eps, schedule)
    mu_theta = (x_t - (betas[t] / (1 - ab[t]).sqrt())[:, None] * model(x_t, t)) / alphas[t].sqrt()[
        :, None
    ]
    ab_prev = torch.cat([ab.new_ones(1), ab[:-1]])[t]
    mu_q = (ab_prev.sqrt() * betas[t] / (1 - ab[t]))[:, None] * x0r + (
        alphas[t].sqrt() * (1 - ab_prev) / (1 - ab[t])
    )[:, None] * x_t
    kl = ((mu_q - mu_theta) ** 2).sum(1) / (2 * var[t].clamp_min(1e-20))
    kl = kl.view(T, n)
    total = total + kl[1:].sum(0)
    # L_0: -log N(x0; mu_theta(x at index 0), beta_0 I)
    err = ((x0 - mu_theta.view(T, n, d)[0]) ** 2).sum(1)
    total = total + 0.5 * err / betas[0] + 0.5 * d * torch.log(2 * math.pi * betas[0])
    return -total


def energy_distance(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| (Székely & Rizzo) between two
    samples (n, d) and (m, d), with the unbiased (off-diagonal) within-sample means. It is >= 0
    in expectation and 0 only when the two distributions are equal."""
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1] or len(X) < 2 or len(Y) < 2:
        raise ValueError(
            f"X and Y must be (n, d) and (m, d) with n, m >= 2, got {tuple(X.shape)}, {tuple(Y.shape)}"
        )
    X, Y = X.double(), Y.double()
    n, m = len(X), len(Y)
    xy = torch.cdist(X, Y).mean()
    xx = torch.cdist(X, X).sum() / (n * (n - 1))
    yy = torch.cdist(Y, Y).sum() / (m * (m - 1))
    return 2 * xy - xx - yy


def fokker_planck_1d(
    p0: np.ndarray, x: np.ndarray, tau: float, drift: bool = True, dtau: float | None = None
) -> np.ndarray:
    """Evolve a 1-D density on the uniform grid ``x`` to time ``tau`` by finite volumes.

    With ``drift=True`` it solves the Fokker–Planck equation (:eq:`eq-diffusion-fp`) of the VP
    (Ornstein–Uhlenbeck) process dx = -x/2 dtau + dW (:eq:`eq-diffusion-vp-sde`):  dp/dtau = 1/2 d/dx (x p) + 1/2 d^2p/dx^2; with
    ``drift=False`` the heat equation dp/dtau = 1/2 d^2p/dx^2 of dx = dW. Here
    tau = integral of beta dt: after k steps the DDPM chain has exactly the OU marginal at
    tau = -log alpha_bar_k (~ sum beta for small betas), and the driftless chain
    x_k = x_{k-1} + sqrt(beta_k) eps the heat-equation marginal at tau = sum beta.
    Explicit Euler in tau, central fluxes, zero flux at the ends; mass is conserved exactly.
    """
    p = np.asarray(p0, dtype=np.float64).copy()
    x = np.asarray(x, dtype=np.float64)
    if p.shape != x.shape or x.ndim != 1 or x.size < 3:
        raise ValueError(f"p0 and x must be 1-D of the same length >= 3, got {p.shape}, {x.shape}")
    h = x[1] - x[0]
    if not h > 0 or not np.allclose(np.diff(x), h):
        raise ValueError("x must be an increasing uniform grid")
    nonneg(tau, "tau")
    x_face = 0.5 * (x[1:] + x[:-1])
    limit = 0.4 * h**2  # explicit stability: dtau * (1/2) / h^2 <= 1/2, with margin
    if drift:
        limit = min(limit, 0.4 * h / max(abs(x_face).max(), 1e-12) * 2)
    dtau = limit if dtau is None else dtau
    if dtau > limit:
        raise ValueError(f"dtau={dtau} is above the explicit stability limit {limit:.3g}")
    n_steps = int(math.ceil(tau / dtau)) if tau > 0 else 0
    dtau = tau / n_steps if n_steps else 0.0
    for _ in range(n_steps):
        flux = -0.5 * (p[1:] - p[:-1]) / h  # diffusion flux J = -1/2 dp/dx at the faces
        if drift:
            flux = flux - 0.5 * x_face * 0.5 * (p[1:] + p[:-1])  # drift flux (-x/2) p
        div = np.zeros_like(p)
        div[:-1] += flux
        div[1:] -= flux
        p = p - dtau * div / h
    return p
