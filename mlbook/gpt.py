"""A tiny GPT (and its bidirectional BERT-style sibling) with a KV cache (chapter 10).

Decoder-only Transformer as in GPT-2 (Radford et al. 2019): token and learned position
embeddings, ``n_layer`` pre-LN blocks x + Attn(LN(x)), x + MLP(LN(x)) with a 4d GELU MLP, a final
LayerNorm, and an output layer tied to the token embedding (Press & Wolf 2017). With
``causal=False`` the same class is a BERT-style encoder (Devlin et al. 2019) for masked language
modelling; ``n_segments`` and ``pooler`` add BERT's token-type embeddings and pooler so the class
can count BERT-base's parameters. The shape of the code follows nanoGPT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mlbook._checks import in_range, positive_int

__all__ = ["GPTConfig", "GPT", "KVCache", "param_count", "mask_tokens"]


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    block_size: int  # the longest context (learned positions 0 … block_size - 1)
    n_layer: int
    n_head: int
    n_embd: int
    dropout: float = 0.0
    causal: bool = True  # False: bidirectional attention (BERT)
    n_segments: int = 0  # BERT's token-type embeddings (2 in BERT, 0 in GPT)
    pooler: bool = False  # BERT's pooler: tanh(W h_[CLS] + b)

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            positive_int(getattr(self, name), name)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if self.n_segments < 0:
            raise ValueError(f"n_segments must be >= 0, got {self.n_segments}")


def param_count(config: GPTConfig) -> int:
    """The closed formula (:eq:`eq-lm-params`): V d + T d + S d + L (12 d² + 13 d) + 2 d
    (+ d² + d with the pooler).

    Per block: LayerNorm 2d, Q/K/V 3d² + 3d, output projection d² + d, LayerNorm 2d, MLP
    4d² + 4d and 4d² + d. The output layer is tied to the token embedding, so it adds nothing.
    """
    V, T, L, d, S = (
        config.vocab_size,
        config.block_size,
        config.n_layer,
        config.n_embd,
        config.n_segments,
    )
    return V * d + T * d + S * d + L * (12 * d * d + 13 * d) + 2 * d + (d * d + d) * config.pooler


class KVCache:
    """Keys and values of every layer for the tokens seen so far: k, v (L, B, h, T_max, d/h).

    The filled part, ``length`` positions, holds 2 · L · length · d numbers per sequence."""

    def __init__(self, config: GPTConfig, batch: int, device=None, dtype=torch.float32) -> None:
        shape = (
            config.n_layer,
            batch,
            config.n_head,
            config.block_size,
            config.n_embd // config.n_head,
        )
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.length = 0

    def numel(self) -> int:
        """Numbers held for the ``length`` cached positions (keys and values, all layers)."""
        return 2 * self.k[..., : self.length, :].numel()


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head, self.causal = config.n_head, config.causal
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)  # W_Q, W_K, W_V side by side
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0):
        B, T, C = x.shape  # (B, T, C)
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        past = 0
        if cache is not None:  # append this step's keys and values, attend to all of them
            past = cache.length
            cache.k[layer, :, :, past : past + T] = k
            cache.v[layer, :, :, past : past + T] = v
            k, v = cache.k[layer, :, :, : past + T], cache.v[layer, :, :, : past + T]
        mask = None
        if self.causal and T > 1 and past > 0:  # query i sits at position past + i
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(past)
        y = F.scaled_dot_product_attention(  # (B, h, T, C/h)
            q,
            k,
            v,
            attn_mask=mask,
            is_causal=self.causal and T > 1 and past == 0,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))  # (B, T, C)


class Block(nn.Module):
    """Pre-LN block: x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        d = config.n_embd
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = CausalSelfAttention(config)
        self.mlp = nn.Sequential(
            nn.Linear(d, 4 * d), nn.GELU(approximate="tanh"), nn.Linear(4 * d, d)
        )
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0):
        x = x + self.drop(self.attn(self.ln_1(x), cache, layer))
        return x + self.drop(self.mlp(self.ln_2(x)))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = c = config
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.block_size, c.n_embd)
        self.wse = nn.Embedding(c.n_segments, c.n_embd) if c.n_segments else None
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.n_embd)
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying
        self.pooler = nn.Linear(c.n_embd, c.n_embd) if c.pooler else None
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2: scale residual projections by 1/√(2L)
            if name.endswith(("c_proj.weight", "mlp.2.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def hidden(
        self,
        idx: torch.Tensor,
        kv_cache: KVCache | None = None,
        segments: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The final hidden states (B, T, C) of the tokens ``idx`` (B, T)."""
        B, T = idx.shape
        past = kv_cache.length if kv_cache is not None else 0
        if past + T > self.config.block_size:
            raise ValueError(f"{past + T} positions exceed block_size={self.config.block_size}")
        pos = torch.arange(past, past + T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)  # (B, T, C)
        if self.wse is not None:
            x = x + self.wse(torch.zeros_like(idx) if segments is None else segments)
        x = self.drop(x)
        for i, block in enumerate(self.blocks):
            x = block(x, kv_cache, i)
        if kv_cache is not None:
            kv_cache.length += T
        return self.ln_f(x)

    def forward(self, idx: torch.Tensor, kv_cache: KVCache | None = None) -> torch.Tensor:
        """Logits (B, T, V) of the next token at every position of ``idx`` (B, T), the model of
        :eq:`eq-lm-gpt`; their cross-entropy with the next tokens is :eq:`eq-lm-ar-loss`."""
        return self.lm_head(self.hidden(idx, kv_cache))

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> torch.Tensor:
        """Append ``max_new_tokens`` sampled tokens to ``idx`` (B, T); returns (B, T + new).

        ``temperature=0`` is greedy decoding (argmax); ``top_k`` keeps the k most likely tokens.
        With ``use_cache`` each step feeds only the newest token and reuses the cached keys and
        values; when the context outgrows ``block_size`` the cache is rebuilt on the last
        ``block_size`` tokens, which is exactly what the uncached path sees."""
        V, T_max = self.config.vocab_size, self.config.block_size
        if idx.dim() != 2 or idx.shape[1] < 1 or idx.dtype != torch.long:
            raise ValueError(
                f"idx must be a (B, T >= 1) tensor of token ids, got {tuple(idx.shape)}"
            )
        if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {temperature}")
        if top_k is not None and not 1 <= top_k <= V:
            raise ValueError(f"top_k must lie in [1, {V}] or be None, got {top_k}")
        if not self.config.causal:
            raise ValueError("a bidirectional (causal=False) model cannot generate left to right")
        cache = None
        for _ in range(max_new_tokens):
            if not use_cache:
                logits = self(idx[:, -T_max:])
            elif cache is None or cache.length == T_max:  # (re)fill the cache on the window
                cache = KVCache(self.config, idx.shape[0], idx.device, self.wte.weight.dtype)
                logits = self(idx[:, -T_max:], cache)
            else:
                logits = self(idx[:, -1:], cache)
            nxt = sample_next(logits[:, -1, :], temperature, top_k, generator)  # (B, 1)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One token per row of ``logits`` (B, V): softmax(logits / T) restricted to the top k."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits.float(), dim=-1)
    return torch.multinomial(probs, 1, generator=generator)  # (B, 1)


def mask_tokens(
    ids: torch.Tensor,
    mask_id: int,
    vocab_size: int,
    p: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking (Devlin et al. 2019): each position is selected with probability ``p``;
    a selected token becomes ``mask_id`` (80 %), a uniform random token of ``range(vocab_size)``
    (10 %) or stays (10 %). Returns (inputs, labels); labels are -100 (ignored by
    ``F.cross_entropy``) where not selected and the original token where selected; the loss on
    the selected positions is :eq:`eq-lm-mlm-loss`."""
    if ids.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"ids must be an integer tensor, got {ids.dtype}")
    in_range(p, "p", 0, 1, lo_open=True)
    positive_int(vocab_size, "vocab_size")
    dev = generator.device if generator is not None else ids.device
    selected = torch.rand(ids.shape, generator=generator, device=dev).to(ids.device) < p
    u = torch.rand(ids.shape, generator=generator, device=dev).to(ids.device)
    random_ids = torch.randint(vocab_size, ids.shape, generator=generator, device=dev)
    inputs = ids.clone()
    inputs[selected & (u < 0.8)] = mask_id
    swap = selected & (u >= 0.8) & (u < 0.9)
    inputs[swap] = random_ids.to(ids.device, ids.dtype)[swap]
    labels = torch.where(selected, ids, torch.full_like(ids, -100))
    return inputs, labels
