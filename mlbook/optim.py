"""Optimisers written from their update formulas: SGD (momentum, Nesterov), Adam and AdamW.

Each ``step()`` is the algorithm as printed in the book (:eq:`eq-training-sgd-momentum`,
:eq:`eq-training-adam`, :eq:`eq-training-adamw`), one parameter at a time, in the order of
operations ``torch.optim`` documents, so that the trajectories agree with ``torch.optim.SGD``,
``torch.optim.Adam`` and ``torch.optim.AdamW`` to rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from mlbook._checks import in_range, nonneg

__all__ = ["SGD", "Adam", "AdamW"]


def _betas(betas: object) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    b1 = in_range(betas[0], "betas[0]", 0.0, 1.0, hi_open=True)
    b2 = in_range(betas[1], "betas[1]", 0.0, 1.0, hi_open=True)
    return b1, b2


def _evaluate(closure: Callable[[], torch.Tensor] | None) -> torch.Tensor | None:
    """The loss ``closure()`` recomputes (with gradients), or None without a closure."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class SGD(torch.optim.Optimizer):
    """Stochastic gradient descent with heavy-ball or Nesterov momentum and L2 weight decay.

    With ``g = grad + weight_decay * θ`` (:eq:`eq-training-l2-grad`) and ``μ = momentum``:
    ``b ← g`` at the first step, ``b ← μ b + g`` afterwards; the step direction is ``b``
    (heavy ball) or ``g + μ b`` (Nesterov, in the form of Sutskever et al. 2013); ``θ ← θ − lr ·
    direction`` (:eq:`eq-training-sgd-momentum`). ``momentum=0`` is plain SGD.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        lr = nonneg(lr, "lr")
        momentum = in_range(momentum, "momentum", 0.0, 1.0, hi_open=True)
        weight_decay = nonneg(weight_decay, "weight_decay")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "nesterov": bool(nesterov),
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = _evaluate(closure)
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad if wd == 0 else p.grad + wd * p
                if mu != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(mu).add_(g)
                    buf = state["momentum_buffer"]
                    g = g + mu * buf if group["nesterov"] else buf
                p.add_(g, alpha=-lr)
        return loss


class Adam(torch.optim.Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1) with optional L2 weight decay added to the gradient.

    ``g = grad + weight_decay · θ``; ``m ← β1 m + (1−β1) g``; ``v ← β2 v + (1−β2) g²``;
    ``m̂ = m/(1−β1^t)``, ``v̂ = v/(1−β2^t)``; ``θ ← θ − lr · m̂ / (√v̂ + ε)``
    (:eq:`eq-training-adam`). ε is added outside the square root. ``weight_decay`` here is an
    L2 penalty, rescaled by √v̂ like the gradient; :class:`AdamW` decouples it.
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {
            "lr": nonneg(lr, "lr"),
            "betas": _betas(betas),
            "eps": nonneg(eps, "eps"),
            "weight_decay": nonneg(weight_decay, "weight_decay"),
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = _evaluate(closure)
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if self.decoupled:
                    p.mul_(1 - lr * wd)  # θ ← θ − lr·λ·θ, outside the adaptive scaling
                elif wd != 0:
                    g = g + wd * p
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m.lerp_(g, 1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = m / (1 - b1**t)
                v_hat = v / (1 - b2**t)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
        return loss


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.

    ``θ ← (1 − lr·λ) θ`` first, then the Adam step of the plain gradient (:eq:`eq-training-adamw`).
    The default ``weight_decay=1e-2`` is ``torch.optim.AdamW``'s.
    """

    decoupled = True

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
