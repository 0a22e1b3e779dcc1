"""Shared test set-up: markers for GPU and browser tests, and paths into the repository."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def chromium_path() -> str | None:
    """Debian's Chromium (or the browser named by MLBOOK_CHROMIUM), if installed."""
    wanted = os.environ.get("MLBOOK_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip_gpu)


def pytest_report_header(config: pytest.Config) -> str:
    browser = chromium_path()
    if browser:
        return f"browser tests: {browser}"
    if IN_CI:
        return "browser tests: Chromium NOT FOUND; in CI this fails the run"
    return (
        "browser tests: Chromium not found, so the browser tests will be SKIPPED "
        "(install Debian's 'chromium' package to run them)"
    )
