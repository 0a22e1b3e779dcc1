"""The book's data, all offline: scikit-learn's bundled digits and synthetic 2-D sets.

Every function takes a ``generator`` (``None``: the book's fixed draw ``mlbook.generator(0)``, or
``mlbook.rng(0)`` for the NumPy split of :func:`digits`) and returns torch tensors, so a chapter
gets the same data on every machine and the same split on every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

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


def _check_n(n: int, name: str = "n") -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")


def _check_nonneg(value: float, name: str) -> None:
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0, got {value!r}")


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
    _check_n(n)
    _check_nonneg(noise, "noise")
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
    _check_n(k, "k")
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
    _check_n(n)
    _check_nonneg(std, "std")
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
    _check_n(n)
    _check_nonneg(noise, "noise")
    gen = _book_generator(generator)
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=gen))
    X = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (4.5 * math.pi)
    return X + noise * torch.randn(n, 2, generator=gen)


# --- Synthetic shapes for segmentation (chapter 8) ---

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
    _check_n(n)
    _check_n(max_shapes, "max_shapes")
    _check_nonneg(noise, "noise")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
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


__all__ += ["SHAPE_CLASSES", "shapes"]


# --- Captions and image–caption pairs (chapter 14) ---

#: The ways a digit is written in a caption: Arabic numeral, kanji numeral, hiragana reading.
DIGIT_WORDS: dict[int, tuple[str, str, str]] = {
    0: ("0", "〇", "ぜろ"),
    1: ("1", "一", "いち"),
    2: ("2", "二", "に"),
    3: ("3", "三", "さん"),
    4: ("4", "四", "よん"),
    5: ("5", "五", "ご"),
    6: ("6", "六", "ろく"),
    7: ("7", "七", "なな"),
    8: ("8", "八", "はち"),
    9: ("9", "九", "きゅう"),
}

#: Caption templates used to train the mini-CLIP; ``{}`` is replaced by a word of DIGIT_WORDS.
TRAIN_TEMPLATES: tuple[str, ...] = (
    "手書きの {}",
    "数字の{}の画像",
    "{} と書かれた画像",
    "{} の写真",
    "これは {} です",
    "{} を手で書いたもの",
    "白黒の {}",
    "小さな {} の絵",
)

#: Templates held out from training: the zero-shot prompts and the test captions use only these.
ZERO_SHOT_TEMPLATES: tuple[str, ...] = (
    "{} という数字",
    "かすれた {}",
    "{} の手書き文字",
    "{} が写っている",
    "ある {} の例",
)


@dataclass(frozen=True)
class CaptionPairs:
    """The digits split with one Japanese caption per image (``captions_*[i]`` describes
    ``X_*[i]``). Training captions use TRAIN_TEMPLATES, test captions ZERO_SHOT_TEMPLATES."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    captions_train: list[str]
    X_test: torch.Tensor
    y_test: torch.Tensor
    captions_test: list[str]


def caption(label: int, template: str, form: int = 0) -> str:
    """The caption of digit ``label`` from ``template`` with word form ``form``
    (0: Arabic numeral, 1: kanji, 2: hiragana reading): ``caption(7, "手書きの {}", 1)`` is
    「手書きの 七」."""
    if label not in DIGIT_WORDS:
        raise ValueError(f"label must be a digit 0..9, got {label!r}")
    if form not in (0, 1, 2):
        raise ValueError(f"form must be 0 (Arabic), 1 (kanji) or 2 (reading), got {form!r}")
    if template.count("{}") != 1:
        raise ValueError(f"template must contain exactly one '{{}}', got {template!r}")
    return template.format(DIGIT_WORDS[int(label)][form])


def captions_for(
    labels: torch.Tensor, templates: tuple[str, ...], generator: torch.Generator | None = None
) -> list[str]:
    """One caption per label: a template and a word form drawn uniformly at random with
    ``generator`` (``None``: ``mlbook.generator(0)``)."""
    if len(templates) == 0:
        raise ValueError("templates must not be empty")
    gen = _book_generator(generator)
    n = len(labels)
    which = torch.randint(0, len(templates), (n,), generator=gen).tolist()
    forms = torch.randint(0, 3, (n,), generator=gen).tolist()
    return [
        caption(int(y), templates[t], f)
        for y, t, f in zip(labels.tolist(), which, forms, strict=True)
    ]


def caption_pairs(
    test_fraction: float = 0.25, generator: torch.Generator | None = None
) -> CaptionPairs:
    """Image–caption pairs on the book's fixed :func:`digits` split (images flattened to 64
    values).

    Training images get captions from TRAIN_TEMPLATES, test images from ZERO_SHOT_TEMPLATES,
    so no test caption's template was seen in training (the digit words were). The captions are
    drawn with ``generator``, training captions first; ``None`` gives the book's fixed captions
    (training ones drawn with ``mlbook.generator(0)``, test ones with ``mlbook.generator(1)``).
    """
    split = digits(test_fraction=test_fraction)
    gen_train = _book_generator(generator)
    gen_test = generator_for_seed(1) if generator is None else generator
    return CaptionPairs(
        split.X_train,
        split.y_train,
        captions_for(split.y_train, TRAIN_TEMPLATES, generator=gen_train),
        split.X_test,
        split.y_test,
        captions_for(split.y_test, ZERO_SHOT_TEMPLATES, generator=gen_test),
    )


__all__ += [
    "DIGIT_WORDS",
    "TRAIN_TEMPLATES",
    "ZERO_SHOT_TEMPLATES",
    "CaptionPairs",
    "caption",
    "captions_for",
    "caption_pairs",
]


# ---------------------------------------------------------------------------------------------
# Chapter 10: the book's own text as a corpus


@dataclass(frozen=True)
class BookText:
    """The Markdown of the book's pages, split per page: ``train`` holds the first
    ``1 - held_out_fraction`` of each page (cut at a paragraph break), ``held_out`` the rest."""

    train: str
    held_out: str
    pages: tuple[str, ...]

    @property
    def text(self) -> str:
        return self.train + self.held_out


def _book_dir(root: str | None):  # -> pathlib.Path (imported here: append-only section)
    import os
    from pathlib import Path

    here = Path(__file__).resolve().parent.parent  # the repository, for an editable install
    candidates = [here, Path.cwd(), Path.cwd() / "mlbook", Path.cwd().parent]
    if os.environ.get("MLBOOK_REPO"):
        candidates.insert(0, Path(os.environ["MLBOOK_REPO"]))
    if root:
        candidates = [Path(root)]
    for c in candidates:
        if (c / "book" / "intro.md").is_file():
            return c / "book"
    raise FileNotFoundError(
        "book_text() reads the book's own pages (book/*.ipynb, book/*.md) from a clone of the "
        "repository, and none was found in: " + ", ".join(str(c) for c in candidates) + ". "
        "Clone the book's repository (the one named in its _config.yml) and pass root= or "
        "set MLBOOK_REPO to the clone."
    )


def book_text(held_out_fraction: float = 0.1, root: str | None = None) -> BookText:
    """The corpus of chapter 10: the Markdown cells of ``book/*.ipynb`` and the ``book/*.md``
    pages, read at run time (so the corpus grows with the book), in file-name order.

    The repository is ``root`` when given, else the first of ``$MLBOOK_REPO``, the folder above
    the installed package (an editable install: the repository itself), the working directory,
    ``./mlbook`` and the parent folder that holds ``book/intro.md``; when none holds ``book/intro.md`` (e.g. mlbook installed from git in Colab
    without a clone) a ``FileNotFoundError`` says how to get one. There is no bundled copy:
    the point is that the text is the book as it is.
    """
    import json

    if not 0 < held_out_fraction < 1:
        raise ValueError(f"held_out_fraction must lie in (0, 1), got {held_out_fraction}")
    folder = _book_dir(root)
    pages, train, held = [], [], []
    for path in sorted(folder.glob("*.ipynb")) + sorted(folder.glob("*.md")):
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            md = [c["source"] for c in cells if c["cell_type"] == "markdown"]
            text = "\n\n".join(s if isinstance(s, str) else "".join(s) for s in md)
        else:
            text = path.read_text(encoding="utf-8")
        text = text.strip() + "\n\n"
        cut = text.rfind("\n\n", 0, int(len(text) * (1 - held_out_fraction))) + 2
        cut = cut if cut > 2 else int(len(text) * (1 - held_out_fraction))
        pages.append(path.name)
        train.append(text[:cut])
        held.append(text[cut:])
    if not pages:
        raise FileNotFoundError(f"no book/*.ipynb or book/*.md in {folder}")
    return BookText("".join(train), "".join(held), tuple(pages))


__all__ += ["BookText", "book_text"]
