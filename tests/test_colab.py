"""The reader's path into Colab, simulated: mlbook installed the way the Colab set-up cell does it
(from the repository, not editable) into a fresh environment that holds only torch, a Jupyter
kernel and what pyproject.toml declares — none of requirements.txt's pins — and then chapter 1
run there, from a folder outside the repository so that nothing is imported from the checkout.

This is the one test that needs a package registry (PyPI), as a Colab user's install does;
MLBOOK_OFFLINE=1 skips it on a machine without one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT

CHAPTER = ROOT / "book" / "01_history.ipynb"
TORCH = "torch==2.13.0"  # stands in for the torch Colab has preinstalled


def _install_spec() -> str:
    """The set-up cell's pip spec, pointed at this checkout instead of GitHub."""
    first = nbformat.read(CHAPTER, as_version=4).cells[0].source
    match = re.search(r'%pip install -q "mlbook @ git\+(\S+)@(\S+)"', first)
    assert match, 'the set-up cell has no `%pip install -q "mlbook @ git+URL@BRANCH"` line'
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if dirty.returncode == 0 and not dirty.stdout.strip():
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        if head.returncode == 0:
            return f"mlbook @ git+file://{ROOT}@{head.stdout.strip()}"
    # uncommitted changes: a non-editable install of the working tree itself
    return f"mlbook @ file://{ROOT}"


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MLBOOK_OFFLINE") == "1", reason="MLBOOK_OFFLINE=1: no PyPI")
def test_chapter_1_runs_with_mlbook_installed_as_in_colab(tmp_path):
    env_dir = tmp_path / "colab-env"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    py = str(env_dir / "bin" / "python")

    def pip(*args: str) -> None:
        result = subprocess.run(
            [py, "-m", "pip", "install", "--quiet", *args], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    pip("--upgrade", "pip")  # Colab's pip is recent; an old one rejects "name @ git+file://…@ref"
    pip(TORCH, "ipykernel", "nbclient")
    pip(_install_spec())
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(CHAPTER, work / CHAPTER.name)
    script = (
        "import nbformat, nbclient, sys\n"
        f"nb = nbformat.read({CHAPTER.name!r}, as_version=4)\n"
        "nbclient.NotebookClient(nb, timeout=300, kernel_name='python3').execute()\n"
        "import mlbook; print('mlbook from', mlbook.__file__)\n"
    )
    result = subprocess.run([py, "-c", script], cwd=work, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "site-packages" in result.stdout and str(ROOT) not in result.stdout
