"""The course edition on the site.

- Each chapter page gets, under its title, links to its student edition (``student/NN_slug.ipynb``,
  made by ``make student``): the notebook itself, copied beside the site, and Colab opening it
  from the repository.
- The ``{mlbook-exercises}`` directive (the instructor guide) lists, chapter by chapter, every
  exercise with its difficulty, its points (autograded and hand-graded) and what its automatic
  checks check, read from the chapters by ``scripts/course.py`` so it never drifts from them.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import course  # noqa: E402

CHAPTER = re.compile(r"book/(\d\d_\w+)$")
COLUMNS = [
    ("練習", 28),
    ("難易度", 9),
    ("自動採点", 9),
    ("手で採点", 9),
    ("自動採点が確かめること", 45),
]


def colab_url(app: Sphinx, chapter: str) -> str:
    """Colab opening the student edition of ``chapter`` from the book's repository."""
    options = app.config.html_theme_options
    repo = options.get("repository_url", "").removeprefix("https://github.com/")
    branch = options.get("repository_branch", "main")
    base = options.get("launch_buttons", {}).get("colab_url", "https://colab.research.google.com")
    return f"{base}/github/{repo}/blob/{branch}/student/{chapter}.ipynb"


def add_student_links(app: Sphinx, doctree: nodes.document) -> None:
    """Under a chapter's title: its student edition, as a notebook and in Colab."""
    match = CHAPTER.match(app.env.docname)
    section = next(iter(doctree.findall(nodes.section)), None)
    if not match or section is None:
        return
    chapter = match.group(1)
    up = "../" * app.env.docname.count("/")
    para = nodes.paragraph(classes=["mlbook-student-edition"])
    para += nodes.Text("授業で使う学生版(解答を除き、自動採点の答え合わせを残したもの):")
    para += nodes.reference("", "ノートブック", refuri=f"{up}student/{chapter}.ipynb")
    para += nodes.Text("・")
    para += nodes.reference("", "Colab で開く", refuri=colab_url(app, chapter))
    section.insert(1, para)


def copy_student_edition(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "student"
        target.mkdir(exist_ok=True)
        for path in sorted((ROOT / "student").glob("*.ipynb")):
            shutil.copy(path, target / path.name)


class exercises_table(nodes.General, nodes.Element):
    """Where the exercise tables go; filled when links to the chapters can be made."""


class ExercisesDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        for chapter in course.chapters():
            self.env.note_dependency(str(ROOT / "book" / f"{chapter}.ipynb"))
        return [exercises_table()]


def _cells(*texts: str | nodes.Node) -> nodes.row:
    row = nodes.row()
    for text in texts:
        para = text if isinstance(text, nodes.paragraph) else nodes.paragraph(text=text)
        row += nodes.entry("", para)
    return row


def _inline(text: str) -> list[nodes.Node]:
    """Text with its ``$x$`` (a letter or two in a title) set in italics, as the math is."""
    parts = re.split(r"\$([^$]+)\$", text)
    return [nodes.emphasis(text=p) if i % 2 else nodes.Text(p) for i, p in enumerate(parts) if p]


def _table(app: Sphinx, fromdocname: str, chapter: str) -> nodes.table:
    nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
    uri = app.builder.get_relative_uri(fromdocname, f"book/{chapter}")
    table = nodes.table(classes=["mlbook-exercises", "colwidths-given"])
    group = nodes.tgroup(cols=len(COLUMNS))
    table += group
    for _, width in COLUMNS:
        group += nodes.colspec(colwidth=width)
    group += nodes.thead("", _cells(*(name for name, _ in COLUMNS)))
    body = nodes.tbody()
    for k, ex in enumerate(course.exercises(nb), start=1):
        points = ex.points()
        auto = len(ex.tests) * points
        checks = list(dict.fromkeys(label for t in ex.tests for label in course.check_labels(t)))
        link = nodes.reference("", f"練習 {int(chapter[:2])}.{k}", internal=True)
        link["refuri"] = f"{uri}#{ex.label}"
        title = nodes.paragraph("", "", link, *_inline(f" {ex.title}"))
        body += _cells(
            title,
            "★" * ex.stars,
            f"{auto:g} 点" if auto else "—",
            f"{points:g} 点" if ex.answer else "—",
            "、".join(checks) if checks else "—",
        )
    group += body
    return table


def resolve(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    for placeholder in doctree.findall(exercises_table):
        out: list[nodes.Node] = []
        for chapter in course.chapters():
            title = app.env.titles.get(f"book/{chapter}")
            link = nodes.reference("", title.astext() if title else chapter, internal=True)
            link["refuri"] = app.builder.get_relative_uri(fromdocname, f"book/{chapter}")
            out += [nodes.rubric("", "", link), _table(app, fromdocname, chapter)]
        placeholder.replace_self(out)


def setup(app: Sphinx) -> dict[str, object]:
    app.add_node(exercises_table)
    app.add_directive("mlbook-exercises", ExercisesDirective)
    app.connect("doctree-read", add_student_links)
    app.connect("doctree-resolved", resolve)
    app.connect("build-finished", copy_student_edition)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
