"""VAE, GAN and VAE-GAN (chapter 12).

Equations are named by their labels in ``book/12_vae_gan.ipynb``.

The variational autoencoder (Kingma and Welling) maximises the evidence lower bound (ELBO)

    log p(x) ≥ L(x) = E_{q(z|x)}[log p(x|z)] − KL(q(z|x) ‖ p(z)),          (thm-vae-elbo)

with q(z|x) = N(μ(x), diag σ²(x)), p(z) = N(0, I) and, here, a Bernoulli decoder
p(x|z) = Π_i Bern(x_i; sigmoid(logit_i(z))) for binary images. The KL term has the closed form

    KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²),                    (eq-vae-kl)

and z is drawn as z = μ + σ ⊙ ε, ε ~ N(0, I) (the reparameterisation trick), so the Monte Carlo
estimate of the ELBO is differentiable in μ and σ.

The GAN (Goodfellow et al.) plays min_G max_D V(D, G) with

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p(z)}[log(1 − D(G(z)))];                (eq-gan-minimax)

the generator may instead minimise the non-saturating loss −E_z[log D(G(z))] (eq-gan-ns).
The discriminator returns a logit l, D = sigmoid(l); every loss is written with
``softplus`` (log σ(l) = −softplus(−l), log(1 − σ(l)) = −softplus(l)), which is exact and never
takes the log of 0.

VAE-GAN (Larsen et al.) trains the VAE's decoder also as a GAN generator:
L = L_recon + λ₁ KL + λ₂ L_GAN (eq-vaegan).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from mlbook.core import generator

__all__ = [
    "gaussian_kl",
    "bernoulli_log_likelihood",
    "reparameterize",
    "VAE",
    "elbo",
    "train_vae",
    "GAN",
    "GAN_LOSSES",
    "discriminator_loss",
    "generator_loss",
    "train_gan",
    "train_gans",
    "ModeCoverage",
    "mode_coverage",
    "VAEGAN",
    "train_vaegan",
]

GAN_LOSSES = ("non_saturating", "minimax")


# ------------------------------------------------------------------------------ checks
def _check_pos_int(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_nonneg(value: float, name: str) -> None:
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def _check_2d(x: torch.Tensor, name: str, dim: int | None = None) -> None:
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (batch, features), got shape {tuple(x.shape)}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} features, got {x.shape[1]}")


def _mlp(sizes: list[int], act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _batches(n: int, batch_size: int, gen: torch.Generator) -> list[torch.Tensor]:
    return list(torch.randperm(n, generator=gen).split(batch_size))


def _adam(
    params: nn.Module | Iterable[torch.Tensor], lr: float, betas: tuple[float, float]
) -> torch.optim.Adam:
    """Adam on ``params`` (a module's parameters or a list of tensors), with the fused kernel
    (one call for all tensors) on CUDA and, from torch 2.4 on, on the CPU: for the small networks
    of this chapter the per-tensor loop is a large part of a training step."""
    params = list(params.parameters() if isinstance(params, nn.Module) else params)
    dev = params[0].device
    fused = dev.type == "cuda" or (dev.type == "cpu" and torch.__version__ >= (2, 4))
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused)


# ------------------------------------------------------------------------------ VAE
def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag exp(logvar)) ‖ N(0, I)) per sample, eq. ``eq-vae-kl``: shape (batch,)."""
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} and "
            f"{tuple(logvar.shape)}"
        )
    if mu.ndim != 2:
        raise ValueError(f"mu must have shape (batch, latent), got shape {tuple(mu.shape)}")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x|z) = Σ_i [x_i log p_i + (1 − x_i) log(1 − p_i)], p = sigmoid(logits).

    ``logits`` may carry extra leading dimensions (Monte Carlo samples), broadcast against x.
    Returns the sum over the last dimension, in nats. For binary x this is the log of a
    probability (≤ 0).
    """
    if logits.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"logits and x must have the same number of features, got {logits.shape[-1]} "
            f"and {x.shape[-1]}"
        )
    logits, x = torch.broadcast_tensors(logits, x)
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None
) -> torch.Tensor:
    """z = μ + σ ⊙ ε with σ = exp(logvar / 2), ε ~ N(0, I) (or the given ``eps``, which may
    carry extra leading sample dimensions)."""
    if mu.shape != logvar.shape:
        raise ValueError(
            f"mu and logvar must have the same shape, got {tuple(mu.shape)} and "
            f"{tuple(logvar.shape)}"
        )
    if eps is None:
        eps = torch.randn_like(mu)
    elif eps.shape[-mu.ndim :] != mu.shape:
        raise ValueError(
            f"eps must end with the shape of mu {tuple(mu.shape)}, got {tuple(eps.shape)}"
        )
    return mu + (0.5 * logvar).exp() * eps


class VAE(nn.Module):
    """A VAE with MLP encoder q(z|x) = N(μ(x), diag σ²(x)) and Bernoulli MLP decoder.

    ``encode(x)`` → (μ, log σ²), each (batch, z_dim); ``decode(z)`` → logits (…, x_dim);
    ``forward(x)`` → (logits, μ, log σ²) with one reparameterised z per example.
    """

    def __init__(self, x_dim: int = 64, z_dim: int = 2, hidden: int = 256) -> None:
        super().__init__()
        for value, name in ((x_dim, "x_dim"), (z_dim, "z_dim"), (hidden, "hidden")):
            _check_pos_int(value, name)
        self.x_dim, self.z_dim = x_dim, z_dim
        self.encoder = _mlp([x_dim, hidden, hidden, 2 * z_dim])
        self.decoder = _mlp([z_dim, hidden, hidden, x_dim])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _check_2d(x, "x", self.x_dim)
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[-1] != self.z_dim:
            raise ValueError(f"z must have {self.z_dim} features, got shape {tuple(z.shape)}")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decoder means sigmoid(logits(z)) for n draws z ~ N(0, I): (n, x_dim) in [0, 1]."""
        _check_pos_int(n, "n")
        dev = next(self.parameters()).device
        z = torch.randn(n, self.z_dim, generator=generator, device="cpu").to(dev)
        return torch.sigmoid(self.decode(z))


def elbo(
    model: VAE, x: torch.Tensor, beta: float = 1.0, n_samples: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Monte Carlo ELBO (theorem ``thm-vae-elbo``) per example, with the KL term weighted by ``beta``.

    Returns (elbo, reconstruction, kl), each of shape (batch,) in nats, where
    reconstruction = (1/S) Σ_s log p(x | z_s), z_s = μ + σ ⊙ ε_s (S = ``n_samples``), kl by
    eq. ``eq-vae-kl`` and elbo = reconstruction − beta · kl. ``beta = 1`` is the true bound on
    log p(x); other values give the β-VAE objective.
    """
    _check_nonneg(beta, "beta")
    _check_pos_int(n_samples, "n_samples")
    mu, logvar = model.encode(x)
    eps = torch.randn((n_samples, *mu.shape), device=mu.device, dtype=mu.dtype)
    logits = model.decode(reparameterize(mu, logvar, eps))  # (S, B, x_dim)
    recon = bernoulli_log_likelihood(x, logits).mean(dim=0)
    kl = gaussian_kl(mu, logvar)
    return recon - beta * kl, recon, kl


def train_vae(
    model: VAE,
    X: torch.Tensor,
    epochs: int,
    beta: float = 1.0,
    batch_size: int = 128,
    lr: float = 1e-3,
    X_val: torch.Tensor | None = None,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Adam on −ELBO (β-weighted) over mini-batches of X. Returns the per-epoch mean training
    objective ``"train"`` and, if ``X_val`` is given, the held-out ELBO (β = 1, one sample)
    ``"val"``, both in nats per example.

    ``seed`` fixes the order of the mini-batches; the noise ε of the reparameterisation comes
    from torch's global generator, so seed that too (``mlbook.seed_all``) for a repeatable run.
    """
    _check_pos_int(epochs, "epochs")
    _check_pos_int(batch_size, "batch_size")
    _check_2d(X, "X", model.x_dim)
    gen = generator(seed)
    opt = _adam(model, lr, (0.9, 0.999))
    history: dict[str, list[float]] = {"train": [], "val": []}
    for _ in range(epochs):
        total = 0.0
        for idx in _batches(len(X), batch_size, gen):
            value, _, _ = elbo(model, X[idx.to(X.device)], beta=beta)
            loss = -value.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += -loss.item() * len(idx)
        history["train"].append(total / len(X))
        if X_val is not None:
            with torch.no_grad():
                history["val"].append(elbo(model, X_val)[0].mean().item())
    return history


# ------------------------------------------------------------------------------ GAN
class GAN(nn.Module):
    """Generator G: z ↦ x and discriminator D: x ↦ logit, both MLPs.

    ``output="linear"`` for real-valued data (the 2-D mixture), ``"sigmoid"`` for images in
    [0, 1]. ``generate(n)`` draws z ~ N(0, I) and returns G(z). With ``pack`` = m > 1 the
    discriminator judges m samples at once, concatenated (PacGAN, Lin et al. 2018): a batch
    of B samples gives B/m logits, and a generator that repeats itself is easier to spot.
    """

    def __init__(
        self,
        x_dim: int = 2,
        z_dim: int = 2,
        hidden: int = 128,
        output: str = "linear",
        d_hidden: int | None = None,
        pack: int = 1,
    ) -> None:
        super().__init__()
        for value, name in ((x_dim, "x_dim"), (z_dim, "z_dim"), (hidden, "hidden")):
            _check_pos_int(value, name)
        if output not in ("linear", "sigmoid"):
            raise ValueError(f"output must be 'linear' or 'sigmoid', got {output!r}")
        d_hidden = hidden if d_hidden is None else d_hidden
        _check_pos_int(d_hidden, "d_hidden")
        _check_pos_int(pack, "pack")
        self.x_dim, self.z_dim, self.output, self.pack = x_dim, z_dim, output, pack
        self.G = _mlp([z_dim, hidden, hidden, x_dim])
        self.D = _mlp([pack * x_dim, d_hidden, d_hidden, 1], act=lambda: nn.LeakyReLU(0.2))

    def generate_from(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[-1] != self.z_dim:
            raise ValueError(f"z must have {self.z_dim} features, got shape {tuple(z.shape)}")
        x = self.G(z)
        return torch.sigmoid(x) if self.output == "sigmoid" else x

    def generate(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_pos_int(n, "n")
        dev = next(self.parameters()).device
        z = torch.randn(n, self.z_dim, generator=generator).to(dev)
        return self.generate_from(z)

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """The discriminator's logit l(x), D(x) = sigmoid(l): shape (batch / pack,)."""
        _check_2d(x, "x", self.x_dim)
        if len(x) % self.pack:
            raise ValueError(f"the batch size {len(x)} must be a multiple of pack={self.pack}")
        return self.D(x.reshape(len(x) // self.pack, self.pack * self.x_dim)).squeeze(1)


def discriminator_loss(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    """−V(D, G) (``eq-gan-minimax``) on a batch: −mean log D(x) − mean log(1 − D(G(z)))."""
    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()


def generator_loss(logit_fake: torch.Tensor, loss: str = "non_saturating") -> torch.Tensor:
    """The generator's loss on D's logits of its samples.

    ``"minimax"``: mean log(1 − D(G(z))) (eq. ``eq-gan-minimax``, saturates when D(G(z)) → 0);
    ``"non_saturating"``: −mean log D(G(z)) (eq. ``eq-gan-ns``).
    """
    if loss == "minimax":
        return -F.softplus(logit_fake).mean()
    if loss == "non_saturating":
        return F.softplus(-logit_fake).mean()
    raise ValueError(f"loss must be one of {GAN_LOSSES}, got {loss!r}")


def train_gan(
    gan: GAN,
    X: torch.Tensor,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    lr_d: float | None = None,
    betas: tuple[float, float] = (0.5, 0.999),
    loss: str = "non_saturating",
    d_steps: int = 1,
    g_steps: int = 1,
    seed: int = 0,
    snapshot_every: int = 0,
    n_snapshot: int = 1000,
) -> dict[str, list]:
    """Alternate ``d_steps`` Adam steps on :func:`discriminator_loss` and ``g_steps`` on
    :func:`generator_loss` for ``steps`` rounds, with real batches drawn from the rows of X.

    Returns the losses per round (``"d"``, ``"g"``) and, if ``snapshot_every`` > 0, samples
    of the generator (``"snapshots"``: list of (step, tensor (n_snapshot, x_dim)) on the CPU),
    drawn from one fixed batch of z so snapshots are comparable. Every random draw (real
    batches, z) comes from a generator seeded with ``seed``, so a run depends only on the
    initial weights and ``seed``.
    """
    _check_pos_int(steps, "steps")
    _check_pos_int(batch_size, "batch_size")
    _check_pos_int(d_steps, "d_steps")
    _check_pos_int(g_steps, "g_steps")
    if loss not in GAN_LOSSES:
        raise ValueError(f"loss must be one of {GAN_LOSSES}, got {loss!r}")
    _check_2d(X, "X", gan.x_dim)
    dev = X.device
    gen = generator(seed)
    opt_g = _adam(gan.G, lr, betas)
    opt_d = _adam(gan.D, lr if lr_d is None else lr_d, betas)
    z_fixed = torch.randn(n_snapshot, gan.z_dim, generator=gen).to(dev)
    history: dict[str, list] = {"d": [], "g": [], "snapshots": []}
    for step in range(steps):
        for _ in range(d_steps):
            real = X[torch.randint(0, len(X), (batch_size,), generator=gen).to(dev)]
            z = torch.randn(batch_size, gan.z_dim, generator=gen).to(dev)
            with torch.no_grad():
                fake = gan.generate_from(z)
            # one pass over real and fake together (D has no batch statistics)
            logit_real, logit_fake = gan.discriminate(torch.cat([real, fake])).chunk(2)
            d_loss = discriminator_loss(logit_real, logit_fake)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        for _ in range(g_steps):
            z = torch.randn(batch_size, gan.z_dim, generator=gen).to(dev)
            g_loss = generator_loss(gan.discriminate(gan.generate_from(z)), loss)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
        history["d"].append(d_loss.item())
        history["g"].append(g_loss.item())
        if snapshot_every and (step + 1) % snapshot_every == 0:
            with torch.no_grad():
                history["snapshots"].append((step + 1, gan.generate_from(z_fixed).cpu()))
    return history


def train_gans(
    gans: Sequence[GAN],
    X: torch.Tensor,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.5, 0.999),
    loss: str = "non_saturating",
    g_steps: int = 1,
    seed: int = 0,
    snapshot_every: int = 0,
    n_snapshot: int = 1000,
) -> dict[str, list]:
    """:func:`train_gan` for K GANs of the same shape at once, as one batched model.

    Their weights are stacked along a new first axis (``torch.func.stack_module_state``) and
    every layer runs as a batched matrix product (``vmap``), so K small runs cost much less than
    K separate ones (on a CPU, K = 8 about 4 times one run). Each member keeps its own initial
    weights and draws its own real batches and z; the summed loss gives each member exactly its
    own gradient, and Adam acts elementwise, so member k follows the same equations as
    ``train_gan(gans[k], …)`` (with K = 1 the same random draws too, so the same run up to float
    rounding). One discriminator step per round, with the generator's learning rate. The trained
    weights are written back into ``gans``. Returns ``"d"`` and ``"g"`` (per round, a list of K
    losses) and ``"snapshots"`` (step, tensor (K, n_snapshot, x_dim) on the CPU).
    """
    _check_pos_int(steps, "steps")
    _check_pos_int(batch_size, "batch_size")
    _check_pos_int(g_steps, "g_steps")
    if loss not in GAN_LOSSES:
        raise ValueError(f"loss must be one of {GAN_LOSSES}, got {loss!r}")
    if len({(g.x_dim, g.z_dim, g.output, g.pack) for g in gans}) != 1:
        raise ValueError("gans must be a non-empty sequence of GANs of the same shape")
    _check_2d(X, "X", gans[0].x_dim)
    g0, K, dev = gans[0], len(gans), X.device
    p_g, p_d = (stack_module_state([getattr(g, net) for g in gans])[0] for net in "GD")
    G_raw = vmap(lambda p, z: functional_call(g0.G, p, (z,)))  # (K, B, z_dim) -> (K, B, x_dim)
    D_of = vmap(lambda p, x: functional_call(g0.D, p, (x.reshape(-1, g0.pack * g0.x_dim),)))

    def G_of(p: dict, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(G_raw(p, z)) if g0.output == "sigmoid" else G_raw(p, z)

    d_loss_k = vmap(discriminator_loss)
    g_loss_k = vmap(lambda logit: generator_loss(logit, loss))
    gen = generator(seed)
    opt_g, opt_d = _adam(p_g.values(), lr, betas), _adam(p_d.values(), lr, betas)
    z_fixed = torch.randn(K, n_snapshot, g0.z_dim, generator=gen).to(dev)
    history: dict[str, list] = {"d": [], "g": [], "snapshots": []}
    for step in range(steps):
        real = X[torch.randint(0, len(X), (K, batch_size), generator=gen).to(dev)]
        z = torch.randn(K, batch_size, g0.z_dim, generator=gen).to(dev)
        with torch.no_grad():
            fake = G_of(p_g, z)
        logit_real, logit_fake = D_of(p_d, torch.cat([real, fake], 1)).squeeze(-1).chunk(2, 1)
        d_loss = d_loss_k(logit_real, logit_fake)  # (K,)
        opt_d.zero_grad()
        d_loss.sum().backward()
        opt_d.step()
        for _ in range(g_steps):
            z = torch.randn(K, batch_size, g0.z_dim, generator=gen).to(dev)
            g_loss = g_loss_k(D_of(p_d, G_of(p_g, z)).squeeze(-1))
            opt_g.zero_grad()
            g_loss.sum().backward()
            opt_g.step()
        history["d"].append(d_loss.tolist())
        history["g"].append(g_loss.tolist())
        if snapshot_every and (step + 1) % snapshot_every == 0:
            with torch.no_grad():
                history["snapshots"].append((step + 1, G_of(p_g, z_fixed).cpu()))
    with torch.no_grad():
        for k, g in enumerate(gans):
            for net, stacked in (("G", p_g), ("D", p_d)):
                for name, p in getattr(g, net).named_parameters():
                    p.copy_(stacked[name][k])
    return history


@dataclass(frozen=True)
class ModeCoverage:
    """Result of :func:`mode_coverage`."""

    covered: int  # modes holding at least min_share of a fair share of the samples
    high_quality: float  # fraction of samples within ``radius`` of their nearest centre
    counts: torch.Tensor = field(repr=False)  # (k,) high-quality samples per mode


def mode_coverage(
    samples: torch.Tensor, centers: torch.Tensor, radius: float, min_share: float = 0.2
) -> ModeCoverage:
    """Mode coverage and sample quality of samples from a mixture with the given centres.

    A sample is *high quality* when it lies within ``radius`` of its nearest centre; a mode
    is *covered* when it receives at least ``min_share`` × n/k of the high-quality samples
    (n samples, k centres), i.e. a fixed fraction of what a perfect sampler would give it.
    """
    _check_2d(samples, "samples")
    _check_2d(centers, "centers", samples.shape[1])
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must lie in (0, 1], got {min_share!r}")
    centers = centers.to(samples)
    dist = torch.cdist(samples, centers)  # (n, k)
    nearest_d, nearest = dist.min(dim=1)
    good = nearest_d <= radius
    k = len(centers)
    counts = torch.bincount(nearest[good], minlength=k).cpu()
    threshold = min_share * len(samples) / k
    return ModeCoverage(
        covered=int((counts >= threshold).sum()),
        high_quality=float(good.float().mean()),
        counts=counts,
    )


# ------------------------------------------------------------------------------ VAE-GAN
class VAEGAN(nn.Module):
    """A :class:`VAE` whose decoder is also a GAN generator plus a discriminator (``eq-vaegan``)."""

    def __init__(self, x_dim: int = 64, z_dim: int = 2, hidden: int = 256) -> None:
        super().__init__()
        self.vae = VAE(x_dim, z_dim, hidden)
        self.D = _mlp([x_dim, hidden, hidden, 1], act=lambda: nn.LeakyReLU(0.2))

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        _check_2d(x, "x", self.vae.x_dim)
        return self.D(x).squeeze(1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.vae.sample(n, generator)


def train_vaegan(
    model: VAEGAN,
    X: torch.Tensor,
    epochs: int,
    lambda_kl: float = 1.0,
    lambda_gan: float = 1.0,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Train with eq. ``eq-vaegan``: the encoder and decoder minimise
    −E_q log p(x|z) + λ₁ KL + λ₂ L_GAN, where L_GAN is the non-saturating generator loss on
    decoded prior samples and reconstructions, and the discriminator minimises
    :func:`discriminator_loss` (real x against both kinds of decoded images).

    Returns per-epoch means of ``"recon"`` (−E log p(x|z)), ``"kl"``, ``"gan"`` and ``"d"``.
    ``seed`` fixes the order of the mini-batches; ε and the prior samples come from torch's global
    generator, as in :func:`train_vae`, so seed that too (``mlbook.seed_all``) for a repeatable run.
    """
    _check_pos_int(epochs, "epochs")
    _check_nonneg(lambda_kl, "lambda_kl")
    _check_nonneg(lambda_gan, "lambda_gan")
    _check_2d(X, "X", model.vae.x_dim)
    gen = generator(seed)
    opt_vae = _adam(model.vae, lr, (0.5, 0.999))
    opt_d = _adam(model.D, lr, (0.5, 0.999))
    history: dict[str, list[float]] = {"recon": [], "kl": [], "gan": [], "d": []}
    for _ in range(epochs):
        sums = dict.fromkeys(history, 0.0)
        for idx in _batches(len(X), batch_size, gen):
            x = X[idx.to(X.device)]
            mu, logvar = model.vae.encode(x)
            logits_rec = model.vae.decode(reparameterize(mu, logvar))
            z_p = torch.randn_like(mu)
            x_rec, x_gen = torch.sigmoid(logits_rec), torch.sigmoid(model.vae.decode(z_p))
            # discriminator step on detached fakes
            fake = torch.cat([x_rec, x_gen]).detach()
            d_loss = discriminator_loss(model.discriminate(x), model.discriminate(fake))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            # encoder + decoder step
            recon = -bernoulli_log_likelihood(x, logits_rec).mean()
            kl = gaussian_kl(mu, logvar).mean()
            gan_loss = generator_loss(model.discriminate(torch.cat([x_rec, x_gen])))
            loss = recon + lambda_kl * kl + lambda_gan * gan_loss
            opt_vae.zero_grad()
            loss.backward()
            opt_vae.step()
            for key, value in zip(history, (recon, kl, gan_loss, d_loss), strict=True):
                sums[key] += value.item() * len(idx)
        for key in history:
            history[key].append(sums[key] / len(X))
    return history
