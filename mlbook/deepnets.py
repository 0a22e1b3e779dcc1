"""Deep MLPs for the experiments of chapter 4: signal and gradient propagation through depth,
initialisation scales, residual connections and batch normalisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from mlbook._checks import nonneg_int, one_of, positive, positive_int
from mlbook.core import TrainLog
from mlbook.layers import BatchNorm1d

__all__ = [
    "ACTIVATIONS",
    "DeepMLP",
    "init_std",
    "propagate",
    "spirals",
    "train_classifier",
]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda a: a,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def init_std(scheme: str, fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Standard deviation of a Gaussian weight initialisation.

    ``"xavier"``: ``gain·√(2/(fan_in + fan_out))`` (:eq:`eq-training-xavier`); ``"he"``:
    ``gain·√(2/fan_in)`` (:eq:`eq-training-he`); ``"lecun"``: ``gain·√(1/fan_in)``.
    """
    one_of(scheme, "scheme", ("xavier", "he", "lecun"))
    fan_in, fan_out = positive_int(fan_in, "fan_in"), positive_int(fan_out, "fan_out")
    gain = positive(gain, "gain")
    if scheme == "xavier":
        return gain * math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "he":
        return gain * math.sqrt(2.0 / fan_in)
    return gain * math.sqrt(1.0 / fan_in)


def propagate(
    depth: int,
    width: int,
    activation: str,
    std: float,
    batch: int = 256,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """Push a Gaussian batch through a bias-free MLP of ``depth`` square layers and back.

    Weights are drawn from N(0, std²). Returns ``"variance"``: the variance of each layer's
    pre-activation ``a⁽ˡ⁾`` (forward, :eq:`eq-training-var-forward`); ``"grad_norm"``: the norm
    of the backward signal δ⁽ˡ⁾ = ∂L/∂a⁽ˡ⁾ per sample (root mean square over the batch) for the
    loss L = Σ over the batch of ⟨r, h⁽ᴸ⁾⟩ with a random direction r (backward,
    :eq:`eq-training-backward`); ``"weight_grad_norm"``: the Frobenius norm of ∂L/∂W⁽ˡ⁾ / batch.
    Index 0 is the first layer.
    """
    depth, width = positive_int(depth, "depth"), positive_int(width, "width")
    batch, std = positive_int(batch, "batch"), positive(std, "std")
    phi = ACTIVATIONS[one_of(activation, "activation", tuple(ACTIVATIONS))]
    h = torch.randn(batch, width, generator=generator)
    weights = [
        (std * torch.randn(width, width, generator=generator)).requires_grad_(True)
        for _ in range(depth)
    ]
    pre = []
    for w in weights:
        a = h @ w.T
        a.retain_grad()
        pre.append(a)
        h = phi(a)
    r = torch.randn(width, generator=generator)
    (h @ r).sum().backward()
    return {
        "variance": torch.stack([a.detach().var() for a in pre]),
        "grad_norm": torch.stack([a.grad.pow(2).sum(1).mean().sqrt() for a in pre]),
        "weight_grad_norm": torch.stack([w.grad.norm() / batch for w in weights]),
    }


def spirals(
    n: int, classes: int = 3, noise: float = 0.2, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points of ``classes`` interleaved 2-D spirals: inputs ``(n, 2)`` and labels ``(n,)``."""
    n, classes = positive_int(n, "n"), positive_int(classes, "classes")
    y = torch.randint(0, classes, (n,), generator=generator)
    t = torch.rand(n, generator=generator)
    angle = 4.0 * t + 2 * math.pi * y / classes
    radius = t + 0.05
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return x + noise * radius[:, None] * torch.randn(n, 2, generator=generator), y


class DeepMLP(nn.Module):
    """An MLP of ``depth`` hidden layers of width ``width``, optionally residual or normalised.

    Plain: ``h ← φ(norm(W h + b))``. Residual: ``h ← h + W₂ φ(norm(W₁ h + b₁)) + b₂``
    (:eq:`eq-training-residual`). ``norm="batch"`` inserts :class:`mlbook.layers.BatchNorm1d`.
    Weights keep ``nn.Linear``'s default initialisation.
    """

    def __init__(
        self,
        in_dim: int,
        width: int,
        depth: int,
        out_dim: int,
        activation: str = "relu",
        residual: bool = False,
        norm: str | None = None,
    ) -> None:
        super().__init__()
        width, depth = positive_int(width, "width"), positive_int(depth, "depth")
        self.phi = ACTIVATIONS[one_of(activation, "activation", tuple(ACTIVATIONS))]
        one_of(norm, "norm", (None, "batch"))
        self.residual = bool(residual)
        self.inp = nn.Linear(positive_int(in_dim, "in_dim"), width)
        self.hidden = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.second = nn.ModuleList(
            nn.Linear(width, width) for _ in range(depth if residual else 0)
        )
        self.norms = nn.ModuleList(
            BatchNorm1d(width) if norm else nn.Identity() for _ in range(depth)
        )
        self.out = nn.Linear(width, positive_int(out_dim, "out_dim"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for k, (layer, norm) in enumerate(zip(self.hidden, self.norms, strict=True)):
            z = self.phi(norm(layer(h)))
            h = h + self.second[k](z) if self.residual else z
        return self.out(h)


def train_classifier(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    steps: int,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
    x_val: torch.Tensor | None = None,
    y_val: torch.Tensor | None = None,
    eval_every: int = 10,
) -> TrainLog:
    """Train ``model`` in place by cross-entropy for ``steps`` steps on minibatches of ``x, y``.

    ``batch_size=None`` uses the whole set each step; otherwise minibatches are drawn with
    replacement by ``generator``, which must live on the device of ``x``. Returns :class:`mlbook.TrainLog` with
    ``losses`` (every step; a non-finite loss stops training) and ``metrics``:
    ``"grad_first"`` (the gradient norm of the first hidden layer's weight at every step, when the
    model has ``hidden``), and with ``x_val`` every ``eval_every`` steps ``"val_loss"``,
    ``"val_accuracy"`` and ``"val_step"``.
    """
    steps = nonneg_int(steps, "steps")
    eval_every = positive_int(eval_every, "eval_every")
    n = x.shape[0]
    log = TrainLog(losses=[], metrics={"grad_first": []})
    if x_val is not None:
        log.metrics.update(val_loss=[], val_accuracy=[], val_step=[])
    loss_fn = nn.CrossEntropyLoss()
    for step in range(steps):
        if x_val is not None and step % eval_every == 0:
            _evaluate(model, x_val, y_val, step, log)
        model.train()
        if batch_size is None:
            xb, yb = x, y
        else:
            idx = torch.randint(
                0,
                n,
                (positive_int(batch_size, "batch_size"),),
                generator=generator,
                device=x.device,
            )
            xb, yb = x[idx], y[idx]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        if not torch.isfinite(loss):
            log.losses.append(float("nan"))
            break
        loss.backward()
        if hasattr(model, "hidden"):
            log.metrics["grad_first"].append(model.hidden[0].weight.grad.norm().item())
        optimizer.step()
        log.losses.append(loss.item())
    if x_val is not None:
        _evaluate(model, x_val, y_val, steps, log)
    return log


@torch.no_grad()
def _evaluate(model, x_val, y_val, step, log) -> None:
    model.eval()
    logits = model(x_val)
    log.metrics["val_loss"].append(nn.functional.cross_entropy(logits, y_val).item())
    log.metrics["val_accuracy"].append((logits.argmax(1) == y_val).float().mean().item())
    log.metrics["val_step"].append(step)
