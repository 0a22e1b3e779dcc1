"""Normalizing flows: RealNVP (chapter 13).

Dinh, Sohl-Dickstein & Bengio (2017): a stack of affine coupling layers. Each keeps the masked
coordinates x_a and transforms the others as x_b * exp(s(x_a)) + t(x_a); its Jacobian is
triangular with diagonal (1, …, 1, exp(s)), so log|det J| = sum s. The base density is N(0, I);
by the change of variables (:eq:`eq-flow-change`) log p(x) = log N(f^{-1}(x)) +
log|det d f^{-1}/dx|.

Direction: ``forward(z)`` is the generative map x = f(z); ``inverse(x)`` is z = f^{-1}(x). Both
return the log|det| of their own Jacobian.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from mlbook._checks import positive_int

__all__ = ["AffineCoupling", "RealNVP"]


class AffineCoupling(nn.Module):
    """One affine coupling layer with a fixed binary ``mask`` (1 = passed through unchanged).

    x = mask * z + (1 - mask) * (z * exp(s) + t),  s, t = nets(mask * z), so
    log|det dx/dz| = sum over the unmasked coordinates of s. ``s`` is bounded by a learned
    per-coordinate scale times tanh, which keeps early training stable.
    """

    def __init__(self, mask: torch.Tensor, hidden: int) -> None:
        super().__init__()
        if mask.ndim != 1 or not ((mask == 0) | (mask == 1)).all() or mask.all() or not mask.any():
            raise ValueError("mask must be a 1-D 0/1 vector with at least one 0 and one 1")
        positive_int(hidden, "hidden")
        dim = mask.numel()
        self.register_buffer("mask", mask.float())
        self.net = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2 * dim),
        )
        nn.init.zeros_(self.net[-1].weight)  # start at the identity map
        nn.init.zeros_(self.net[-1].bias)
        self.scale = nn.Parameter(torch.ones(dim))

    def _s_t(self, x_a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw_s, t = self.net(x_a).chunk(2, dim=1)
        free = 1 - self.mask
        return self.scale * torch.tanh(raw_s) * free, t * free

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x = f(z) and log|det dx/dz| (n,)."""
        s, t = self._s_t(z * self.mask)
        return z * torch.exp(s) + t, s.sum(1)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = f^{-1}(x) and log|det dz/dx| (n,) = -sum s."""
        s, t = self._s_t(x * self.mask)  # the masked part of x equals that of z
        return (x - t) * torch.exp(-s), -s.sum(1)


class RealNVP(nn.Module):
    """RealNVP: ``n_layers`` affine couplings with alternating checkerboard masks over ``dim``
    coordinates, each with an MLP of width ``hidden``; base density N(0, I)."""

    def __init__(self, dim: int, n_layers: int, hidden: int = 64) -> None:
        super().__init__()
        if dim < 2:
            raise ValueError(
                f"a coupling layer needs dim >= 2 (one half conditions the other), got {dim}"
            )
        positive_int(n_layers, "n_layers")
        positive_int(hidden, "hidden")
        self.dim = dim
        base = torch.arange(dim) % 2
        self.layers = nn.ModuleList(
            AffineCoupling(base if k % 2 == 0 else 1 - base, hidden) for k in range(n_layers)
        )

    def _check(self, v: torch.Tensor, name: str) -> None:
        if v.ndim != 2 or v.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (n, {self.dim}), got {tuple(v.shape)}")

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The generative map x = f(z) and log|det df/dz| (n,) summed over the layers."""
        self._check(z, "z")
        log_det = z.new_zeros(z.shape[0])
        for layer in self.layers:
            z, ld = layer(z)
            log_det = log_det + ld
        return z, log_det

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z = f^{-1}(x) and log|det df^{-1}/dx| (n,), the layers undone in reverse order."""
        self._check(x, "x")
        log_det = x.new_zeros(x.shape[0])
        for layer in reversed(self.layers):
            x, ld = layer.inverse(x)
            log_det = log_det + ld
        return x, log_det

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density in nats by :eq:`eq-flow-change`: log N(f^{-1}(x); 0, I) +
        log|det df^{-1}/dx|, shape (n,)."""
        z, log_det = self.inverse(x)
        return -0.5 * (z**2).sum(1) - 0.5 * self.dim * math.log(2 * math.pi) + log_det

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n samples x = f(z), z ~ N(0, I): one pass through the layers."""
        positive_int(n, "n")
        p = next(self.parameters())
        z = torch.randn(n, self.dim, device=p.device, dtype=p.dtype, generator=generator)
        return self(z)[0]
