"""Synthetic shapes for segmentation (chapter 8): images with circles, rectangles and triangles
and their per-pixel class masks."""

from __future__ import annotations

import torch

from mlbook._checks import nonneg, positive_int
from mlbook.data.toy import _book_generator

__all__ = ["SHAPE_CLASSES", "shapes"]

SHAPE_CLASSES = ("background", "circle", "rectangle", "triangle")


def shapes(
    n: int,
    size: int = 16,
    generator: torch.Generator | None = None,
    max_shapes: int = 3,
    noise: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic images of circles, rectangles and triangles with their pixel labels.

    Each image (a square of side ``size``) holds 1 to ``max_shapes`` shapes at random places,
    sizes and brightness (in [0.5, 1]), later shapes painted over earlier ones, plus Gaussian
    pixel noise of std ``noise``. Returns images (n, 1, size, size) float32 and class maps
    (n, size, size) int64 with 0 = background, 1 = circle, 2 = rectangle, 3 = triangle
    (``SHAPE_CLASSES``), the target format of ``torch.nn.functional.cross_entropy``.
    """
    positive_int(n, "n")
    positive_int(max_shapes, "max_shapes")
    nonneg(noise, "noise")
    if positive_int(size, "size") < 8:
        raise ValueError(f"size must be an integer >= 8, got {size!r}")
    gen = _book_generator(generator)

    def uniform(lo: float, hi: float, shape: tuple[int, ...]) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(shape, generator=gen)

    coords = torch.arange(size, dtype=torch.float32) + 0.5  # pixel centres
    yy, xx = coords.view(1, -1, 1), coords.view(1, 1, -1)  # (1, size, 1), (1, 1, size)
    images = torch.zeros(n, size, size)
    masks = torch.zeros(n, size, size, dtype=torch.int64)
    count = torch.randint(1, max_shapes + 1, (n,), generator=gen)
    lo, hi = 0.12 * size, 0.28 * size  # half-extent of a shape
    for k in range(max_shapes):  # the k-th shape of every image at once
        active = (count > k).view(n, 1, 1)
        kind = torch.randint(1, 4, (n, 1, 1), generator=gen)
        r = uniform(lo, hi, (n, 1, 1))
        cy, cx = uniform(hi, size - hi, (n, 1, 1)), uniform(hi, size - hi, (n, 1, 1))
        ry = r * uniform(0.6, 1.0, (n, 1, 1))  # rectangles need not be square
        circle = (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2
        rectangle = ((yy - cy).abs() <= ry) & ((xx - cx).abs() <= r)
        # an upright isosceles triangle: apex at (cy - r, cx), base on y = cy + r
        t = (yy - (cy - r)) / (2 * r)  # 0 at the apex, 1 at the base
        triangle = (t >= 0) & (t <= 1) & ((xx - cx).abs() <= r * t)
        inside = torch.where(kind == 1, circle, torch.where(kind == 2, rectangle, triangle))
        inside = inside & active
        brightness = uniform(0.5, 1.0, (n, 1, 1))
        images = torch.where(inside, brightness, images)
        masks = torch.where(inside, kind, masks)
    images = images + noise * torch.randn(n, size, size, generator=gen)
    return images.unsqueeze(1), masks
