"""mlbook.tokenizer (byte-level BPE) against a naive reference and Hugging Face tokenizers."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from conftest import ROOT
from mlbook.data import book_text
from mlbook.tokenizer import BPETokenizer, split_chunks, train_bpe

TEXT = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
STRINGS = [
    "",
    "hello world",
    "日本語には空白がない。",
    "絵文字 🤖🎉 と結合文字 e\u0301 と 改行\n\n\tタブ",
    "aaaaaaa bbbb  ____ ---- ''' 's 'll",
    "見たことのない文字列: ꙮ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ①②",
]


@pytest.fixture(scope="module")
def tok() -> BPETokenizer:
    return train_bpe(TEXT, 600)


def _naive_encode(tok: BPETokenizer, text: str) -> list[int]:
    """minbpe's loop: merge the lowest-ranked pair present, chunk by chunk."""
    ranks = {pair: k for k, pair in enumerate(tok.merges)}
    out: list[int] = []
    for chunk in split_chunks(text):
        ids = list(chunk.encode("utf-8"))
        while len(ids) > 1:
            pair = min(zip(ids, ids[1:], strict=False), key=lambda p: ranks.get(p, 1 << 30))
            if pair not in ranks:
                break
            new, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                    new.append(256 + ranks[pair])
                    i += 2
                else:
                    new.append(ids[i])
                    i += 1
            ids = new
        out.extend(ids)
    return out


def test_chunks_join_back_to_the_text():
    for s in [*STRINGS, TEXT]:
        assert "".join(split_chunks(s)) == s


def test_vocab_size_and_merges(tok):
    assert tok.vocab_size == 600 == 256 + len(tok.merges)
    for k, (a, b) in enumerate(tok.merges):
        assert tok.vocab[256 + k] == tok.vocab[a] + tok.vocab[b]
        assert a < 256 + k and b < 256 + k


@pytest.mark.parametrize("s", STRINGS)
def test_round_trip_without_unknown_tokens(tok, s):
    ids = tok.encode(s)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == s


def test_encode_equals_the_naive_lowest_rank_loop(tok):
    for s in [*STRINGS, TEXT[:3000]]:
        assert tok.encode(s) == _naive_encode(tok, s)
    fresh = BPETokenizer(tok.merges)  # without the cache filled by training
    assert fresh.encode(TEXT) == tok.encode(TEXT) == _naive_encode(tok, TEXT)


def test_each_merge_removes_exactly_its_count(tok):
    n_bytes = len(TEXT.encode("utf-8"))
    assert len(tok.encode(TEXT)) == n_bytes - sum(tok.merge_counts)
    lengths = [len(tok.truncated(k).encode(TEXT)) for k in range(0, 12)]
    drops = [a - b for a, b in zip(lengths, lengths[1:], strict=False)]
    assert drops == tok.merge_counts[:11]
    assert all(c >= 2 for c in tok.merge_counts)


def test_counts_like_hugging_face_tokenizers():
    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    hf.train_from_iterator([TEXT], trainer)
    ours = train_bpe(TEXT, 600)
    assert hf.get_vocab_size() == ours.vocab_size
    n_hf, n_ours = len(hf.encode(TEXT).ids), len(ours.encode(TEXT))
    assert abs(n_ours - n_hf) / n_hf < 0.02  # equal up to tie-breaking among equal counts
    # the first merges are the same byte strings, up to the first tie between two counts (the
    # text is this repository's CONTRIBUTING.md, so where the first tie falls changes with it)
    counts = ours.merge_counts
    untied = next(k for k in range(len(counts) - 1) if counts[k] == counts[k + 1])
    assert untied >= 5, "the text has a tie among its first five merges; use another text"
    hf_first = [tuple(m) if not isinstance(m, str) else tuple(m.split()) for m in hf_merges(hf)]
    byte_decoder = {c: b for b, c in _bytes_to_unicode().items()}
    hf_bytes = [bytes(byte_decoder[ch] for ch in a + b) for a, b in hf_first[:untied]]
    assert hf_bytes == [ours.vocab[256 + k] for k in range(untied)]


def hf_merges(hf: Tokenizer) -> list:
    import json

    return json.loads(hf.to_str())["model"]["merges"]


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-ins for the 256 bytes (as in Hugging Face's ByteLevel)."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    bs += range(ord("®"), ord("ÿ") + 1)
    cs, n = list(bs), 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs), strict=True))


def test_errors():
    with pytest.raises(ValueError, match="vocab_size"):
        train_bpe(TEXT, 255)
    with pytest.raises(ValueError, match="vocab_size"):
        train_bpe(TEXT, 300.0)
    with pytest.raises(ValueError, match="non-empty"):
        train_bpe("", 300)
    tok = train_bpe("abab abab", 260)
    with pytest.raises(ValueError, match="token ids"):
        tok.decode([tok.vocab_size])
    with pytest.raises(ValueError, match="str"):
        tok.encode(b"bytes")
    with pytest.raises(ValueError, match="n_merges"):
        tok.truncated(99)
    with pytest.raises(ValueError, match="does not exist"):
        BPETokenizer([(300, 1)])


def test_training_stops_when_no_pair_repeats():
    tok = train_bpe("abcd", 1000)
    assert tok.vocab_size == 256


def test_book_text_split():
    bt = book_text()
    assert "09_transformer.ipynb" in bt.pages and "intro.md" in bt.pages
    assert bt.train and bt.held_out and len(bt.held_out) < 0.2 * len(bt.text)
    assert book_text() == bt  # deterministic
    with pytest.raises(ValueError, match="held_out_fraction"):
        book_text(held_out_fraction=1.0)
    with pytest.raises(FileNotFoundError, match="clone"):
        book_text(root="/nonexistent-folder")
