"""Byte-level BPE written from scratch (chapter 10).

Byte-pair encoding (Sennrich et al. 2016) as GPT-2 uses it (Radford et al. 2019): the text is
first split into chunks by a regular expression (words with their leading space, runs of digits,
runs of punctuation, runs of white space), each chunk is turned into its UTF-8 bytes (the 256
base tokens, so every string has an encoding and no unknown token is ever needed), and then the
most frequent adjacent pair of tokens is merged into a new token, again and again, until the
vocabulary has ``vocab_size`` entries. Merges never cross a chunk boundary.

The trainer keeps the pair counts and an index pair → chunks, so one merge only touches the
chunks that contain the pair (the idea of Sennrich et al.'s reference code and of Hugging Face
``tokenizers``); encoding applies the learned merges in the order they were learned, which gives
the same tokens as the usual "merge the lowest-ranked pair present" loop (minbpe).
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

__all__ = ["SPLIT_PATTERN", "BPETokenizer", "split_chunks", "train_bpe"]

# GPT-2's pattern with Python's ``re`` instead of ``regex``: \p{L} is [^\W\d_], \p{N} is \d, and
# the underscore joins punctuation (GPT-2 puts it there too). Every character falls in some
# branch, so the chunks always join back to the text.
SPLIT_PATTERN = re.compile(
    r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""
)

Pair = tuple[int, int]


def split_chunks(text: str) -> list[str]:
    """The chunks BPE works inside: ``"".join(split_chunks(s)) == s`` for every string."""
    return SPLIT_PATTERN.findall(text)


def _merge_word(word: list[int], pair: Pair, new_id: int) -> tuple[list[int], Counter[Pair]]:
    """Replace every occurrence of ``pair`` in ``word``, left to right, without overlaps.

    Returns the new word and the change of its pair counts (negative for pairs that were lost),
    computed only around the replaced positions. E.g. (a, a) in a a a is replaced once."""
    out: list[int] = []
    starts, placed = [], []  # where each replacement starts in word, and where it lands in out
    i, a, b = 0, pair[0], pair[1]
    while True:
        try:
            j = word.index(a, i)  # jump to the next candidate (a C-level search)
        except ValueError:
            break
        if j + 1 < len(word) and word[j + 1] == b:
            out.extend(word[i:j])
            starts.append(j)
            placed.append(len(out))
            out.append(new_id)
            i = j + 2
        else:
            out.extend(word[i : j + 1])
            i = j + 1
    out.extend(word[i:])
    lost = {j for s in starts for j in (s - 1, s, s + 1) if 0 <= j < len(word) - 1}
    gained = {j for p in placed for j in (p - 1, p) if 0 <= j < len(out) - 1}
    delta: Counter[Pair] = Counter()
    for j in gained:
        delta[out[j], out[j + 1]] += 1
    for j in lost:
        delta[word[j], word[j + 1]] -= 1
    return out, delta


class _Words:
    """Unique chunks as lists of token ids, their counts, pair counts and the pair → chunks index."""

    def __init__(self, chunks: Iterable[str]) -> None:
        counted = Counter(c.encode("utf-8") for c in chunks)
        self.chunks = list(counted)
        self.words = [list(b) for b in counted]
        self.counts = list(counted.values())
        self.stats: Counter[Pair] = Counter()  # pair -> occurrences (overlapping), weighted
        self.where: defaultdict[Pair, set[int]] = defaultdict(set)  # pair -> chunk indices
        for i, word in enumerate(self.words):
            for pair, n in Counter(zip(word, word[1:], strict=False)).items():
                self.stats[pair] += n * self.counts[i]
                self.where[pair].add(i)

    def merge(self, pair: Pair, new_id: int) -> tuple[int, set[Pair]]:
        """Merge ``pair`` into ``new_id`` in every chunk that holds it.

        Returns the number of tokens removed (weighted by chunk counts) and the pairs whose
        counts changed."""
        removed, touched = 0, set()
        for i in sorted(self.where.pop(pair, ())):
            old = self.words[i]
            new, delta = _merge_word(old, pair, new_id)
            if len(new) == len(old):
                continue  # a stale index entry
            for p, d in delta.items():
                if d:
                    self.stats[p] += d * self.counts[i]
                    touched.add(p)
                    if d > 0:
                        self.where[p].add(i)
            self.words[i] = new
            removed += (len(old) - len(new)) * self.counts[i]
        self.stats.pop(pair, None)
        touched.discard(pair)
        return removed, touched


class BPETokenizer:
    """A byte-level BPE tokenizer: token ids 0–255 are the bytes, id 256 + k is the k-th merge."""

    def __init__(self, merges: list[Pair], merge_counts: list[int] | None = None) -> None:
        self.merges: list[Pair] = [tuple(p) for p in merges]
        self._cache: dict[bytes, list[int]] = {}  # chunk bytes -> token ids, filled by encode
        # how many tokens each merge removed from the training text (when trained here)
        self.merge_counts: list[int] = list(merge_counts or [])
        self.vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}
        for k, (a, b) in enumerate(self.merges):
            if not (a in self.vocab and b in self.vocab):
                raise ValueError(f"merge {k} = {(a, b)} uses a token that does not exist yet")
            self.vocab[256 + k] = self.vocab[a] + self.vocab[b]

    @property
    def vocab_size(self) -> int:
        return 256 + len(self.merges)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``: its chunks' bytes with the merges applied in learned order."""
        if not isinstance(text, str):
            raise ValueError(f"encode takes a str, got {type(text).__name__}")
        chunks = split_chunks(text)
        new = [c for c in {c.encode("utf-8") for c in chunks} if c not in self._cache]
        if new:
            words = _Words(c.decode("utf-8") for c in new)
            for k, pair in enumerate(self.merges):
                if words.where.get(pair):
                    words.merge(pair, 256 + k)
            # _Words keeps first-seen order of its (unique) chunks
            self._cache.update(zip(new, words.words, strict=True))
        ids: list[int] = []
        for chunk in chunks:
            ids.extend(self._cache[chunk.encode("utf-8")])
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids`` (invalid UTF-8, e.g. half a character, becomes U+FFFD)."""
        ids = list(ids)
        bad = [i for i in ids if not (isinstance(i, int) and 0 <= i < self.vocab_size)]
        if bad:
            raise ValueError(f"token ids must lie in [0, {self.vocab_size}); got {bad[:5]}")
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    def token_bytes(self, i: int) -> bytes:
        """The bytes token ``i`` stands for."""
        return self.vocab[i]

    def truncated(self, n_merges: int) -> BPETokenizer:
        """The tokenizer with only the first ``n_merges`` merges."""
        if not 0 <= n_merges <= len(self.merges):
            raise ValueError(f"n_merges must lie in [0, {len(self.merges)}], got {n_merges}")
        return BPETokenizer(self.merges[:n_merges], self.merge_counts[:n_merges])

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"


def train_bpe(text: str, vocab_size: int) -> BPETokenizer:
    """Learn ``vocab_size - 256`` merges on ``text`` (byte-level BPE, Sennrich et al. 2016).

    Each step merges the most frequent adjacent pair (ties: the smaller pair of ids), which adds
    one vocabulary entry and shortens the training text by that pair's number of
    non-overlapping occurrences (kept in ``merge_counts``). Training stops early when no pair
    occurs twice, so ``vocab_size`` is an upper bound.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty str")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 256:
        raise ValueError(
            f"vocab_size must be an int >= 256 (the 256 bytes come first), got {vocab_size!r}"
        )
    words = _Words(split_chunks(text))
    heap = [(-n, pair) for pair, n in words.stats.items()]
    heapq.heapify(heap)
    merges: list[Pair] = []
    counts: list[int] = []
    while len(merges) < vocab_size - 256 and heap:
        neg, pair = heapq.heappop(heap)
        if words.stats.get(pair, 0) != -neg:  # stale entry: the count changed since
            continue
        if -neg < 2:
            break
        removed, touched = words.merge(pair, 256 + len(merges))
        merges.append(pair)
        counts.append(removed)
        for p in sorted(touched):
            if words.stats.get(p, 0) > 0:
                heapq.heappush(heap, (-words.stats[p], p))
    tokenizer = BPETokenizer(merges, counts)
    tokenizer._cache.update(zip(words.chunks, words.words, strict=True))
    return tokenizer
