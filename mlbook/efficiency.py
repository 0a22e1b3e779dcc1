"""Making a language model cheaper (chapter 15): distillation, pruning, int8 quantisation,
ZeRO's memory formula, the GPipe schedule and speculative decoding.

The data-parallel part (real ``torch.distributed`` processes) lives in :mod:`mlbook.distributed`;
its entry point :func:`ddp_max_gap` is re-exported here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook._checks import in_range, nonneg, nonneg_int, one_of, positive, positive_int
from mlbook.distributed import ddp_max_gap

__all__ = [
    "ddp_max_gap",
    "dequantize",
    "distill_loss",
    "expected_tokens_per_call",
    "gpipe_schedule",
    "magnitude_prune",
    "quantize_int8",
    "speculative_generate",
    "zero_memory_gb",
]


def distill_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, T: float
) -> torch.Tensor:
    """Hinton et al. (2015)'s soft-target loss, :eq:`eq-eff-distill`:
    T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)), averaged over every position (all leading dims).

    The factor T² keeps the gradient's size independent of T (it shrinks as 1/T² otherwise)."""
    T = positive(T, "T")
    if not isinstance(student_logits, torch.Tensor) or not isinstance(teacher_logits, torch.Tensor):
        raise ValueError("student_logits and teacher_logits must be tensors (..., V)")
    if student_logits.shape != teacher_logits.shape or student_logits.ndim < 1:
        raise ValueError(
            "student_logits and teacher_logits must have the same shape (..., V), got "
            f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}"
        )
    V = student_logits.shape[-1]
    log_q = F.log_softmax(student_logits.reshape(-1, V) / T, dim=-1)
    log_p = F.log_softmax(teacher_logits.reshape(-1, V).detach() / T, dim=-1)
    kl = F.kl_div(log_q, log_p, log_target=True, reduction="batchmean")
    return T * T * kl


def quantize_int8(w: torch.Tensor, dim: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-channel int8, :eq:`eq-eff-quant`: one scale s = max|w|/127 per index of
    ``dim`` (dim 0 of a ``nn.Linear`` weight: one per output channel), q = round(w/s) in
    [-127, 127]. Returns (q int8, scale float32 shaped to broadcast against q); the rounding error
    is at most s/2 per weight."""
    if not isinstance(w, torch.Tensor) or not w.is_floating_point() or w.ndim < 1:
        raise ValueError("w must be a floating-point tensor with at least one dimension")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -w.ndim <= dim < w.ndim:
        raise ValueError(f"dim must be an int in [{-w.ndim}, {w.ndim - 1}], got {dim!r}")
    if not torch.isfinite(w).all():
        raise ValueError("w must be finite (no inf or NaN) to be quantised")
    dim = dim % w.ndim
    others = [d for d in range(w.ndim) if d != dim]
    amax = w.detach().abs().amax(dim=others, keepdim=True) if others else w.detach().abs()
    scale = torch.where(amax > 0, amax / 127, torch.ones_like(amax)).float()
    q = torch.round(w.detach().float() / scale).clamp(-127, 127).to(torch.int8)
    return q, scale


def dequantize(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The float32 weights q · s that int8 ``q`` with ``scale`` stands for."""
    if not isinstance(q, torch.Tensor) or q.dtype != torch.int8:
        raise ValueError(f"q must be an int8 tensor, got {getattr(q, 'dtype', type(q).__name__)}")
    if not isinstance(scale, torch.Tensor) or not scale.is_floating_point():
        raise ValueError("scale must be a floating-point tensor")
    try:
        return q.float() * scale
    except RuntimeError as exc:
        raise ValueError(
            f"scale {tuple(scale.shape)} does not broadcast against q {tuple(q.shape)}"
        ) from exc


def _prunable(model: nn.Module) -> dict[str, nn.Linear]:
    """Every ``nn.Linear`` except one that shares its weight with an embedding (GPT's lm_head)."""
    embedded = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    return {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) and id(m.weight) not in embedded
    }


@torch.no_grad()
def magnitude_prune(
    model: nn.Module, sparsity: float, structured: bool = False
) -> dict[str, torch.Tensor]:
    """Zero, in place, the ``sparsity`` fraction of each linear layer's weights of smallest |w|
    (Han et al. 2015, layer by layer; embeddings and a tied output layer are kept).

    ``structured=True`` removes whole output rows (neurons) of smallest L2 norm instead, which a
    dense kernel can skip. Returns the boolean keep-masks by layer name."""
    sparsity = in_range(sparsity, "sparsity", 0.0, 1.0)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    layers = _prunable(model)
    if not layers:
        raise ValueError("model has no nn.Linear layer to prune")
    masks = {}
    for name, layer in layers.items():
        w = layer.weight
        score = w.norm(dim=1, keepdim=True).expand_as(w) if structured else w.abs()
        n_rows = w.shape[0] if structured else w.numel()
        n_drop = round(sparsity * n_rows)
        keep = torch.ones_like(w, dtype=torch.bool)
        if n_drop:
            flat = score[:, 0] if structured else score.flatten()
            drop = flat.argsort()[:n_drop]  # ties broken by position, so exactly n_drop go
            if structured:
                keep[drop] = False
            else:
                keep.view(-1)[drop] = False
        w.mul_(keep)
        masks[name] = keep
    return masks


def zero_memory_gb(n_params: float, n_devices: int, stage: int, k: int = 12) -> float:
    """Model states per device in GB (10⁹ bytes) under ZeRO (Rajbhandari et al. 2020),
    :eq:`eq-eff-zero`: fp16 weights 2Ψ, fp16 gradients 2Ψ and K Ψ of optimiser state (K = 12
    for mixed-precision Adam: fp32 weights, momentum, variance), with stage 1 sharding the
    optimiser state, stage 2 also the gradients and stage 3 also the weights over N_d devices."""
    psi = positive(n_params, "n_params")
    n = positive_int(n_devices, "n_devices")
    one_of(stage, "stage", (0, 1, 2, 3))
    k = nonneg(k, "k")
    weights, grads, states = 2 * psi, 2 * psi, k * psi
    if stage >= 1:
        states /= n
    if stage >= 2:
        grads /= n
    if stage >= 3:
        weights /= n
    return (weights + grads + states) / 1e9


def gpipe_schedule(p: int, m: int, forward: float = 1.0, backward: float = 2.0):
    """Simulate GPipe (Huang et al. 2019): ``p`` stages, ``m`` micro-batches, all forwards, then
    all backwards (a flush). Each task starts when its input is ready and its stage is free.

    Returns (tasks, makespan): tasks is a list of (stage, micro_batch, kind, start, end) with kind
    "F" or "B"; the bubble is the idle share 1 − m(forward + backward)/makespan of each stage."""
    p, m = positive_int(p, "p"), positive_int(m, "m")
    forward, backward = positive(forward, "forward"), positive(backward, "backward")
    f_end = [[0.0] * m for _ in range(p)]
    tasks = []
    for s in range(p):
        free = 0.0
        for j in range(m):
            start = max(free, f_end[s - 1][j] if s else 0.0)
            f_end[s][j] = free = start + forward
            tasks.append((s, j, "F", start, free))
    b_end = [[0.0] * m for _ in range(p)]
    for s in reversed(range(p)):
        free = f_end[s][m - 1]  # a stage starts its backwards after its last forward
        for j in range(m):
            start = max(free, b_end[s + 1][j] if s < p - 1 else f_end[p - 1][m - 1])
            b_end[s][j] = free = start + backward
            tasks.append((s, j, "B", start, free))
    return tasks, max(t[4] for t in tasks)


def expected_tokens_per_call(alpha: float, k: int) -> float:
    """Leviathan et al. (2023)'s expected tokens per target call, :eq:`eq-eff-spec-speed`:
    (1 − α^{k+1})/(1 − α) for acceptance rate α and k drafted tokens (k + 1 when α = 1)."""
    alpha = in_range(alpha, "alpha", 0.0, 1.0)
    k = positive_int(k, "k")
    return float(k + 1) if alpha == 1.0 else (1 - alpha ** (k + 1)) / (1 - alpha)


def _probs(model: nn.Module, seq: torch.Tensor, n_last: int, temperature: float) -> torch.Tensor:
    """The next-token distributions (n_last, V) after the last ``n_last`` positions of seq (1, T);
    one-hot of the argmax when ``temperature`` is 0."""
    logits = model(seq[:, -model.config.block_size :])[0, -n_last:].float()
    if temperature == 0:
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).float()
    return torch.softmax(logits / temperature, dim=-1)


def _draw(probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.multinomial(probs, 1, generator=generator).view(1, 1)


@torch.no_grad()
def speculative_generate(
    target: nn.Module,
    draft: nn.Module,
    idx: torch.Tensor,
    max_new_tokens: int,
    k: int = 4,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Speculative sampling (Leviathan et al. 2023; Chen et al. 2023), :eq:`eq-eff-spec-accept`.

    Each round the ``draft`` proposes k tokens x_i ~ q_i one by one; one call of the ``target``
    scores all of them, giving p_0 … p_k. Token i is kept with probability min(1, p_i(x_i)/q_i(x_i));
    at the first rejection a token is drawn from norm(max(0, p_i − q_i)) and the round ends; if all
    k are kept a bonus token comes from p_k. The output is then distributed exactly as the target's
    own samples; with ``temperature=0`` (greedy) it equals the target's greedy output. Both hold
    while the sequence fits in ``block_size``: beyond it the window a verification call sees starts
    later than the one token-by-token decoding would use, so the conditioning differs.
    Both models are GPTs (``model.config.block_size``, logits (B, T, V)); rows of ``idx`` (B, T)
    are decoded one after another. Returns (idx with max_new_tokens appended, stats) with stats
    ``target_calls``, ``draft_calls``, ``proposed``, ``accepted`` and ``tokens_per_call``."""
    if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.shape[1] < 1:
        raise ValueError("idx must be a (B, T >= 1) tensor of token ids")
    if idx.dtype != torch.long:
        raise ValueError(f"idx must hold int64 token ids, got {idx.dtype}")
    n_new, k = nonneg_int(max_new_tokens, "max_new_tokens"), positive_int(k, "k")
    temperature = nonneg(temperature, "temperature")
    for name, m in (("target", target), ("draft", draft)):
        if not hasattr(m, "config") or not callable(m):
            raise ValueError(f"{name} must be a GPT-like model with a .config")
    if k + 1 > min(target.config.block_size, draft.config.block_size):
        raise ValueError(f"k + 1 = {k + 1} must not exceed the models' block_size")
    stats = dict(target_calls=0, draft_calls=0, proposed=0, accepted=0)
    rows = []
    for row in idx:
        seq, done = row.unsqueeze(0), 0
        while done < n_new:
            kk = min(k, n_new - done)
            q, drafted = [], seq
            for _ in range(kk):  # the draft proposes kk tokens autoregressively
                q.append(_probs(draft, drafted, 1, temperature)[0])
                drafted = torch.cat([drafted, _draw(q[-1], generator)], dim=1)
            p = _probs(target, drafted, kk + 1, temperature)  # one target call scores them all
            stats["target_calls"] += 1
            stats["draft_calls"] += kk
            stats["proposed"] += kk
            new = drafted[0, seq.shape[1] :]
            n_ok = 0
            for i in range(kk):
                x = new[i]
                u = torch.rand(1, generator=generator).item()
                if u * q[i][x] < p[i][x]:  # accept with probability min(1, p/q)
                    n_ok += 1
                    continue
                residual = (p[i] - q[i]).clamp(min=0)
                extra = _draw(residual / residual.sum(), generator)
                break
            else:
                extra = _draw(p[kk], generator)  # all kept: a bonus token from the target
            stats["accepted"] += n_ok
            seq = torch.cat([seq, new[:n_ok].view(1, -1), extra], dim=1)
            done += n_ok + 1
        rows.append(seq[:, : row.numel() + n_new])
    stats["tokens_per_call"] = n_new * len(rows) / max(stats["target_calls"], 1)
    return torch.cat(rows), stats
