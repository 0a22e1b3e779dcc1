"""Synthetic sequence tasks (chapter 6)."""

from __future__ import annotations

import torch

from mlbook._checks import positive_int

__all__ = ["adding_problem"]


def adding_problem(
    n: int, T: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem of Hochreiter & Schmidhuber (1997), time-major as ``mlbook.rnn`` reads it.

    Returns ``x`` of shape (T, n, 2) and ``y`` of shape (n,), :eq:`eq-rnn-adding`. Channel 0 holds
    values drawn uniformly from [0, 1); channel 1 marks two steps with 1 (one uniformly in the first
    T // 2 steps, one in the rest) and is 0 elsewhere; the target is the sum of the two marked
    values. Always answering the mean 1 gives a mean squared error of 1/6.
    """
    n = positive_int(n, "n")
    if positive_int(T, "T") < 2:
        raise ValueError(f"T must be an integer >= 2 (one mark in each half), got {T!r}")
    values = torch.rand(T, n, generator=generator)
    half = T // 2
    first = torch.randint(half, (n,), generator=generator)
    second = half + torch.randint(T - half, (n,), generator=generator)
    cols = torch.arange(n)
    marks = torch.zeros(T, n)
    marks[first, cols] = 1.0
    marks[second, cols] = 1.0
    y = values[first, cols] + values[second, cols]
    return torch.stack([values, marks], dim=-1), y
