"""Convolutional networks (chapter 8): convolution by loops and by im2col, output-size and
receptive-field arithmetic, and the small models of the chapter (LeNet, a plain/residual deep
CNN, a U-Net and a depthwise-separable convolution).

Shapes follow :func:`torch.nn.functional.conv2d`: input x (N, C_in, H, W), weight
w (C_out, C_in, k_h, k_w), bias b (C_out,), output (N, C_out, H_out, W_out). Like every deep
learning library, "convolution" here is the cross-correlation

    y[n, o, i, j] = b[o] + Σ_c Σ_p Σ_q x_pad[n, c, s·i + p, s·j + q] · w[o, c, p, q]

(chapter 8, eq. ``eq-cnn-xcorr``; no kernel flip); the chapter shows that flipping the kernel
gives the convolution of the mathematical definition (eq. ``eq-cnn-conv-2d``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

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
    """2-D convolution (cross-correlation, eq. ``eq-cnn-xcorr``) by a loop over output positions.

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
    """2-D convolution (eq. ``eq-cnn-xcorr``) as one matrix product: im2col.

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
    """Output length of a convolution or pooling along one axis (eq. ``eq-cnn-output-size``):

    n_out = ⌊(n + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1.
    """
    for name, value, minimum in (
        ("n", n, 1),
        ("kernel", kernel, 1),
        ("stride", stride, 1),
        ("padding", padding, 0),
        ("dilation", dilation, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
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
    (eq. ``eq-cnn-receptive-field``)

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
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"layer {index}: {name} must be an int >= 1, got {value!r}")
        r += dilation * (kernel - 1) * jump
        jump *= stride
    return r


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


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


class LeNet(nn.Module):
    """A LeNet-style CNN for 8×8 digits: conv–ReLU–pool–conv–ReLU–pool–FC–ReLU–FC.

    The 3×3 convolutions are padded so that the small image survives two 2×2 poolings:
    8×8 → 8×8 → 4×4 → 4×4 → 2×2. ``features`` is the convolutional part, ``classifier``
    the fully connected part; :meth:`feature_maps` returns the activations after each
    convolution (for figures).
    """

    def __init__(
        self, in_channels: int = 1, n_classes: int = 10, c1: int = 6, c2: int = 16, hidden: int = 32
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1),  # (N, c1, 8, 8)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, c1, 4, 4)
            nn.Conv2d(c1, c2, 3, padding=1),  # (N, c2, 4, 4)
            nn.ReLU(),
            nn.MaxPool2d(2),  # (N, c2, 2, 2)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(4 * c2, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activations after the first and the second convolution + ReLU."""
        maps = []
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                maps.append(x)
        return maps


class _Block(nn.Module):
    """Two 3×3 convolutions with ReLU. With ``residual`` the block is He et al.'s original
    ReLU(h + F(h)); eq. ``eq-cnn-residual`` is the same without the final ReLU (pre-activation)."""

    def __init__(self, width: int, residual: bool, norm: bool) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.norm1 = nn.BatchNorm2d(width) if norm else nn.Identity()
        self.norm2 = nn.BatchNorm2d(width) if norm else nn.Identity()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        f = self.norm2(self.conv2(torch.relu(self.norm1(self.conv1(h)))))
        return torch.relu(h + f) if self.residual else torch.relu(f)


class ResNetSmall(nn.Module):
    """A deep CNN of ``depth`` 3×3 convolutions (plus a stem and a linear head), plain or
    residual.

    stem: conv 3×3 (in_channels → width) + ReLU + 2×2 max pooling; then depth/2 blocks of two
    convolutions, each block h ↦ ReLU(h + F(h)) (residual, He et al. 2016) or h ↦ ReLU(F(h))
    (plain: the same layers without the identity path); then global average pooling and a
    linear layer. ``norm=True`` puts BatchNorm after every convolution of the blocks.
    """

    def __init__(
        self,
        depth: int = 20,
        width: int = 16,
        in_channels: int = 1,
        n_classes: int = 10,
        residual: bool = True,
        norm: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2 or depth % 2:
            raise ValueError(f"depth must be an even int >= 2 (two convs per block), got {depth!r}")
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.blocks = nn.Sequential(*(_Block(width, residual, norm) for _ in range(depth // 2)))
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x))  # (N, width, H/2, W/2)
        return self.head(h.mean(dim=(2, 3)))


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    """Two padded 3×3 convolutions with ReLU (sizes kept): one level of the U-Net."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.ReLU(),
    )


class UNetSmall(nn.Module):
    """A two-level U-Net (Ronneberger et al. 2015) for images whose sides are divisible by 4.

    encoder: double conv (base) → pool → double conv (2·base) → pool → bottleneck (4·base);
    decoder: 2×2 transposed conv up, concatenate the encoder map of the same size (the skip
    connection), double conv; twice; a 1×1 conv gives ``n_classes`` logits per pixel. With
    ``skip=False`` nothing is concatenated (the decoder sees only the upsampled bottleneck):
    the ablation of the chapter. Padded convolutions keep the sizes, so no cropping is needed.
    """

    def __init__(
        self, in_channels: int = 1, n_classes: int = 4, base: int = 8, skip: bool = True
    ) -> None:
        super().__init__()
        self.skip = skip
        self.enc1 = _double_conv(in_channels, base)
        self.enc2 = _double_conv(base, 2 * base)
        self.bottleneck = _double_conv(2 * base, 4 * base)
        self.up2 = nn.ConvTranspose2d(4 * base, 2 * base, 2, stride=2)
        self.dec2 = _double_conv((4 if skip else 2) * base, 2 * base)
        self.up1 = nn.ConvTranspose2d(2 * base, base, 2, stride=2)
        self.dec1 = _double_conv((2 if skip else 1) * base, base)
        self.out = nn.Conv2d(base, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(
                f"x must have shape (N, C, H, W) with H and W divisible by 4, got {tuple(x.shape)}"
            )
        e1 = self.enc1(x)  # (N, base, H, W)
        e2 = self.enc2(F.max_pool2d(e1, 2))  # (N, 2·base, H/2, W/2)
        z = self.bottleneck(F.max_pool2d(e2, 2))  # (N, 4·base, H/4, W/4)
        u2 = self.up2(z)  # (N, 2·base, H/2, W/2)
        d2 = self.dec2(torch.cat([u2, e2], dim=1) if self.skip else u2)
        u1 = self.up1(d2)  # (N, base, H, W)
        d1 = self.dec1(torch.cat([u1, e1], dim=1) if self.skip else u1)
        return self.out(d1)  # (N, n_classes, H, W)


class DepthwiseSeparableConv2d(nn.Module):
    """MobileNet's depthwise-separable convolution (Howard et al. 2017): a depthwise k×k
    convolution (one filter per input channel, ``groups=C_in``) followed by a pointwise 1×1
    convolution. Parameters (eq. ``eq-cnn-depthwise``): C_in·k² + C_in·C_out, plus C_in + C_out biases, against
    C_in·C_out·k² + C_out for a standard convolution."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int = 3, padding: int = 0, bias: bool = True
    ) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, kernel, padding=padding, groups=c_in, bias=bias)
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))
