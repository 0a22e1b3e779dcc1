"""Prediction is compression (chapter 11): an arithmetic coder written from scratch.

The coder is the integer arithmetic coder of Witten, Neal & Cleary (1987) with "pending" bits for
the straddling case: the interval [low, high] of ``STATE_BITS``-bit integers is narrowed by each
symbol's share of a quantised distribution whose counts sum to ``2**precision``, and every time it
falls into one half of the range its leading bit is emitted. With a model's next-token
distributions it turns a model's log-loss into a code length (:eq:`eq-llm-code-length`): the
message takes at most Σ −log₂ q(x_t) + 2 bits (q the quantised distributions), padded to whole
bytes, plus a negligible loss from integer division (≤ 2^(precision + 2 − STATE_BITS)/ln 2 bits per
symbol).

``encode`` takes the distributions of every step at once, a (T, V) tensor (or one (V,) row for a
static distribution); ``decode`` asks for them one step at a time with ``next_pmf(prefix)``, as a
decoder must, since it knows only the symbols decoded so far.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import torch

from mlbook._checks import nonneg_int, tensor_ndim

__all__ = ["STATE_BITS", "code_length_bound", "decode", "encode", "ideal_bits", "quantize"]

STATE_BITS = 48  # width of low/high: the division loss per symbol is ≤ 2^(precision+2-48)/ln 2 bits
_TOP = (1 << STATE_BITS) - 1
_HALF = 1 << (STATE_BITS - 1)
_QUARTER = 1 << (STATE_BITS - 2)


def _precision(precision: object) -> int:
    if isinstance(precision, bool) or not isinstance(precision, int) or not 2 <= precision <= 30:
        raise ValueError(f"precision must be an integer in [2, 30], got {precision!r}")
    return precision


def quantize(pmfs: torch.Tensor, precision: int = 16) -> torch.Tensor:
    """Integer counts (…, V) summing to ``2**precision`` per row, each ≥ 1, close to ``pmfs`` × 2^P.

    Every symbol gets ``floor(p · (2^P − V)) + 1`` (so none is impossible, even where p is 0), and
    the rounding deficit goes to the most likely symbol. Elementwise but for the integer sum, so a
    row gives the same counts alone or inside a batch: encoder and decoder agree exactly.
    """
    precision = _precision(precision)
    if not isinstance(pmfs, torch.Tensor) or pmfs.ndim not in (1, 2) or pmfs.shape[-1] < 1:
        raise ValueError("pmfs must be a (V,) or (T, V) tensor of probabilities")
    V = pmfs.shape[-1]
    total = 1 << precision
    if V > total // 2:
        raise ValueError(f"V={V} symbols need precision > log2(2V); got precision={precision}")
    p = pmfs.detach().to("cpu", torch.float64)
    if not torch.isfinite(p).all() or (p < 0).any() or (p > 1 + 1e-3).any():
        raise ValueError("pmfs must hold probabilities: finite numbers in [0, 1]")
    counts = torch.floor(p.clamp(max=1.0) * (total - V)).long() + 1
    deficit = total - counts.sum(-1, keepdim=True)  # ≥ 0 when a row sums to ≤ 1 + V/(total−V)
    top = counts.argmax(-1, keepdim=True)
    counts.scatter_add_(-1, top, deficit)
    if (counts < 1).any():
        raise ValueError("pmfs rows must sum to about 1")
    return counts


def ideal_bits(symbols: Sequence[int] | torch.Tensor, pmfs: torch.Tensor) -> float:
    """Σ_t −log₂ p_t(x_t): the code length an ideal coder would reach (:eq:`eq-llm-code-length`)."""
    x = _symbols(symbols)
    pmfs = _pmf_table(pmfs, len(x))
    p = pmfs.detach().to("cpu", torch.float64)
    if p.ndim == 1:
        return float(-torch.log2(p[x]).sum())
    return float(-torch.log2(p[torch.arange(len(x)), x]).sum())


def _symbols(symbols: Sequence[int] | torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(symbols)
    if x.ndim != 1 or (x.numel() and x.dtype.is_floating_point):
        raise ValueError("symbols must be a 1-D sequence of integer symbol ids")
    return x.long()


def _pmf_table(pmfs: torch.Tensor, n: int) -> torch.Tensor:
    if not isinstance(pmfs, torch.Tensor) or pmfs.ndim not in (1, 2):
        raise ValueError("pmfs must be a (T, V) tensor (or (V,) for a static distribution)")
    if pmfs.ndim == 2 and pmfs.shape[0] != n:
        raise ValueError(f"pmfs has {pmfs.shape[0]} rows but there are {n} symbols")
    return pmfs


class _BitWriter:
    def __init__(self) -> None:
        self.out, self.acc, self.n = bytearray(), 0, 0

    def bits(self, bit: int, pending: int) -> None:
        """Write ``bit`` then ``pending`` copies of its complement."""
        for b in (bit, *([1 - bit] * pending)):
            self.acc = (self.acc << 1) | b
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                self.acc, self.n = 0, 0

    def finish(self) -> bytes:
        if self.n:
            self.out.append(self.acc << (8 - self.n))
        return bytes(self.out)


def encode(symbols: Sequence[int] | torch.Tensor, pmfs: torch.Tensor, precision: int = 16) -> bytes:
    """Arithmetic-code ``symbols`` (T,) with the distributions ``pmfs`` (T, V) of every step.

    A (V,) ``pmfs`` is a static distribution used at every step. Returns the code as bytes: at
    most Σ −log₂ q_t(x_t) + 2 bits (q = :func:`quantize`\\ d ``pmfs``), padded with zeros to whole
    bytes (Witten, Neal & Cleary 1987; :eq:`eq-llm-code-length`).
    """
    precision = _precision(precision)
    x = _symbols(symbols)
    counts = quantize(_pmf_table(pmfs, len(x)), precision)
    V = counts.shape[-1]
    if len(x) and (x.min() < 0 or x.max() >= V):
        raise ValueError(f"symbols must lie in [0, {V}), the support of pmfs")
    cum = counts.cumsum(-1) - counts  # cumulative count below each symbol
    if counts.ndim == 1:
        lows, freqs = cum[x].tolist(), counts[x].tolist()
    else:
        rows = torch.arange(len(x))
        lows, freqs = cum[rows, x].tolist(), counts[rows, x].tolist()
    low, high, pending = 0, _TOP, 0
    w = _BitWriter()
    for c_lo, f in zip(lows, freqs, strict=True):
        span = high - low + 1
        high = low + ((span * (c_lo + f)) >> precision) - 1
        low = low + ((span * c_lo) >> precision)
        while True:
            if high < _HALF:
                w.bits(0, pending)
                pending = 0
            elif low >= _HALF:
                w.bits(1, pending)
                pending = 0
                low -= _HALF
                high -= _HALF
            elif low >= _QUARTER and high < _HALF + _QUARTER:
                pending += 1
                low -= _QUARTER
                high -= _QUARTER
            else:
                break
            low <<= 1
            high = (high << 1) | 1
    # two more bits select a point of [low, high]: the quarter above low (WNC's termination)
    pending += 1
    w.bits(0 if low < _QUARTER else 1, pending)
    return w.finish()


def decode(
    data: bytes,
    n: int,
    next_pmf: Callable[[list[int]], torch.Tensor],
    precision: int = 16,
) -> list[int]:
    """The ``n`` symbols coded in ``data`` by :func:`encode`; ``next_pmf(prefix)`` must return the
    same (V,) distribution the encoder used after ``prefix`` (the symbols decoded so far).

    When ``next_pmf`` returns the very same tensor object as on the step before (a static
    distribution), its cumulative counts are reused.
    """
    precision = _precision(precision)
    n = nonneg_int(n, "n")
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    if not callable(next_pmf):
        raise ValueError("next_pmf must be a callable prefix -> (V,) tensor")
    n_bits = 8 * len(data)
    value = 0
    for pos in range(STATE_BITS):  # the first STATE_BITS bits (zeros past the end)
        value = (value << 1) | (data[pos >> 3] >> (7 - (pos & 7)) & 1 if pos < n_bits else 0)
    pos = STATE_BITS
    low, high = 0, _TOP
    out: list[int] = []
    last, cum = None, None
    for _ in range(n):
        pmf = next_pmf(out)
        if pmf is not last:
            tensor_ndim(pmf, "next_pmf(prefix)", 1, "(V,)")
            cum = (quantize(pmf, precision).cumsum(0)).tolist()  # cum[s] = counts of 0..s
            last = pmf
        span = high - low + 1
        target = (((value - low + 1) << precision) - 1) // span
        s = bisect.bisect_right(cum, target)
        if s >= len(cum):
            raise ValueError("data is not a code of these distributions (target out of range)")
        c_lo = cum[s - 1] if s else 0
        high = low + ((span * cum[s]) >> precision) - 1
        low = low + ((span * c_lo) >> precision)
        out.append(s)
        while True:
            if high < _HALF:
                pass
            elif low >= _HALF:
                low -= _HALF
                high -= _HALF
                value -= _HALF
            elif low >= _QUARTER and high < _HALF + _QUARTER:
                low -= _QUARTER
                high -= _QUARTER
                value -= _QUARTER
            else:
                break
            low <<= 1
            high = (high << 1) | 1
            nxt = data[pos >> 3] >> (7 - (pos & 7)) & 1 if pos < n_bits else 0
            value = (value << 1) | nxt
            pos += 1
    return out


def code_length_bound(
    symbols: Sequence[int] | torch.Tensor, pmfs: torch.Tensor, precision: int = 16
) -> float:
    """Σ −log₂ q_t(x_t) + 2 for the quantised distributions q: the bound on :func:`encode`'s bits
    before padding to bytes."""
    x = _symbols(symbols)
    counts = quantize(_pmf_table(pmfs, len(x)), precision).double()
    q = counts[x] if counts.ndim == 1 else counts[torch.arange(len(x)), x]
    return float(-(torch.log2(q) - precision).sum()) + 2.0
