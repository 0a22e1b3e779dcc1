"""Execute every chapter notebook (or those named) and print its wall-clock time against the
CPU budget of a chapter: 60 s for chapters 1-9, 120 s for chapters 10-15.

    python benchmarks/notebook_times.py [--checks] [book/01_history.ipynb ...]

With ``--checks`` it also prints every ``mlbook.verify.check`` the notebook made, with its margin:
the quick way to see how a claim fares under another seed family (``MLBOOK_SEED=3 python …``).
Exits non-zero if a notebook fails or runs over its budget. Times include the kernel start-up.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbclient
import nbformat

from mlbook.verify import records_in_html

ROOT = Path(__file__).resolve().parents[1]


def budget(path: Path) -> float:
    """The CPU time budget in seconds of a chapter notebook."""
    match = re.match(r"(\d\d)_", path.name)
    return 120.0 if match and int(match.group(1)) >= 10 else 60.0


def run(path: Path) -> tuple[float, list[dict]]:
    """Execute ``path`` from its own folder (as the site build does); return the seconds taken
    and the records of the checks it made."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    seconds = time.perf_counter() - start
    html = "".join(
        out.get("data", {}).get("text/html", "")
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "display_data"
    )
    return seconds, records_in_html(html)


def show_checks(records: list[dict]) -> None:
    for r in records:
        margin = "   —  " if r["margin"] is None else f"{r['margin'] * 100:5.1f}%"
        why = f"  [{r['why']}]" if r["why"] else ""
        print(f"    {margin}  {r['label']}: {r['text']}{why}")


def main(argv: list[str]) -> int:
    checks = "--checks" in argv
    argv = [a for a in argv if a != "--checks"]
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    failed = False
    print(f"{'notebook':<32} {'seconds':>8} {'budget':>7}")
    for path in paths:
        seconds, records = run(path)
        over = seconds > budget(path)
        failed |= over
        print(
            f"{path.name:<32} {seconds:8.1f} {budget(path):7.0f}{'  OVER BUDGET' if over else ''}"
        )
        if checks:
            show_checks(records)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
