"""DDPM diffusion and classifier-free guidance (chapter 13).

Ho et al. (2020): a fixed forward (noising) Markov chain with variances ``betas`` and a learned
reverse chain parametrised by a noise predictor eps_theta(x_t, t[, c]), trained with L_simple.
Equations are cited by their labels in ``book/13_diffusion_flow.ipynb``; the measures of a
trained model (its ELBO, the energy distance, the Fokker–Planck reference) are in
:mod:`mlbook.generative.diffusion_eval`.
Ho & Salimans (2022): classifier-free guidance mixes a conditional and an unconditional noise
prediction of one network trained with conditioning dropout.

Time convention (binding for the whole book): ``t`` is a **0-based** index into the schedule.
Index ``t`` is the state after ``t + 1`` noising steps, i.e. the paper's x_{t+1}; so the noised
sample at index t uses ``alpha_bars[t] = prod_{s<=t} (1 - betas[s])`` and index 0 is one step
away from the data.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from mlbook._checks import in_range, nonneg, positive, positive_int
from mlbook.core import TrainLog

__all__ = [
    "DDPMSchedule",
    "ddpm_schedule",
    "q_sample",
    "q_step",
    "EpsilonMLP",
    "ddpm_loss",
    "train_ddpm",
    "cfg_eps",
    "ddpm_sample",
]


class DDPMSchedule(NamedTuple):
    """The noise schedule: ``betas``, ``alphas = 1 - betas``, ``alpha_bars = cumprod(alphas)``,
    each of shape (T,). Unpacks as ``betas, alphas, alpha_bars = schedule``."""

    betas: torch.Tensor
    alphas: torch.Tensor
    alpha_bars: torch.Tensor

    @property
    def T(self) -> int:
        """The number of noising steps."""
        return self.betas.shape[0]

    def to(self, device: torch.device | str) -> DDPMSchedule:
        """The same schedule on ``device``."""
        return DDPMSchedule(*(v.to(device) for v in self))


def ddpm_schedule(
    T: int,
    beta_start: float = 1e-4,
    beta_end: float = 0.02,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> DDPMSchedule:
    """The linear schedule of Ho et al. (2020): beta_t from ``beta_start`` to ``beta_end``.

    Returns ``(betas, alphas, alpha_bars)`` with alpha_t = 1 - beta_t and
    alpha_bar_t = prod_{s<=t} alpha_s (the closed form q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0,
    (1 - alpha_bar_t) I)), computed in float64 and cast to ``dtype``.
    """
    positive_int(T, "T")
    if not 0.0 < beta_start <= beta_end < 1.0:
        raise ValueError(
            "need 0 < beta_start <= beta_end < 1 (each beta is a variance fraction), "
            f"got beta_start={beta_start}, beta_end={beta_end}"
        )
    betas = torch.linspace(beta_start, beta_end, int(T), dtype=torch.float64)
    alphas = 1.0 - betas
    alpha_bars = torch.cumprod(alphas, dim=0)
    return DDPMSchedule(*(v.to(device=device, dtype=dtype) for v in (betas, alphas, alpha_bars)))


def _index(t: int | torch.Tensor, n: int, T: int, dev: torch.device) -> torch.Tensor:
    """``t`` as a long tensor of shape (n,), checked to lie in [0, T)."""
    t = torch.as_tensor(t, device=dev)
    if t.is_floating_point() or t.is_complex():
        raise ValueError(f"t must hold integer step indices, got dtype {t.dtype}")
    if t.ndim == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(f"t must be a scalar or have shape ({n},), got {tuple(t.shape)}")
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= T):
        raise ValueError(f"t must lie in [0, {T - 1}] (0-based step index), got {t.tolist()}")
    return t.long()


def _per_sample(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(n,) → (n, 1, …, 1) so that it broadcasts against x (n, …)."""
    return v.reshape(-1, *([1] * (x.ndim - 1))).to(x.dtype)


def q_sample(
    x0: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor, schedule: DDPMSchedule
) -> torch.Tensor:
    """Closed-form forward process :eq:`eq-diffusion-forward`:
    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps.

    ``x0`` (n, …) data, ``t`` a 0-based index (scalar or (n,)), ``noise`` eps ~ N(0, I) of the
    shape of x0. Index t = 0 is one noising step; it uses ``alpha_bars[t]``.
    """
    if noise.shape != x0.shape:
        raise ValueError(
            f"noise must have the shape of x0 {tuple(x0.shape)}, got {tuple(noise.shape)}"
        )
    if x0.ndim < 1:
        raise ValueError("x0 must have a leading batch dimension")
    t = _index(t, x0.shape[0], schedule.T, x0.device)
    ab = _per_sample(schedule.alpha_bars.to(x0.device)[t], x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def q_step(
    x_prev: torch.Tensor, t: int | torch.Tensor, noise: torch.Tensor, schedule: DDPMSchedule
) -> torch.Tensor:
    """One forward step q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I).

    ``x_prev`` is the state before step ``t`` (the data itself for t = 0, 0-based).
    """
    if noise.shape != x_prev.shape:
        raise ValueError(
            f"noise must have the shape of x_prev {tuple(x_prev.shape)}, got {tuple(noise.shape)}"
        )
    t = _index(t, x_prev.shape[0], schedule.T, x_prev.device)
    beta = _per_sample(schedule.betas.to(x_prev.device)[t], x_prev)
    return (1 - beta).sqrt() * x_prev + beta.sqrt() * noise


def _time_embedding(t: torch.Tensor, dim: int, T: int) -> torch.Tensor:
    """Sinusoidal embedding of the step index (as in the Transformer's positions): (n, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device) / max(half - 1, 1))
    angle = (t.float()[:, None] * (1000.0 / T)) * freqs[None, :]
    return torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)


class EpsilonMLP(nn.Module):
    """A small noise predictor eps_theta(x, t[, c]) for vectors: an MLP on [x, emb(t), emb(c)]
    (with ``x_features`` > 0 also sin/cos Fourier features of each coordinate of x).

    ``n_classes > 0`` makes it class-conditional; label ``n_classes`` (or ``y=None``) is the
    "no condition" token that conditioning dropout trains, so one network gives both
    eps_theta(x, t, c) and eps_theta(x, t) for classifier-free guidance.
    """

    def __init__(
        self,
        dim: int,
        T: int,
        hidden: int = 128,
        n_layers: int = 3,
        n_classes: int = 0,
        emb_dim: int = 32,
        x_features: int = 0,
    ) -> None:
        super().__init__()
        if dim < 1 or T < 1 or hidden < 1 or n_layers < 1 or n_classes < 0 or emb_dim < 2:
            raise ValueError(
                "need dim, T, hidden, n_layers >= 1, n_classes >= 0 and emb_dim >= 2, got "
                f"dim={dim}, T={T}, hidden={hidden}, n_layers={n_layers}, "
                f"n_classes={n_classes}, emb_dim={emb_dim}"
            )
        if x_features < 0 or x_features % 2:
            raise ValueError(f"x_features must be an even number >= 0, got {x_features}")
        self.dim, self.T, self.n_classes, self.emb_dim = dim, T, n_classes, emb_dim
        self.class_emb = nn.Embedding(n_classes + 1, emb_dim) if n_classes else None
        # Fourier features of x (geometric frequencies 1 … 32 per coordinate): they let a small
        # MLP represent the sharp noise prediction near thin low-dimensional data
        freqs = 2.0 ** torch.linspace(0, 5, x_features // 2) if x_features else torch.zeros(0)
        self.register_buffer("x_freqs", freqs)
        width = dim * (1 + x_features) + emb_dim + (emb_dim if n_classes else 0)
        layers: list[nn.Module] = []
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*layers)

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x (n, dim), t (n,) 0-based indices, y (n,) labels in [0, n_classes] or None → (n, dim)."""
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), got {tuple(x.shape)}")
        t = _index(t, x.shape[0], self.T, x.device)
        parts = [x, _time_embedding(t, self.emb_dim, self.T)]
        if self.x_freqs.numel():
            angle = (x[:, :, None] * self.x_freqs).flatten(1)  # (n, dim * x_features / 2)
            parts += [torch.sin(angle), torch.cos(angle)]
        if self.class_emb is not None:
            if y is None:
                y = torch.full((x.shape[0],), self.n_classes, device=x.device)
            if y.shape != (x.shape[0],) or int(y.min()) < 0 or int(y.max()) > self.n_classes:
                raise ValueError(
                    f"y must have shape ({x.shape[0]},) with labels in [0, {self.n_classes}] "
                    f"({self.n_classes} = no condition)"
                )
            parts.append(self.class_emb(y.long()))
        elif y is not None:
            raise ValueError("this network is unconditional (n_classes=0): pass y=None")
        return self.net(torch.cat(parts, dim=1))


def ddpm_loss(
    model: nn.Module,
    x0: torch.Tensor,
    schedule: DDPMSchedule,
    y: torch.Tensor | None = None,
    p_uncond: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """L_simple = E_{x0, eps, t} || eps - eps_theta(sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, t) ||^2
    (:eq:`eq-diffusion-lsimple`), t uniform on the T indices, averaged over the batch and the
    dimensions. With labels ``y``, each label is replaced by the no-condition token with
    probability ``p_uncond`` (conditioning dropout, Ho & Salimans 2022)."""
    in_range(p_uncond, "p_uncond", 0.0, 1.0)
    n, dev = x0.shape[0], x0.device
    t = torch.randint(0, schedule.T, (n,), device=dev, generator=generator)
    eps = torch.randn(x0.shape, device=dev, generator=generator)
    x_t = q_sample(x0, t, eps, schedule)
    if y is not None and p_uncond > 0:
        drop = torch.rand(n, device=dev, generator=generator) < p_uncond
        y = torch.where(drop, torch.full_like(y, model.n_classes), y)
    return ((eps - model(x_t, t, y)) ** 2).mean()


def train_ddpm(
    model: nn.Module,
    X: torch.Tensor,
    schedule: DDPMSchedule,
    steps: int,
    batch_size: int = 256,
    lr: float = 2e-3,
    y: torch.Tensor | None = None,
    p_uncond: float = 0.0,
    generator: torch.Generator | None = None,
) -> TrainLog:
    """Adam on L_simple (:eq:`eq-diffusion-lsimple`) over random mini-batches of ``X`` (with
    labels ``y``), the learning rate decayed by a cosine to zero; ``model`` is trained in place.

    Every draw (batches, t, ε, dropped labels) comes from ``generator``, which must live on
    ``X``'s device (``mlbook.generator(k, X.device)``; ``None``: torch's default generator).
    Returns a :class:`mlbook.TrainLog` whose ``losses`` are the loss of every step.
    """
    positive_int(steps, "steps")
    positive_int(batch_size, "batch_size")
    positive(lr, "lr")
    if y is not None and y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
    gen = generator
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, X.shape[0], (batch_size,), device=X.device, generator=gen)
        loss = ddpm_loss(model, X[idx], schedule, None if y is None else y[idx], p_uncond, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    model.eval()
    return TrainLog(losses)


def cfg_eps(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, w: float) -> torch.Tensor:
    """Classifier-free guidance :eq:`eq-diffusion-cfg`:
    eps~ = (1 + w) eps_theta(x, t, c) - w eps_theta(x, t).

    w = 0 is the plain conditional model; w > 0 extrapolates away from the unconditional one.
    """
    if eps_cond.shape != eps_uncond.shape:
        raise ValueError(
            f"eps_cond {tuple(eps_cond.shape)} and eps_uncond {tuple(eps_uncond.shape)} "
            "must have the same shape"
        )
    nonneg(w, "the guidance weight w")
    return (1 + w) * eps_cond - w * eps_uncond


def _posterior_variance(schedule: DDPMSchedule) -> torch.Tensor:
    """beta~_t = (1 - ab_{t-1}) / (1 - ab_t) beta_t, the variance of q(x_{t-1} | x_t, x_0)
    (:eq:`eq-diffusion-posterior`);
    at index 0 (the last reverse step) it is 0."""
    betas, _, ab = schedule
    ab_prev = torch.cat([ab.new_ones(1), ab[:-1]])
    return (1 - ab_prev) / (1 - ab) * betas


@torch.no_grad()
def ddpm_sample(
    model: nn.Module,
    n: int,
    schedule: DDPMSchedule,
    y: torch.Tensor | None = None,
    w: float = 0.0,
    generator: torch.Generator | None = None,
    return_trajectory: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Ancestral sampling (Ho et al. 2020, Algorithm 2): x_T ~ N(0, I), then for t = T-1 … 0
    (0-based) x_{t-1} = (x_t - beta_t / sqrt(1 - ab_t) eps) / sqrt(alpha_t) + sigma_t z with
    sigma_t^2 = beta~_t (:eq:`eq-diffusion-posterior`; no noise at the last step). With labels ``y`` the noise prediction is
    the guided ``cfg_eps(eps(x, t, y), eps(x, t), w)``.

    Returns x (n, dim); with ``return_trajectory`` also the states (T + 1, n, dim), from pure
    noise (row 0) to the sample (row T).
    """
    positive_int(n, "n")
    dev = next(model.parameters()).device
    schedule = schedule.to(dev)
    betas, alphas, ab = schedule
    sigma = _posterior_variance(schedule).sqrt()
    if y is not None:
        y = torch.as_tensor(y, device=dev).long()
        if y.ndim > 1 or (y.ndim == 1 and y.shape[0] not in (1, n)):
            raise ValueError(f"y must be one label or have shape ({n},), got {tuple(y.shape)}")
        y = y.expand(n)
    x = torch.randn(n, model.dim, device=dev, generator=generator)
    path = [x] if return_trajectory else None
    for i in reversed(range(schedule.T)):
        t = torch.full((n,), i, device=dev, dtype=torch.long)
        if y is None:
            eps = model(x, t)
        else:  # one batch holds the conditional and the unconditional half
            both = model(
                torch.cat([x, x]),
                torch.cat([t, t]),
                torch.cat([y, torch.full_like(y, model.n_classes)]),
            )
            eps = cfg_eps(both[:n], both[n:], w)
        x = (x - betas[i] / (1 - ab[i]).sqrt() * eps) / alphas[i].sqrt()
        if i > 0:
            x = x + sigma[i] * torch.randn(x.shape, device=dev, generator=generator)
        if path is not None:
            path.append(x)
    return (x, torch.stack(path)) if path is not None else x
