"""Japanese captions of the digits and image–caption pairs (chapter 14)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mlbook.core import generator as generator_for_seed
from mlbook.data.toy import _book_generator, digits

__all__ = [
    "DIGIT_WORDS",
    "TRAIN_TEMPLATES",
    "ZERO_SHOT_TEMPLATES",
    "CaptionPairs",
    "caption",
    "captions_for",
    "caption_pairs",
]

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
