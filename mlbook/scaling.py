"""Scaling laws on a small scale (chapter 11): sweeps of tiny GPTs, FLOP counts, power-law fits.

``train_sweep`` trains one :class:`mlbook.gpt.GPT` per configuration on the same token stream
with a constant learning rate after a short warm-up, and records the held-out loss after given
numbers of training tokens; one run per size thus gives the loss at every data budget D, from
which both L(N) at fixed D and IsoFLOP curves (fixed C = 6ND) are read. ``fit_power_law`` fits
L(N) = a·N^(−α) + c (:eq:`eq-llm-kaplan-n`) with its standard errors; ``training_flops`` counts one
training step's floating-point operations with ``torch.utils.flop_counter.FlopCounterMode``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from mlbook._checks import positive, positive_int, tensor_ndim
from mlbook.core import TrainLog
from mlbook.gpt import GPT, GPTConfig

__all__ = [
    "PowerLaw",
    "fit_power_law",
    "heldout_loss",
    "non_embedding_params",
    "train_sweep",
    "training_flops",
]


def non_embedding_params(config: GPTConfig) -> int:
    """Kaplan et al.'s N: the parameters of the blocks, 12·L·d² + 13·L·d (no embeddings, no final LN)."""
    return config.n_layer * (12 * config.n_embd**2 + 13 * config.n_embd)


def training_flops(model: GPT, x: torch.Tensor, y: torch.Tensor) -> int:
    """FLOPs of one forward and backward pass of the cross-entropy loss on the batch (x, y), as
    counted by ``FlopCounterMode``: matrix products, including attention's QKᵀ and AV, which are
    computed here by the plain ("math") attention so that every backend's count is the same
    (the counter has no formula for some fused CPU kernels). Elementwise work is not counted."""
    tensor_ndim(x, "x", 2, "(B, T)")
    counter = FlopCounterMode(display=False)
    with counter, sdpa_kernel(SDPBackend.MATH):
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        loss.backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def _windows(ids: torch.Tensor, T: int, B: int, generator: torch.Generator | None):
    start = torch.randint(len(ids) - T - 1, (B,), generator=generator)
    offs = start.unsqueeze(1) + torch.arange(T + 1)
    w = ids[offs]
    return w[:, :-1], w[:, 1:]


@torch.no_grad()
def heldout_loss(model: GPT, ids: torch.Tensor, T: int, max_windows: int = 64) -> float:
    """Mean next-token cross-entropy (nat/token) on the first ``max_windows`` non-overlapping
    windows of length T of ``ids``."""
    n = min((len(ids) - 1) // T, max_windows)
    if n < 1:
        raise ValueError(f"ids has {len(ids)} tokens, fewer than one window of {T} + 1")
    dev = next(model.parameters()).device
    x = ids[: n * T].view(n, T).to(dev)
    y = ids[1 : n * T + 1].view(n, T).to(dev)
    was = model.training
    model.eval()
    loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
    model.train(was)
    return loss


def train_sweep(
    models: list[GPT],
    train_ids: torch.Tensor,
    held_ids: torch.Tensor,
    tokens: list[int],
    batch: int = 16,
    lr: float = 3e-3,
    warmup: int = 20,
    generator: torch.Generator | None = None,
    max_tokens: list[int] | None = None,
) -> list[TrainLog]:
    """Train each GPT of ``models`` in place for ``max(tokens)`` training tokens;
    ``metrics["heldout"]`` holds the held-out loss after each entry of ``tokens`` (sorted) and
    ``metrics["tokens"]`` the tokens actually seen then.

    With ``max_tokens`` (one entry per model) model i trains for ``max_tokens[i]`` tokens instead,
    recording only the marks it reaches, so small models can see more tokens than large ones
    (an IsoFLOP design).

    Every model sees the same batches: the windows are drawn by a copy of ``generator`` (default:
    torch's global generator) taken at the start, one per model. AdamW with a
    constant learning rate after a linear warm-up, so the loss after D tokens stands for a run of
    D tokens (approximately: Hoffmann et al. 2022 note that a schedule matched to each D does a
    little better).
    """
    if not models or not all(isinstance(m, GPT) for m in models):
        raise ValueError("models must be a non-empty list of mlbook.gpt.GPT")
    batch, warmup = positive_int(batch, "batch"), positive_int(warmup, "warmup")
    lr = positive(lr, "lr")
    marks = sorted(positive_int(t, "tokens entry") for t in tokens)
    if max_tokens is None:
        max_tokens = [marks[-1]] * len(models)
    if len(max_tokens) != len(models):
        raise ValueError(
            f"max_tokens needs one entry per model ({len(models)}), got {len(max_tokens)}"
        )
    start = (torch.default_generator if generator is None else generator).get_state()
    logs = []
    for model, budget in zip(models, max_tokens, strict=True):
        dev = next(model.parameters()).device
        T = model.config.block_size
        per_step = batch * T
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
        gen = torch.Generator()
        gen.set_state(start)
        losses, held, seen, m = [], [], [], 0
        model.train()
        for step in range(-(-positive_int(budget, "max_tokens entry") // per_step)):
            x, y = _windows(train_ids, T, batch, gen)
            loss = F.cross_entropy(model(x.to(dev)).flatten(0, 1), y.to(dev).flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            while m < len(marks) and (step + 1) * per_step >= marks[m]:
                held.append(heldout_loss(model, held_ids, T))
                seen.append(float((step + 1) * per_step))
                m += 1
        model.eval()
        logs.append(TrainLog(losses=losses, metrics={"heldout": held, "tokens": seen}))
    return logs


@dataclass(frozen=True)
class PowerLaw:
    """L(N) = a·N^(−alpha) + c with standard errors (from the fit's covariance) and R²."""

    a: float
    alpha: float
    c: float
    alpha_se: float
    c_se: float
    r2: float

    def __call__(self, n: np.ndarray | float) -> np.ndarray:
        return self.a * np.asarray(n, dtype=float) ** (-self.alpha) + self.c


def fit_power_law(n: np.ndarray | list[float], loss: np.ndarray | list[float]) -> PowerLaw:
    """Least-squares fit of L = a·N^(−α) + c (:eq:`eq-llm-kaplan-n`), started from the best
    straight line of log(L − c) against log N over a grid of c; the standard errors come from
    ``scipy.optimize.curve_fit``'s covariance (they assume independent, equal-variance errors)."""
    from scipy.optimize import curve_fit

    n, loss = np.asarray(n, dtype=float), np.asarray(loss, dtype=float)
    if n.shape != loss.shape or n.ndim != 1 or len(n) < 4:
        raise ValueError(
            "n and loss must be 1-D of equal length >= 4 (three parameters are fitted)"
        )
    if (n <= 0).any() or not np.isfinite(loss).all():
        raise ValueError("n must be positive and loss finite")
    best = None
    for c in np.linspace(0.0, loss.min() * 0.999, 200):
        slope, icpt = np.polyfit(np.log(n), np.log(loss - c), 1)
        sse = float(np.sum((np.exp(icpt) * n**slope + c - loss) ** 2))
        if best is None or sse < best[0]:
            best = (sse, np.exp(icpt), -slope, c)
    _, a0, alpha0, c0 = best
    x0 = n / n.min()  # scale N for a well-conditioned fit; a is rescaled back below

    def model(x, a, alpha, c):
        return a * x ** (-alpha) + c

    p, cov = curve_fit(model, x0, loss, p0=(a0 * n.min() ** (-alpha0), alpha0, c0), maxfev=20000)
    a, alpha, c = p
    resid = loss - model(x0, *p)
    r2 = 1.0 - float(np.sum(resid**2) / np.sum((loss - loss.mean()) ** 2))
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    return PowerLaw(
        float(a * n.min() ** alpha), float(alpha), float(c), float(se[1]), float(se[2]), r2
    )
