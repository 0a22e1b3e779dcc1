"""The perceptron of chapter 2: Rosenblatt's error-correction rule, Novikoff's mistake bound,
separable test data, and a batched kernel that runs many perceptrons at once.

Notation (chapter 2): labels y_i in {-1, +1}; the score of x is z = w^T x + b; an example is
a *mistake* when y_i z_i <= 0 (a point on the boundary counts as wrong). The bias is absorbed
by the augmented vectors x~ = (x, c) and w~ = (w, b / c), where c >= 0 is the constant input
(``bias_input``, 1 by default), so that w~^T x~ = w^T x + b.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mlbook._checks import nonneg, positive, positive_int
from mlbook.core import generator as generator_for_seed

__all__ = [
    "History",
    "PerceptronResult",
    "ManyResult",
    "fit",
    "fit_many",
    "separable_data",
    "novikoff_bound",
]


@dataclass(frozen=True, eq=False)
class History:
    """What a run of :func:`fit` went through.

    ``epoch_mistakes[e]`` is the number of updates in epoch e; ``w`` (u + 1, d) and ``b``
    (u + 1,) hold the parameters before the first update and after each of the u updates;
    ``index`` (u,) is the example that caused each update.
    """

    epoch_mistakes: tuple[int, ...]
    w: torch.Tensor
    b: torch.Tensor
    index: torch.Tensor


@dataclass(frozen=True, eq=False)
class PerceptronResult:
    """The outcome of :func:`fit`: final ``w`` (d,) and ``b`` (0-dim), the total number of
    updates ``mistakes``, whether an epoch without a mistake happened (``converged``), the
    number of epochs run, and the :class:`History`."""

    w: torch.Tensor
    b: torch.Tensor
    mistakes: int
    converged: bool
    epochs: int
    history: History


@dataclass(frozen=True, eq=False)
class ManyResult:
    """The outcome of :func:`fit_many` on K data sets: ``w`` (K, d), ``b`` (K,), ``mistakes``
    (K,), ``converged`` (K,), ``epochs`` (K,) and ``epoch_mistakes`` (K, E), E being the
    number of epochs the longest run needed (zero-padded after a set converged)."""

    w: torch.Tensor
    b: torch.Tensor
    mistakes: torch.Tensor
    converged: torch.Tensor
    epochs: torch.Tensor
    epoch_mistakes: torch.Tensor


# ---------------------------------------------------------------------------------------------
# argument checks


def _as_float(X: object, name: str) -> torch.Tensor:
    """``X`` as a floating tensor (integers become float64); ``ValueError`` naming ``name``
    if it holds NaN or infinity (a NaN score is never <= 0, so it would pass as "correct")."""
    if isinstance(X, np.ndarray):
        X = torch.from_numpy(X)
    X = torch.as_tensor(X)
    if X.dtype == torch.bool or X.is_complex():
        raise ValueError(f"{name} must hold real numbers, got a {X.dtype} tensor")
    if not torch.is_floating_point(X):
        X = X.to(torch.float64)
    if not bool(torch.isfinite(X).all()):
        raise ValueError(f"{name} must be finite, got NaN or infinity")
    return X


def _check_labels(y: object, like: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    if isinstance(y, np.ndarray):
        y = torch.from_numpy(y)
    y = torch.as_tensor(y)
    if tuple(y.shape) != shape:
        raise ValueError(
            f"y must have shape {shape} to match X of shape {tuple(like.shape)}, "
            f"got y of shape {tuple(y.shape)}"
        )
    if y.dtype == torch.bool or y.is_complex():
        raise ValueError(f"labels must be -1 or +1 (numbers), got a {y.dtype} tensor")
    ok = (y == 1) | (y == -1)
    if not bool(ok.all()):
        values = torch.unique(y.detach().cpu().to(torch.float64)).tolist()
        shown = ", ".join(f"{v:g}" for v in values[:8]) + (", ..." if len(values) > 8 else "")
        raise ValueError(
            f"labels must be -1 or +1 (the perceptron needs y in {{-1, +1}}), got values "
            f"[{shown}]; for 0/1 labels use y = 2 * y - 1"
        )
    return y.to(dtype=like.dtype, device=like.device)


# ---------------------------------------------------------------------------------------------
# the perceptron, one data set


def fit(
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    lr: float = 1.0,
    max_epochs: int = 1000,
    *,
    bias_input: float = 1.0,
) -> PerceptronResult:
    """Rosenblatt's perceptron rule, one example at a time, in the order given.

    Starting from w = 0, b = 0, every example with y_i (w^T x_i + b) <= 0 triggers the update
    (:eq:`eq-perceptron-update`, with the bias absorbed)::

        w <- w + lr * y_i * x_i,        b <- b + lr * y_i * c**2      (c = bias_input)

    i.e. w~ <- w~ + lr * y_i * x~_i for x~ = (x, c), w~ = (w, b / c). With c = 1 this is the
    textbook rule b <- b + lr * y_i; with c = 0 the bias stays 0. Epochs sweep the data until
    one epoch makes no mistake (``converged``) or ``max_epochs`` have run.

    X: (n, d) float tensor or array; y: (n,) labels in {-1, +1}. Computes in X's dtype
    (integer input becomes float64) and on X's device.
    """
    X = _as_float(X, "X")
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have shape (n, d) with n, d >= 1, got shape {tuple(X.shape)}")
    n, d = X.shape
    y = _check_labels(y, X, (n,))
    lr = positive(lr, "lr")
    max_epochs = positive_int(max_epochs, "max_epochs")
    c = nonneg(bias_input, "bias_input (the constant input c)")

    w = torch.zeros(d, dtype=X.dtype, device=X.device)  # (d,)
    b = torch.zeros((), dtype=X.dtype, device=X.device)  # ()
    ws, bs, index, epoch_mistakes = [w], [b], [], []
    converged = False
    for _ in range(max_epochs):
        count = 0
        for i in range(n):
            if y[i] * ((w * X[i]).sum() + b) <= 0:  # a mistake: y_i z_i <= 0
                step = lr * y[i]
                w = w + step * X[i]
                b = b + step * (c * c)
                ws.append(w)
                bs.append(b)
                index.append(i)
                count += 1
        epoch_mistakes.append(count)
        if count == 0:
            converged = True
            break
    history = History(
        epoch_mistakes=tuple(epoch_mistakes),
        w=torch.stack(ws),  # (u + 1, d)
        b=torch.stack(bs),  # (u + 1,)
        index=torch.tensor(index, dtype=torch.int64),  # (u,)
    )
    return PerceptronResult(
        w=w,
        b=b,
        mistakes=len(index),
        converged=converged,
        epochs=len(epoch_mistakes),
        history=history,
    )


# ---------------------------------------------------------------------------------------------
# many perceptrons at once


def fit_many(
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    lr: float = 1.0,
    max_epochs: int = 1000,
    *,
    bias_input: float = 1.0,
) -> ManyResult:
    """K independent perceptrons, one per data set, run in lockstep as tensor operations.

    X: (K, n, d), y: (K, n) labels in {-1, +1}. Set k follows exactly the rule of :func:`fit`
    (same order, same update ``w~ <- w~ + lr * y_i * x~_i`` when y_i w~^T x~_i <= 0), so each
    set's result equals ``fit(X[k], y[k])``; one Python step handles example i of all K sets.
    A set that had a clean epoch makes no further updates (its w no longer changes), so runs
    stop when every set has converged or after ``max_epochs``.
    """
    X = _as_float(X, "X")
    if X.ndim != 3 or min(X.shape) < 1:
        raise ValueError(
            f"X must have shape (K, n, d) with K, n, d >= 1 (K data sets), "
            f"got shape {tuple(X.shape)}"
        )
    K, n, d = X.shape
    y = _check_labels(y, X, (K, n))
    lr = positive(lr, "lr")
    max_epochs = positive_int(max_epochs, "max_epochs")
    c = nonneg(bias_input, "bias_input (the constant input c)")

    Xt = X.transpose(0, 1).contiguous()  # (n, K, d): example i of every set is Xt[i]
    yt = y.transpose(0, 1).contiguous()  # (n, K)
    w = torch.zeros(K, d, dtype=X.dtype, device=X.device)  # (K, d)
    b = torch.zeros(K, dtype=X.dtype, device=X.device)  # (K,)
    mistakes = torch.zeros(K, dtype=torch.int64, device=X.device)
    converged = torch.zeros(K, dtype=torch.bool, device=X.device)
    epochs = torch.zeros(K, dtype=torch.int64, device=X.device)
    per_epoch = []
    for _ in range(max_epochs):
        count = torch.zeros(K, dtype=torch.int64, device=X.device)
        for i in range(n):
            x_i, y_i = Xt[i], yt[i]  # (K, d), (K,)
            wrong = y_i * ((w * x_i).sum(-1) + b) <= 0  # (K,)
            step = lr * y_i  # (K,)
            w = torch.where(wrong[:, None], w + step[:, None] * x_i, w)
            b = torch.where(wrong, b + step * (c * c), b)
            count += wrong
        per_epoch.append(count)
        epochs += ~converged  # sets still running spent this epoch
        mistakes += count
        converged |= count == 0
        if bool(converged.all()):
            break
    return ManyResult(
        w=w,
        b=b,
        mistakes=mistakes,
        converged=converged,
        epochs=epochs,
        epoch_mistakes=torch.stack(per_epoch, dim=1),  # (K, E)
    )


# ---------------------------------------------------------------------------------------------
# data and the bound


def separable_data(
    n: int,
    d: int,
    margin: float,
    generator: torch.Generator | None = None,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A random linearly separable set on which the hyperplane (w*, b*) has geometric margin
    exactly ``margin`` (chapter 2: gamma = min_i y_i (w*^T x_i + b*) with ||w*|| = 1).

    Draws x ~ N(0, I_d), a random unit normal w* and an offset b* that puts a random 25-75 %
    quantile of the projections on the boundary (so both classes occur), labels
    y = +1 where w*^T x + b* >= 0 and -1 elsewhere, then moves every point of class y by the
    same signed distance y * t along w* (t > 0 moves the classes apart, t < 0 together), with t
    chosen so that min_i y_i (w*^T x_i + b*) = margin. The labels do not change. ``margin`` is
    the margin of (w*, b*); the largest margin of any separator of the data can be larger.

    Every draw comes from ``generator`` (``None``: the book's fixed draw ``mlbook.generator(0)``).
    Returns X (n, d), y (n,) in {-1, +1}, w* (d,) with ||w*|| = 1, and b* (0-dim).
    """
    if positive_int(n, "n") < 2:
        raise ValueError(f"n must be an integer >= 2 (two classes), got {n!r}")
    d = positive_int(d, "d")
    gamma = positive(margin, "margin")
    gen = generator_for_seed(0) if generator is None else generator
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)  # (n, d)
    w_star = torch.randn(d, generator=gen, dtype=torch.float64)
    w_star = w_star / w_star.norm()  # (d,), unit norm
    q = 0.25 + 0.5 * torch.rand((), generator=gen, dtype=torch.float64)
    proj = X @ w_star  # (n,)
    b_star = -torch.quantile(proj, q)
    s = proj + b_star  # signed distances to the boundary
    y = torch.where(s >= 0, 1.0, -1.0).to(torch.float64)  # (n,)
    shift = gamma - (y * s).min()  # y_i s_i + shift >= gamma, = gamma for the closest point
    X = X + (y * shift)[:, None] * w_star  # (n, d)
    return (
        X.to(dtype=dtype, device=device),
        y.to(dtype=dtype, device=device),
        w_star.to(dtype=dtype, device=device),
        b_star.to(dtype=dtype, device=device),
    )


def novikoff_bound(
    X: torch.Tensor | np.ndarray,
    y: torch.Tensor | np.ndarray,
    w: torch.Tensor | np.ndarray,
    b: float | torch.Tensor,
    *,
    bias_input: float = 1.0,
) -> float:
    """Novikoff's bound (R~ / gamma~)^2 on the perceptron's mistakes, bias absorbed.

    With x~ = (x, c) and u = (w, b / c) / ||(w, b / c)|| (chapter 2, theorem
    ``thm-perceptron-novikoff`` and :eq:`eq-perceptron-bound-bias`):
    R~ = max_i ||x~_i|| = max_i sqrt(||x_i||^2 + c^2) and
    gamma~ = min_i y_i u^T x~_i = min_i y_i (w^T x_i + b) / ||(w, b / c)||. Raises
    ``ValueError`` unless (w, b) separates the data (gamma~ > 0). With c = 0 (no bias) b must
    be 0. Computed in float64.
    """
    X = _as_float(X, "X").to(torch.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have shape (n, d) with n, d >= 1, got shape {tuple(X.shape)}")
    n, d = X.shape
    y = _check_labels(y, X, (n,))
    w = _as_float(w, "w").to(dtype=torch.float64, device=X.device)
    if tuple(w.shape) != (d,):
        raise ValueError(f"w must have shape ({d},) to match X, got {tuple(w.shape)}")
    b = _as_float(b, "b").to(dtype=torch.float64, device=X.device)
    if b.numel() != 1:
        raise ValueError(f"b must be a scalar, got shape {tuple(b.shape)}")
    b = b.reshape(())
    c = nonneg(bias_input, "bias_input (the constant input c)")
    if c == 0:
        if b != 0:
            raise ValueError("bias_input=0 means a perceptron without bias, so b must be 0")
        norm = w.norm()
    else:
        norm = torch.sqrt(w @ w + (b / c) ** 2)  # ||(w, b / c)||
    if not norm > 0:
        raise ValueError("(w, b) is zero: it separates nothing")
    gamma = ((y * (X @ w + b)).min() / norm).item()  # margin of the augmented unit vector
    if not gamma > 0:
        raise ValueError(
            f"(w, b) does not separate the data: min_i y_i (w^T x_i + b) / ||(w, b/c)|| = "
            f"{gamma:.3g} <= 0"
        )
    R = torch.sqrt((X * X).sum(1) + c * c).max().item()  # max_i ||x~_i||
    return (R / gamma) ** 2
