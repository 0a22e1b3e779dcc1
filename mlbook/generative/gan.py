"""The GAN (Goodfellow et al.) of chapter 12, with the labels of the equations in
``book/12_vae_gan.ipynb``.

Generator and discriminator play min_G max_D V(D, G), :eq:`eq-gan-minimax`,

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p(z)}[log(1 − D(G(z)))];

the generator may instead minimise the non-saturating loss −E_z[log D(G(z))], :eq:`eq-gan-ns`.
The discriminator returns a logit l, D = sigmoid(l); every loss is written with
``softplus`` (log σ(l) = −softplus(−l), log(1 − σ(l)) = −softplus(l)), which is exact and never
takes the log of 0. :func:`train_gans` trains K GANs at once as one batched model, and
:func:`mode_coverage` measures how many modes of a mixture the samples reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from mlbook._checks import in_range, one_of, positive, positive_int
from mlbook._nets import mlp
from mlbook.core import TrainLog
from mlbook.generative._common import _adam, _check_2d

__all__ = [
    "GAN",
    "GAN_LOSSES",
    "GANLog",
    "discriminator_loss",
    "generator_loss",
    "train_gan",
    "train_gans",
    "ModeCoverage",
    "mode_coverage",
]

GAN_LOSSES = ("non_saturating", "minimax")


@dataclass
class GANLog(TrainLog):
    """The :class:`mlbook.TrainLog` of a GAN run, plus ``snapshots``: (step, generator samples on
    the CPU) at the steps asked for."""

    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)


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
            positive_int(value, name)
        one_of(output, "output", ("linear", "sigmoid"))
        d_hidden = hidden if d_hidden is None else d_hidden
        positive_int(d_hidden, "d_hidden")
        positive_int(pack, "pack")
        self.x_dim, self.z_dim, self.output, self.pack = x_dim, z_dim, output, pack
        self.G = mlp([z_dim, hidden, hidden, x_dim])
        self.D = mlp([pack * x_dim, d_hidden, d_hidden, 1], act=lambda: nn.LeakyReLU(0.2))

    def generate_from(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[-1] != self.z_dim:
            raise ValueError(f"z must have {self.z_dim} features, got shape {tuple(z.shape)}")
        x = self.G(z)
        return torch.sigmoid(x) if self.output == "sigmoid" else x

    def generate(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        positive_int(n, "n")
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
    """−V(D, G) (:eq:`eq-gan-minimax`) on a batch: −mean log D(x) − mean log(1 − D(G(z)))."""
    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()


def generator_loss(logit_fake: torch.Tensor, loss: str = "non_saturating") -> torch.Tensor:
    """The generator's loss on D's logits of its samples.

    ``"minimax"``: mean log(1 − D(G(z))) (:eq:`eq-gan-minimax`, saturates when D(G(z)) → 0);
    ``"non_saturating"``: −mean log D(G(z)) (:eq:`eq-gan-ns`).
    """
    one_of(loss, "loss", GAN_LOSSES)
    if loss == "minimax":
        return -F.softplus(logit_fake).mean()
    return F.softplus(-logit_fake).mean()


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
    generator: torch.Generator | None = None,
    snapshot_every: int = 0,
    n_snapshot: int = 1000,
) -> GANLog:
    """Alternate ``d_steps`` Adam steps on :func:`discriminator_loss` and ``g_steps`` on
    :func:`generator_loss` for ``steps`` rounds, with real batches drawn from the rows of X
    (:eq:`eq-gan-minimax`, :eq:`eq-gan-ns`); ``gan`` is trained in place.

    Returns a :class:`GANLog`: ``losses`` the generator's loss of each round (its last step),
    ``metrics["d_loss"]`` the discriminator's, and, if ``snapshot_every`` > 0, ``snapshots``:
    samples of the generator (step, tensor (n_snapshot, x_dim) on the CPU), drawn from one fixed
    batch of z so snapshots are comparable. Every random draw (real batches, z) comes from
    ``generator`` (``None``: torch's default generator), so with ``mlbook.generator(k)`` a run
    depends only on the initial weights and k.
    """
    positive_int(steps, "steps")
    positive_int(batch_size, "batch_size")
    positive_int(d_steps, "d_steps")
    positive_int(g_steps, "g_steps")
    one_of(loss, "loss", GAN_LOSSES)
    _check_2d(X, "X", gan.x_dim)
    dev = X.device
    gen = generator
    opt_g = _adam(gan.G, lr, betas)
    opt_d = _adam(gan.D, lr if lr_d is None else lr_d, betas)
    z_fixed = torch.randn(n_snapshot, gan.z_dim, generator=gen).to(dev)
    log = GANLog([], {"d_loss": []})
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
        log.losses.append(g_loss.item())
        log.metrics["d_loss"].append(d_loss.item())
        if snapshot_every and (step + 1) % snapshot_every == 0:
            with torch.no_grad():
                log.snapshots.append((step + 1, gan.generate_from(z_fixed).cpu()))
    return log


def train_gans(
    gans: Sequence[GAN],
    X: torch.Tensor,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.5, 0.999),
    loss: str = "non_saturating",
    g_steps: int = 1,
    generator: torch.Generator | None = None,
    snapshot_every: int = 0,
    n_snapshot: int = 1000,
) -> GANLog:
    """:func:`train_gan` for K GANs of the same shape at once, as one batched model.

    Their weights are stacked along a new first axis (``torch.func.stack_module_state``) and
    every layer runs as a batched matrix product (``vmap``), so K small runs cost much less than
    K separate ones (on a CPU, K = 8 about 4 times one run). Each member keeps its own initial
    weights and draws its own real batches and z; the summed loss gives each member exactly its
    own gradient, and Adam acts elementwise, so member k follows the same equations as
    ``train_gan(gans[k], …)`` (with K = 1 the same random draws too, so the same run up to float
    rounding). One discriminator step per round, with the generator's learning rate. The trained
    weights are written back into ``gans``. Returns a :class:`GANLog`: ``losses`` the members'
    mean generator loss of each round, ``metrics["d_loss"]`` their mean discriminator loss,
    ``metrics["g_loss[k]"]`` and ``metrics["d_loss[k]"]`` member k's own, and ``snapshots``
    (step, tensor (K, n_snapshot, x_dim) on the CPU). Random draws come from ``generator``
    (``None``: torch's default generator).
    """
    positive_int(steps, "steps")
    positive_int(batch_size, "batch_size")
    positive_int(g_steps, "g_steps")
    one_of(loss, "loss", GAN_LOSSES)
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
    gen = generator
    opt_g, opt_d = _adam(p_g.values(), lr, betas), _adam(p_d.values(), lr, betas)
    z_fixed = torch.randn(K, n_snapshot, g0.z_dim, generator=gen).to(dev)
    log = GANLog([], {"d_loss": [], **{f"{m}_loss[{k}]": [] for k in range(K) for m in "gd"}})
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
        d_list, g_list = d_loss.tolist(), g_loss.tolist()
        log.losses.append(sum(g_list) / K)
        log.metrics["d_loss"].append(sum(d_list) / K)
        for k in range(K):
            log.metrics[f"g_loss[{k}]"].append(g_list[k])
            log.metrics[f"d_loss[{k}]"].append(d_list[k])
        if snapshot_every and (step + 1) % snapshot_every == 0:
            with torch.no_grad():
                log.snapshots.append((step + 1, G_of(p_g, z_fixed).cpu()))
    with torch.no_grad():
        for k, g in enumerate(gans):
            for net, stacked in (("G", p_g), ("D", p_d)):
                for name, p in getattr(g, net).named_parameters():
                    p.copy_(stacked[name][k])
    return log


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
    positive(radius, "radius")
    in_range(min_share, "min_share", 0, 1, lo_open=True)
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
