"""Boltzmann machines (chapter 5): exact distribution by enumeration, Gibbs sampling, the
log-likelihood gradient, and a restricted Boltzmann machine trained by contrastive divergence.

Units are 0/1. A Boltzmann machine has symmetric weights W (n, n) with zero diagonal and biases
b (n,): E(x) = -Σ_{i<j} w_ij x_i x_j - Σ_i b_i x_i = -(1/2) xᵀWx - bᵀx, P(x) = exp(-E(x))/Z
(:eq:`eq-bm-energy`; equations are cited by their labels in ``book/05_hopfield.ipynb``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mlbook._checks import positive, positive_int
from mlbook.core import single_thread

__all__ = [
    "all_states",
    "exact_distribution",
    "log_partition",
    "log_likelihood",
    "gradient",
    "gibbs",
    "RBM",
]

MAX_UNITS = 20


def _check(W: torch.Tensor, b: torch.Tensor) -> int:
    if not isinstance(W, torch.Tensor) or W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square (n, n) tensor, got {getattr(W, 'shape', W)}")
    n = W.shape[0]
    if not isinstance(b, torch.Tensor) or b.shape != (n,):
        raise ValueError(f"b must have shape ({n},), got {getattr(b, 'shape', b)}")
    if not torch.allclose(W, W.T):
        raise ValueError("W must be symmetric")
    if bool((W.diagonal() != 0).any()):
        raise ValueError("W must have a zero diagonal")
    return n


def all_states(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """All 2^n binary vectors as rows of a (2^n, n) float tensor (state k = binary digits of k)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_UNITS:
        raise ValueError(f"n must be an integer in [1, {MAX_UNITS}], got {n!r}")
    k = torch.arange(2**n, device=device)
    return ((k[:, None] >> torch.arange(n - 1, -1, -1, device=device)) & 1).float()


def _neg_energy(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((x @ W) * x).sum(1) + x @ b


def exact_distribution(W: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The Boltzmann distribution P(x) = exp(-E(x))/Z (:eq:`eq-bm-energy`) by enumerating all
    2^n states (n ≤ 20).

    Returns (states (2^n, n), probabilities (2^n,)), vectorised over all states.
    """
    n = _check(W, b)
    if n > MAX_UNITS:
        raise ValueError(f"exact enumeration allows at most {MAX_UNITS} units, got {n}")
    x = all_states(n, W.device).to(W.dtype)
    return x, torch.softmax(_neg_energy(W, b, x), 0)


def log_partition(W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """log Z = log Σ_x exp(-E(x)) by enumeration (differentiable; n ≤ 20)."""
    n = _check(W, b)
    if n > MAX_UNITS:
        raise ValueError(f"exact enumeration allows at most {MAX_UNITS} units, got {n}")
    x = all_states(n, W.device).to(W.dtype)
    return torch.logsumexp(_neg_energy(W, b, x), 0)


def log_likelihood(W: torch.Tensor, b: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """Mean log-likelihood (1/M) Σ_m [-E(x^(m))] - log Z of data (M, n) (differentiable)."""
    _check(W, b)
    return _neg_energy(W, b, data.to(W.dtype)).mean() - log_partition(W, b)


def gradient(
    W: torch.Tensor, b: torch.Tensor, data: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """∂L/∂w_ij = <x_i x_j>_data - <x_i x_j>_model, ∂L/∂b_i = <x_i>_data - <x_i>_model
    (:eq:`eq-bm-gradient`; model averages exact, by enumeration). Diagonal of the W-gradient
    set to zero."""
    _check(W, b)
    x, p = exact_distribution(W, b)
    d = data.to(W.dtype)
    gW = d.T @ d / d.shape[0] - (x * p[:, None]).T @ x
    gW.fill_diagonal_(0.0)
    gb = d.mean(0) - p @ x
    return gW, gb


def gibbs(
    W: torch.Tensor,
    b: torch.Tensor,
    n_samples: int,
    sweeps: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Gibbs sampling: ``n_samples`` independent chains from uniform random states, each run
    for ``sweeps`` systematic sweeps of x_i ~ Bernoulli(σ(Σ_j w_ij x_j + b_i))
    (:eq:`eq-bm-conditional`); returns the final states (n_samples, n). Every update is one
    vector operation over all chains."""
    n = _check(W, b)
    positive_int(n_samples, "n_samples")
    positive_int(sweeps, "sweeps")
    gdev = generator.device if generator is not None else torch.device("cpu")
    x = torch.randint(0, 2, (n_samples, n), generator=generator, device=gdev).to(W)
    with torch.no_grad(), single_thread(W.device):
        for _ in range(sweeps):
            for i in range(n):
                p = torch.sigmoid(x @ W[i] + b[i])
                u = torch.rand(n_samples, generator=generator, device=gdev).to(W)
                x[:, i] = (u < p).to(W.dtype)
    return x


class RBM:
    """Restricted Boltzmann machine with binary units (:eq:`eq-rbm`):
    E(v, h) = -vᵀWh - bᵀv - cᵀh, P(h_j=1|v) = σ(c_j + (vW)_j), P(v_i=1|h) = σ(b_i + (Wh)_i).
    """

    def __init__(
        self,
        n_visible: int,
        n_hidden: int,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
        lr: float = 0.05,
    ) -> None:
        positive_int(n_visible, "n_visible")
        positive_int(n_hidden, "n_hidden")
        positive(lr, "lr")
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.generator = generator
        gdev = generator.device if generator is not None else torch.device("cpu")
        self.W = (0.01 * torch.randn(n_visible, n_hidden, generator=generator, device=gdev)).to(
            self.device
        )
        self.b = torch.zeros(n_visible, device=self.device)
        self.c = torch.zeros(n_hidden, device=self.device)
        self.lr = lr

    def _bernoulli(self, p: torch.Tensor) -> torch.Tensor:
        gdev = self.generator.device if self.generator is not None else torch.device("cpu")
        u = torch.rand(p.shape, generator=self.generator, device=gdev).to(p.device)
        return (u < p).float()

    def _check_v(self, v: torch.Tensor) -> torch.Tensor:
        if not isinstance(v, torch.Tensor) or v.ndim != 2 or v.shape[1] != self.W.shape[0]:
            raise ValueError(
                f"v must have shape (B, {self.W.shape[0]}), got {getattr(v, 'shape', v)}"
            )
        return v.to(self.device, torch.float32)

    def p_h(self, v: torch.Tensor) -> torch.Tensor:
        """P(h_j = 1 | v) = σ(c_j + Σ_i v_i w_ij), shape (B, n_hidden)."""
        return torch.sigmoid(self._check_v(v) @ self.W + self.c)

    def p_v(self, h: torch.Tensor) -> torch.Tensor:
        """P(v_i = 1 | h) = σ(b_i + Σ_j w_ij h_j), shape (B, n_visible)."""
        return torch.sigmoid(h @ self.W.T + self.b)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -bᵀv - Σ_j softplus(c_j + (vW)_j) (:eq:`eq-rbm-free`), so that
        P(v) = exp(-F(v))/Z."""
        v = self._check_v(v)
        return -(v @ self.b) - F.softplus(v @ self.W + self.c).sum(1)

    def gibbs_chain(self, v: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """k steps of alternating Gibbs sampling v → h → v; returns (v_k, P(h|v_k))."""
        v = self._check_v(v)
        for _ in range(k):
            h = self._bernoulli(self.p_h(v))
            v = self._bernoulli(self.p_v(h))
        return v, self.p_h(v)

    def cd_step(self, v: torch.Tensor, k: int = 1) -> float:
        """One CD-k update on the batch v (B, n_visible):
        ΔW = lr (<v hᵀ>_data - <v hᵀ>_k), with P(h|v) used for h. Returns the mean squared
        reconstruction error ‖v - P(v|h)‖² / n_visible of the one-step reconstruction."""
        positive_int(k, "k")
        v0 = self._check_v(v)
        with single_thread(self.device):
            ph0 = self.p_h(v0)
            vk, phk = self.gibbs_chain(v0, k)
            B = v0.shape[0]
            self.W += self.lr * (v0.T @ ph0 - vk.T @ phk) / B
            self.b += self.lr * (v0 - vk).mean(0)
            self.c += self.lr * (ph0 - phk).mean(0)
            return float(((v0 - self.reconstruct(v0)) ** 2).mean())

    def reconstruct(self, v: torch.Tensor) -> torch.Tensor:
        """Mean-field reconstruction P(v | h = P(h|v))."""
        return self.p_v(self.p_h(v))

    def sample(self, n: int, steps: int) -> torch.Tensor:
        """n samples from ``steps`` of alternating Gibbs sampling started at uniform noise;
        returns the visible probabilities P(v|h) of the last step (easier to look at)."""
        v = self._bernoulli(torch.full((n, self.W.shape[0]), 0.5, device=self.device))
        v, _ = self.gibbs_chain(v, steps)
        return self.p_v(self._bernoulli(self.p_h(v)))
