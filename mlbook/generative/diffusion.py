"""DDPM diffusion and classifier-free guidance (chapter 13)."""

from __future__ import annotations

__all__: list[str] = []
