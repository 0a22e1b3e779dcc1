"""mlbook.attention against torch's own attention and the equations of chapter 9."""

import math

import pytest
import torch

import mlbook
from mlbook import attention as att

DT = torch.float64


def _qkv(B=2, h=3, n=5, m=7, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(B, h, n, d, generator=g, dtype=DT),
        torch.randn(B, h, m, d, generator=g, dtype=DT),
        torch.randn(B, h, m, 6, generator=g, dtype=DT),
    )


def test_sdpa_matches_torch_with_and_without_mask():
    q, k, v = _qkv()
    out, w = att.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, torch.nn.functional.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 5, dtype=DT))
    mask = torch.rand(5, 7, generator=torch.Generator().manual_seed(1)) > 0.4
    mask[:, 0] = True  # every query keeps one key
    out, w = att.scaled_dot_product_attention(q, k, v, mask)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, ref)
    assert (w[..., ~mask] == 0).all()


def test_causal_mask_zero_future():
    q, k, v = _qkv(m=5)
    out, w = att.scaled_dot_product_attention(q, k, v, att.causal_mask(5))
    assert (w.triu(1) == 0).all()
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(out, ref)


def test_sdpa_errors():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="last dimension"):
        att.scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="same number"):
        att.scaled_dot_product_attention(q, k, v[..., :6, :])
    with pytest.raises(ValueError, match="boolean"):
        att.scaled_dot_product_attention(q, k, v, torch.ones(5, 7))
    with pytest.raises(ValueError, match="broadcast"):
        att.scaled_dot_product_attention(q, k, v, torch.ones(4, 7, dtype=torch.bool))


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_matches_torch(causal):
    torch.manual_seed(0)
    B, n, C, h = 2, 6, 12, 3
    mha = torch.nn.MultiheadAttention(C, h, bias=False, batch_first=True).double()
    x = torch.randn(B, n, C, dtype=DT)
    W_q, W_k, W_v = (w.T for w in mha.in_proj_weight.detach().chunk(3))  # torch: x @ W^T
    W_o = mha.out_proj.weight.detach().T
    mask = att.causal_mask(n) if causal else None
    out, w = att.multi_head_attention(x, W_q, W_k, W_v, W_o, h, mask=mask)
    ref, ref_w = mha(x, x, x, attn_mask=None if mask is None else ~mask, average_attn_weights=False)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(w, ref_w)


def test_multi_head_errors():
    x = torch.randn(1, 3, 6)
    W = torch.eye(6)
    with pytest.raises(ValueError, match="divisible"):
        att.multi_head_attention(x, W, W, W, W, 4)
    with pytest.raises(ValueError, match="W_k must have shape"):
        att.multi_head_attention(x, W, torch.eye(5), W, W, 2)
    with pytest.raises(ValueError, match="shape \\(B, n, d_model\\)"):
        att.multi_head_attention(x[0], W, W, W, W, 2)
    with pytest.raises(ValueError, match="kv must have shape"):
        att.multi_head_attention(x, W, W, W, W, 2, kv=torch.randn(1, 4, 5))


def test_cross_attention_matches_torch():
    torch.manual_seed(0)
    C, h = 12, 3
    mha = torch.nn.MultiheadAttention(C, h, bias=False, batch_first=True).double()
    x, mem = torch.randn(2, 4, C, dtype=DT), torch.randn(2, 9, C, dtype=DT)
    W_q, W_k, W_v = (w.T for w in mha.in_proj_weight.detach().chunk(3))
    out, w = att.multi_head_attention(x, W_q, W_k, W_v, mha.out_proj.weight.detach().T, h, kv=mem)
    ref, ref_w = mha(x, mem, mem, average_attn_weights=False)
    torch.testing.assert_close(out, ref)
    assert w.shape == (2, h, 4, 9)
    torch.testing.assert_close(w, ref_w)


def test_scores():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(3, 4, generator=g, dtype=DT), torch.randn(5, 4, generator=g, dtype=DT)
    torch.testing.assert_close(att.dot_score(q, k), q @ k.T)
    torch.testing.assert_close(att.general_score(q, k, torch.eye(4, dtype=DT)), q @ k.T)
    Wq, Wk, v = (
        torch.randn(4, 6, generator=g, dtype=DT),
        torch.randn(4, 6, generator=g, dtype=DT),
        torch.randn(6, generator=g, dtype=DT),
    )
    s = att.additive_score(q, k, Wq, Wk, v)
    assert s[1, 2].item() == pytest.approx((torch.tanh(q[1] @ Wq + k[2] @ Wk) @ v).item())
    with pytest.raises(ValueError):
        att.general_score(q, k, torch.eye(3))
    with pytest.raises(ValueError):
        att.additive_score(q, k, Wq, Wk, torch.ones(5))


def test_sinusoidal_and_shift():
    pe = att.sinusoidal_encoding(50, 16, dtype=DT)
    assert pe[3, 4].item() == pytest.approx(math.sin(3 / 10000 ** (4 / 16)))
    assert pe[3, 5].item() == pytest.approx(math.cos(3 / 10000 ** (4 / 16)))
    for k in (1, 5, 17):
        M = att.pe_shift_matrix(k, 16)
        torch.testing.assert_close(pe[k:], pe[:-k] @ M.T)
        torch.testing.assert_close(M @ M.T, torch.eye(16, dtype=DT))  # rotations
    with pytest.raises(ValueError, match="even"):
        att.sinusoidal_encoding(4, 5)


def test_linear_attention_equals_quadratic_form():
    q, k, v = _qkv()
    phq, phk = torch.nn.functional.elu(q) + 1, torch.nn.functional.elu(k) + 1
    sim = phq @ phk.transpose(-2, -1)
    ref = (sim / sim.sum(-1, keepdim=True)) @ v
    torch.testing.assert_close(att.linear_attention(q, k, v, eps=0.0), ref)


def test_sparse_masks():
    m = att.local_mask(10, 2)
    assert m.sum().item() == 10 + 2 * (9 + 8)
    b = att.bigbird_mask(16, 1, 2, 3)
    assert b[:2].all() and b[:, :2].all() and (b.sum(1) >= 3).all()
    assert torch.equal(b, att.bigbird_mask(16, 1, 2, 3, mlbook.generator(0)))
    with pytest.raises(ValueError):
        att.local_mask(0, 1)
    with pytest.raises(ValueError):
        att.bigbird_mask(4, 1, 5, 0)
