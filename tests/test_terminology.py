"""One term per concept: the table 「表記の統一」 in book/glossary.md says which spelling the book
uses and which it avoids, and every page of the book (prose and code) keeps to it."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import ROOT

GLOSSARY = ROOT / "book" / "glossary.md"
PAGES = sorted((ROOT / "book").glob("*.ipynb")) + sorted(
    p for p in (ROOT / "book").glob("*.md") if p != GLOSSARY
)


def avoided_terms() -> dict[str, str]:
    """{avoided spelling: the spelling to use}, read from the glossary's table."""
    text = GLOSSARY.read_text(encoding="utf-8")
    section = text.split("## 表記の統一", 1)[1]
    pairs = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and line.lstrip().startswith("|") and not set(cells[0]) <= {"-", " "}:
            use, avoid = cells[0], cells[1]
            if use == "使う表記":
                continue
            for term in re.split(r"[、,]", avoid):
                pairs[term.strip()] = use
    return pairs


def test_the_glossary_table_is_read():
    pairs = avoided_terms()
    assert pairs["変分下限"] == "変分下界" and pairs["バックプロパゲーション"] == "誤差逆伝播"
    assert len(pairs) >= 10


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_page_uses_the_glossary_terms(path):
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    else:
        text = path.read_text(encoding="utf-8")
    found = {f"{avoid} → {use}" for avoid, use in avoided_terms().items() if avoid in text}
    assert not found, f"{path.name}: write the glossary's term instead: {sorted(found)}"
