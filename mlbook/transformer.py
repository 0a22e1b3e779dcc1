"""Transformer blocks and a small Vision Transformer (chapter 9).

The blocks follow Vaswani et al. (2017) and the labels of ``book/09_transformer.ipynb``: multi-head attention with
biases, a two-layer feed-forward network, residual connections and LayerNorm, either after the
residual sum (post-LN, the original) or before each sub-layer (pre-LN, GPT-2 and later). The
attribute names mirror torch's ``TransformerEncoderLayer``/``DecoderLayer`` so that
:func:`copy_from_torch` can copy their weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mlbook.attention import attention_weights

__all__ = [
    "MultiHeadAttention",
    "EncoderBlock",
    "DecoderBlock",
    "ViTConfig",
    "ViT",
    "copy_from_torch",
]


class MultiHeadAttention(nn.Module):
    """Multi-head attention with biases: Concat(head_1 … head_h) W_O + b_O (:eq:`eq-transformer-mha`).

    The last attention weights (B, h, n_q, n_k) are kept in ``self.weights`` for plotting.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model < 1 or n_heads < 1 or d_model % n_heads:
            raise ValueError(
                f"d_model={d_model} must be divisible by n_heads={n_heads} (both positive)"
            )
        self.d_model, self.n_heads, self.d_k = d_model, n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)
        self.weights: torch.Tensor | None = None

    def forward(
        self, x: torch.Tensor, kv: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x (B, n, C) queries; ``kv`` (B, m, C) keys and values (default x, self-attention);
        ``mask`` boolean, True = may attend, broadcast to (B, h, n, m). Returns (B, n, C)."""
        kv = x if kv is None else kv
        B, n, C = x.shape  # (B, n, C)
        m = kv.shape[1]

        def split(t: torch.Tensor, length: int) -> torch.Tensor:
            return t.view(B, length, self.n_heads, self.d_k).transpose(1, 2)  # (B, h, L, d_k)

        q, k, v = split(self.q_proj(x), n), split(self.k_proj(kv), m), split(self.v_proj(kv), m)
        weights = attention_weights(q, k, mask)  # (B, h, n, m)
        self.weights = weights.detach()
        z = self.dropout(weights) @ v  # (B, h, n, d_k)
        return self.out_proj(z.transpose(1, 2).reshape(B, n, C))  # (B, n, C)


def _feed_forward(d_model: int, d_ff: int, dropout: float, activation: str) -> nn.Sequential:
    acts = {"relu": nn.ReLU, "gelu": nn.GELU}
    if activation not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
    return nn.Sequential(
        nn.Linear(d_model, d_ff), acts[activation](), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
    )


class EncoderBlock(nn.Module):
    """One encoder layer. Post-LN (:eq:`eq-transformer-postln`): X' = LN(X + MHA(X)),
    Z = LN(X' + FFN(X')). Pre-LN (``norm_first=True``, Xiong et al. 2020,
    :eq:`eq-transformer-preln`): X' = X + MHA(LN(X)), Z = X' + FFN(LN(X'))."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        norm_first: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.ff = _feed_forward(d_model, d_ff, dropout, activation)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.norm_first:
            x = x + self.drop1(self.self_attn(self.norm1(x), mask=mask))
            return x + self.drop2(self.ff(self.norm2(x)))
        x = self.norm1(x + self.drop1(self.self_attn(x, mask=mask)))
        return self.norm2(x + self.drop2(self.ff(x)))


class DecoderBlock(nn.Module):
    """One decoder layer: masked self-attention, cross-attention to the encoder output
    ``memory``, then the FFN, each with a residual connection and LayerNorm (post- or pre-LN)."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.0,
        norm_first: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout)
        self.ff = _feed_forward(d_model, d_ff, dropout, activation)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.drop1, self.drop2, self.drop3 = (nn.Dropout(dropout) for _ in range(3))

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x (B, n, C) target, memory (B, m, C); ``mask`` for self-attention (e.g. causal)."""
        if self.norm_first:
            x = x + self.drop1(self.self_attn(self.norm1(x), mask=mask))
            x = x + self.drop2(self.cross_attn(self.norm2(x), kv=memory, mask=memory_mask))
            return x + self.drop3(self.ff(self.norm3(x)))
        x = self.norm1(x + self.drop1(self.self_attn(x, mask=mask)))
        x = self.norm2(x + self.drop2(self.cross_attn(x, kv=memory, mask=memory_mask)))
        return self.norm3(x + self.drop3(self.ff(x)))


def _copy_mha(mine: MultiHeadAttention, theirs: nn.MultiheadAttention) -> None:
    W, b = theirs.in_proj_weight, theirs.in_proj_bias  # (3C, C) = [W_q; W_k; W_v], used as x @ W^T
    C = mine.d_model
    for i, proj in enumerate((mine.q_proj, mine.k_proj, mine.v_proj)):
        proj.weight.copy_(W[i * C : (i + 1) * C])
        proj.bias.copy_(b[i * C : (i + 1) * C])
    mine.out_proj.weight.copy_(theirs.out_proj.weight)
    mine.out_proj.bias.copy_(theirs.out_proj.bias)


@torch.no_grad()
def copy_from_torch(
    block: EncoderBlock | DecoderBlock,
    layer: nn.TransformerEncoderLayer | nn.TransformerDecoderLayer,
) -> None:
    """Copy a torch ``TransformerEncoderLayer``/``DecoderLayer``'s weights into ``block``."""
    if isinstance(block, EncoderBlock) != isinstance(layer, nn.TransformerEncoderLayer):
        raise ValueError(
            "copy an EncoderBlock from a TransformerEncoderLayer, a DecoderBlock "
            "from a TransformerDecoderLayer"
        )
    _copy_mha(block.self_attn, layer.self_attn)
    if isinstance(block, DecoderBlock):
        _copy_mha(block.cross_attn, layer.multihead_attn)
        block.norm3.load_state_dict(layer.norm3.state_dict())
    block.ff[0].load_state_dict(layer.linear1.state_dict())
    block.ff[3].load_state_dict(layer.linear2.state_dict())
    block.norm1.load_state_dict(layer.norm1.state_dict())
    block.norm2.load_state_dict(layer.norm2.state_dict())


@dataclass
class ViTConfig:
    """A Vision Transformer's size (Dosovitskiy et al. 2021)."""

    image_size: int = 8
    patch_size: int = 2
    channels: int = 1
    n_classes: int = 10
    d_model: int = 32
    n_heads: int = 4
    n_layers: int = 2
    d_ff: int = 64
    dropout: float = 0.0


class ViT(nn.Module):
    """Patches → linear embeddings + [CLS] + learned positions → pre-LN encoder → class logits."""

    def __init__(self, config: ViTConfig | None = None, **kwargs: object) -> None:
        super().__init__()
        config = ViTConfig(**kwargs) if config is None else config  # type: ignore[arg-type]
        if config.image_size % config.patch_size:
            raise ValueError(
                f"patch_size={config.patch_size} must divide image_size={config.image_size}"
            )
        self.config = config
        p, C = config.patch_size, config.d_model
        self.n_patches = (config.image_size // p) ** 2
        self.patch_embed = nn.Linear(config.channels * p * p, C)
        self.cls = nn.Parameter(torch.zeros(1, 1, C))
        self.pos = nn.Parameter(0.02 * torch.randn(1, self.n_patches + 1, C))  # learned positions
        self.blocks = nn.ModuleList(
            EncoderBlock(
                C, config.n_heads, config.d_ff, config.dropout, norm_first=True, activation="gelu"
            )
            for _ in range(config.n_layers)
        )
        self.norm = nn.LayerNorm(C)
        self.head = nn.Linear(C, config.n_classes)

    def patches(self, images: torch.Tensor) -> torch.Tensor:
        """(B, c, H, W) → (B, N, c·p·p), patches in row-major order."""
        p = self.config.patch_size
        cfg = self.config
        if images.dim() != 4 or tuple(images.shape[1:]) != (
            cfg.channels,
            cfg.image_size,
            cfg.image_size,
        ):
            raise ValueError(
                f"images must have shape (B, {self.config.channels}, {self.config.image_size}, "
                f"{self.config.image_size}), got {tuple(images.shape)}"
            )
        x = images.unfold(2, p, p).unfold(3, p, p)  # (B, c, H/p, W/p, p, p)
        B, c, gh, gw = x.shape[:4]
        return x.permute(0, 2, 3, 1, 4, 5).reshape(B, gh * gw, c * p * p)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(self.patches(images))  # (B, N, C)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos  # (B, N+1, C)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))  # (B, n_classes)

    def attention_maps(self) -> list[torch.Tensor]:
        """The last forward pass's attention weights, one (B, h, N+1, N+1) tensor per layer."""
        return [block.self_attn.weights for block in self.blocks]
