"""A mini-CLIP: contrastive image–text learning, zero-shot classification, retrieval (chapter 14).

Follows Radford et al. (2021); equations are cited by their labels in ``book/14_clip.ipynb``.
Images and captions are encoded by two small networks, projected to a shared space and
L2-normalised; training minimises the symmetric contrastive (InfoNCE) loss (:eq:`eq-clip-loss`)

    L = ½ [ (1/N) Σ_i −log softmax_j(s_ij/τ)_i  +  (1/N) Σ_i −log softmax_j(s_ji/τ)_i ],

s_ij the cosine similarity of image i and text j, τ the temperature. The text side is a
character-level tokenizer and a bag-of-characters encoder (embeddings, masked mean, MLP), small
enough to train on a CPU in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mlbook._checks import positive, positive_int
from mlbook._nets import mlp
from mlbook.core import TrainLog, single_thread

__all__ = [
    "CharTokenizer",
    "contrastive_loss",
    "ImageEncoder",
    "TextEncoder",
    "MiniCLIP",
    "train_clip",
    "class_text_embeddings",
    "zero_shot_classify",
    "recall_at_k",
]

PAD, UNK = 0, 1


class CharTokenizer:
    """Character-level tokenizer: id 0 pads, id 1 is UNK (a character not seen when built)."""

    def __init__(self, texts: Iterable[str]) -> None:
        chars = sorted(set("".join(texts)))
        if not chars:
            raise ValueError("texts must contain at least one character to build a vocabulary")
        self.vocab: list[str] = ["<pad>", "<unk>", *chars]
        self.index: dict[str, int] = {c: i for i, c in enumerate(self.vocab)}

    def __len__(self) -> int:
        return len(self.vocab)

    def ids(self, text: str) -> list[int]:
        """The ids of the characters of ``text`` (UNK for unknown ones)."""
        return [self.index.get(c, UNK) for c in text]

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """A batch of texts as an int64 tensor (B, T), right-padded with PAD to the longest."""
        if isinstance(texts, str):
            raise ValueError("texts must be a sequence of strings, not a single string")
        if len(texts) == 0:
            raise ValueError("texts must not be empty")
        rows = [self.ids(t) for t in texts]
        if any(len(r) == 0 for r in rows):
            raise ValueError("every text must have at least one character")
        T = max(len(r) for r in rows)
        out = torch.full((len(rows), T), PAD, dtype=torch.int64)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.tensor(r, dtype=torch.int64)
        return out

    def unk_fraction(self, texts: Sequence[str]) -> float:
        """The fraction of characters of ``texts`` that are unknown to the vocabulary."""
        ids = [i for t in texts for i in self.ids(t)]
        return sum(i == UNK for i in ids) / max(len(ids), 1)


def contrastive_loss(
    image_emb: torch.Tensor, text_emb: torch.Tensor, temperature: float | torch.Tensor
) -> torch.Tensor:
    """The symmetric contrastive (InfoNCE) loss of CLIP (:eq:`eq-clip-loss`; Radford et al. 2021, Fig. 3).

    ``image_emb`` and ``text_emb`` are (N, d), row i of each forming a pair; they are
    L2-normalised here, so the logits are cosine similarities divided by ``temperature``.
    Returns the mean of the image→text and the text→image cross-entropies (a scalar); the
    source's formula is twice this (it sums the two directions).
    """
    if image_emb.ndim != 2 or text_emb.ndim != 2:
        raise ValueError(
            f"image_emb and text_emb must be 2-D (N, d), got shapes {tuple(image_emb.shape)} "
            f"and {tuple(text_emb.shape)}"
        )
    if image_emb.shape != text_emb.shape:
        raise ValueError(
            f"image_emb and text_emb must have the same shape (N, d), got "
            f"{tuple(image_emb.shape)} and {tuple(text_emb.shape)}"
        )
    if image_emb.shape[0] < 1:
        raise ValueError("the batch must hold at least one pair")
    tau = torch.as_tensor(temperature, dtype=image_emb.dtype, device=image_emb.device)
    if tau.numel() != 1 or not bool(tau > 0):
        raise ValueError(f"temperature must be a positive scalar, got {temperature!r}")
    v = F.normalize(image_emb, dim=1)
    u = F.normalize(text_emb, dim=1)
    logits = v @ u.T / tau  # (N, N): s_ij / τ, rows = images, columns = texts
    target = torch.arange(len(v), device=v.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


class ImageEncoder(nn.Module):
    """f_img: an MLP on flattened images (N, in_dim) → features (N, out_dim)."""

    def __init__(self, in_dim: int = 64, hidden: int = 128, out_dim: int = 64) -> None:
        super().__init__()
        for value, name in ((in_dim, "in_dim"), (hidden, "hidden"), (out_dim, "out_dim")):
            positive_int(value, name)
        self.net = mlp([in_dim, hidden, hidden, out_dim], nn.GELU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class TextEncoder(nn.Module):
    """f_text: character embeddings, mean over the non-pad positions, then an MLP."""

    def __init__(
        self, vocab_size: int, emb_dim: int = 32, hidden: int = 128, out_dim: int = 64
    ) -> None:
        super().__init__()
        for value, name in ((vocab_size, "vocab_size"), (emb_dim, "emb_dim"), (hidden, "hidden")):
            positive_int(value, name)
        positive_int(out_dim, "out_dim")
        self.embed = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.net = mlp([emb_dim, hidden, out_dim], nn.GELU)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = (ids != PAD).unsqueeze(-1).to(self.embed.weight.dtype)  # (B, T, 1)
        pooled = (self.embed(ids) * mask).sum(1) / mask.sum(1).clamp_min(1.0)  # (B, emb_dim)
        return self.net(pooled)


class MiniCLIP(nn.Module):
    """Two encoders (to ``feature_dim`` features), two linear projections W_img, W_text into a
    shared ``embed_dim`` space (the cosine similarities s_ij of :eq:`eq-clip-cos`), and a temperature τ (learned as log(1/τ),
    clipped so that 1/τ ≤ 100, as in CLIP)."""

    def __init__(
        self,
        tokenizer: CharTokenizer,
        image_dim: int = 64,
        embed_dim: int = 32,
        temperature: float = 0.07,
        learn_temperature: bool = True,
        feature_dim: int = 64,
    ) -> None:
        super().__init__()
        positive(temperature, "temperature")
        positive_int(embed_dim, "embed_dim")
        self.tokenizer = tokenizer
        self.image_encoder = ImageEncoder(image_dim, out_dim=feature_dim)
        self.text_encoder = TextEncoder(len(tokenizer), out_dim=feature_dim)
        self.image_proj = nn.Linear(feature_dim, embed_dim, bias=False)  # W_img
        self.text_proj = nn.Linear(feature_dim, embed_dim, bias=False)  # W_text
        log_scale = torch.log(torch.tensor(1.0 / temperature))
        if learn_temperature:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)

    @property
    def temperature(self) -> torch.Tensor:
        """τ = 1 / min(exp(log_scale), 100)."""
        return 1.0 / self.log_scale.exp().clamp(max=100.0)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """Unit-norm image embeddings (N, embed_dim)."""
        return F.normalize(self.image_proj(self.image_encoder(images)), dim=1)

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """Unit-norm text embeddings (N, embed_dim) of a list of strings."""
        ids = self.tokenizer.encode(texts).to(self.log_scale.device)
        return F.normalize(self.text_proj(self.text_encoder(ids)), dim=1)

    def forward(self, images: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """The contrastive loss of a batch of pairs at the current temperature."""
        return contrastive_loss(
            self.encode_image(images), self.encode_text(texts), self.temperature
        )


def train_clip(
    model: MiniCLIP,
    images: torch.Tensor,
    captions: Sequence[str],
    epochs: int = 30,
    batch_size: int = 128,
    lr: float = 3e-3,
    generator: torch.Generator | None = None,
    unk_dropout: float = 0.15,
) -> TrainLog:
    """Adam on the contrastive loss (:eq:`eq-clip-loss`) over shuffled mini-batches of pairs;
    ``model`` is trained in place. Returns a :class:`mlbook.TrainLog` whose ``losses`` are the
    loss of every step. The order of the pairs and the dropped characters are drawn with
    ``generator`` (``None``: torch's default generator).

    ``unk_dropout``: each character of a training caption is replaced by UNK with this
    probability (fresh in every batch), so that the UNK embedding is trained and the text
    encoder learns not to depend on any single character of a template.
    """
    if not 0.0 <= unk_dropout < 1.0:
        raise ValueError(f"unk_dropout must lie in [0, 1), got {unk_dropout!r}")
    if len(images) != len(captions):
        raise ValueError(
            f"images and captions must pair up, got {len(images)} images, {len(captions)} captions"
        )
    if epochs < 1 or batch_size < 2:
        raise ValueError(f"need epochs >= 1 and batch_size >= 2, got {epochs=}, {batch_size=}")
    dev = model.log_scale.device
    images = images.to(dev)
    ids = model.tokenizer.encode(captions).to(dev)
    gen = generator
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: list[float] = []
    model.train()
    with single_thread(dev):  # small matrices: one thread is faster on a shared CPU
        for _ in range(epochs):
            perm = torch.randperm(len(images), generator=gen).to(dev)
            for start in range(0, len(images) - batch_size + 1, batch_size):  # full batches
                b = perm[start : start + batch_size]
                v = model.image_proj(model.image_encoder(images[b]))
                ids_b = ids[b]
                if unk_dropout > 0:
                    drop = torch.rand(ids_b.shape, generator=gen).to(dev) < unk_dropout
                    ids_b = ids_b.masked_fill(drop & (ids_b != PAD), UNK)
                u = model.text_proj(model.text_encoder(ids_b))
                loss = contrastive_loss(v, u, model.temperature)
                opt.zero_grad()
                loss.backward()
                opt.step()
                history.append(loss.item())
    model.eval()
    return TrainLog(history)


@torch.no_grad()
def class_text_embeddings(
    model: MiniCLIP, class_prompts: Sequence[str | Sequence[str]]
) -> torch.Tensor:
    """One unit vector per class (C, d). A class given several prompts gets the mean of their
    normalised embeddings, renormalised (prompt ensembling, Radford et al. 2021 §3.1.4)."""
    if len(class_prompts) < 2:
        raise ValueError(f"need prompts for at least 2 classes, got {len(class_prompts)}")
    groups = [[p] if isinstance(p, str) else list(p) for p in class_prompts]
    if any(len(g) == 0 for g in groups):
        raise ValueError("every class needs at least one prompt")
    flat = [p for g in groups for p in g]
    emb = model.encode_text(flat)  # (sum of group sizes, d)
    owner = torch.repeat_interleave(
        torch.tensor([len(g) for g in groups], device=emb.device)
    )  # class of each prompt
    mean = torch.zeros(len(groups), emb.shape[1], device=emb.device).index_add_(0, owner, emb)
    return F.normalize(mean, dim=1)


@torch.no_grad()
def zero_shot_classify(
    model: MiniCLIP,
    images: torch.Tensor,
    class_prompts: Sequence[str | Sequence[str]],
    return_scores: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Predict, for each image, the class whose prompt embedding is most cosine-similar.

    ``class_prompts[c]`` is a prompt string or a list of prompts (ensembled) for class c.
    Returns the predicted classes (N,), and the similarities (N, C) with ``return_scores``.
    """
    model.eval()
    dev = model.log_scale.device
    text = class_text_embeddings(model, class_prompts)  # (C, d)
    scores = model.encode_image(images.to(dev)) @ text.T  # (N, C) cosine similarities
    pred = scores.argmax(dim=1)
    return (pred, scores) if return_scores else pred


def recall_at_k(similarity: torch.Tensor, k: int, relevant: torch.Tensor | None = None) -> float:
    """Recall@k of retrieval: the fraction of queries (rows of ``similarity``, (Q, G)) with at
    least one relevant gallery item among their k most similar. ``relevant`` (Q, G) bool defaults
    to the identity (query i's only match is gallery item i)."""
    if similarity.ndim != 2:
        raise ValueError(f"similarity must be 2-D (queries, gallery), got {similarity.ndim}-D")
    Q, G = similarity.shape
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= G:
        raise ValueError(f"k must be an integer in 1..{G} (the gallery size), got {k!r}")
    if relevant is None:
        if Q != G:
            raise ValueError(f"the default (identity) relevance needs a square matrix, got {Q}×{G}")
        relevant = torch.eye(Q, dtype=torch.bool, device=similarity.device)
    if relevant.shape != similarity.shape:
        raise ValueError(
            f"relevant must have the shape of similarity {tuple(similarity.shape)}, "
            f"got {tuple(relevant.shape)}"
        )
    top = similarity.topk(k, dim=1).indices  # (Q, k)
    hit = relevant.to(similarity.device).gather(1, top).any(dim=1)
    return hit.float().mean().item()
