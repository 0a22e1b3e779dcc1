"""VAE-GAN (Larsen et al.) of chapter 12: the VAE's decoder is trained also as a GAN generator,
L = L_recon + λ₁ KL + λ₂ L_GAN, :eq:`eq-vaegan`."""

from __future__ import annotations

import torch
from torch import nn

from mlbook._checks import nonneg, positive_int
from mlbook._nets import mlp
from mlbook.core import TrainLog
from mlbook.generative._common import _adam, _batches, _check_2d
from mlbook.generative.gan import discriminator_loss, generator_loss
from mlbook.generative.vae import VAE, bernoulli_log_likelihood, gaussian_kl, reparameterize

__all__ = ["VAEGAN", "train_vaegan"]


class VAEGAN(nn.Module):
    """A :class:`VAE` whose decoder is also a GAN generator plus a discriminator
    (:eq:`eq-vaegan`)."""

    def __init__(self, x_dim: int = 64, z_dim: int = 2, hidden: int = 256) -> None:
        super().__init__()
        self.vae = VAE(x_dim, z_dim, hidden)
        self.D = mlp([x_dim, hidden, hidden, 1], act=lambda: nn.LeakyReLU(0.2))

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
    generator: torch.Generator | None = None,
) -> TrainLog:
    """Train ``model`` in place with :eq:`eq-vaegan`: the encoder and decoder minimise
    −E_q log p(x|z) + λ₁ KL + λ₂ L_GAN, where L_GAN is the non-saturating generator loss on
    decoded prior samples and reconstructions, and the discriminator minimises
    :func:`discriminator_loss` (real x against both kinds of decoded images).

    Returns a :class:`mlbook.TrainLog`: ``losses`` the encoder-decoder loss of every step and
    per-epoch means of ``metrics["recon"]`` (−E log p(x|z)), ``"kl"``, ``"gan"`` and ``"d"``.
    ``generator`` orders the mini-batches (``None``: torch's default generator); ε and the prior
    samples come from torch's default generator, as in :func:`train_vae`, so seed that too
    (``mlbook.seed_all``) for a repeatable run.
    """
    positive_int(epochs, "epochs")
    nonneg(lambda_kl, "lambda_kl")
    nonneg(lambda_gan, "lambda_gan")
    _check_2d(X, "X", model.vae.x_dim)
    gen = generator
    opt_vae = _adam(model.vae, lr, (0.5, 0.999))
    opt_d = _adam(model.D, lr, (0.5, 0.999))
    history: dict[str, list[float]] = {"recon": [], "kl": [], "gan": [], "d": []}
    log = TrainLog([], history)
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
            log.losses.append(loss.item())
            for key, value in zip(history, (recon, kl, gan_loss, d_loss), strict=True):
                sums[key] += value.item() * len(idx)
        for key in history:
            history[key].append(sums[key] / len(X))
    return log
