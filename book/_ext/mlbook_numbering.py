"""Numbering per chapter, by the chapter's own number, and the Japanese proof label.

Sphinx numbers the chapters of a numbered table of contents consecutively (1, 2, 3 …) and
prefixes every equation, figure, theorem and exercise with that number (式 (9.2), 定理 12.1,
練習 5.3) once ``numfig_secnum_depth`` is 1. This book's chapters are files named
``book/NN_slug``, and a chapter keeps its number NN even while an earlier one is still being
written, so after Sphinx has assigned the numbers this extension replaces each chapter's first
component by NN: in the section numbers (page title, sidebar, previous/next links) and in the
numbers of everything numbered inside it. References ({eq}, {numref}, {prf:ref}) read the same
tables, so they follow.

sphinx-proof writes the English word "Proof." in front of every proof; it is replaced by 証明.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

CHAPTER = re.compile(r"^book/(\d{2})_")
PROOF_PREFIX = "Proof. "
PROOF_LABEL = "証明"


def chapter_number(docname: str) -> int | None:
    """The chapter number NN of ``book/NN_slug``, or None for other pages."""
    match = CHAPTER.match(docname)
    return int(match.group(1)) if match else None


def _renumber(number: tuple[int, ...] | list[int] | None, chapter: int) -> tuple[int, ...] | None:
    return (chapter, *number[1:]) if number else number


def _renumber_toc(toc: nodes.Node, chapter: int) -> None:
    for node in toc.findall(lambda n: isinstance(n, nodes.Element) and n.get("secnumber")):
        node["secnumber"] = list(_renumber(node["secnumber"], chapter))


def renumber_chapters(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Give every chapter's numbers the chapter's own number (after Sphinx assigned them)."""
    changed = []
    for docname, secnums in env.toc_secnumbers.items():
        chapter = chapter_number(docname)
        if chapter is None or secnums.get("", (chapter,))[:1] == (chapter,):
            continue
        env.toc_secnumbers[docname] = {k: _renumber(v, chapter) for k, v in secnums.items()}
        for figtype, numbers in env.toc_fignumbers.get(docname, {}).items():
            env.toc_fignumbers[docname][figtype] = {
                k: _renumber(v, chapter) for k, v in numbers.items()
            }
        _renumber_toc(env.tocs[docname], chapter)
        if docname in env.titles:
            _renumber_toc(env.titles[docname], chapter)
        changed.append(docname)
    return changed


def japanese_proof_label(app: Sphinx, doctree: nodes.document) -> None:
    """Replace sphinx-proof's "Proof. " by 証明 (set apart in bold) at the start of each proof."""
    for admonition in doctree.findall(nodes.admonition):
        if "proof" not in admonition["classes"]:
            continue
        for text in admonition.findall(nodes.Text):
            if text.astext().startswith(PROOF_PREFIX):
                rest = nodes.Text(text.astext()[len(PROOF_PREFIX) :])
                label = nodes.strong(PROOF_LABEL, PROOF_LABEL, classes=["mlbook-proof-label"])
                text.parent.replace(text, [label, nodes.Text(" "), rest])
            break


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("env-get-updated", renumber_chapters, priority=900)
    app.connect("doctree-read", japanese_proof_label)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
