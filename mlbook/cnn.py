"""Convolutional networks (chapter 8): convolution by loops and by im2col, output-size and
receptive-field arithmetic and the IoU of segmentations; the small models of the chapter
(LeNet, a plain/residual deep CNN, a U-Net, a depthwise-separable convolution) live in
:mod:`mlbook.cnn_models` and are re-exported here.

Shapes follow :func:`torch.nn.functional.conv2d`: input x (N, C_in, H, W), weight
w (C_out, C_in, k_h, k_w), bias b (C_out,), output (N, C_out, H_out, W_out). Like every deep
learning library, "convolution" here is the cross-correlation

    y[n, o, i, j] = b[o] + Σ_c Σ_p Σ_q x_pad[n, c, s·i + p, s·j + q] · w[o, c, p, q]

(:eq:`eq-cnn-xcorr`; no kernel flip); the chapter shows that flipping the kernel
gives the convolution of the mathematical definition (:eq:`eq-cnn-conv-2d`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from mlbook._checks import nonneg_int, positive_int
from mlbook.cnn_models import (
    DepthwiseSeparableConv2d,
    LeNet,
    ResNetSmall,
    UNetSmall,
    count_parameters,
)

__all__ = [
    "conv2d_loops",
    "conv2d_im2col",
    "output_size",
    "receptive_field",
    "LeNet",
    "ResNetSmall",
    "UNetSmall",
    "DepthwiseSeparableConv2d",
    "count_parameters",
    "iou",
]


def _pair(value: int | Sequence[int], name: str, minimum: int) -> tuple[int, int]:
    """(value, value) for an int, the pair itself for a pair; checks the range."""
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
    ):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_conv(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Validate the arguments of a 2-D convolution; return stride, padding and output size."""
    if x.dim() != 4:
        raise ValueError(f"x must have shape (N, C_in, H, W), got {x.dim()} dims {tuple(x.shape)}")
    if w.dim() != 4:
        raise ValueError(
            f"w must have shape (C_out, C_in, k_h, k_w), got {w.dim()} dims {tuple(w.shape)}"
        )
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"channel mismatch: x has C_in = {x.shape[1]} channels but w expects {w.shape[1]}"
        )
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError(
            f"b must have shape (C_out,) = ({w.shape[0]},) to match w, got {tuple(b.shape)}"
        )
    s = _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    out = (
        output_size(x.shape[2], w.shape[2], s[0], p[0]),
        output_size(x.shape[3], w.shape[3], s[1], p[1]),
    )
    return s, p, out


def conv2d_loops(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> torch.Tensor:
    """2-D convolution (cross-correlation, :eq:`eq-cnn-xcorr`) by a loop over output positions.

    Each of the H_out·W_out iterations takes the (N, C_in, k_h, k_w) patch under the window and
    contracts it with the whole weight at once, so the loop is vectorised over batch and
    channels: H_out·W_out Python steps of N·C_out·C_in·k_h·k_w multiply-adds each. Readable,
    and slow because of the Python steps; the reference for :func:`conv2d_im2col`.
    """
    (sh, sw), (ph, pw), (h_out, w_out) = _check_conv(x, w, b, stride, padding)
    kh, kw = w.shape[2], w.shape[3]
    xp = F.pad(x, (pw, pw, ph, ph))
    y = x.new_zeros(x.shape[0], w.shape[0], h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            patch = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (N, C_in, k_h, k_w)
            y[:, :, i, j] = torch.einsum("ncpq,ocpq->no", patch, w)  # (N, C_out)
    if b is not None:
        y = y + b.view(1, -1, 1, 1)
    return y


def conv2d_im2col(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> torch.Tensor:
    """2-D convolution (:eq:`eq-cnn-xcorr`) as one matrix product: im2col.

    ``unfold`` copies every receptive-field patch into a column, giving a matrix
    (N, C_in·k_h·k_w, H_out·W_out); the weight reshaped to (C_out, C_in·k_h·k_w) multiplies it.
    The same N·C_out·C_in·k_h·k_w·H_out·W_out multiply-adds as the loops, done by one batched
    GEMM, at the cost of k_h·k_w copies of the input in memory.
    """
    (sh, sw), (ph, pw), (h_out, w_out) = _check_conv(x, w, b, stride, padding)
    kh, kw = w.shape[2], w.shape[3]
    cols = F.unfold(x, (kh, kw), padding=(ph, pw), stride=(sh, sw))  # (N, C_in·kh·kw, L)
    y = w.reshape(w.shape[0], -1) @ cols  # (N, C_out, L)
    if b is not None:
        y = y + b.view(1, -1, 1)
    return y.view(x.shape[0], w.shape[0], h_out, w_out)


def output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one axis (:eq:`eq-cnn-output-size`):

    n_out = ⌊(n + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1.
    """
    for name, value in (("n", n), ("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        positive_int(value, name)
    nonneg_int(padding, "padding")
    span = dilation * (kernel - 1) + 1  # the extent of the (dilated) kernel
    if n + 2 * padding < span:
        raise ValueError(
            f"kernel of extent {span} (kernel={kernel}, dilation={dilation}) does not fit in "
            f"the padded input of size {n + 2 * padding} (n={n}, padding={padding})"
        )
    return (n + 2 * padding - span) // stride + 1


def receptive_field(layers: Sequence[Sequence[int]]) -> int:
    """Receptive field (in input pixels, along one axis) of a stack of convolutions/poolings.

    ``layers`` lists (kernel, stride) or (kernel, stride, dilation) per layer, input first.
    With the jump j (input pixels between neighbouring units) the recursion is
    (:eq:`eq-cnn-receptive-field`)

        r_0 = 1, j_0 = 1,   r_l = r_{l−1} + dilation_l·(kernel_l − 1)·j_{l−1},   j_l = j_{l−1}·stride_l.
    """
    r, jump = 1, 1
    for index, layer in enumerate(layers):
        if len(layer) not in (2, 3):
            raise ValueError(
                f"layer {index} must be (kernel, stride) or (kernel, stride, dilation), got {layer!r}"
            )
        kernel, stride = layer[0], layer[1]
        dilation = layer[2] if len(layer) == 3 else 1
        for name, value in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
            positive_int(value, f"layer {index}: {name}")
        r += dilation * (kernel - 1) * jump
        jump *= stride
    return r


def iou(
    pred: torch.Tensor, target: torch.Tensor, n_classes: int, ignore_background: bool = True
) -> torch.Tensor:
    """Mean intersection over union |P ∩ T| / |P ∪ T| over classes, for two integer class maps
    of the same shape. Classes absent from both maps are skipped; class 0 (background) is
    skipped with ``ignore_background``."""
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    values = []
    for c in range(1 if ignore_background else 0, n_classes):
        p, t = pred == c, target == c
        union = (p | t).sum()
        if union > 0:
            values.append((p & t).sum().float() / union.float())
    if not values:
        raise ValueError("no class of the range occurs in pred or target")
    return torch.stack(values).mean()
