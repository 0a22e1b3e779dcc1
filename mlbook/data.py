"""The book's data, all offline: scikit-learn's bundled digits and synthetic 2-D sets.

Every function takes a ``seed`` and returns torch tensors, so a chapter gets the same data on
every machine and the same split on every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Split", "digits", "moons", "gaussian_mixture", "ring_centers", "swiss_roll"]


@dataclass(frozen=True)
class Split:
    """A fixed train/test split. ``X_*`` are float32, ``y_*`` int64 class labels."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    def to(self, dev: torch.device | str) -> Split:
        """The same split on device ``dev``."""
        return Split(*(t.to(dev) for t in (self.X_train, self.y_train, self.X_test, self.y_test)))


def _check_n(n: int, name: str = "n") -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")


def _check_nonneg(value: float, name: str) -> None:
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def digits(test_fraction: float = 0.25, seed: int = 0, images: bool = False) -> Split:
    """scikit-learn's 8×8 handwritten digits (1797 images, 10 classes), scaled to [0, 1].

    The split is stratified by class and fixed by ``seed``. With ``images=True`` X has shape
    (n, 1, 8, 8) (for convolutions), otherwise (n, 64).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    X = torch.tensor(bunch.data / 16.0, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.int64)
    rng = np.random.default_rng(seed)
    test_idx = []
    for label in range(10):  # stratified: the same fraction of every class goes to the test set
        idx = np.flatnonzero(bunch.target == label)
        rng.shuffle(idx)
        test_idx.extend(idx[: round(test_fraction * idx.size)])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[test_idx] = True
    train = torch.from_numpy(rng.permutation(np.flatnonzero(~test_mask)))
    test = torch.from_numpy(rng.permutation(np.flatnonzero(test_mask)))
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return Split(X[train], y[train], X[test], y[test])


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles: X (n, 2), y (n,) in {0, 1}; ``noise`` is the Gaussian std."""
    _check_n(n)
    _check_nonneg(noise, "noise")
    gen = torch.Generator().manual_seed(seed)
    n0 = n // 2
    t0 = torch.rand(n0, generator=gen) * math.pi
    t1 = torch.rand(n - n0, generator=gen) * math.pi
    upper = torch.stack([torch.cos(t0), torch.sin(t0)], dim=1)
    lower = torch.stack([1 - torch.cos(t1), 0.5 - torch.sin(t1)], dim=1)
    X = torch.cat([upper, lower]) + noise * torch.randn(n, 2, generator=gen)
    y = torch.cat([torch.zeros(n0, dtype=torch.int64), torch.ones(n - n0, dtype=torch.int64)])
    perm = torch.randperm(n, generator=gen)
    return X[perm], y[perm]


def ring_centers(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The k centres, equally spaced on a circle, of :func:`gaussian_mixture`: shape (k, 2)."""
    _check_n(k, "k")
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    angles = torch.arange(k, dtype=torch.float32) * (2 * math.pi / k)
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def gaussian_mixture(
    n: int = 1000, k: int = 8, radius: float = 2.0, std: float = 0.05, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples of an equal-weight mixture of k isotropic Gaussians on a ring (the GAN test bed).

    Returns X (n, 2) and the component of each sample (n,); the centres are
    ``ring_centers(k, radius)``.
    """
    _check_n(n)
    _check_nonneg(std, "std")
    centers = ring_centers(k, radius)
    gen = torch.Generator().manual_seed(seed)
    component = torch.randint(0, k, (n,), generator=gen)
    X = centers[component] + std * torch.randn(n, 2, generator=gen)
    return X, component


def swiss_roll(n: int = 1000, noise: float = 0.03, seed: int = 0) -> torch.Tensor:
    """The 2-D swiss roll (a spiral, t in [1.5π, 4.5π]) scaled into [-1, 1]², plus Gaussian
    noise of std ``noise`` (in those scaled units): X (n, 2)."""
    _check_n(n)
    _check_nonneg(noise, "noise")
    gen = torch.Generator().manual_seed(seed)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=gen))
    X = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (4.5 * math.pi)
    return X + noise * torch.randn(n, 2, generator=gen)


# --- Synthetic shapes for segmentation (chapter 8) ---


# --- Captions and image–caption pairs (chapter 14) ---
