"""mlbook.generative.diffusion and diffusion_eval: the schedule, the closed form against iterated steps, the
sampler against the exact noise predictor of Gaussian data, CFG, the ELBO, the Fokker–Planck
solver against exact solutions, and the error paths."""

import math

import numpy as np
import pytest
import torch

import mlbook
from mlbook import data
from mlbook.generative import (
    EpsilonMLP,
    cfg_eps,
    ddpm_elbo,
    ddpm_loss,
    ddpm_sample,
    ddpm_schedule,
    energy_distance,
    fokker_planck_1d,
    q_sample,
    q_step,
    train_ddpm,
)


def test_schedule_values():
    betas, alphas, alpha_bars = ddpm_schedule(10, 0.01, 0.1, dtype=torch.float64)
    torch.testing.assert_close(betas, torch.linspace(0.01, 0.1, 10, dtype=torch.float64))
    torch.testing.assert_close(alphas, 1 - betas)
    expected = torch.tensor(
        [math.prod(1 - b for b in betas[: t + 1].tolist()) for t in range(10)], dtype=torch.float64
    )
    torch.testing.assert_close(alpha_bars, expected)
    assert ddpm_schedule(1000).alpha_bars[-1] < 1e-4  # the standard schedule ends near N(0, I)


def test_q_sample_zero_based_index():
    sch = ddpm_schedule(5, 0.1, 0.3, dtype=torch.float64)
    x0 = torch.ones(3, 2, dtype=torch.float64)
    eps = torch.zeros_like(x0)
    torch.testing.assert_close(q_sample(x0, 0, eps, sch), math.sqrt(0.9) * x0)  # t = 0: one step
    # one q_step from the data equals the closed form at index 0, with the same noise
    eps = torch.randn(3, 2, dtype=torch.float64)
    torch.testing.assert_close(q_step(x0, 0, eps, sch), q_sample(x0, 0, eps, sch))
    t = torch.tensor([0, 2, 4])
    out = q_sample(x0, t, eps, sch)
    for i in range(3):
        ab = sch.alpha_bars[t[i]]
        torch.testing.assert_close(out[i], ab.sqrt() * x0[i] + (1 - ab).sqrt() * eps[i])


def test_iterated_steps_match_closed_form():
    sch = ddpm_schedule(50, 1e-3, 0.1, dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    n = 200_000
    x0 = torch.full((n, 1), 2.0, dtype=torch.float64)
    x = x0
    for t in range(50):
        x = q_step(x, t, torch.randn(x.shape, generator=gen, dtype=torch.float64), sch)
    ab = sch.alpha_bars[-1]
    mean, var = ab.sqrt() * 2.0, 1 - ab
    # standard errors of the sample mean and variance of a Gaussian: sqrt(var/n), var*sqrt(2/n)
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n)
    assert abs(x.var() - var) < 5 * var * math.sqrt(2 / n)


class ExactGaussianEps(torch.nn.Module):
    """The optimal noise predictor for data N(0, s2 I): sqrt(1 - ab) x / (ab s2 + 1 - ab)."""

    def __init__(self, sch, s2, dim=2):
        super().__init__()
        self.sch, self.s2, self.dim, self.n_classes = sch, s2, dim, 0
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, y=None):
        ab = self.sch.alpha_bars[t][:, None]
        return (1 - ab).sqrt() * x / (ab * self.s2 + 1 - ab)


def _exact_sampler_variance(sch, s2):
    """The variance that Algorithm 2 with the exact eps of N(0, s2) data produces: each step is
    linear, x <- a_t x + sigma_t z, so v <- a_t^2 v + sigma_t^2 from v = 1 (float64 recursion)."""
    betas, alphas, ab = (v.double() for v in sch)
    ab_prev = torch.cat([ab.new_ones(1), ab[:-1]])
    v = 1.0
    for i in reversed(range(sch.T)):
        a = (1 - betas[i] / (ab[i] * s2 + 1 - ab[i])) / alphas[i].sqrt()
        v = a**2 * v + (0.0 if i == 0 else (1 - ab_prev[i]) / (1 - ab[i]) * betas[i])
    return float(v)


def test_sampler_with_exact_eps_recovers_gaussian():
    sch = ddpm_schedule(1000)
    n = 20_000
    with mlbook.single_thread():  # 1000 small steps: one thread is faster on a shared CPU
        x = ddpm_sample(
            ExactGaussianEps(sch, 0.25), n, sch, generator=torch.Generator().manual_seed(0)
        )
    v = _exact_sampler_variance(sch, 0.25)
    assert abs(v - 0.25) < 0.01  # the T = 1000 chain with beta~ variances is nearly exact
    # the sample variance per coordinate within 5 standard errors v sqrt(2/n) of the recursion
    assert (x.var(0) - v).abs().max() < 5 * v * math.sqrt(2 / n)
    assert x.mean(0).abs().max() < 5 * math.sqrt(v / n)


def test_sampler_trajectory():
    sch = ddpm_schedule(20, 1e-3, 0.3)
    model = ExactGaussianEps(sch, 0.25)
    x, path = ddpm_sample(
        model, 7, sch, generator=torch.Generator().manual_seed(0), return_trajectory=True
    )
    assert path.shape == (21, 7, 2)  # from x_T (row 0) to the sample (row T)
    torch.testing.assert_close(path[-1], x)
    # the trajectory starts at the same noise and ends at the same sample as a plain call
    again = ddpm_sample(model, 7, sch, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(again, x)
    torch.testing.assert_close(
        path[0], torch.randn(7, 2, generator=torch.Generator().manual_seed(0))
    )


def test_cfg_eps():
    c, u = torch.randn(4, 3), torch.randn(4, 3)
    torch.testing.assert_close(cfg_eps(c, u, 0.0), c)
    torch.testing.assert_close(cfg_eps(c, u, 2.0), 3 * c - 2 * u)
    with pytest.raises(ValueError, match="w"):
        cfg_eps(c, u, -1.0)
    with pytest.raises(ValueError, match="same shape"):
        cfg_eps(c, u[:2], 1.0)


def test_conditional_network_and_loss():
    torch.manual_seed(0)
    m = EpsilonMLP(4, 10, hidden=16, n_classes=3)
    x, t = torch.randn(5, 4), torch.randint(0, 10, (5,))
    assert m(x, t, torch.tensor([0, 1, 2, 3, 0])).shape == (5, 4)
    torch.testing.assert_close(m(x, t), m(x, t, torch.full((5,), 3)))  # None = the null token
    y = torch.tensor([0, 1, 2, 0, 1])
    assert ddpm_loss(m, x, ddpm_schedule(10), y=y, p_uncond=0.5).ndim == 0
    with pytest.raises(ValueError, match="labels"):
        m(x, t, torch.tensor([0, 1, 2, 4, 0]))
    with pytest.raises(ValueError, match="unconditional"):
        EpsilonMLP(4, 10)(x, t, y)
    with pytest.raises(ValueError, match="shape"):
        m(torch.randn(5, 3), t)


def test_train_ddpm_lowers_loss_deterministically():
    X = data.swiss_roll(500) * 2
    sch = ddpm_schedule(50, 1e-3, 0.3)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        m = EpsilonMLP(2, 50, hidden=32, n_layers=2)
        with mlbook.single_thread():
            runs.append(
                train_ddpm(m, X, sch, steps=200, batch_size=128, generator=mlbook.generator(0))
            )
    assert isinstance(runs[0], mlbook.TrainLog)
    assert runs[0].losses == runs[1].losses  # same seed, same losses
    # an untrained eps-network scores about 1 (it predicts ~0 for noise of variance 1)
    assert np.mean(runs[0].losses[-50:]) < 0.8 * np.mean(runs[0].losses[:10])


@pytest.mark.slow  # about 15 s: the notebook's full training, three times
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trained_2d_model_beats_gaussian_fit(seed):
    """The notebook's claim on the swiss roll (same model and 1500 training steps; 1000 samples
    instead of 2000) for three seeds. The notebook's threshold 1/2 comes from its own runs over
    seed families 0-7 (see the text there); this test checks the claim with smaller samples."""
    torch.manual_seed(seed)
    X = data.swiss_roll(3000, generator=mlbook.generator(seed)) * 2
    Xtr, Xte = X[:2000], X[2000:]
    sch = ddpm_schedule(100, 1e-3, 0.2)
    m = EpsilonMLP(2, 100, hidden=128, x_features=16)
    with mlbook.single_thread():  # many small operations: one thread is faster
        train_ddpm(m, Xtr, sch, steps=1500, generator=mlbook.generator(seed))
        S = ddpm_sample(m, 1000, sch, generator=torch.Generator().manual_seed(seed))
    G = torch.distributions.MultivariateNormal(Xtr.mean(0), torch.cov(Xtr.T)).sample((1000,))
    assert energy_distance(S, Xte) < 0.5 * energy_distance(G, Xte)


def test_elbo_below_exact_log_likelihood():
    # Gaussian data with the exact eps: the ELBO lies below the true log-density (in expectation)
    sch = ddpm_schedule(200, 1e-3, 0.05, dtype=torch.float32)
    x0 = 0.5 * torch.randn(20_000, 2, generator=torch.Generator().manual_seed(0))
    elbo = ddpm_elbo(
        ExactGaussianEps(sch, 0.25), x0, sch, generator=torch.Generator().manual_seed(1)
    )
    true_ll = torch.distributions.Normal(0, 0.5).log_prob(x0).sum(1)
    assert elbo.mean() < true_ll.mean()
    # the gap (about 0.9 nats here) comes from the first reverse steps, where the fixed variance
    # beta~_t differs from the true reverse variance by a factor 1 + O(beta_t / (1 - ab_{t-1}))
    assert elbo.mean() > true_ll.mean() - 1.5


def test_energy_distance():
    g = torch.Generator().manual_seed(0)
    A, B = torch.randn(800, 2, generator=g), torch.randn(800, 2, generator=g)
    assert abs(energy_distance(A, B)) < 0.02
    assert energy_distance(A, B + 1.0) > 0.3
    with pytest.raises(ValueError, match="n, d"):
        energy_distance(A, torch.randn(10, 3))


def test_fokker_planck_matches_exact_gaussians():
    x = np.linspace(-8, 8, 321)
    s2 = 0.1
    p0 = np.exp(-((x - 1.0) ** 2) / (2 * s2)) / np.sqrt(2 * np.pi * s2)
    tau = 1.0
    # VP (Ornstein–Uhlenbeck): mean 1*e^{-tau/2}, variance s2 e^{-tau} + 1 - e^{-tau}
    m, v = math.exp(-tau / 2), s2 * math.exp(-tau) + 1 - math.exp(-tau)
    exact = np.exp(-((x - m) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)
    p = fokker_planck_1d(p0, x, tau)
    assert np.abs(p - exact).max() < 2e-3
    # heat equation: mean stays, variance s2 + tau
    v = s2 + tau
    exact = np.exp(-((x - 1.0) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)
    assert np.abs(fokker_planck_1d(p0, x, tau, drift=False) - exact).max() < 2e-3
    assert abs(p.sum() - p0.sum()) < 1e-9  # mass conserved


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ddpm_schedule(0), "T must be"),
        (lambda: ddpm_schedule(10, 0.1, 0.01), "beta_start <= beta_end"),
        (lambda: ddpm_schedule(10, 0.1, 1.0), "beta_end < 1"),
        (
            lambda: q_sample(torch.zeros(3, 2), 10, torch.zeros(3, 2), ddpm_schedule(10)),
            r"\[0, 9\]",
        ),
        (lambda: q_sample(torch.zeros(3, 2), -1, torch.zeros(3, 2), ddpm_schedule(10)), "0-based"),
        (lambda: q_sample(torch.zeros(3, 2), 0.5, torch.zeros(3, 2), ddpm_schedule(10)), "integer"),
        (lambda: q_sample(torch.zeros(3, 2), 0, torch.zeros(3, 1), ddpm_schedule(10)), "noise"),
        (
            lambda: q_sample(
                torch.zeros(3, 2), torch.tensor([0, 1]), torch.zeros(3, 2), ddpm_schedule(10)
            ),
            "shape",
        ),
        (
            lambda: ddpm_loss(
                EpsilonMLP(2, 10), torch.zeros(3, 2), ddpm_schedule(10), p_uncond=2.0
            ),
            "p_uncond",
        ),
        (
            lambda: train_ddpm(EpsilonMLP(2, 10), torch.zeros(3, 2), ddpm_schedule(10), steps=0),
            "steps",
        ),
        (lambda: EpsilonMLP(2, 10, x_features=3), "x_features"),
        (
            lambda: ddpm_sample(
                EpsilonMLP(2, 10, n_classes=3), 4, ddpm_schedule(10), y=torch.tensor([0, 1])
            ),
            r"y must be one label or have shape \(4,\)",
        ),
        (lambda: fokker_planck_1d(np.ones(5), np.arange(5.0), 1.0, dtau=10.0), "stability"),
        (lambda: fokker_planck_1d(np.ones(5), np.array([0, 1, 3, 4, 5.0]), 1.0), "uniform"),
    ],
)
def test_error_paths(call, match):
    with pytest.raises(ValueError, match=match):
        call()
