"""The book's small data sets, all offline: scikit-learn's bundled digits and synthetic 2-D sets.

Every function takes a ``generator`` (``None``: the book's fixed draw ``mlbook.generator(0)``, or
``mlbook.rng(0)`` for the NumPy split of :func:`digits`) and returns torch tensors, so a chapter
gets the same data on every machine and the same split on every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from mlbook._checks import nonneg, positive_int
from mlbook.core import generator as generator_for_seed
from mlbook.core import rng as numpy_rng

__all__ = ["Split", "digits", "moons", "gaussian_mixture", "ring_centers", "swiss_roll"]


@dataclass(frozen=True)
class Split:
    """A fixed train/test split. ``X_*`` are float32, ``y_*`` int64 class labels."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    def to(self, device: torch.device | str) -> Split:
        """The same split on ``device``."""
        return Split(
            *(t.to(device) for t in (self.X_train, self.y_train, self.X_test, self.y_test))
        )


def _book_generator(gen: torch.Generator | None) -> torch.Generator:
    """``gen``, or the book's fixed draw ``mlbook.generator(0)`` when it is None."""
    return generator_for_seed(0) if gen is None else gen


def digits(
    test_fraction: float = 0.25, generator: np.random.Generator | None = None, images: bool = False
) -> Split:
    """scikit-learn's 8×8 handwritten digits (1797 images, 10 classes), scaled to [0, 1].

    The split is stratified by class and drawn with the NumPy generator ``generator``
    (``None``: the book's fixed split, ``mlbook.rng(0)``). With ``images=True`` X has shape
    (n, 1, 8, 8) (for convolutions), otherwise (n, 64).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    X = torch.tensor(bunch.data / 16.0, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.int64)
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise ValueError(
            "generator must be a numpy.random.Generator (e.g. mlbook.rng(1)) or None, "
            f"got {type(generator).__name__}"
        )
    rng = numpy_rng(0) if generator is None else generator
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


def moons(
    n: int = 200, noise: float = 0.1, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles: X (n, 2), y (n,) in {0, 1}; ``noise`` is the Gaussian std."""
    positive_int(n, "n")
    nonneg(noise, "noise")
    gen = _book_generator(generator)
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
    positive_int(k, "k")
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    angles = torch.arange(k, dtype=torch.float32) * (2 * math.pi / k)
    return radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def gaussian_mixture(
    n: int = 1000,
    k: int = 8,
    radius: float = 2.0,
    std: float = 0.05,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Samples of an equal-weight mixture of k isotropic Gaussians on a ring (the GAN test bed).

    Returns X (n, 2) and the component of each sample (n,); the centres are
    ``ring_centers(k, radius)``.
    """
    positive_int(n, "n")
    nonneg(std, "std")
    centers = ring_centers(k, radius)
    gen = _book_generator(generator)
    component = torch.randint(0, k, (n,), generator=gen)
    X = centers[component] + std * torch.randn(n, 2, generator=gen)
    return X, component


def swiss_roll(
    n: int = 1000, noise: float = 0.03, generator: torch.Generator | None = None
) -> torch.Tensor:
    """The 2-D swiss roll (a spiral, t in [1.5π, 4.5π]) scaled into [-1, 1]², plus Gaussian
    noise of std ``noise`` (in those scaled units): X (n, 2)."""
    positive_int(n, "n")
    nonneg(noise, "noise")
    gen = _book_generator(generator)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=gen))
    X = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (4.5 * math.pi)
    return X + noise * torch.randn(n, 2, generator=gen)
