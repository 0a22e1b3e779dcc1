"""Small network builders shared by mlbook's modules."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn


def mlp(sizes: Sequence[int], act: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers of widths ``sizes`` (d_0 → d_1 → … → d_L) with ``act()`` between them and
    none after the last: ``nn.Sequential(Linear, act, Linear, act, …, Linear)``."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)
