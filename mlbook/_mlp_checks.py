"""Argument checks of :mod:`mlbook.mlp`: parameters, inputs and targets as float64 arrays of the
shapes the δ-recursion needs, with errors that name the layer and the shape expected."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


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
