"""mlbook.gpt and mlbook.lm against torch.nn references and closed formulas."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import mlbook
from mlbook.gpt import GPT, GPTConfig, KVCache, mask_tokens, param_count, sample_next
from mlbook.lm import (
    RMSNorm,
    SwiGLU,
    bradley_terry_loss,
    fit_reward_model,
    swiglu_hidden,
)


@pytest.fixture(autouse=True)
def _one_thread():
    with mlbook.single_thread():  # many small operations: one thread is faster on a busy CPU
        yield


SMALL = GPTConfig(vocab_size=50, block_size=24, n_layer=2, n_head=2, n_embd=16)


def _model(config: GPTConfig = SMALL, seed: int = 0) -> GPT:
    mlbook.seed_all(seed)
    model = GPT(config).double().eval()
    for p in model.parameters():  # larger weights than GPT-2's init, so logits differ visibly
        p.data.normal_(0, 0.3)
    return model


@pytest.mark.parametrize(
    "config",
    [
        SMALL,
        GPTConfig(40478, 512, 12, 12, 768),
        GPTConfig(50257, 1024, 48, 25, 1600),
        GPTConfig(30522, 512, 12, 12, 768, causal=False, n_segments=2, pooler=True),
    ],
)
def test_param_count_is_the_number_of_parameters(config):
    with torch.device("meta"):
        model = GPT(config)
    assert sum(p.numel() for p in model.parameters()) == param_count(config)


def test_published_counts():
    assert param_count(GPTConfig(50257, 1024, 48, 25, 1600)) == 1_557_611_200  # GPT-2 XL
    bert = GPTConfig(30522, 512, 12, 12, 768, causal=False, n_segments=2, pooler=True)
    assert param_count(bert) == 109_482_240  # BERT-base with the pooler


def test_weights_are_tied():
    model = GPT(SMALL)
    assert model.lm_head.weight is model.wte.weight


def test_attention_equals_torch_multihead_attention():
    model = _model()
    attn = model.blocks[0].attn
    mha = torch.nn.MultiheadAttention(16, 2, batch_first=True).double()
    mha.in_proj_weight.data.copy_(attn.c_attn.weight)
    mha.in_proj_bias.data.copy_(attn.c_attn.bias)
    mha.out_proj.weight.data.copy_(attn.c_proj.weight)
    mha.out_proj.bias.data.copy_(attn.c_proj.bias)
    x = torch.randn(3, 7, 16, dtype=torch.float64, generator=mlbook.generator(1))
    causal = torch.ones(7, 7, dtype=torch.bool).triu(1)  # True = may not attend
    ref, _ = mha(x, x, x, attn_mask=causal)
    assert torch.allclose(attn(x), ref, atol=1e-12)


def test_block_is_pre_ln():
    model = _model()
    block = model.blocks[0]
    x = torch.randn(2, 5, 16, dtype=torch.float64, generator=mlbook.generator(2))
    h = x + block.attn(F.layer_norm(x, (16,), block.ln_1.weight, block.ln_1.bias))
    h2 = F.layer_norm(h, (16,), block.ln_2.weight, block.ln_2.bias)
    ref = h + block.mlp[2](F.gelu(block.mlp[0](h2), approximate="tanh"))
    assert torch.allclose(block(x), ref, atol=1e-12)


def test_causality_and_bidirectionality():
    idx = torch.randint(50, (2, 12), generator=mlbook.generator(3))
    changed = idx.clone()
    changed[:, 8] = (changed[:, 8] + 1) % 50
    model = _model()
    a, b = model(idx), model(changed)
    assert a.shape == (2, 12, 50)
    assert torch.equal(a[:, :8], b[:, :8])
    assert (a[:, 8:] - b[:, 8:]).abs().amax() > 1e-3
    bert = _model(GPTConfig(50, 24, 2, 2, 16, causal=False))
    assert (bert(idx)[:, :8] - bert(changed)[:, :8]).abs().amax() > 1e-3


def test_cache_gives_the_same_logits_as_the_full_forward():
    model = _model()
    idx = torch.randint(50, (2, 10), generator=mlbook.generator(4))
    cache = KVCache(SMALL, 2, dtype=torch.float64)
    steps = [model(idx[:, :4], cache)] + [model(idx[:, t : t + 1], cache) for t in range(4, 10)]
    assert torch.allclose(torch.cat(steps, dim=1), model(idx), atol=1e-10)
    assert cache.length == 10
    assert cache.numel() == 2 * SMALL.n_layer * 10 * SMALL.n_embd * 2  # 2 L T d per sequence
    # a chunk of several tokens after a filled cache (the bottom-right causal mask)
    cache = KVCache(SMALL, 2, dtype=torch.float64)
    two = torch.cat([model(idx[:, :4], cache), model(idx[:, 4:], cache)], dim=1)
    assert torch.allclose(two, model(idx), atol=1e-10)


@pytest.mark.parametrize("temperature,top_k", [(0.0, None), (1.0, None), (0.8, 5)])
def test_generate_with_and_without_cache(temperature, top_k):
    model = _model()
    idx = torch.randint(50, (3, 4), generator=mlbook.generator(5))
    outs = [
        model.generate(
            idx, 30, temperature, top_k, generator=mlbook.generator(6), use_cache=use_cache
        )
        for use_cache in (True, False)
    ]  # 34 > block_size 24: the window slides
    assert outs[0].shape == (3, 34)
    assert torch.equal(outs[0], outs[1])
    assert torch.equal(outs[0][:, :4], idx)


def test_sampling_limits():
    g = mlbook.generator(7)
    logits = torch.randn(4, 30, generator=g)
    greedy = logits.argmax(-1, keepdim=True)
    assert torch.equal(sample_next(logits, 0.0), greedy)
    assert torch.equal(sample_next(logits, 1.0, top_k=1, generator=g), greedy)
    assert torch.equal(sample_next(logits, 1e-6, generator=g), greedy)
    top3 = torch.topk(logits, 3).indices
    draws = torch.cat([sample_next(logits, 5.0, top_k=3, generator=g) for _ in range(100)], 1)
    assert all(set(draws[b].tolist()) <= set(top3[b].tolist()) for b in range(4))
    # temperature 1: the empirical frequencies follow softmax(logits)
    one = torch.tensor([[0.0, 1.0, 2.0]])
    n = 20000
    draws = torch.cat([sample_next(one.expand(n, 3), 1.0, generator=g)]).flatten()
    freq = torch.bincount(draws, minlength=3) / n
    assert torch.allclose(freq, torch.softmax(one[0], 0), atol=5 * math.sqrt(0.25 / n))


def test_generate_errors():
    model = _model()
    idx = torch.zeros(1, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="temperature"):
        model.generate(idx, 2, temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        model.generate(idx, 2, top_k=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.generate(idx, -1)
    with pytest.raises(ValueError, match="idx"):
        model.generate(idx[0], 2)
    with pytest.raises(ValueError, match="block_size"):
        model(torch.zeros(1, 25, dtype=torch.long))
    bert = _model(GPTConfig(50, 24, 2, 2, 16, causal=False))
    with pytest.raises(ValueError, match="bidirectional"):
        bert.generate(idx, 2)


def test_config_errors():
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(10, 8, 1, 3, 16)
    with pytest.raises(ValueError, match="n_layer"):
        GPTConfig(10, 8, 0, 2, 16)
    with pytest.raises(ValueError, match="dropout"):
        GPTConfig(10, 8, 1, 2, 16, dropout=1.0)


def test_mask_tokens_statistics():
    n = 400_000
    ids = torch.randint(1, 1000, (400, 1000), generator=mlbook.generator(8))
    inputs, labels = mask_tokens(ids, mask_id=0, vocab_size=1000, generator=mlbook.generator(9))
    sel = labels != -100
    assert torch.equal(labels[sel], ids[sel])
    assert torch.equal(inputs[~sel], ids[~sel])
    k = sel.sum().item()
    assert abs(k / n - 0.15) < 5 * math.sqrt(0.15 * 0.85 / n)
    masked = (inputs[sel] == 0).float().mean().item()
    kept = (inputs[sel] == ids[sel]).float().mean().item()
    other = 1 - masked - kept
    se = 5 * math.sqrt(0.25 / k)
    assert abs(masked - 0.8) < se
    assert abs(kept - (0.1 + 0.1 / 1000)) < se  # a random token may be the same token
    assert abs(other - 0.1 * (1 - 1 / 1000) + 0.1 / 1000) < se + 1e-3
    # the loss only sees selected positions
    logits = torch.randn(400, 1000, 5, generator=mlbook.generator(10))
    small = labels[:, :5].clone().clamp_min(0) % 5
    small[labels[:, :5] == -100] = -100
    loss = F.cross_entropy(logits[:, :5].reshape(-1, 5), small.reshape(-1), ignore_index=-100)
    keep = small.reshape(-1) != -100
    ref = F.cross_entropy(logits[:, :5].reshape(-1, 5)[keep], small.reshape(-1)[keep])
    assert torch.isclose(loss, ref)


def test_mask_tokens_errors():
    ids = torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="p must"):
        mask_tokens(ids, 0, 10, p=0.0)
    with pytest.raises(ValueError, match="integer"):
        mask_tokens(ids.float(), 0, 10)
    with pytest.raises(ValueError, match="vocab_size"):
        mask_tokens(ids, 0, 0)


def test_rmsnorm_equals_torch():
    x = torch.randn(4, 7, 12, generator=mlbook.generator(11), dtype=torch.float64)
    ours, ref = RMSNorm(12, eps=1e-6).double(), torch.nn.RMSNorm(12, eps=1e-6).double()
    w = torch.randn(12, generator=mlbook.generator(12), dtype=torch.float64)
    ours.weight.data.copy_(w)
    ref.weight.data.copy_(w)
    assert torch.allclose(ours(x), ref(x), atol=1e-12)
    with pytest.raises(ValueError):
        RMSNorm(0)


def test_swiglu_keeps_the_mlp_parameter_count():
    for d in (48, 96, 3 * 256):
        assert swiglu_hidden(d) == 8 * d // 3
        n = sum(p.numel() for p in SwiGLU(d).parameters())
        assert n == 8 * d * d == 2 * d * 4 * d
    assert swiglu_hidden(4096, multiple_of=256) == 11008  # LLaMA-7B
    x = torch.randn(3, 48, generator=mlbook.generator(13))
    m = SwiGLU(48)
    assert torch.allclose(m(x), m.w2(F.silu(m.w1(x)) * m.w3(x)))


def test_bradley_terry():
    r1, r2 = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0])
    ref = -(math.log(1 / (1 + math.exp(-2.0))) + math.log(1 / (1 + math.exp(1.0)))) / 2
    assert abs(bradley_terry_loss(r1, r2).item() - ref) < 1e-6
    g = mlbook.generator(14)
    X = torch.randn(30, 4, generator=g, dtype=torch.float64)
    w_true = torch.tensor([2.0, -1.0, 0.5, 0.0], dtype=torch.float64)
    i, j = torch.randint(30, (2, 3000), generator=g)
    p = torch.sigmoid(X[i] @ w_true - X[j] @ w_true)
    win = torch.rand(3000, generator=g, dtype=torch.float64) < p
    chosen, rejected = torch.where(win, i, j), torch.where(win, j, i)
    w = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    log = fit_reward_model(w, X, chosen, rejected, steps=150)
    assert len(log.losses) == 150 and log.losses[-1] < log.losses[0]
    assert torch.nn.functional.cosine_similarity(w.detach(), w_true, dim=0) > 0.98
    with pytest.raises(ValueError):
        fit_reward_model(w, X, chosen, rejected[:5])
    with pytest.raises(ValueError, match="requires_grad"):
        fit_reward_model(torch.zeros(4, dtype=torch.float64), X, chosen, rejected)
