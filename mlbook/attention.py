"""Attention from the equations: scores, scaled dot-product and multi-head attention, masks,
positional encodings and a linear-attention variant (chapter 9).

Equations are cited by their labels in ``book/09_transformer.ipynb``. Conventions: an input X of shape (B, n, d_model) is projected as
``X @ W`` (so W has shape (d_model, d_out)); torch's own layers store the transpose and compute
``x @ W.T``. Boolean masks follow :func:`torch.nn.functional.scaled_dot_product_attention`:
True means "may attend", and the mask broadcasts against the (..., n_q, n_k) score matrix.
"""

from __future__ import annotations

import math

import torch

from mlbook._checks import positive_int
from mlbook.core import generator as generator_for_seed

__all__ = [
    "dot_score",
    "general_score",
    "additive_score",
    "attention_weights",
    "scaled_dot_product_attention",
    "multi_head_attention",
    "causal_mask",
    "sinusoidal_encoding",
    "pe_shift_matrix",
    "linear_attention",
    "local_mask",
    "bigbird_mask",
]


def _check_last_dims(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    if q.dim() < 2 or k.dim() < 2 or v.dim() < 2:
        raise ValueError(
            f"q, k, v need at least 2 dimensions (..., n, d); got {q.dim()}, {k.dim()}, {v.dim()}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must share their last dimension d_k; got {q.shape[-1]} and {k.shape[-1]}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"k and v must have the same number of positions; got {k.shape[-2]} and {v.shape[-2]}"
        )


def dot_score(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Luong's dot score  s(q, k) = q·k  for q (..., n_q, d), k (..., n_k, d) → (..., n_q, n_k)."""
    return q @ k.transpose(-2, -1)


def general_score(q: torch.Tensor, k: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Luong's general (bilinear) score  s(q, k) = q^T W k  with W of shape (d_q, d_k)."""
    if W.shape != (q.shape[-1], k.shape[-1]):
        raise ValueError(
            f"W must have shape (d_q, d_k) = {(q.shape[-1], k.shape[-1])}, got {tuple(W.shape)}"
        )
    return q @ W @ k.transpose(-2, -1)


def additive_score(
    q: torch.Tensor, k: torch.Tensor, W_q: torch.Tensor, W_k: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """Bahdanau's additive score  s(q, k) = v^T tanh(W_q q + W_k k).

    Shapes: q (..., n_q, d_q), k (..., n_k, d_k), W_q (d_q, d_a), W_k (d_k, d_a), v (d_a,);
    returns (..., n_q, n_k). Every pair (i, j) is formed by broadcasting, so memory is n_q·n_k·d_a.
    """
    if W_q.shape[0] != q.shape[-1] or W_k.shape[0] != k.shape[-1] or W_q.shape[1] != W_k.shape[1]:
        raise ValueError(
            f"need W_q (d_q, d_a), W_k (d_k, d_a) with d_q={q.shape[-1]}, d_k={k.shape[-1]}; "
            f"got {tuple(W_q.shape)} and {tuple(W_k.shape)}"
        )
    if v.shape != (W_q.shape[1],):
        raise ValueError(f"v must have shape (d_a,) = ({W_q.shape[1]},), got {tuple(v.shape)}")
    hidden = torch.tanh((q @ W_q).unsqueeze(-2) + (k @ W_k).unsqueeze(-3))  # (..., n_q, n_k, d_a)
    return hidden @ v  # (..., n_q, n_k)


def attention_weights(
    q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """The weights softmax(Q K^T / √d_k) of scaled dot-product attention (:eq:`eq-transformer-sdpa`), with an
    optional boolean ``mask`` (True = may attend) broadcastable to (..., n_q, n_k).

    q (..., n_q, d_k), k (..., n_k, d_k) → (..., n_q, n_k); rows sum to 1, masked entries are
    exactly 0, and a row whose mask is all False gets NaN, as in torch.
    """
    scores = dot_score(q, k) / math.sqrt(q.shape[-1])  # (..., n_q, n_k)
    if mask is not None:
        if mask.dtype != torch.bool:
            raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
        try:
            torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError as err:
            raise ValueError(
                f"mask of shape {tuple(mask.shape)} does not broadcast to the scores "
                f"{tuple(scores.shape)}"
            ) from err
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention(Q, K, V) = softmax(Q K^T / √d_k) V  (:eq:`eq-transformer-sdpa`).

    q (..., n_q, d_k), k (..., n_k, d_k), v (..., n_k, d_v). ``mask``: boolean, True = may attend,
    broadcastable to (..., n_q, n_k) (as torch's). Returns (output (..., n_q, d_v),
    weights (..., n_q, n_k)). A query row whose mask is all False gets NaN, as in torch.
    """
    _check_last_dims(q, k, v)
    weights = attention_weights(q, k, mask)  # (..., n_q, n_k)
    return weights @ v, weights


def multi_head_attention(
    x: torch.Tensor,
    W_q: torch.Tensor,
    W_k: torch.Tensor,
    W_v: torch.Tensor,
    W_o: torch.Tensor,
    n_heads: int,
    mask: torch.Tensor | None = None,
    kv: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MultiHead(X) = Concat(Z_1, …, Z_h) W_O with Z_i = Attention(X W_Q^(i), X W_K^(i), X W_V^(i)).

    x (B, n, d_model); W_q, W_k, W_v (d_model, d_model), head i uses columns
    i·d_k … (i+1)·d_k − 1 (d_k = d_model / n_heads); W_o (d_model, d_model); no biases (:eq:`eq-transformer-mha`).
    ``kv`` (B, m, d_model), if given, supplies keys and values (cross-attention). ``mask``
    broadcasts to (B, h, n, m). Returns (output (B, n, d_model), weights (B, h, n, m)).
    """
    if x.dim() != 3:
        raise ValueError(f"x must have shape (B, n, d_model), got {tuple(x.shape)}")
    d_model = x.shape[-1]
    if not isinstance(n_heads, int) or n_heads < 1 or d_model % n_heads:
        raise ValueError(
            f"d_model={d_model} must be divisible by n_heads (a positive integer), got {n_heads!r}"
        )
    for name, W in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v), ("W_o", W_o)):
        if W.shape != (d_model, d_model):
            raise ValueError(f"{name} must have shape {(d_model, d_model)}, got {tuple(W.shape)}")
    kv = x if kv is None else kv
    if kv.dim() != 3 or kv.shape[0] != x.shape[0] or kv.shape[2] != d_model:
        raise ValueError(
            f"kv must have shape (B, m, d_model) = ({x.shape[0]}, m, {d_model}), "
            f"got {tuple(kv.shape)}"
        )
    B, n, _ = x.shape
    m = kv.shape[1]
    d_k = d_model // n_heads

    def split(t: torch.Tensor, length: int) -> torch.Tensor:  # (B, L, C) → (B, h, L, d_k)
        return t.view(B, length, n_heads, d_k).transpose(1, 2)

    q = split(x @ W_q, n)  # (B, h, n, d_k)
    k = split(kv @ W_k, m)  # (B, h, m, d_k)
    v = split(kv @ W_v, m)  # (B, h, m, d_k)
    z, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, h, n, d_k), (B, h, n, m)
    z = z.transpose(1, 2).reshape(B, n, d_model)  # Concat(Z_1, …, Z_h): (B, n, d_model)
    return z @ W_o, weights


def causal_mask(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """(n, n) boolean mask, True on and below the diagonal: position i may attend to j ≤ i."""
    positive_int(n, "n")
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


def sinusoidal_encoding(
    n_positions: int, d_model: int, base: float = 10000.0, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """PE(pos, 2i) = sin(pos / base^(2i/d_model)), PE(pos, 2i+1) = cos(pos / base^(2i/d_model)).

    :eq:`eq-transformer-pe`; i = 0 … d_model/2 − 1. Returns (n_positions, d_model).
    """
    positive_int(n_positions, "n_positions")
    if d_model < 2 or d_model % 2:
        raise ValueError(f"d_model must be a positive even integer, got {d_model}")
    pos = torch.arange(n_positions, dtype=torch.float64).unsqueeze(1)  # (n, 1)
    omega = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d/2,)
    pe = torch.empty(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * omega)
    pe[:, 1::2] = torch.cos(pos * omega)
    return pe.to(dtype)


def pe_shift_matrix(k: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The (d_model, d_model) matrix M_k with PE(pos + k) = M_k PE(pos) for every pos.

    Block-diagonal: the block for frequency ω_i is the rotation [[cos kω_i, sin kω_i],
    [−sin kω_i, cos kω_i]] acting on (sin, cos) pairs; it does not depend on pos. float64.
    """
    if d_model < 2 or d_model % 2:
        raise ValueError(f"d_model must be a positive even integer, got {d_model}")
    omega = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    c, s = torch.cos(k * omega), torch.sin(k * omega)
    M = torch.zeros(d_model, d_model, dtype=torch.float64)
    idx = torch.arange(0, d_model, 2)
    M[idx, idx] = c  # sin(a+b) = sin a cos b + cos a sin b
    M[idx, idx + 1] = s
    M[idx + 1, idx] = -s  # cos(a+b) = cos a cos b − sin a sin b
    M[idx + 1, idx + 1] = c
    return M


def linear_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    """Non-causal linear attention (Katharopoulos et al. 2020, eqs. 5–7), φ(x) = elu(x) + 1.

    out_i = φ(q_i)^T (Σ_j φ(k_j) v_j^T) / (φ(q_i)^T Σ_j φ(k_j)); cost O(n d_k d_v), never
    forming the n×n matrix (:eq:`eq-transformer-linear`). q (..., n, d_k),
    k (..., m, d_k), v (..., m, d_v); returns (..., n, d_v).
    """
    _check_last_dims(q, k, v)
    phi_q = torch.nn.functional.elu(q) + 1  # (..., n, d_k)
    phi_k = torch.nn.functional.elu(k) + 1  # (..., m, d_k)
    kv = phi_k.transpose(-2, -1) @ v  # (..., d_k, d_v)
    normaliser = phi_q @ phi_k.sum(dim=-2).unsqueeze(-1)  # (..., n, 1)
    return (phi_q @ kv) / (normaliser + eps)


def local_mask(n: int, window: int) -> torch.Tensor:
    """(n, n) sliding-window mask (Longformer): i may attend to j with |i − j| ≤ window."""
    if n < 1 or window < 0:
        raise ValueError(f"need n >= 1 and window >= 0, got n={n}, window={window}")
    i = torch.arange(n)
    return (i[:, None] - i[None, :]).abs() <= window


def bigbird_mask(
    n: int, window: int, n_global: int, n_random: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(n, n) BigBird-style mask: sliding window + the first ``n_global`` global tokens
    (attend to and attended by all) + ``n_random`` random keys per query, drawn with ``generator``
    (``None``: the book's fixed draw ``mlbook.generator(0)``)."""
    if n_global < 0 or n_random < 0 or n_global > n or n_random > n:
        raise ValueError(
            f"need 0 <= n_global, n_random <= n={n}; got n_global={n_global}, n_random={n_random}"
        )
    mask = local_mask(n, window)
    mask[:n_global, :] = True
    mask[:, :n_global] = True
    gen = generator_for_seed(0) if generator is None else generator
    if n_random:
        cols = torch.rand(n, n, generator=gen).argsort(dim=1)[:, :n_random]  # (n, n_random)
        mask[torch.arange(n).unsqueeze(1), cols] = True
    return mask
