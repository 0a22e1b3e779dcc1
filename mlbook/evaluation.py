"""Evaluating language models (chapter 11): BLEU and the unbiased pass@k estimator.

``bleu`` is corpus BLEU (Papineni et al. 2002) on whitespace tokens, one reference per hypothesis,
as ``sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score`` computes it;
``pass_at_k`` is the unbiased estimator of Chen et al. (2021).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from mlbook._checks import nonneg_int, positive_int

__all__ = ["bleu", "ngram_counts", "pass_at_k"]


def ngram_counts(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    """How often each n-gram (a tuple of ``n`` tokens) occurs in ``tokens``."""
    n = positive_int(n, "n")
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu(
    hypotheses: Sequence[str], references: Sequence[str], max_n: int = 4, smooth: bool = True
) -> float:
    """Corpus BLEU in [0, 100] (:eq:`eq-llm-bleu`): brevity penalty × geometric mean of the
    clipped n-gram precisions p_1 … p_max_n, each summed over the whole corpus before dividing.

    Whitespace tokens, one reference per hypothesis, equal to
    ``sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none").score``: with ``smooth``
    (sacrebleu's default "exp", NIST's smoothing) the j-th p_n that is 0 becomes 1/(2^j · total_n);
    without it (``smooth_method="none"``, Papineni et al.'s definition) any p_n = 0 gives 0.
    """
    max_n = positive_int(max_n, "max_n")
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise ValueError("hypotheses and references must be lists of strings, not one string")
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(
            f"need as many references as hypotheses (≥ 1); got {len(hypotheses)} and {len(references)}"
        )
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for hyp, ref in zip(hypotheses, references, strict=True):
        if not isinstance(hyp, str) or not isinstance(ref, str):
            raise ValueError("every hypothesis and reference must be a str")
        h, r = hyp.split(), ref.split()
        hyp_len, ref_len = hyp_len + len(h), ref_len + len(r)
        for n in range(1, max_n + 1):
            hc, rc = ngram_counts(h, n), ngram_counts(r, n)
            matches[n - 1] += sum(min(c, rc[g]) for g, c in hc.items())  # clipped counts
            totals[n - 1] += max(len(h) - n + 1, 0)
    if hyp_len == 0 or not any(matches):
        return 0.0
    precisions, halvings = [], 1
    for m, t in zip(matches, totals, strict=True):
        if t == 0:  # no n-grams this long in any hypothesis
            break
        if m == 0 and smooth:  # NIST smoothing ("exp"): 1/(2^j · total) for the j-th zero
            halvings *= 2
            precisions.append(1.0 / (halvings * t))
        else:
            precisions.append(m / t)
    if len(precisions) < max_n or min(precisions) == 0:
        return 0.0
    log_p = sum(math.log(p) for p in precisions) / max_n
    brevity = 1.0 if hyp_len >= ref_len else math.exp(1 - ref_len / hyp_len)
    return 100.0 * brevity * math.exp(log_p)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass@k from n samples of which c pass (Chen et al. 2021):
    1 − C(n−c, k)/C(n, k) (:eq:`eq-llm-pass-at-k`), computed as a stable product."""
    n, c, k = positive_int(n, "n"), nonneg_int(c, "c"), positive_int(k, "k")
    if c > n or k > n:
        raise ValueError(f"need c <= n and k <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):  # C(n−c, k)/C(n, k) = Π_{i=n−c+1}^{n} (1 − k/i)
        prod *= 1.0 - k / i
    return 1.0 - prod
