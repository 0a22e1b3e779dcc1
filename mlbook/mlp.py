"""The multilayer perceptron and backpropagation written as the δ-recursion (chapter 3).

Convention (the same as the book's text and as ``torch.nn.Linear``): layer l = 1, …, L has a
weight matrix ``W⁽ˡ⁾`` of shape (d_l, d_{l-1}) and a bias ``b⁽ˡ⁾`` of shape (d_l,). For one
example (a column vector) the forward equations are

    u⁽ˡ⁾ = W⁽ˡ⁾ z⁽ˡ⁻¹⁾ + b⁽ˡ⁾,   z⁽ˡ⁾ = f(u⁽ˡ⁾)   (l < L),   z⁽⁰⁾ = x,

with the output layer z⁽ᴸ⁾ = u⁽ᴸ⁾ (identity, for ``loss="mse"``) or softmax(u⁽ᴸ⁾) (for
``loss="cross_entropy"``). A batch of N examples is stored as rows, so in code the same
equations read ``U = Z_prev @ W.T + b`` with shapes (N, d_l).

The loss is averaged over the batch, L = (1/N) Σₙ ℓₙ, with ℓₙ = ½‖z⁽ᴸ⁾ₙ − yₙ‖² (mse) or
ℓₙ = −Σₖ yₙₖ log z⁽ᴸ⁾ₙₖ (cross_entropy). :func:`backprop` returns ∂L/∂W⁽ˡ⁾ and ∂L/∂b⁽ˡ⁾ from

    δ⁽ᴸ⁾ = z⁽ᴸ⁾ − y                              (output error, both pairings above)
    δ⁽ˡ⁾ = f'(u⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾)              (l = L−1, …, 1)
    ∂L/∂W⁽ˡ⁾ = (1/N) Σₙ δ⁽ˡ⁾ₙ z⁽ˡ⁻¹⁾ₙᵀ,   ∂L/∂b⁽ˡ⁾ = (1/N) Σₙ δ⁽ˡ⁾ₙ

where δ⁽ˡ⁾ₙ = ∂ℓₙ/∂u⁽ˡ⁾ₙ. Everything is NumPy float64, so the gradients can be checked
against central finite differences to ~1e-9.

:class:`ShallowNets` and :func:`fit_shallow` (torch) train many one-hidden-layer networks of
different widths at once, for the universal-approximation experiment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mlbook.core import generator
from mlbook.core import rng as numpy_rng

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Forward",
    "Gradients",
    "FitResult",
    "forward",
    "loss_value",
    "backprop",
    "numerical_gradients",
    "relative_error",
    "init_params",
    "fit",
    "predict",
    "ShallowNets",
    "fit_shallow",
]

ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "cross_entropy")


# ------------------------------------------------------------------------- activations
def _sigmoid(u: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * u))  # = 1/(1+e^{-u}), without overflow


def _dsigmoid(u: np.ndarray) -> np.ndarray:
    s = _sigmoid(u)
    return s * (1.0 - s)


def _dtanh(u: np.ndarray) -> np.ndarray:
    return 1.0 - np.tanh(u) ** 2


def _relu(u: np.ndarray) -> np.ndarray:
    return np.maximum(u, 0.0)


def _drelu(u: np.ndarray) -> np.ndarray:
    return (u > 0).astype(u.dtype)  # 0 at the kink, as torch


_F: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "sigmoid": (_sigmoid, _dsigmoid),
    "tanh": (np.tanh, _dtanh),
    "relu": (_relu, _drelu),
}


def _softmax(u: np.ndarray) -> np.ndarray:
    e = np.exp(u - u.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(u: np.ndarray) -> np.ndarray:
    m = u.max(axis=1, keepdims=True)
    return u - m - np.log(np.exp(u - m).sum(axis=1, keepdims=True))


# ------------------------------------------------------------------------- validation
def _check_choice(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(map(repr, allowed))}")


def _array(a: object, what: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be an array of numbers ({exc})") from exc


def _check_params(
    weights: Sequence[object], biases: Sequence[object]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if isinstance(weights, np.ndarray | torch.Tensor) or isinstance(
        biases, np.ndarray | torch.Tensor
    ):
        raise ValueError("weights and biases must be lists with one array per layer")
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError(
            f"need one weight matrix and one bias vector per layer (at least one layer), "
            f"got {len(weights)} weights and {len(biases)} biases"
        )
    Ws = [_array(W, f"W^({l})") for l, W in enumerate(weights, start=1)]  # noqa: E741
    bs = [_array(b, f"b^({l})") for l, b in enumerate(biases, start=1)]  # noqa: E741
    for l, (W, b) in enumerate(zip(Ws, bs, strict=True), start=1):  # noqa: E741
        if W.ndim != 2:
            raise ValueError(f"W^({l}) must be 2-D (d_{l}, d_{l - 1}), got shape {W.shape}")
        if b.shape != (W.shape[0],):
            raise ValueError(
                f"b^({l}) must have shape ({W.shape[0]},) to match W^({l}) of shape {W.shape}, "
                f"got {b.shape}"
            )
        if l > 1 and W.shape[1] != Ws[l - 2].shape[0]:
            raise ValueError(
                f"W^({l}) has shape {W.shape}: its {W.shape[1]} columns must equal the "
                f"{Ws[l - 2].shape[0]} units of layer {l - 1} (W^({l - 1}) has shape {Ws[l - 2].shape})"
            )
    return Ws, bs


def _check_X(X: object, d0: int) -> np.ndarray:
    X = _array(X, "X")
    if X.ndim != 2 or X.shape[1] != d0 or X.shape[0] == 0:
        raise ValueError(
            f"X must have shape (N, {d0}) with N >= 1 (W^(1) has {d0} columns), got {X.shape}"
        )
    return X


def _check_Y(Y: object, n: int, d_out: int, loss: str) -> np.ndarray:
    raw = Y.detach().cpu().numpy() if isinstance(Y, torch.Tensor) else np.asarray(Y)
    if loss == "cross_entropy" and raw.ndim == 1 and np.issubdtype(raw.dtype, np.integer):
        if raw.shape != (n,) or raw.min() < 0 or raw.max() >= d_out:
            seen = f"{raw.min()}..{raw.max()}" if raw.size else "none"
            raise ValueError(
                f"class labels must have shape ({n},) with values in 0..{d_out - 1}, "
                f"got shape {raw.shape} and values {seen}"
            )
        return np.eye(d_out)[raw]
    Y = _array(raw, "Y")
    if Y.ndim == 1 and d_out == 1 and loss == "mse":
        Y = Y[:, None]
    if Y.shape != (n, d_out):
        raise ValueError(
            f"Y must have shape ({n}, {d_out}) to match the output layer, got {Y.shape}"
        )
    if loss == "cross_entropy" and (
        (Y < 0).any() or not np.allclose(Y.sum(axis=1), 1.0, rtol=0, atol=1e-8)
    ):
        raise ValueError(
            "for cross_entropy each row of Y must be a probability vector (one-hot, "
            "non-negative, summing to 1), or pass integer class labels of shape (N,)"
        )
    return Y


# ------------------------------------------------------------------------- the network
@dataclass
class Forward:
    """The forward pass of a batch: ``u[l]`` = u⁽ˡ⁾ (l = 1…L; ``u[0]`` is None, the input
    layer has no pre-activation) and ``z[l]`` = z⁽ˡ⁾ (l = 0…L, ``z[0]`` = X), each (N, d_l)."""

    u: list[np.ndarray | None]
    z: list[np.ndarray]

    @property
    def out(self) -> np.ndarray:
        """The network's output z⁽ᴸ⁾, shape (N, d_L)."""
        return self.z[-1]


@dataclass
class Gradients:
    """∂L/∂W⁽ˡ⁾ (``W[l-1]``) and ∂L/∂b⁽ˡ⁾ (``b[l-1]``) for l = 1…L, and the loss L itself."""

    W: list[np.ndarray]
    b: list[np.ndarray]
    loss: float

    def flat(self) -> np.ndarray:
        """All gradients in one vector (W⁽¹⁾, b⁽¹⁾, W⁽²⁾, …), for comparisons."""
        return np.concatenate(
            [a.ravel() for pair in zip(self.W, self.b, strict=True) for a in pair]
        )


def forward(
    weights: Sequence[object],
    biases: Sequence[object],
    X: object,
    activation: str = "sigmoid",
    loss: str = "mse",
) -> Forward:
    """Forward equations u⁽ˡ⁾ = W⁽ˡ⁾z⁽ˡ⁻¹⁾ + b⁽ˡ⁾, z⁽ˡ⁾ = f(u⁽ˡ⁾) for a batch X of shape (N, d_0).

    Hidden layers use ``activation``; the output layer is the identity for ``loss="mse"`` and
    softmax for ``loss="cross_entropy"``.
    """
    _check_choice(activation, ACTIVATIONS, "activation")
    _check_choice(loss, LOSSES, "loss")
    Ws, bs = _check_params(weights, biases)
    f = _F[activation][0]
    L = len(Ws)
    W, b = [None, *Ws], [None, *bs]  # so that W[l] is W^(l), as in the text
    u: list[np.ndarray | None] = [None]
    z = [_check_X(X, Ws[0].shape[1])]
    for l in range(1, L + 1):  # noqa: E741
        u.append(z[l - 1] @ W[l].T + b[l])  # (N, d_l)
        if l < L:
            z.append(f(u[l]))
        else:
            z.append(u[l] if loss == "mse" else _softmax(u[l]))
    return Forward(u, z)


def _loss_from(fw: Forward, Y: np.ndarray, loss: str) -> float:
    N = Y.shape[0]
    if loss == "mse":
        return float(0.5 * np.sum((fw.out - Y) ** 2) / N)
    return float(-np.sum(Y * _log_softmax(fw.u[-1])) / N)


def loss_value(
    weights: Sequence[object],
    biases: Sequence[object],
    X: object,
    Y: object,
    activation: str = "sigmoid",
    loss: str = "mse",
) -> float:
    """The batch-averaged loss L = (1/N) Σₙ ℓₙ (see the module docstring)."""
    fw = forward(weights, biases, X, activation, loss)
    return _loss_from(fw, _check_Y(Y, fw.out.shape[0], fw.out.shape[1], loss), loss)


def backprop(
    weights: Sequence[object],
    biases: Sequence[object],
    X: object,
    Y: object,
    activation: str = "sigmoid",
    loss: str = "mse",
) -> Gradients:
    """Gradients of the batch-averaged loss by the δ-recursion (chapter 3, theorem
    ``thm-backprop-formula`` (1)–(3), averaged over the batch as in the module docstring).

    ``weights[l-1]`` is W⁽ˡ⁾ of shape (d_l, d_{l-1}), ``biases[l-1]`` is b⁽ˡ⁾ of shape (d_l,),
    X has shape (N, d_0); Y has shape (N, d_L), or (N,) integer class labels for
    ``loss="cross_entropy"``. Returns a :class:`Gradients` in float64.
    """
    fw = forward(weights, biases, X, activation, loss)
    Ws = [_array(W, "W") for W in weights]
    N = fw.out.shape[0]
    Y = _check_Y(Y, N, fw.out.shape[1], loss)
    fprime = _F[activation][1]
    L = len(Ws)
    W = [None, *Ws]
    u, z = fw.u, fw.z
    dW: list[np.ndarray] = [np.empty(0)] * (L + 1)
    db: list[np.ndarray] = [np.empty(0)] * (L + 1)
    delta = z[L] - Y  # (N, d_L): δ^(L) for identity+mse and for softmax+cross-entropy alike
    for l in range(L, 0, -1):  # noqa: E741
        dW[l] = delta.T @ z[l - 1] / N  # (d_l, d_{l-1}) = (1/N) Σ_n δ_n z_n^(l-1)ᵀ
        db[l] = delta.mean(axis=0)  # (d_l,)
        if l > 1:
            delta = fprime(u[l - 1]) * (delta @ W[l])  # (N, d_{l-1}): f'(u) ⊙ Wᵀδ, per row
    return Gradients(dW[1:], db[1:], _loss_from(fw, Y, loss))


def numerical_gradients(
    weights: Sequence[object],
    biases: Sequence[object],
    X: object,
    Y: object,
    activation: str = "sigmoid",
    loss: str = "mse",
    h: float = 1e-6,
) -> Gradients:
    """The same gradients by central differences (L(θ+h) − L(θ−h)) / 2h, one parameter at a
    time: truncation error O(h²), rounding error O(ε/h) with ε ≈ 2.2e-16 (float64)."""
    if not h > 0:
        raise ValueError(f"the step h must be > 0, got {h!r}")
    Ws, bs = _check_params(weights, biases)
    Ws, bs = [W.copy() for W in Ws], [b.copy() for b in bs]

    def L() -> float:
        return loss_value(Ws, bs, X, Y, activation, loss)

    grads: list[list[np.ndarray]] = [[], []]
    for kind, params in enumerate((Ws, bs)):
        for p in params:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + h
                plus = L()
                p[idx] = old - h
                minus = L()
                p[idx] = old
                g[idx] = (plus - minus) / (2 * h)
            grads[kind].append(g)
    return Gradients(grads[0], grads[1], L())


def relative_error(a: object, b: object) -> float:
    """‖a − b‖ / max(‖a‖ + ‖b‖, tiny): 0 for equal arrays, about 1 for unrelated ones."""
    if isinstance(a, Gradients):
        a = a.flat()
    if isinstance(b, Gradients):
        b = b.flat()
    a, b = _array(a, "a").ravel(), _array(b, "b").ravel()
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of {a.size} and {b.size} numbers")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


# ------------------------------------------------------------------------- training (NumPy)
def init_params(sizes: Sequence[int], seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Random W⁽ˡ⁾ ~ N(0, 1/d_{l-1}) (LeCun's scale, so u⁽ˡ⁾ starts with unit variance for
    unit-variance inputs) and b⁽ˡ⁾ = 0 for layer sizes (d_0, d_1, …, d_L)."""
    sizes = list(sizes)
    if len(sizes) < 2 or any(
        isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1 for d in sizes
    ):
        raise ValueError(
            f"sizes must list at least two positive integers (d_0, …, d_L), got {sizes}"
        )
    rng = numpy_rng(seed)
    weights = [
        rng.normal(0.0, 1.0 / np.sqrt(m), size=(n, m))
        for m, n in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    biases = [np.zeros(n) for n in sizes[1:]]
    return weights, biases


@dataclass
class FitResult:
    """Trained parameters and the loss before each step (``losses[t]``)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    losses: np.ndarray


def fit(
    X: object,
    Y: object,
    sizes: Sequence[int],
    activation: str = "tanh",
    loss: str = "cross_entropy",
    lr: float = 0.5,
    epochs: int = 2000,
    seed: int = 0,
) -> FitResult:
    """Full-batch gradient descent W ← W − lr·∂L/∂W with gradients from :func:`backprop`."""
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    weights, biases = init_params(sizes, seed)
    losses = np.empty(epochs)
    for t in range(epochs):
        g = backprop(weights, biases, X, Y, activation, loss)
        losses[t] = g.loss
        weights = [W - lr * dW for W, dW in zip(weights, g.W, strict=True)]
        biases = [b - lr * db for b, db in zip(biases, g.b, strict=True)]
    return FitResult(weights, biases, losses)


def predict(
    weights: Sequence[object],
    biases: Sequence[object],
    X: object,
    activation: str = "tanh",
    loss: str = "cross_entropy",
) -> np.ndarray:
    """Class labels argmaxₖ z⁽ᴸ⁾ₖ for cross_entropy; the outputs z⁽ᴸ⁾ themselves for mse."""
    out = forward(weights, biases, X, activation, loss).out
    return out.argmax(axis=1) if loss == "cross_entropy" else out


# ------------------------------------------------------------------------- many shallow nets (torch)
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
        seed: int = 0,
    ) -> None:
        super().__init__()
        _check_choice(activation, ACTIVATIONS, "activation")
        widths = list(widths)
        if not widths or any(
            isinstance(w, bool) or not isinstance(w, int | np.integer) or w < 1 for w in widths
        ):
            raise ValueError(f"widths must be positive integers, got {widths}")
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
        if not domain[0] < domain[1] or not slope >= 1:
            raise ValueError(f"need domain[0] < domain[1] and slope >= 1, got {domain}, {slope}")
        self.widths = widths
        self.repeats = repeats
        self.activation = activation
        gen = generator(seed)
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
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[ShallowNets, torch.Tensor]:
    """Fit one network per width (and repeat) to y ≈ g(x) by full-batch Adam on the mean
    squared error, the learning rate decaying from ``lr`` to 0 along a cosine.

    Returns the model and the per-network training MSE after each step, shape
    (steps, repeats, len(widths)).
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.float32)
    if x.ndim != 1 or y.shape != x.shape or x.numel() == 0:
        raise ValueError(
            f"x and y must be 1-D of the same length, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1 or not lr > 0:
        raise ValueError(f"need steps >= 1 and lr > 0, got steps={steps!r}, lr={lr!r}")
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    model = ShallowNets(widths, activation, repeats, (lo, hi), seed=seed).to(device or "cpu")
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
