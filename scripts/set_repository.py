"""Set the book's repository URL and branch in the one place it lives, and propagate it.

    python scripts/set_repository.py https://github.com/OWNER/REPO [BRANCH]

rewrites ``repository.url`` and ``repository.branch`` in ``_config.yml`` (which the Colab,
Binder, repository and issue buttons use) and the ``pip install`` line (and ``git clone`` line,
where a chapter reads the book's own text) of every notebook's Colab set-up cell, so that Colab installs the mlbook of the same repository and branch as the
book. ``tests/test_notebooks.py`` checks that the two agree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
INSTALL_LINE = re.compile(r'(%pip install -q "mlbook @ git\+)[^"@]+@[^"]+(")')
# chapters that read the book's own text clone the same repository and branch in Colab
CLONE_LINE = re.compile(r"(!git clone -q --depth 1 --branch )\S+ \S+")
URL = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+$")


def set_repository(url: str, branch: str = "main") -> list[Path]:
    """Write ``url``/``branch`` into _config.yml and the notebooks; return the files changed."""
    url = url.rstrip("/").removesuffix(".git")
    if not URL.match(url):
        raise ValueError(f"URL must look like https://github.com/OWNER/REPO, got {url!r}")
    if not re.fullmatch(r"[\w./-]+", branch):
        raise ValueError(f"branch must be a git branch name, got {branch!r}")
    changed = []
    config = ROOT / "_config.yml"
    text = config.read_text(encoding="utf-8")
    new = re.sub(r"(?m)^(repository:\n  url: ).*$", rf"\g<1>{url}", text)
    new = re.sub(r"(?m)^(  branch: ).*$", rf"\g<1>{branch}", new)
    if new != text:
        config.write_text(new, encoding="utf-8")
        changed.append(config)
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cell = nb.cells[0]
        source = INSTALL_LINE.sub(rf"\g<1>{url}@{branch}\g<2>", cell.source)
        source = CLONE_LINE.sub(rf"\g<1>{branch} {url}", source)
        if source != cell.source:
            cell.source = source
            nbformat.write(nb, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    for changed_path in set_repository(*sys.argv[1:]):
        print("updated", changed_path.relative_to(ROOT))
