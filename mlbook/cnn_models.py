"""The small convolutional networks of chapter 8: LeNet, a plain/residual deep CNN, a U-Net and a
depthwise-separable convolution, with a parameter count. Re-exported by :mod:`mlbook.cnn`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook._checks import positive_int

__all__ = ["LeNet", "ResNetSmall", "UNetSmall", "DepthwiseSeparableConv2d", "count_parameters"]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


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
    ReLU(h + F(h)); :eq:`eq-cnn-residual` is the same without the final ReLU (pre-activation)."""

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
        if positive_int(depth, "depth") % 2:
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
    convolution. Parameters (:eq:`eq-cnn-depthwise`): C_in·k² + C_in·C_out, plus C_in + C_out
    biases, against C_in·C_out·k² + C_out for a standard convolution."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int = 3, padding: int = 0, bias: bool = True
    ) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, kernel, padding=padding, groups=c_in, bias=bias)
        self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))
