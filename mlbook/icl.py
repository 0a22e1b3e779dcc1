"""In-context learning of linear functions (chapter 11), after Garg et al. (2022) and
von Oswald et al. (2023).

A prompt is (x_1, y_1, …, x_k, y_k, x_q) with y = w·x + σ ε, w ~ N(0, I_d) drawn afresh for every
prompt. The baselines predict y_q from the k examples of one prompt: ridge regression (with
λ = σ² it is the Bayes posterior mean, :eq:`eq-llm-ridge`), 1-nearest neighbour and averaging
(x_q · mean(y_i x_i), which is one gradient step from w = 0). ``ICLTransformer`` is a small causal
Transformer (the blocks of :mod:`mlbook.gpt`) that reads the prompt as 2k + 1 tokens and predicts
y after every x token; ``lsa_gd_weights`` builds the linear self-attention layer whose output
equals one gradient-descent step on the in-context loss (:eq:`eq-llm-lsa-gd`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook._checks import nonneg, positive, positive_int, tensor_ndim
from mlbook.core import TrainLog
from mlbook.gpt import Block, GPTConfig

__all__ = [
    "ICLTransformer",
    "averaging_predict",
    "gd_step_predict",
    "linear_self_attention",
    "linear_tasks",
    "load_pretrained",
    "lsa_gd_weights",
    "nn_predict",
    "prefix_errors",
    "ridge_predict",
    "train_icl",
]


def linear_tasks(
    n_prompts: int,
    d: int,
    k: int,
    noise: float,
    generator: torch.Generator | None = None,
    x_scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_prompts`` prompts of k + 1 points: xs (n, k + 1, d) ~ N(0, x_scale² I), ys (n, k + 1)
    = xs·w + noise·ε with one w ~ N(0, I_d) per prompt. The last point is the query."""
    n_prompts, d, k = (
        positive_int(n_prompts, "n_prompts"),
        positive_int(d, "d"),
        positive_int(k, "k"),
    )
    noise, x_scale = nonneg(noise, "noise"), positive(x_scale, "x_scale")
    xs = torch.randn(n_prompts, k + 1, d, generator=generator) * x_scale
    w = torch.randn(n_prompts, d, 1, generator=generator)
    ys = (xs @ w).squeeze(-1) + noise * torch.randn(n_prompts, k + 1, generator=generator)
    return xs, ys


def _split(xs: torch.Tensor, ys: torch.Tensor):
    xs = tensor_ndim(xs, "xs", 3, "(n, k + 1, d)")
    ys = tensor_ndim(ys, "ys", 2, "(n, k + 1)")
    if ys.shape != xs.shape[:2] or xs.shape[1] < 1:
        raise ValueError(
            f"xs {tuple(xs.shape)} and ys {tuple(ys.shape)} must be (n, k+1, d), (n, k+1)"
        )
    return xs[:, :-1].double(), ys[:, :-1].double(), xs[:, -1].double()


def ridge_predict(xs: torch.Tensor, ys: torch.Tensor, lam: float) -> torch.Tensor:
    """Ridge regression on the first k points of each prompt, evaluated at its last x (:eq:`eq-llm-ridge`):
    ŵ = (XᵀX + λI)⁻¹Xᵀy; λ = 0 gives the minimum-norm least-squares solution. Returns (n,)."""
    lam = nonneg(lam, "lam")
    X, y, xq = _split(xs, ys)
    if X.shape[1] == 0:
        return torch.zeros(xs.shape[0], dtype=xs.dtype)
    if lam == 0:
        w = torch.linalg.pinv(X) @ y.unsqueeze(-1)
    else:
        eye = torch.eye(X.shape[-1], dtype=X.dtype)
        w = torch.linalg.solve(X.mT @ X + lam * eye, X.mT @ y.unsqueeze(-1))
    return (xq.unsqueeze(1) @ w).reshape(-1).to(xs.dtype)


def nn_predict(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """1-nearest neighbour: the y of the context x closest (Euclidean) to the query. (n,)"""
    X, y, xq = _split(xs, ys)
    if X.shape[1] == 0:
        return torch.zeros(xs.shape[0], dtype=xs.dtype)
    nearest = (X - xq.unsqueeze(1)).square().sum(-1).argmin(-1)
    return y.gather(1, nearest.unsqueeze(1)).squeeze(1).to(xs.dtype)


def averaging_predict(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """x_q · (1/k) Σ y_i x_i (Garg et al.'s "averaging"): :func:`gd_step_predict` with η = 1."""
    return gd_step_predict(xs, ys, 1.0)


def gd_step_predict(xs: torch.Tensor, ys: torch.Tensor, eta: float) -> torch.Tensor:
    """One gradient step from w = 0 on L(w) = (1/2k) Σ (w·x_i − y_i)², then w·x_q (:eq:`eq-llm-lsa-gd`)."""
    X, y, xq = _split(xs, ys)
    if X.shape[1] == 0:
        return torch.zeros(xs.shape[0], dtype=xs.dtype)
    w = eta * (y.unsqueeze(-1) * X).mean(1)  # −η ∇L(0)
    return (w * xq).sum(-1).to(xs.dtype)


def linear_self_attention(
    e: torch.Tensor, w_k: torch.Tensor, w_q: torch.Tensor, w_v: torch.Tensor, p: torch.Tensor
) -> torch.Tensor:
    """One linear (softmax-free) self-attention layer with a residual, at the last token:
    e_q + P W_V Σ_j e_j (e_jᵀ W_Kᵀ W_Q e_q) over the context tokens j (von Oswald et al. 2023).

    ``e`` (n, k + 1, d + 1) holds the tokens (x_j, y_j) and the query (x_q, 0) last. Returns the
    updated query token (n, d + 1)."""
    e = tensor_ndim(e, "e", 3, "(n, k + 1, d + 1)")
    ctx, q = e[:, :-1], e[:, -1]
    scores = (ctx @ w_k.mT) @ (w_q @ q.unsqueeze(-1))  # (n, k, 1): (W_K e_j)·(W_Q e_q)
    values = ctx @ w_v.mT @ p.mT  # (n, k, d + 1): P W_V e_j
    return q + (scores * values).sum(1)


def lsa_gd_weights(d: int, eta: float, k: int) -> tuple[torch.Tensor, ...]:
    """W_K = W_Q = [[I_d, 0], [0, 0]], W_V = [[0, 0], [0, η/k]], P = I: the layer whose y-slot
    of the query equals :func:`gd_step_predict` (:eq:`eq-llm-lsa-gd`)."""
    d, k = positive_int(d, "d"), positive_int(k, "k")
    w_kq = torch.zeros(d + 1, d + 1, dtype=torch.float64)
    w_kq[:d, :d] = torch.eye(d, dtype=torch.float64)
    w_v = torch.zeros(d + 1, d + 1, dtype=torch.float64)
    w_v[d, d] = eta / k
    return w_kq, w_kq.clone(), w_v, torch.eye(d + 1, dtype=torch.float64)


class ICLTransformer(nn.Module):
    """A causal Transformer over the tokens x_1, y_1, …, x_k, y_k, x_q, each embedded from
    (x, 0) or (0, …, 0, y) in R^{d+1}; the read-out after each x token predicts its y."""

    def __init__(self, d: int, k_max: int, n_embd: int = 64, n_layer: int = 2, n_head: int = 4):
        super().__init__()
        self.d = positive_int(d, "d")
        cfg = GPTConfig(1, 2 * (positive_int(k_max, "k_max") + 1), n_layer, n_head, n_embd)
        self.read_in = nn.Linear(d + 1, n_embd)
        self.wpe = nn.Embedding(cfg.block_size, n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.read_out = nn.Linear(n_embd, 1)

    def forward(self, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """Predictions (n, k + 1) of every y_i from (x_1, y_1, …, x_i); y of the last point is unused."""
        n, m, d = xs.shape
        tok = torch.zeros(n, m, 2, d + 1, device=xs.device, dtype=xs.dtype)
        tok[:, :, 0, :d] = xs
        tok[:, :, 1, d] = ys
        h = self.read_in(tok.reshape(n, 2 * m, d + 1))
        h = h + self.wpe(torch.arange(2 * m, device=xs.device))
        for block in self.blocks:
            h = block(h)
        return self.read_out(self.ln_f(h[:, 0::2])).squeeze(-1)


def train_icl(
    model: ICLTransformer,
    k: int,
    noise: float,
    steps: int,
    batch: int = 64,
    lr: float = 1e-3,
    generator: torch.Generator | None = None,
) -> TrainLog:
    """Train ``model`` in place on fresh prompts of k + 1 points (mean squared error of every
    prediction after x_1 … x_{k+1}); ``losses`` holds each step's loss."""
    k, steps, batch = (
        positive_int(k, "k"),
        positive_int(steps, "steps"),
        positive_int(batch, "batch"),
    )
    device = next(model.parameters()).device
    opt = torch.optim.AdamW(model.parameters(), lr=positive(lr, "lr"), weight_decay=0.0)
    losses = []
    model.train()
    for _ in range(steps):
        xs, ys = linear_tasks(batch, model.d, k, noise, generator)
        xs, ys = xs.to(device), ys.to(device)
        loss = F.mse_loss(model(xs, ys), ys)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return TrainLog(losses=losses)


def prefix_errors(pred: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Mean squared error at every number of examples k = 0 … K: the column means of
    (pred − ys)² for ``pred``, ``ys`` (n, K + 1)."""
    tensor_ndim(pred, "pred", 2, "(n, K + 1)")
    return (pred.double() - ys.double()).square().mean(0)


def load_pretrained(path: str | None = None) -> dict:
    """The checkpoint written by ``benchmarks/icl_checkpoint.py``: ``config`` (the arguments of
    its training), ``state_dict`` (an :class:`ICLTransformer`'s weights) and ``losses``.

    Looked for beside this module, then in ``$MLBOOK_REPO/mlbook`` and ``./mlbook`` (a clone of
    the repository, e.g. in Colab where the installed package may lack the file)."""
    import os
    from pathlib import Path

    name = "icl_pretrained.pt"
    if path is not None:
        candidates = [Path(path)]
    else:
        candidates = [Path(__file__).with_name(name), Path.cwd() / "mlbook" / name]
        if os.environ.get("MLBOOK_REPO"):
            candidates.insert(1, Path(os.environ["MLBOOK_REPO"]) / "mlbook" / name)
    for where in candidates:
        if where.is_file():
            return torch.load(where, map_location="cpu", weights_only=True)
    raise FileNotFoundError(
        f"no checkpoint in {', '.join(map(str, candidates))}; write it with: "
        "python benchmarks/icl_checkpoint.py"
    )
