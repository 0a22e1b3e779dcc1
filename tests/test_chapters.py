"""Every notebook runs top to bottom, and every claim it checks holds with a margin that says why
when it is thin.

Each notebook is executed once per test run, in its own folder, as the site build would. Under
the default seed family (``MLBOOK_SEED`` unset or 0) the executed notebook is stored in the site's
execution cache (``_build/.jupyter_cache``, the one jupyter-book uses), so the site build that
follows (tests/test_site.py, or ``make book``) reuses this execution instead of running every
notebook a second time. Under another family (``MLBOOK_SEED=1 pytest tests/test_chapters.py``,
or ``make robust``) nothing is stored: the site always shows the default family.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution

from conftest import ROOT
from mlbook.core import seed_family
from mlbook.verify import MIN_MARGIN, records_in_html

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
CACHE = ROOT / "_build" / ".jupyter_cache"
CELL_TIMEOUT = 300  # seconds, as _config.yml's execute.timeout


def check_records(nb) -> list[dict]:
    """The records of every mlbook.verify.check an executed notebook displayed, in order."""
    return [
        record
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "display_data"
        for record in records_in_html(out.get("data", {}).get("text/html", ""))
    ]


def store_for_site(path, nb, seconds: float) -> None:
    """Put the executed notebook where jupyter-book's cached execution will find it."""
    cache = get_cache(str(CACHE))
    stage = cache.add_nb_to_project(str(path))
    bundle = CacheBundleIn(nb, stage.uri, data={"execution_seconds": seconds})
    cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
    # Sphinx rebuilds a page only when its source is newer than the last build, and new outputs
    # (e.g. after a change in mlbook) leave the source as it was: mark it as changed.
    os.utime(path)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_its_claims_hold(path):
    nb = nbformat.read(path, as_version=4)
    family = seed_family()
    result = single_nb_execution(
        nb, cwd=str(path.parent), allow_errors=False, timeout=CELL_TIMEOUT, meta_override=True
    )
    print(f"{path.name}: {result.time:.1f} s under MLBOOK_SEED={family}")
    if result.err is not None:
        pytest.fail(
            f"{path.name} failed under MLBOOK_SEED={family}:\n{result.exc_string}", pytrace=False
        )
    if family == 0:
        store_for_site(path, nb, result.time)
        thin = [
            r
            for r in check_records(nb)
            if (r["margin"] is None or r["margin"] < MIN_MARGIN) and not r["why"]
        ]
        assert not thin, (
            f"{path.name}: checks whose margin is below {MIN_MARGIN:.0%} (or undefined) and that "
            "do not say why (give why=...):\n"
            + "\n".join(f"  {r['label']}: {r['text']} (margin {r['margin']})" for r in thin)
        )
