"""Batch normalisation, layer normalisation and dropout written from their formulas.

No call to the ``torch.nn`` layer each one imitates; the tests compare each with it
(``nn.BatchNorm1d``, ``nn.LayerNorm``, ``nn.Dropout``). Parameter and buffer names are
``torch.nn``'s, so a ``state_dict`` loads in either direction.
"""

from __future__ import annotations

import torch
from torch import nn

from mlbook._checks import in_range, positive, positive_int

__all__ = ["BatchNorm1d", "Dropout", "LayerNorm"]


class BatchNorm1d(nn.Module):
    """Batch normalisation (Ioffe & Szegedy 2015) of inputs ``(N, C)`` or ``(N, C, L)``.

    Training: normalise each feature by the batch mean and the **biased** batch variance,
    ``y = γ (x − μ_B)/√(σ²_B + ε) + β`` (:eq:`eq-training-bn`); update the running statistics
    with the **unbiased** variance, ``r ← (1 − momentum) r + momentum · stat``
    (:eq:`eq-training-bn-running`). Evaluation: use the running statistics instead.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.num_features = positive_int(num_features, "num_features")
        self.eps = positive(eps, "eps")
        self.momentum = in_range(momentum, "momentum", 0.0, 1.0)
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"x must have shape (N, {self.num_features}) or (N, {self.num_features}, L), "
                f"got {tuple(x.shape)}"
            )
        dims = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
        if self.training:
            n = x.numel() // self.num_features
            if n < 2:
                raise ValueError("training mode needs more than one value per feature")
            mean = x.mean(dim=dims)
            var = ((x - mean.view(shape)) ** 2).mean(dim=dims)  # biased: divide by n
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))  # unbiased
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return self.weight.view(shape) * x_hat + self.bias.view(shape)


class LayerNorm(nn.Module):
    """Layer normalisation (Ba et al. 2016) over the last ``len(normalized_shape)`` dimensions.

    Each sample is normalised by its own mean and biased variance over those dimensions,
    ``y = γ ⊙ (x − μ)/√(σ² + ε) + β`` (:eq:`eq-training-ln`), so it does not depend on the
    other samples of the batch and is the same in training and evaluation.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        if not isinstance(shape, (tuple, list, torch.Size)) or len(shape) == 0:
            raise ValueError(
                f"normalized_shape must be a positive integer or a non-empty tuple of them, "
                f"got {normalized_shape!r}"
            )
        self.normalized_shape = tuple(positive_int(s, "normalized_shape") for s in shape)
        self.eps = positive(eps, "eps")
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(
                f"x must end in the dimensions {self.normalized_shape}, got shape {tuple(x.shape)}"
            )
        dims = tuple(range(-k, 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias


class Dropout(nn.Module):
    """Inverted dropout (Srivastava et al. 2014): in training each value is kept with
    probability ``1 − p`` and divided by ``1 − p`` (:eq:`eq-training-dropout`); in evaluation the
    input passes unchanged. ``generator`` (optional) draws the masks; without one, torch's global
    generator draws them exactly as ``nn.Dropout`` does.
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = in_range(p, "p", 0.0, 1.0, hi_open=True)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"
