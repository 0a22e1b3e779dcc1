"""Pieces of later language models (chapter 10): RMSNorm, SwiGLU and a Bradley–Terry reward model.

LLaMA (Touvron et al. 2023) replaces GPT-2's LayerNorm by RMSNorm (Zhang & Sennrich 2019) and
the GELU MLP by SwiGLU (Shazeer 2020); RLHF (Ouyang et al. 2022) fits a reward model to human
preferences with the Bradley–Terry likelihood (Bradley & Terry 1952).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook._checks import positive, positive_int
from mlbook.core import TrainLog

__all__ = ["RMSNorm", "SwiGLU", "swiglu_hidden", "bradley_terry_loss", "fit_reward_model"]


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x²) + eps) · g: LayerNorm without the mean and without a bias."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        if dim < 1 or eps < 0:
            raise ValueError(f"dim must be >= 1 and eps >= 0, got dim={dim}, eps={eps}")
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (…, dim)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def swiglu_hidden(d: int, multiple_of: int = 1) -> int:
    """The hidden width 8d/3 (rounded up to ``multiple_of``) that gives SwiGLU's three d×h
    matrices the 8d² parameters of a 4d MLP's two."""
    positive_int(d, "d")
    positive_int(multiple_of, "multiple_of")
    h = -(-8 * d // 3)
    return multiple_of * -(-h // multiple_of)


class SwiGLU(nn.Module):
    """FFN(x) = W_2 (SiLU(W_1 x) ⊙ W_3 x), without biases as in LLaMA."""

    def __init__(self, d: int, hidden: int | None = None) -> None:
        super().__init__()
        hidden = swiglu_hidden(d) if hidden is None else hidden
        self.w1 = nn.Linear(d, hidden, bias=False)
        self.w3 = nn.Linear(d, hidden, bias=False)
        self.w2 = nn.Linear(hidden, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (…, d)
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """-mean log σ(r_chosen - r_rejected): the negative log-likelihood of the preferences."""
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def fit_reward_model(
    w: torch.Tensor,
    features: torch.Tensor,
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    steps: int = 300,
    lr: float = 0.1,
    weight_decay: float = 1e-3,
) -> TrainLog:
    """Fit the linear reward r(x) = w·x to the comparisons "chosen[i] ≻ rejected[i]" (indices
    into ``features`` (n, p)) by Adam on :func:`bradley_terry_loss`. ``w`` (p,), a tensor with
    ``requires_grad`` (e.g. zeros: the reward model's parameters), is trained in place; returns a
    :class:`mlbook.TrainLog` with the loss of every step."""
    if features.dim() != 2 or chosen.shape != rejected.shape or chosen.dim() != 1:
        raise ValueError("features must be (n, p); chosen and rejected 1-D index tensors alike")
    if not (isinstance(w, torch.Tensor) and w.shape == features.shape[1:] and w.requires_grad):
        raise ValueError(
            f"w must be a tensor of shape ({features.shape[1]},) with requires_grad=True, "
            f"got {tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__}"
        )
    positive_int(steps, "steps")
    positive(lr, "lr")
    opt = torch.optim.Adam([w], lr=lr, weight_decay=weight_decay)
    log = TrainLog([])
    for _ in range(steps):
        r = features @ w
        loss = bradley_terry_loss(r[chosen], r[rejected])
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.losses.append(loss.item())
    return log
