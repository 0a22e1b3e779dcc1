"""The arithmetic coder of chapter 11 against random distributions and constriction's range coder."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mlbook import compression


def _case(T: int, V: int, seed: int, zeros: bool = False):
    gen = torch.Generator().manual_seed(seed)
    pmfs = torch.softmax(3 * torch.randn(T, V, generator=gen, dtype=torch.float64), -1)
    if zeros:  # probabilities at and near zero, renormalised
        pmfs[:, 0] = 0.0
        pmfs[:, 1] = 1e-12
        pmfs = pmfs / pmfs.sum(-1, keepdim=True)
    x = torch.multinomial(pmfs, 1, generator=gen).squeeze(1)
    return x, pmfs


@pytest.mark.parametrize(
    ("T", "V", "zeros"), [(1, 2, False), (200, 2, True), (500, 7, True), (300, 300, False)]
)
def test_round_trip_and_bound(T, V, zeros):
    x, pmfs = _case(T, V, seed=T + V, zeros=zeros)
    data = compression.encode(x, pmfs)
    assert compression.decode(data, T, lambda prefix: pmfs[len(prefix)]) == x.tolist()
    bound = compression.code_length_bound(x, pmfs)
    assert 8 * len(data) <= bound + 7  # at most 2 bits over Σ −log₂ q, padded to bytes
    quant = T * -math.log2(1 - V / 2**16)
    assert bound - 2 <= compression.ideal_bits(x, pmfs) + quant + 1e-9


def test_zero_probability_symbol_is_codable():
    pmfs = torch.tensor([[1.0, 0.0, 0.0]] * 5)
    x = [0, 2, 1, 0, 2]  # symbols of probability 0 still decode (every count is >= 1)
    data = compression.encode(x, pmfs)
    assert compression.decode(data, 5, lambda prefix: pmfs[len(prefix)]) == x


def test_static_distribution_matches_constriction():
    constriction = pytest.importorskip("constriction")
    gen = torch.Generator().manual_seed(1)
    p = torch.softmax(-torch.arange(64, dtype=torch.float64) / 8, 0)
    x = torch.multinomial(p, 20_000, replacement=True, generator=gen)
    ours = compression.encode(x, p)
    assert compression.decode(ours, len(x), lambda prefix: p) == x.tolist()
    enc = constriction.stream.queue.RangeEncoder()
    model = constriction.stream.model.Categorical(p.numpy(), perfect=False)
    enc.encode(x.numpy().astype(np.int32), model)
    theirs = 32 * len(enc.get_compressed())
    ideal = compression.ideal_bits(x, p)
    assert 8 * len(ours) <= ideal * 1.001 + 9
    assert abs(8 * len(ours) - theirs) <= 0.01 * ideal + 64


def test_quantize_is_rowwise():
    _, pmfs = _case(50, 30, seed=3)
    q = compression.quantize(pmfs)
    assert (q.sum(-1) == 2**16).all() and (q >= 1).all()
    assert torch.equal(q[7], compression.quantize(pmfs[7]))


def test_errors():
    p = torch.full((3,), 1 / 3)
    with pytest.raises(ValueError, match="precision"):
        compression.encode([0], p, precision=1)
    with pytest.raises(ValueError, match="symbols must lie"):
        compression.encode([3], p)
    with pytest.raises(ValueError, match="rows"):
        compression.encode([0, 1], torch.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="probabilities"):
        compression.encode([0], torch.tensor([0.5, float("nan"), 0.5]))
    with pytest.raises(ValueError, match="precision > log2"):
        compression.encode([0], torch.full((300,), 1 / 300), precision=8)
    with pytest.raises(ValueError, match="n must be"):
        compression.decode(b"", -1, lambda prefix: p)
    with pytest.raises(ValueError, match="bytes"):
        compression.decode("abc", 1, lambda prefix: p)
    with pytest.raises(ValueError, match="1-D"):
        compression.encode([[0]], p)
