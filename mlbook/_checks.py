"""Argument validation shared by every mlbook module, with one wording for each kind of error.

Each function raises ``ValueError`` saying what was wrong and what is allowed, and returns the
value it checked, so it can be used inline: ``n = positive_int(n, "n")``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(value: object, name: str) -> int:
    """``value`` as an int if it is an integer ≥ 1."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def nonneg_int(value: object, name: str) -> int:
    """``value`` as an int if it is an integer ≥ 0."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def positive(value: object, name: str) -> float:
    """``value`` as a float if it is a finite number > 0 (NaN is rejected)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not (0 < float(value) < float("inf"))
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def nonneg(value: object, name: str) -> float:
    """``value`` as a float if it is a finite number ≥ 0 (NaN is rejected)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not (0 <= float(value) < float("inf"))
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def in_range(
    value: object, name: str, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False
) -> float:
    """``value`` as a float if it lies in the interval from ``lo`` to ``hi`` (open ends as asked)."""
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        interval = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return float(value)


def one_of(value: object, name: str, allowed: Iterable[object]) -> object:
    """``value`` if it is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def tensor_ndim(x: object, name: str, ndim: int, shape: str = "") -> torch.Tensor:
    """``x`` if it is a tensor with ``ndim`` dimensions; ``shape`` names them in the message."""
    if not isinstance(x, torch.Tensor) or x.ndim != ndim:
        got = f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        want = f" {shape}" if shape else ""
        raise ValueError(f"{name} must be a {ndim}-D tensor{want}, got {got}")
    return x
