"""mlbook.generative.vae, .gan and .vaegan: closed forms against Monte Carlo, quadrature and torch.distributions;
the GAN losses against their definitions; mode coverage on exact samples; the error paths."""

import copy
import math

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

import mlbook
from mlbook import data
from mlbook.generative import (
    GAN,
    VAE,
    VAEGAN,
    bernoulli_log_likelihood,
    discriminator_loss,
    elbo,
    gaussian_kl,
    generator_loss,
    mode_coverage,
    reparameterize,
    train_gan,
    train_gans,
    train_vae,
    train_vaegan,
)

DT = torch.float64


def test_gaussian_kl_matches_torch_and_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, generator=gen, dtype=DT)
    logvar = torch.randn(5, 3, generator=gen, dtype=DT)
    q = Normal(mu, (0.5 * logvar).exp())
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(gaussian_kl(mu, logvar), kl_divergence(q, p).sum(1))
    z = q.sample((200_000,))  # (S, 5, 3)
    log_ratio = (q.log_prob(z) - p.log_prob(z)).sum(-1)  # (S, 5)
    mc, se = log_ratio.mean(0), log_ratio.std(0) / math.sqrt(len(z))
    assert torch.all((mc - gaussian_kl(mu, logvar)).abs() < 4 * se)


def test_gaussian_kl_zero_at_prior_and_errors():
    assert torch.equal(gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 4)), torch.zeros(2))
    with pytest.raises(ValueError, match="same shape"):
        gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="batch, latent"):
        gaussian_kl(torch.zeros(4), torch.zeros(4))


def test_bernoulli_log_likelihood_matches_torch():
    gen = torch.Generator().manual_seed(1)
    x = (torch.rand(6, 10, generator=gen) > 0.5).to(DT)
    logits = 3 * torch.randn(4, 6, 10, generator=gen, dtype=DT)
    ref = Bernoulli(logits=logits).log_prob(x.expand_as(logits)).sum(-1)
    torch.testing.assert_close(bernoulli_log_likelihood(x, logits), ref)
    with pytest.raises(ValueError, match="number of features"):
        bernoulli_log_likelihood(x, logits[..., :5])


def test_reparameterize_gradient_is_unbiased_with_smaller_variance_than_score_function():
    # f(z) = (z - 3)^2, q = N(mu, sigma^2): d/dmu E f = 2 (mu - 3) exactly.
    mu, sigma, S = torch.tensor(0.5, dtype=DT), 0.8, 100_000
    eps = torch.randn(S, 1, generator=torch.Generator().manual_seed(2), dtype=DT)
    mu_b = mu.expand(S, 1).clone().requires_grad_(True)
    z = reparameterize(mu_b, torch.full_like(mu_b, 2 * math.log(sigma)), eps)
    ((z - 3) ** 2).sum().backward()
    g_rep = mu_b.grad.squeeze(1)
    zd = z.detach().squeeze(1)
    g_sf = (zd - 3) ** 2 * (zd - mu) / sigma**2
    exact = 2 * (mu - 3)
    for g in (g_rep, g_sf):
        assert abs(g.mean() - exact) < 4 * g.std() / math.sqrt(S)
    torch.testing.assert_close(g_rep.var(), torch.tensor(4 * sigma**2, dtype=DT), rtol=0.02, atol=0)
    assert g_sf.var() > 10 * g_rep.var()
    with pytest.raises(ValueError, match="eps must end"):
        reparameterize(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(5, 2, 4))


def test_elbo_is_below_log_likelihood_by_quadrature():
    # One latent dimension: log p(x) = log ∫ p(z) p(x|z) dz by the trapezoidal rule.
    torch.manual_seed(3)
    model = VAE(x_dim=5, z_dim=1, hidden=8).double()
    x = (torch.rand(4, 5, dtype=DT) > 0.5).to(DT)
    z = torch.linspace(-8, 8, 4001, dtype=DT).unsqueeze(1)  # (Z, 1)
    with torch.no_grad():
        log_joint = bernoulli_log_likelihood(x, model.decode(z).unsqueeze(1)) + Normal(
            0.0, 1.0
        ).log_prob(z)  # (Z, 4)
        log_px = torch.logsumexp(log_joint, 0) + math.log(z[1, 0] - z[0, 0])
        value, recon, kl = elbo(model, x, n_samples=20_000)
    assert torch.all(value <= log_px + 1e-3)
    torch.testing.assert_close(value, recon - kl)
    assert torch.all(log_px <= 0)  # a probability of a binary vector


def test_vae_shapes_and_errors():
    model = VAE(x_dim=64, z_dim=2, hidden=16)
    logits, mu, logvar = model(torch.rand(3, 64))
    assert logits.shape == (3, 64) and mu.shape == logvar.shape == (3, 2)
    assert model.sample(5).shape == (5, 64)
    with pytest.raises(ValueError, match="64 features"):
        model.encode(torch.rand(3, 63))
    with pytest.raises(ValueError, match="z must have 2"):
        model.decode(torch.rand(3, 3))
    with pytest.raises(ValueError, match="z_dim"):
        VAE(64, 0)
    with pytest.raises(ValueError, match="beta"):
        elbo(model, torch.rand(3, 64), beta=-1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_vae_held_out_elbo_rises(seed):
    split = data.digits(generator=mlbook.rng(seed))
    X, X_val = (split.X_train > 0.5).float(), (split.X_test > 0.5).float()
    mlbook.seed_all(seed)
    model = VAE(64, 2, 64)
    with mlbook.single_thread():
        log = train_vae(model, X, epochs=8, X_val=X_val, generator=mlbook.generator(seed))
    assert isinstance(log, mlbook.TrainLog) and len(log.losses) == 8 * math.ceil(len(X) / 128)
    assert log.metrics["val"][-1] > log.metrics["val"][0] + 2.0
    assert log.metrics["val"][-1] > -64 * math.log(2)  # better than a coin per pixel


def test_gan_losses_match_definitions():
    gen = torch.Generator().manual_seed(4)
    lr, lf = torch.randn(7, generator=gen, dtype=DT), torch.randn(9, generator=gen, dtype=DT)
    d_r, d_f = torch.sigmoid(lr), torch.sigmoid(lf)
    torch.testing.assert_close(
        discriminator_loss(lr, lf), -(d_r.log().mean() + (1 - d_f).log().mean())
    )
    torch.testing.assert_close(generator_loss(lf, "minimax"), (1 - d_f).log().mean())
    torch.testing.assert_close(generator_loss(lf), -d_f.log().mean())
    with pytest.raises(ValueError, match="loss must be one of"):
        generator_loss(lf, "wasserstein")


def test_minimax_gradient_saturates_where_non_saturating_does_not():
    logit = torch.tensor([-8.0], requires_grad=True)  # D(G(z)) ≈ 3e-4
    (g_mm,) = torch.autograd.grad(generator_loss(logit, "minimax"), logit)
    (g_ns,) = torch.autograd.grad(generator_loss(logit, "non_saturating"), logit)
    torch.testing.assert_close(g_mm, -torch.sigmoid(logit).detach())
    torch.testing.assert_close(g_ns, -(1 - torch.sigmoid(logit)).detach())
    assert g_ns.abs() > 1000 * g_mm.abs()


def test_mode_coverage_on_exact_and_collapsed_samples():
    centers = data.ring_centers()
    X, _ = data.gaussian_mixture(20_000, std=0.05, generator=mlbook.generator(5))
    result = mode_coverage(X, centers, radius=0.15)
    assert result.covered == 8
    # P(|N(0, s^2 I_2)| <= 3s) = 1 - exp(-9/2); binomial standard error, 4 of them
    p = 1 - math.exp(-4.5)
    assert abs(result.high_quality - p) < 4 * math.sqrt(p * (1 - p) / len(X))
    assert int(result.counts.sum()) == round(result.high_quality * len(X))
    collapsed = centers[3] + 0.01 * torch.randn(500, 2, generator=torch.Generator().manual_seed(6))
    result = mode_coverage(collapsed, centers, radius=0.15)
    assert result.covered == 1 and result.high_quality == 1.0
    with pytest.raises(ValueError, match="radius"):
        mode_coverage(X, centers, radius=0.0)
    with pytest.raises(ValueError, match="centers must have 2"):
        mode_coverage(X, torch.zeros(8, 3), radius=0.1)
    with pytest.raises(ValueError, match="min_share"):
        mode_coverage(X, centers, radius=0.1, min_share=0.0)


def test_gan_shapes_training_and_errors():
    gan = GAN(x_dim=64, z_dim=4, hidden=16, output="sigmoid")
    x = gan.generate(5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 64) and x.min() >= 0 and x.max() <= 1
    assert gan.discriminate(x).shape == (5,)
    X = torch.rand(50, 64)
    history = train_gan(gan, X, steps=3, batch_size=8, snapshot_every=3, n_snapshot=10)
    assert len(history.metrics["d_loss"]) == len(history.losses) == 3
    assert history.snapshots[0][1].shape == (10, 64)
    with pytest.raises(ValueError, match="output"):
        GAN(output="tanh")
    packed = GAN(x_dim=3, z_dim=2, hidden=8, pack=2)
    x = torch.randn(4, 3)
    # the packed discriminator sees rows (x0, x1) and (x2, x3) side by side
    torch.testing.assert_close(packed.discriminate(x), packed.D(x.reshape(2, 6)).squeeze(1))
    with pytest.raises(ValueError, match="multiple of pack=2"):
        packed.discriminate(torch.randn(5, 3))
    with pytest.raises(ValueError, match="loss must be one of"):
        train_gan(gan, X, steps=1, loss="hinge")
    with pytest.raises(ValueError, match="64 features"):
        train_gan(gan, torch.rand(50, 2), steps=1)


def test_vaegan_trains_and_errors():
    model = VAEGAN(x_dim=64, z_dim=2, hidden=16)
    X = (torch.rand(40, 64) > 0.5).float()
    history = train_vaegan(model, X, epochs=2, batch_size=16)
    assert all(len(v) == 2 and all(math.isfinite(t) for t in v) for v in history.metrics.values())
    assert len(history.losses) == 2 * 3 and all(math.isfinite(t) for t in history.losses)
    assert model.sample(3).shape == (3, 64)
    with pytest.raises(ValueError, match="lambda_gan"):
        train_vaegan(model, X, epochs=1, lambda_gan=-1.0)


def test_train_gan_is_deterministic_under_a_seed():
    X = torch.randn(64, 2, generator=torch.Generator().manual_seed(7))
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        gan = GAN(x_dim=2, z_dim=2, hidden=8, pack=2)
        history = train_gan(gan, X, steps=5, batch_size=16, generator=mlbook.generator(1))
        runs.append(
            (
                history.metrics["d_loss"],
                history.losses,
                [p.detach().clone() for p in gan.parameters()],
            )
        )
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][2], runs[1][2], strict=True))


@pytest.mark.parametrize(("output", "pack", "g_steps"), [("linear", 1, 1), ("sigmoid", 2, 3)])
def test_train_gans_with_one_member_is_train_gan(output, pack, g_steps):
    """K = 1 draws the same batches and z as train_gan, so the run must be the same one."""
    X = torch.randn(200, 3, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(0)
    single = GAN(x_dim=3, z_dim=2, hidden=16, output=output, pack=pack)
    batched = copy.deepcopy(single)
    kw = dict(steps=6, batch_size=16, lr=2e-3, g_steps=g_steps, snapshot_every=3, n_snapshot=8)
    h1 = train_gan(single, X, generator=mlbook.generator(3), **kw)
    h2 = train_gans([batched], X, generator=mlbook.generator(3), **kw)
    for a, b in zip(single.parameters(), batched.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)  # trained weights written back
    torch.testing.assert_close(
        torch.tensor(h1.metrics["d_loss"]), torch.tensor(h2.metrics["d_loss[0]"])
    )
    torch.testing.assert_close(torch.tensor(h1.losses), torch.tensor(h2.losses))
    torch.testing.assert_close(h1.snapshots[-1][1], h2.snapshots[-1][1][0])


def test_train_gans_members_do_not_interact():
    """Member 0 follows the same run whatever member 1 is: each has its own loss and Adam state."""
    X = torch.randn(200, 2, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(0)
    first, other_a, other_b = (GAN(x_dim=2, z_dim=2, hidden=8) for _ in range(3))
    runs = []
    for other in (other_a, other_b):
        gans = [copy.deepcopy(first), copy.deepcopy(other)]
        history = train_gans(gans, X, steps=5, batch_size=16, generator=mlbook.generator(1))
        runs.append((gans, history))
    (gans_a, h_a), (gans_b, h_b) = runs
    for a, b in zip(gans_a[0].parameters(), gans_b[0].parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert h_a.metrics["d_loss[0]"] == pytest.approx(h_b.metrics["d_loss[0]"], rel=1e-6)
    assert not torch.equal(gans_a[1].G[0].weight, gans_b[1].G[0].weight)
    with pytest.raises(ValueError, match="same shape"):
        train_gans([GAN(x_dim=2), GAN(x_dim=3)], X, steps=1)
    with pytest.raises(ValueError, match="loss must be one of"):
        train_gans(gans_a, X, steps=1, loss="hinge")
