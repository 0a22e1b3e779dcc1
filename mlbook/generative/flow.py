"""Normalizing flows: RealNVP (chapter 13)."""

from __future__ import annotations

__all__: list[str] = []
