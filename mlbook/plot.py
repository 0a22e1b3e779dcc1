"""One figure style for the whole book, with a Japanese font so labels never show tofu."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib
import matplotlib.pyplot as plt
import matplotlib_fontja  # noqa: F401  (registers IPAexGothic and makes it the default family)
import numpy as np
import torch

from mlbook._checks import positive_int

__all__ = ["STYLE", "setup", "subplots", "decision_regions"]

FONT_FAMILY = "IPAexGothic"

STYLE: dict[str, object] = {
    "font.family": FONT_FAMILY,
    "axes.unicode_minus": False,  # IPAexGothic has no U+2212; use the ASCII hyphen-minus
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def setup() -> None:
    """Apply the book's style to matplotlib (idempotent; importing this module calls it)."""
    matplotlib.rcParams.update(STYLE)


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """``plt.subplots`` in the book's style, with a size that grows with the grid."""
    positive_int(nrows, "nrows")
    positive_int(ncols, "ncols")
    setup()
    width, height = STYLE["figure.figsize"]  # type: ignore[misc]
    kwargs.setdefault("figsize", (min(width * ncols, 14.0), height * nrows))
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, **kwargs)


def decision_regions(
    ax: matplotlib.axes.Axes,
    predict: Callable[[torch.Tensor], torch.Tensor],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    resolution: int = 200,
    cmap: str = "RdBu",
    alpha: float = 0.25,
) -> None:
    """Shade the plane by the class ``predict`` gives each point (a 2-D classifier's regions).

    ``predict`` takes an (n, 2) float tensor and returns n labels or scores; the region
    boundary is drawn where the prediction changes.
    """
    if resolution < 2:
        raise ValueError(f"resolution must be >= 2, got {resolution}")
    if xlim[0] >= xlim[1] or ylim[0] >= ylim[1]:
        raise ValueError(f"limits must be increasing pairs, got xlim={xlim}, ylim={ylim}")
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)
    with torch.no_grad():
        z = torch.as_tensor(predict(grid)).float().reshape(gx.shape).cpu().numpy()
    values = np.unique(z)
    if values.size <= 10:  # class labels: one band per class, boundaries half-way between them
        levels = np.concatenate(
            [[values[0] - 0.5], (values[:-1] + values[1:]) / 2, [values[-1] + 0.5]]
        )
    else:  # continuous scores
        levels = 20
    ax.contourf(gx, gy, z, levels=levels, cmap=cmap, alpha=alpha)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


setup()
