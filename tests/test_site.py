"""The built site: it builds with zero warnings, and in a real browser (Debian's Chromium, driven
by Playwright, with every request outside 127.0.0.1 blocked) every page loads without console
errors, its math is typeset by the site's own MathJax, its images load, its Colab link is right,
and the Japanese search finds compound terms."""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest
import yaml

from conftest import IN_CI, ROOT, chromium_path

HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
PAGES = [TOC["root"]] + [c["file"] for part in TOC["parts"] for c in part["chapters"]]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# Harmless console messages seen on a clean build, allowed by their exact text.
ALLOWED_CONSOLE = {
    "Uncaught Identifier 'THEBE_JS_URL' has already been declared",  # sphinx-thebe, twice
    "Got invalid theme mode: . Resetting to auto.",  # pydata theme on a fresh profile
    # the widget embed manager calls MathJax 2's MathJax.Hub.Queue; the site runs MathJax 3
    "Uncaught Cannot read properties of undefined (reading 'Queue')",
}


@pytest.fixture(scope="session")
def site() -> Path:
    """Build the site exactly as `make book` does (cached execution makes a rebuild quick)."""
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", "--warningiserror", "--keep-going", str(ROOT)]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"site build failed:\n{log[-6000:]}"
    # Sphinx's own warnings ("file:line: WARNING: …"); a kernel's log lines are not build warnings
    warnings = [
        line for line in log.splitlines() if re.search(r": (WARNING|ERROR|CRITICAL):", line)
    ]
    assert not warnings, "\n".join(warnings)
    return HTML


@pytest.mark.slow
def test_site_builds_with_zero_warnings(site):
    for page in PAGES:
        html = (site / f"{page}.html").read_text(encoding="utf-8")
        # matplotlib warns in a cell's output when a Japanese glyph is missing (tofu in a figure)
        assert "missing from font" not in html, f"{page}: a figure lacks Japanese glyphs"
        assert "Traceback" not in html, f"{page}: a cell printed a traceback"
    assert (site / "_static/mathjax/tex-chtml.js").exists()


@pytest.mark.slow
def test_checks_page_lists_every_check_of_every_chapter(site):
    """The 検証一覧 page has one row per mlbook.verify.check of every chapter, all passed."""
    rows = json.loads((site / "checks.json").read_text(encoding="utf-8"))
    chapters = {p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb")}
    assert {row["docname"].removeprefix("book/") for row in rows} == chapters
    assert all(row["passed"] for row in rows)
    page = (site / "book" / "checks.html").read_text(encoding="utf-8")
    assert page.count('<tr class="mlbook-check') == len(rows)  # one table row per check
    assert f"{len(chapters)} 章、{len(rows)} 件の検証" in page
    for row in rows[:: max(1, len(rows) // 20)]:
        assert row["label"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page


CHAPTER_PAGES = [p for p in PAGES if re.match(r"book/\d\d_", p)]


@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_numbers_its_own_things(site, page):
    """Every number on a chapter's page is the chapter's own (式 (9.2), 定理 12.1, 練習 5.3), its
    title carries its number, and no English proof label, doubled theorem word, raw equation
    label or raw Markdown table reaches the reader."""
    html = (site / f"{page}.html").read_text(encoding="utf-8")
    n = int(page.removeprefix("book/")[:2])
    titles = re.findall(r"<h1>(.*?)</h1>", html, re.S)
    assert any(f'<span class="section-number">{n}. </span>' in t for t in titles), titles
    numbers = re.findall(r'class="eqno">\((\d+)\.\d+\)', html)
    numbers += re.findall(r'caption-number">\S+ (\d+)\.\d+ ', html)
    captions = re.findall(r'caption-number">([^<]*)<', html)
    assert all(c.split()[-1].startswith(f"{n}.") for c in captions if c.split()), (page, captions)
    assert set(numbers) <= {str(n)}, f"{page}: numbers of other chapters {set(numbers)}"
    text = re.sub(r"<[^>]+>", "", html)
    assert "定理 定理" not in text and "Proof." not in text, f"{page}: 定理 定理 or Proof."
    assert not re.search(r"[式図] \(?(eq|fig)-[\w-]+", text), f"{page}: a raw label is shown"
    assert not re.search(r"^\s*\|[^\n]*\|\s*\n\s*\|\s*:?-{3}", text, re.M), f"{page}: raw table"


@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_links_its_student_edition(site, page):
    """Under its title, a chapter links its student edition (made by `make student`): the
    notebook served beside the site, and Colab opening it from the book's repository."""
    html = (site / f"{page}.html").read_text(encoding="utf-8")
    chapter = page.removeprefix("book/")
    assert f'href="../student/{chapter}.ipynb"' in html, f"{page}: no link to its student edition"
    served = site / "student" / f"{chapter}.ipynb"
    assert served.read_bytes() == (ROOT / "student" / f"{chapter}.ipynb").read_bytes()
    owner_repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    colab = f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/student/{chapter}.ipynb"
    assert f'href="{colab}"' in html, f"{page}: no Colab link to its student edition"


@pytest.mark.slow
def test_instructor_guide_lists_every_exercise(site):
    """The instructor guide has one row per exercise of every chapter; each row's number is the
    number the exercise carries on its chapter's page, and its link lands on that exercise."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import course

    html = (site / "book" / "instructor.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(\d\d_\w+)\.html#([\w-]+)">練習 (\d+\.\d+)</a>', html)
    expected = sum(
        len(course.exercises(nbformat.read(ROOT / "book" / f"{c}.ipynb", as_version=4)))
        for c in course.chapters()
    )
    assert len(links) == expected, f"{len(links)} exercises listed, the chapters have {expected}"
    pages: dict[str, str] = {}
    for chapter, label, number in links:
        page = pages.setdefault(chapter, (site / "book" / f"{chapter}.html").read_text("utf-8"))
        shown = re.search(rf'id="{label}">\s*<p class="admonition-title"><span[^>]*>([^<]*)', page)
        assert shown and shown.group(1).strip() == f"練習 {number}", (chapter, label, number)
    assert "checks.html" in html, "the guide does not point to the 検証一覧"


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        message = "Chromium not found: install Debian's 'chromium' package to run browser tests"
        if IN_CI:
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _open(browser, url: str):
    """Open ``url``; return the page, its console errors and any request that left 127.0.0.1."""
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    errors: list[str] = []
    external: list[str] = []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"Uncaught {e}"))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"HTTP {r.status}: {r.url}"))
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.ok, url
    return page, errors, external


def _unexpected(errors: list[str]) -> list[str]:
    return [e for e in errors if e not in ALLOWED_CONSOLE]


@pytest.mark.browser
@pytest.mark.parametrize("page_name", PAGES)
def test_page_in_browser(browser, server, page_name):
    page, errors, external = _open(browser, f"{server}/{page_name}.html")
    try:
        assert not external, f"requests outside the site (it must work offline): {external}"
        # MathJax (loaded only on pages with math): the site's own copy typesets every formula
        n_math = page.locator(".math").count()
        if n_math:
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("MathJax.startup.promise")
            n_typeset = page.locator("mjx-container").count()
            assert n_typeset >= n_math, f"{n_math} formulas, {n_typeset} typeset"
            assert page.locator("mjx-merror").count() == 0
        # every image has loaded
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.src.slice(0, 80))"
        )
        assert not broken, f"images that did not load: {broken}"
        # the Colab button opens this very notebook from the book's repository
        if (ROOT / f"{page_name}.ipynb").exists():
            owner_repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
            branch = CONFIG["repository"]["branch"]
            want = f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{page_name}.ipynb"
            hrefs = page.eval_on_selector_all(
                "a[href*='colab.research.google.com']", "els => els.map(e => e.href)"
            )
            assert want in hrefs, f"Colab link {hrefs} is not {want}"
            student = want.replace(f"/{branch}/book/", f"/{branch}/student/")
            assert student in hrefs, f"no Colab link to the student edition {student}"
        assert not _unexpected(errors), errors
    finally:
        page.context.close()


VISIBLE_FRAME = """root => Array.from(root.querySelectorAll('[data-mlbook-frame]'))
  .filter(f => !f.hidden).map(f => [f.dataset.mlbookFrame, f.getAttribute('aria-label')])"""


@pytest.mark.browser
@pytest.mark.parametrize("page_name", CHAPTER_PAGES)
def test_every_control_changes_its_figure(browser, server, page_name):
    """Each control of mlbook.controls.frames, moved by the keyboard to two other values, shows
    another frame, which names the value the control shows; and no control is an ipywidget,
    which does nothing on a page without a kernel."""
    page, errors, _ = _open(browser, f"{server}/{page_name}.html")
    try:
        assert page.locator(".widget-slider, .widget-dropdown").count() == 0, "a dead ipywidget"
        for root in page.locator(".mlbook-frames").all():
            for control in root.locator("[data-mlbook-control]").all():
                control.scroll_into_view_if_needed()
                seen = [root.evaluate(VISIBLE_FRAME)]
                assert len(seen[0]) == 1, f"{page_name}: {len(seen[0])} frames shown at once"
                n, start = control.evaluate(
                    "c => c.tagName === 'SELECT' ? [c.options.length, c.selectedIndex]"
                    " : [Number(c.max) + 1, Number(c.value)]"
                )
                select = control.evaluate("c => c.tagName === 'SELECT'")
                position = start
                # two other values (one if there is only one), nearest first
                for target in sorted(
                    (i for i in range(n) if i != start), key=lambda i: abs(i - start)
                )[:2]:
                    control.focus()
                    while position != target:
                        up = target > position
                        page.keyboard.press(
                            ("ArrowDown" if up else "ArrowUp")
                            if select
                            else ("ArrowRight" if up else "ArrowLeft")
                        )
                        position += 1 if up else -1
                    now = root.evaluate(VISIBLE_FRAME)
                    shown = control.evaluate(
                        "c => c.tagName === 'SELECT' ? c.selectedOptions[0].text "
                        ": c.getAttribute('aria-valuetext')"
                    )
                    assert len(now) == 1 and now not in seen, (
                        f"{page_name}: the frame did not change"
                    )
                    assert f"= {shown}" in now[0][1], f"{page_name}: {now} under {shown}"
                    seen.append(now)
        assert not _unexpected(errors), errors
    finally:
        page.context.close()


@pytest.mark.browser
def test_mathjax_typesets_the_notation_table(browser, server):
    page, _, _ = _open(browser, f"{server}/{TOC['root']}.html")
    try:
        page.evaluate("MathJax.startup.promise")
        assert page.locator("mjx-container").count() > 0, "the notation table has no typeset math"
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("query", ["誤差逆伝播", "学習曲線", "パーセプトロン"])
def test_japanese_search_finds_compound_terms(browser, server, query):
    page, errors, external = _open(browser, f"{server}/search.html?q={quote(query)}")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        hits = page.locator("#search-results ul.search li").count()
        assert hits > 0, f"no results for {query}"
        assert not external and not _unexpected(errors), (external, errors)
    finally:
        page.context.close()
