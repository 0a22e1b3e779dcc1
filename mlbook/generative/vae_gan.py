"""VAE, GAN and VAE-GAN (chapter 12)."""

from __future__ import annotations

__all__: list[str] = []
