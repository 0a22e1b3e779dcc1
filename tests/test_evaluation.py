"""BLEU against sacrebleu and the unbiased pass@k estimator (chapter 11)."""

from __future__ import annotations

import math
import random

import pytest

from mlbook.evaluation import bleu, ngram_counts, pass_at_k


@pytest.mark.parametrize("smooth", [True, False])
def test_bleu_equals_sacrebleu(smooth):
    sacrebleu = pytest.importorskip("sacrebleu")
    rng = random.Random(0)
    words = "a b c d e f g h".split()
    for _ in range(300):
        n = rng.randint(1, 4)
        hyps = [" ".join(rng.choices(words, k=rng.randint(0, 9))) for _ in range(n)]
        refs = [" ".join(rng.choices(words, k=rng.randint(1, 9))) for _ in range(n)]
        method = "exp" if smooth else "none"
        want = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", smooth_method=method).score
        assert bleu(hyps, refs, smooth=smooth) == pytest.approx(want, abs=1e-9)


def test_bleu_perfect_and_clipping():
    assert bleu(["a b c d e"], ["a b c d e"]) == pytest.approx(100.0)
    assert ngram_counts("the the the".split(), 1)[("the",)] == 3
    # "the the the the" against "the cat": clipped unigram precision 1/4, no bigram matches
    assert bleu(["the the the the"], ["the cat"], smooth=False) == 0.0


def test_pass_at_k_closed_form():
    for n, c, k in [(10, 3, 1), (10, 3, 4), (20, 0, 5), (20, 20, 5), (5, 4, 2)]:
        want = 1 - math.comb(n - c, k) / math.comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)
    assert pass_at_k(200, 7, 1) == pytest.approx(7 / 200)


def test_errors():
    with pytest.raises(ValueError, match="lists of strings"):
        bleu("a b", "a b")
    with pytest.raises(ValueError, match="as many references"):
        bleu(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="str"):
        bleu([1], ["a"])
    with pytest.raises(ValueError, match="c <= n"):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError, match="k must be"):
        pass_at_k(5, 1, 0)
