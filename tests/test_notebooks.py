"""Notebook hygiene: the book's conventions (CONTRIBUTING.md), for every notebook."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
import yaml

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if re.match(r"\d\d_", p.name)]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPO = CONFIG["repository"]
BIB_KEYS = set(re.findall(r"@\w+\{([^,\s]+),", (ROOT / "book/references.bib").read_text("utf-8")))


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _code(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        for value in node.values():
            files.extend(_toc_files(value))
    elif isinstance(node, list):
        for value in node:
            files.extend(_toc_files(value))
    return files


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found in book/"


def test_toc_lists_exactly_the_pages_that_exist():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = [toc["root"], *_toc_files(toc)]
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry
    pages = {f"book/{p.stem}" for p in NOTEBOOKS} | {
        f"book/{p.stem}" for p in (ROOT / "book").glob("*.md")
    }
    assert pages == set(listed), f"pages not in _toc.yml: {pages - set(listed)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: strip outputs before committing"
            )
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_installs_this_books_mlbook_in_colab(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "code"
    assert "remove-cell" in first.metadata.get("tags", [])
    spec = f'%pip install -q "mlbook @ git+{REPO["url"]}@{REPO["branch"]}"'
    assert spec in first.source, f"{path.name}: the set-up cell must contain {spec}"
    assert 'if importlib.util.find_spec("mlbook") is None:' in first.source
    for clone in re.findall(r"!git clone .*", first.source):  # the book's own text, in Colab
        assert clone.endswith(f"--branch {REPO['branch']} {REPO['url']}"), clone


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_imports_are_visible(path):
    """The reader sees where every name comes from: the first code cell after the hidden
    set-up cell is shown on the page and holds the imports, the device and the seed."""
    cells = [c for c in nbformat.read(path, as_version=4).cells[1:] if c.cell_type == "code"]
    imports = cells[0]
    assert not {"remove-cell", "remove-input", "hide-input"} & set(imports.metadata.get("tags", []))
    for line in ("import mlbook", "device = mlbook.device()", "mlbook.seed_all(0)"):
        assert line in imports.source, f"{path.name}: the visible import cell lacks {line!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_shape(path):
    nb = nbformat.read(path, as_version=4)
    md, code = _markdown(nb), _code(nb)
    assert re.match(r"# [^\d\s]", md), f"{path.name}: must open with '# タイトル' (no number)"
    for heading in ("## 学習目標", "## まとめ", "## 演習"):
        assert re.search(rf"(?m)^{heading}\s*$", md), f"{path.name}: no '{heading}' section"
    assert re.search(r"\bcheck\(", code), f"{path.name}: no mlbook.verify.check checks a claim"
    assert len(re.findall(r"\{exercise(-start)?\}", md)) >= 4, "at least four exercises"
    assert len(re.findall(r"\bcheck_\w+\(", code)) >= 2, "at least two code exercises checked"
    # one bibliography for the book (book/bibliography.md): a second {bibliography} directive
    # makes sphinxcontrib-bibtex warn "duplicate citation" for every key two pages share
    assert "{bibliography}" not in md, f"{path.name}: cite into book/bibliography.md instead"


@pytest.mark.parametrize("path", [*NOTEBOOKS, *sorted((ROOT / "book").glob("*.md"))], ids=str)
def test_citations_exist_in_bibliography(path):
    text = path.read_text(encoding="utf-8")
    for group in re.findall(r"\{cite(?::[pt])?\}`([^`]+)`", text):
        for key in group.split(","):
            assert key.strip() in BIB_KEYS, f"{path.name}: unknown citation key {key.strip()!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_cell_ending_in_check_does_not_echo_its_value(path):
    """check returns its value; as a cell's last expression Jupyter would print it under the
    check's own line (np.float64(0.60…)), so such a cell ends with `check(...);`."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or re.search(r"(?m)^\s*[%!]", cell.source):
            continue
        body = ast.parse(cell.source).body
        last = body[-1] if body else None
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
            name = getattr(last.value.func, "id", None) or getattr(last.value.func, "attr", None)
            end = cell.source.split("\n")[last.end_lineno - 1].encode()[last.end_col_offset :]
            assert name != "check" or end.startswith(b";"), (
                f"{path.name}: end the cell with `check(...);`:\n{cell.source[-200:]}"
            )


GLOBAL_SEEDING = re.compile(r"manual_seed\(|np\.random\.seed\(|\brandom\.seed\(|default_rng\(")


@pytest.mark.parametrize(
    "path", [*NOTEBOOKS, *sorted((ROOT / "mlbook").rglob("*.py"))], ids=lambda p: p.name
)
def test_every_seed_goes_through_mlbook(path):
    """MLBOOK_SEED shifts every seed only if nothing seeds torch, NumPy or random around it."""
    if path == ROOT / "mlbook" / "core.py":
        return  # the one place that turns a book seed into generators
    text = _code(nbformat.read(path, as_version=4)) if path.suffix == ".ipynb" else path.read_text()
    found = GLOBAL_SEEDING.findall(text)
    assert not found, (
        f"{path.name} seeds with {sorted(set(found))}: use mlbook.generator(k), mlbook.rng(k) "
        "or mlbook.seed_all(k), which MLBOOK_SEED shifts"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_shows_no_raw_equation_label(path):
    """Code, its comments and its printed labels reach the page as written, where a MyST label
    (eq-…) would show as a raw name instead of an equation number: name the equation in words."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            raw = re.findall(r"\beq-[a-z0-9-]+", cell.source)
            assert not raw, f"{path.name}: raw equation label(s) {raw} in a code cell"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_exercise_has_a_difficulty_mark(path):
    """A teacher picks exercises by difficulty: each one is marked ★, ★★ or ★★★ in its
    directive or in the cell that opens it."""
    cells = nbformat.read(path, as_version=4).cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and re.search(r"```\{exercise(-start)?\}", cell.source):
            opening = cell.source + (cells[i + 1].source if i + 1 < len(cells) else "")
            assert "★" in opening, f"{path.name}: an exercise without ★: {cell.source[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_reading_the_book_clone_it_in_colab(path):
    """mlbook installed from git has no book pages: a chapter that reads the book's own text
    clones the repository in its hidden set-up cell when it runs in Colab."""
    cells = nbformat.read(path, as_version=4).cells
    if any("book_text(" in c.source for c in cells[1:] if c.cell_type == "code"):
        assert "!git clone" in cells[0].source, f"{path.name} reads book_text() but never clones"
