"""Helpers shared by the training loops of :mod:`mlbook.generative`."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def _check_2d(x: torch.Tensor, name: str, dim: int | None = None) -> None:
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (batch, features), got shape {tuple(x.shape)}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} features, got {x.shape[1]}")


def _batches(n: int, batch_size: int, gen: torch.Generator) -> list[torch.Tensor]:
    return list(torch.randperm(n, generator=gen).split(batch_size))


def _adam(
    params: nn.Module | Iterable[torch.Tensor], lr: float, betas: tuple[float, float]
) -> torch.optim.Adam:
    """Adam on ``params`` (a module's parameters or a list of tensors), with the fused kernel
    (one call for all tensors) on the CPU and CUDA: for the small networks of this chapter the
    per-tensor loop is a large part of a training step. Chapter 12 builds the same optimiser by
    hand (``fused=True``) and checks that its GAN step gives train_gan's weights bit for bit."""
    params = list(params.parameters() if isinstance(params, nn.Module) else params)
    fused = params[0].device.type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused)
