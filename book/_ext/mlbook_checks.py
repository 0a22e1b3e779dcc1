"""The 検証一覧 page: every ``mlbook.verify.check`` of every chapter, as a table.

``check`` displays its line as HTML that carries the record (claim, measured value, bound,
margin) in a ``data-check`` attribute (read back by ``mlbook.verify.records_in_html``). When a chapter's executed notebook is read, this extension
collects those records with the section each one sits in; the ``{mlbook-checks}`` directive
leaves a placeholder that is filled with the table once every chapter has been read. The same
rows are written to ``checks.json`` beside the site, for the tests.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from mlbook.verify import records_in_html

COLUMNS = [("節", 20), ("主張", 34), ("測定値と条件", 22), ("余裕", 8), ("注記", 16)]


class checks_table(nodes.General, nodes.Element):
    """Where the table of every check goes; replaced once all chapters are read."""


class ChecksDirective(SphinxDirective):
    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.mlbook_check_pages = getattr(self.env, "mlbook_check_pages", set())
        self.env.mlbook_check_pages.add(self.env.docname)
        return [checks_table()]


def _store(env) -> dict[str, list[dict]]:
    if not hasattr(env, "mlbook_checks"):
        env.mlbook_checks = {}
    return env.mlbook_checks


def _section_of(node: nodes.Node) -> tuple[str, str]:
    while node is not None and not isinstance(node, nodes.section):
        node = node.parent
    if node is None:
        return "", ""
    return node["ids"][0] if node["ids"] else "", node[0].astext()


def collect(app: Sphinx, doctree: nodes.document) -> None:
    """Read the check records a chapter's executed cells displayed, with their sections."""
    rows = []
    for raw in doctree.findall(nodes.raw):
        for record in records_in_html(raw.astext()):
            record["section_id"], record["section"] = _section_of(raw)
            rows.append(dict(record))
    if rows:
        _store(app.env)[app.env.docname] = rows


def purge(app: Sphinx, env, docname: str) -> None:
    _store(env).pop(docname, None)
    getattr(env, "mlbook_check_pages", set()).discard(docname)


def merge(app: Sphinx, env, docnames: set[str], other) -> None:
    _store(env).update({d: r for d, r in _store(other).items() if d in docnames})
    env.mlbook_check_pages = getattr(env, "mlbook_check_pages", set()) | getattr(
        other, "mlbook_check_pages", set()
    )


def outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """The ledger is re-made whenever any page is read again."""
    if added or changed or removed:
        return sorted(getattr(env, "mlbook_check_pages", set()))
    return []


def all_rows(env) -> list[dict]:
    """Every check, chapter by chapter in file order (01_…, 02_…), each with its docname."""
    return [
        {"docname": docname, "chapter": env.titles[docname].astext(), **row}
        for docname in sorted(_store(env))
        for row in _store(env)[docname]
    ]


def _margin_text(row: dict) -> str:
    return "—" if row["margin"] is None else f"{row['margin'] * 100:.1f}\u00a0%"


def _table(app: Sphinx, fromdocname: str, rows: list[dict]) -> nodes.table:
    """One chapter's checks: section (linked), claim, measured value and bound, margin, why."""
    table = nodes.table(classes=["mlbook-checks", "colwidths-given"])
    group = nodes.tgroup(cols=len(COLUMNS))
    table += group
    for _, width in COLUMNS:
        group += nodes.colspec(colwidth=width)
    head = nodes.row()
    for name, _ in COLUMNS:
        head += nodes.entry("", nodes.paragraph(text=name))
    group += nodes.thead("", head)
    body = nodes.tbody()
    for row in rows:
        uri = app.builder.get_relative_uri(fromdocname, row["docname"])
        link = nodes.reference("", row["section"] or row["chapter"], internal=True)
        link["refuri"] = f"{uri}#{row['section_id']}" if row["section_id"] else uri
        cells = [
            nodes.paragraph("", "", link),
            nodes.paragraph(text=row["label"]),
            nodes.paragraph(text=row["text"]),
            nodes.paragraph(text=_margin_text(row)),
            nodes.paragraph(text=row["why"] or ""),
        ]
        body += nodes.row("", *(nodes.entry("", cell) for cell in cells), classes=["mlbook-check"])
    group += body
    return table


def resolve(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    """Fill the placeholder: a summary line, then per chapter a heading line and its table."""
    rows = all_rows(app.env)
    for placeholder in doctree.findall(checks_table):
        docnames = sorted({row["docname"] for row in rows})
        seeds = ", ".join(str(s) for s in sorted({row["seed"] for row in rows}))
        out: list[nodes.Node] = [
            nodes.paragraph(
                text=f"{len(docnames)} 章、{len(rows)} 件の検証(MLBOOK_SEED={seeds} で実行)。"
            )
        ]
        for docname in docnames:
            mine = [row for row in rows if row["docname"] == docname]
            number = docname.removeprefix("book/")[:2].lstrip("0")
            title = f"第 {number} 章 {mine[0]['chapter']}({len(mine)} 件)"
            link = nodes.reference("", title, internal=True)
            link["refuri"] = app.builder.get_relative_uri(fromdocname, docname)
            out.append(nodes.rubric("", "", link))
            out.append(_table(app, fromdocname, mine))
        placeholder.replace_self(out)


def write_json(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        out = Path(app.outdir) / "checks.json"
        out.write_text(json.dumps(all_rows(app.env), ensure_ascii=False, indent=1), "utf-8")


def setup(app: Sphinx) -> dict[str, object]:
    app.add_node(checks_table)
    app.add_directive("mlbook-checks", ChecksDirective)
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", outdated)
    app.connect("doctree-resolved", resolve)
    app.connect("build-finished", write_json)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
