"""Many one-hidden-layer networks of different widths trained at once, in torch, for the
universal-approximation experiment of chapter 3."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mlbook._checks import one_of, positive, positive_int

__all__ = ["ShallowNets", "fit_shallow"]

_TORCH_F = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


class ShallowNets(torch.nn.Module):
    """Many one-hidden-layer networks g_k(x) = Σ_{j∈k} a_j f(w_j x + c_j) + d_k on 1-D inputs,
    trained side by side: their hidden units are concatenated into one layer and a 0/1
    membership matrix sums each network's units. No parameter is shared, so the gradient of
    the summed loss of all networks is, for each network, the gradient of its own loss.

    ``widths`` lists the width of each network (repeated ``repeats`` times, with different
    random initial values). The first-layer initialisation spreads the units' transition
    points −c_j/w_j uniformly over ``domain``, with slopes |w_j| ~ U(1, ``slope``) per
    half-width of the domain.
    """

    def __init__(
        self,
        widths: Sequence[int],
        activation: str = "tanh",
        repeats: int = 1,
        domain: tuple[float, float] = (-1.0, 1.0),
        slope: float = 10.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        one_of(activation, "activation", tuple(_TORCH_F))
        widths = list(widths)
        if not widths:
            raise ValueError("widths must list at least one width")
        for w in widths:
            positive_int(w, "every entry of widths")
        positive_int(repeats, "repeats")
        if not domain[0] < domain[1] or not slope >= 1:
            raise ValueError(f"need domain[0] < domain[1] and slope >= 1, got {domain}, {slope}")
        self.widths = widths
        self.repeats = repeats
        self.activation = activation
        gen = generator  # None: torch's default generator
        sizes = torch.tensor(widths * repeats)  # (G,): networks ordered repeat-major
        H, G = int(sizes.sum()), sizes.numel()
        group = torch.repeat_interleave(torch.arange(G), sizes)  # (H,)
        sign = torch.where(torch.rand(H, generator=gen) < 0.5, -1.0, 1.0)
        scale = 2.0 / (domain[1] - domain[0])  # slopes are per half-width of the domain
        w = sign * scale * (1 + (slope - 1) * torch.rand(H, generator=gen))  # (H,)
        centre = domain[0] + (domain[1] - domain[0]) * torch.rand(H, generator=gen)
        self.w = torch.nn.Parameter(w)
        self.c = torch.nn.Parameter(-w * centre)
        self.a = torch.nn.Parameter(torch.randn(H, generator=gen) / sizes[group].sqrt())
        self.d = torch.nn.Parameter(torch.zeros(G))
        self.register_buffer("member", torch.nn.functional.one_hot(group, G).float())  # (H, G)

    def units(self, repeat: int, k: int) -> slice:
        """The hidden units of network ``k`` (width ``widths[k]``) of restart ``repeat``."""
        if not (0 <= repeat < self.repeats and 0 <= k < len(self.widths)):
            raise ValueError(
                f"need 0 <= repeat < {self.repeats} and 0 <= k < {len(self.widths)}, "
                f"got repeat={repeat}, k={k}"
            )
        start = repeat * sum(self.widths) + sum(self.widths[:k])
        return slice(start, start + self.widths[k])

    def contributions(self, x: torch.Tensor, repeat: int, k: int) -> torch.Tensor:
        """Each hidden unit's term a_j f(w_j x + c_j) of network (repeat, k): shape (N, width).
        Their sum plus the output bias ``d`` is that network's output."""
        s = self.units(repeat, k)
        return _TORCH_F[self.activation](x[:, None] * self.w[s] + self.c[s]) * self.a[s]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x of shape (N,) → every network's output, shape (N, repeats, len(widths))."""
        h = _TORCH_F[self.activation](torch.addcmul(self.c, x[:, None], self.w))  # (N, H)
        out = h @ (self.a[:, None] * self.member) + self.d  # (N, G): Σ_{j∈k} a_j h_j + d_k
        return out.reshape(-1, self.repeats, len(self.widths))


def fit_shallow(
    x: torch.Tensor,
    y: torch.Tensor,
    widths: Sequence[int],
    activation: str = "tanh",
    repeats: int = 1,
    steps: int = 2000,
    lr: float = 0.01,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[ShallowNets, torch.Tensor]:
    """Fit one network per width (and repeat) to y ≈ g(x) by full-batch Adam on the mean
    squared error, the learning rate decaying from ``lr`` to 0 along a cosine.

    The initial values are drawn with ``generator`` (``None``: torch's default generator).
    Returns the model and the per-network training MSE after each step, shape
    (steps, repeats, len(widths)).
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.float32)
    if x.ndim != 1 or y.shape != x.shape or x.numel() == 0:
        raise ValueError(
            f"x and y must be 1-D of the same length, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    positive_int(steps, "steps")
    positive(lr, "lr")
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    model = ShallowNets(widths, activation, repeats, (lo, hi), generator=generator).to(
        device or "cpu"
    )
    x, y = x.to(model.w.device), y.to(model.w.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)  # lr → 0 at the end
    history = torch.empty(steps, repeats, len(model.widths))
    for t in range(steps):
        mse = ((model(x) - y[:, None, None]) ** 2).mean(dim=0)  # (repeats, G)
        opt.zero_grad()
        mse.sum().backward()  # networks share nothing: each gets its own gradient
        opt.step()
        schedule.step()
        history[t] = mse.detach().cpu()
    return model, history
