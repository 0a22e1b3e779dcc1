"""Execute every chapter notebook (or those named) and print its wall-clock time against the
CPU budget of CHAPTER_GUIDE.md: 60 s for chapters 1-9, 120 s for chapters 10-15.

    python benchmarks/notebook_times.py [book/01_history.ipynb ...]

Exits non-zero if a notebook fails or runs over its budget. Times include the kernel start-up.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def budget(path: Path) -> float:
    """The CPU time budget in seconds of a chapter notebook."""
    match = re.match(r"(\d\d)_", path.name)
    return 120.0 if match and int(match.group(1)) >= 10 else 60.0


def run(path: Path) -> float:
    """Execute ``path`` from its own folder (as the site build does); return the seconds taken."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    failed = False
    print(f"{'notebook':<32} {'seconds':>8} {'budget':>7}")
    for path in paths:
        seconds = run(path)
        over = seconds > budget(path)
        failed |= over
        print(
            f"{path.name:<32} {seconds:8.1f} {budget(path):7.0f}{'  OVER BUDGET' if over else ''}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
