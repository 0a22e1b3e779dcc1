"""The variational autoencoder (Kingma and Welling) of chapter 12, with the labels of the
equations in ``book/12_vae_gan.ipynb``.

It maximises the evidence lower bound (ELBO, theorem ``thm-vae-elbo``)

    log p(x) ≥ L(x) = E_{q(z|x)}[log p(x|z)] − KL(q(z|x) ‖ p(z)),

with q(z|x) = N(μ(x), diag σ²(x)), p(z) = N(0, I) and, here, a Bernoulli decoder
p(x|z) = Π_i Bern(x_i; sigmoid(logit_i(z))) for binary images. The KL term has the closed form
:eq:`eq-vae-kl`

    KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²),

and z is drawn as z = μ + σ ⊙ ε, ε ~ N(0, I) (the reparameterisation trick,
:eq:`eq-vae-reparam`), so the Monte Carlo estimate of the ELBO is differentiable in μ and σ.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook._checks import nonneg, positive_int
from mlbook._nets import mlp
from mlbook.core import TrainLog
from mlbook.generative._common import _adam, _batches, _check_2d

__all__ = ["gaussian_kl", "bernoulli_log_likelihood", "reparameterize", "VAE", "elbo", "train_vae"]


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag exp(logvar)) ‖ N(0, I)) per sample, :eq:`eq-vae-kl`: shape (batch,)."""
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
    carry extra leading sample dimensions): the reparameterisation trick, :eq:`eq-vae-reparam`."""
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
            positive_int(value, name)
        self.x_dim, self.z_dim = x_dim, z_dim
        self.encoder = mlp([x_dim, hidden, hidden, 2 * z_dim])
        self.decoder = mlp([z_dim, hidden, hidden, x_dim])

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
        positive_int(n, "n")
        dev = next(self.parameters()).device
        z = torch.randn(n, self.z_dim, generator=generator, device="cpu").to(dev)
        return torch.sigmoid(self.decode(z))


def elbo(
    model: VAE, x: torch.Tensor, beta: float = 1.0, n_samples: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Monte Carlo ELBO (theorem ``thm-vae-elbo``) per example, with the KL term weighted by ``beta``.

    Returns (elbo, reconstruction, kl), each of shape (batch,) in nats, where
    reconstruction = (1/S) Σ_s log p(x | z_s), z_s = μ + σ ⊙ ε_s (S = ``n_samples``), kl by
    :eq:`eq-vae-kl` and elbo = reconstruction − beta · kl. ``beta = 1`` is the true bound on
    log p(x); other values give the β-VAE objective.
    """
    nonneg(beta, "beta")
    positive_int(n_samples, "n_samples")
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
    generator: torch.Generator | None = None,
) -> TrainLog:
    """Adam on −ELBO (β-weighted, :eq:`eq-vae-kl` for the KL term) over mini-batches of X;
    ``model`` is trained in place.

    Returns a :class:`mlbook.TrainLog`: ``losses`` the −ELBO of every step's mini-batch;
    ``metrics["train"]`` the per-epoch mean training objective (the β-ELBO) and, if ``X_val``
    is given, ``metrics["val"]`` the held-out ELBO (β = 1, one sample), both in nats per example.

    ``generator`` orders the mini-batches (``None``: torch's default generator); the noise ε of
    the reparameterisation comes from torch's default generator, so seed that too
    (``mlbook.seed_all``) for a repeatable run.
    """
    positive_int(epochs, "epochs")
    positive_int(batch_size, "batch_size")
    _check_2d(X, "X", model.x_dim)
    opt = _adam(model, lr, (0.9, 0.999))
    log = TrainLog([], {"train": [], "val": []})
    for _ in range(epochs):
        total = 0.0
        for idx in _batches(len(X), batch_size, generator):
            value, _, _ = elbo(model, X[idx.to(X.device)], beta=beta)
            loss = -value.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.losses.append(loss.item())
            total += -log.losses[-1] * len(idx)
        log.metrics["train"].append(total / len(X))
        if X_val is not None:
            with torch.no_grad():
                log.metrics["val"].append(elbo(model, X_val)[0].mean().item())
    return log
