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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mlbook._checks import one_of, positive, positive_int
from mlbook._mlp_checks import _array, _check_params, _check_X, _check_Y
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
    one_of(activation, "activation", ACTIVATIONS)
    one_of(loss, "loss", LOSSES)
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
def init_params(
    sizes: Sequence[int], generator: np.random.Generator | None = None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Random W⁽ˡ⁾ ~ N(0, 1/d_{l-1}) (LeCun's scale, so u⁽ˡ⁾ starts with unit variance for
    unit-variance inputs) and b⁽ˡ⁾ = 0 for layer sizes (d_0, d_1, …, d_L).

    The weights are drawn with the NumPy generator ``generator`` (``None``: the book's fixed
    draw ``mlbook.rng(0)``; torch's global generator does not reach NumPy code)."""
    sizes = list(sizes)
    if len(sizes) < 2 or any(
        isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1 for d in sizes
    ):
        raise ValueError(
            f"sizes must list at least two positive integers (d_0, …, d_L), got {sizes}"
        )
    rng = numpy_rng(0) if generator is None else generator
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
    generator: np.random.Generator | None = None,
) -> FitResult:
    """Full-batch gradient descent W ← W − lr·∂L/∂W with gradients from :func:`backprop`,
    from :func:`init_params` drawn with ``generator``."""
    positive(lr, "lr")
    positive_int(epochs, "epochs")
    weights, biases = init_params(sizes, generator)
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
