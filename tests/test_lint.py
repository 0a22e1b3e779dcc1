"""ruff, as `make lint` runs it: the package, the tests and the notebooks' code stay clean; and
requirements.txt pins what the project's environment really has."""

import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

RUFF = str(Path(sys.executable).parent / "ruff")


def test_ruff_check():
    result = subprocess.run([RUFF, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


def test_ruff_format():
    result = subprocess.run(
        [RUFF, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_requirements_are_what_is_installed():
    """Every pin of requirements.txt names a distribution installed at that version in the
    project's .venv, so a pin that pip could not resolve on a fresh machine is caught here."""
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("only the project's .venv is installed from requirements.txt")
    wrong = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, pinned = line.split("==")
        try:
            installed = metadata.version(name).split("+")[0]
        except metadata.PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong.append(f"{name}=={pinned} (installed: {installed})")
    assert not wrong, "requirements.txt pins what is not installed: " + ", ".join(wrong)
