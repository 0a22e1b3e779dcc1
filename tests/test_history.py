"""Tests of mlbook.history: the milestone data, its eras, filtering and the timeline plot."""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from mlbook import history, plot  # noqa: E402
from mlbook.history import CATEGORIES, ERAS, MILESTONES, Milestone  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"
NOTEBOOK = ROOT / "book" / "01_history.ipynb"


def _bib_keys() -> set[str]:
    return set(re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", BIB.read_text(encoding="utf-8")))


def test_there_are_enough_milestones_and_they_are_sorted_by_year():
    assert 30 <= len(MILESTONES) <= 50
    years = [m.year for m in MILESTONES]
    assert years == sorted(years)
    assert len({(m.year, m.title) for m in MILESTONES}) == len(MILESTONES), "duplicate milestone"


def test_every_field_is_filled_and_typed():
    for m in MILESTONES:
        assert isinstance(m.year, int) and not isinstance(m.year, bool)
        for field in ("title", "people", "category", "era", "cite", "note"):
            assert isinstance(getattr(m, field), str)
        assert m.title and m.people and m.cite, m
        assert m.category in CATEGORIES, m


def test_every_cite_key_is_in_the_bibliography():
    keys = _bib_keys()
    assert len(keys) >= len({m.cite for m in MILESTONES})
    missing = sorted({m.cite for m in MILESTONES} - keys)
    assert not missing, f"cite keys missing from book/references.bib: {missing}"


def test_keys_named_in_notes_are_in_the_bibliography():
    keys = _bib_keys()
    for m in MILESTONES:
        for key in re.findall(r"\b[a-z]+\d{4}[a-z]+\b", m.note):
            assert key in keys, f"{m.title}: note names unknown key {key!r}"


def test_bibliography_keys_are_unique():
    text = BIB.read_text(encoding="utf-8")
    keys = re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", text)
    assert len(keys) == len(set(keys)), "duplicate BibTeX keys"


def test_eras_are_ordered_contiguous_and_do_not_overlap():
    names = [name for name, _, _ in ERAS]
    assert len(names) == len(set(names))
    for name, first, last in ERAS:
        assert first <= last, name
    for (_, _, last), (name, first, _) in zip(ERAS, ERAS[1:], strict=False):
        assert first == last + 1, f"{name} does not start right after the previous era"


def test_eras_cover_every_milestone_exactly_once_and_match_its_era_field():
    for m in MILESTONES:
        containing = [name for name, first, last in ERAS if first <= m.year <= last]
        assert containing == [m.era], m


def test_every_era_and_category_has_a_milestone():
    for name, _, _ in ERAS:
        assert history.milestones(era=name), name
    for category in CATEGORIES:
        assert history.milestones(category=category), category


def test_era_of_boundaries_and_errors():
    for name, first, last in ERAS:
        assert history.era_of(first) == name
        assert history.era_of(last) == name
    with pytest.raises(ValueError, match="outside"):
        history.era_of(ERAS[0][1] - 1)
    with pytest.raises(ValueError, match="outside"):
        history.era_of(ERAS[-1][2] + 1)


def test_filtering_by_era_category_and_both():
    assert history.milestones() == MILESTONES
    total = 0
    for name, first, last in ERAS:
        got = history.milestones(era=name)
        assert got == tuple(m for m in MILESTONES if first <= m.year <= last)
        total += len(got)
    assert total == len(MILESTONES)
    assert sum(len(history.milestones(category=c)) for c in CATEGORIES) == len(MILESTONES)
    both = history.milestones(era="大規模言語モデルの時代", category="言語モデル")
    assert both and all(m.category == "言語モデル" and m.year >= 2018 for m in both)
    assert history.milestones(era="黎明期", category="言語モデル") == ()


def test_unknown_era_or_category_raises_value_error_naming_the_allowed_values():
    with pytest.raises(ValueError, match="era must be one of") as info:
        history.milestones(era="第4次AIブーム")
    assert all(name in str(info.value) for name, _, _ in ERAS)
    with pytest.raises(ValueError, match="category must be one of") as info:
        history.milestones(category="強化学習")
    assert all(c in str(info.value) for c in CATEGORIES)


def test_milestone_is_frozen_and_validated():
    m = MILESTONES[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.year = 1999  # type: ignore[misc]
    with pytest.raises(ValueError, match="category"):
        Milestone(1958, "x", "y", "占い", "第1次AIブーム", "rosenblatt1958perceptron")
    with pytest.raises(ValueError, match="era"):
        Milestone(1958, "x", "y", "理論", "黎明期", "rosenblatt1958perceptron")
    with pytest.raises(ValueError, match="citation"):
        Milestone(1958, "x", "y", "理論", "第1次AIブーム", "")


def test_the_corrections_of_the_sources_are_in_the_data():
    by_title = {m.title: m for m in MILESTONES}
    assert by_title["形式ニューロン"].year == 1943
    assert by_title["パーセプトロン"].year == 1958
    assert by_title["自動微分のリバースモード"].year == 1970
    assert by_title["誤差逆伝播法の普及"].year == 1986
    # The reverse mode predates the 1986 paper that made backpropagation widely known.
    assert by_title["自動微分のリバースモード"].year < by_title["誤差逆伝播法の普及"].year
    assert "1940" in by_title["パーセプトロン"].note


def _draw_without_missing_glyphs(items, **kwargs) -> plt.Figure:
    fig, ax = plot.subplots(figsize=history.timeline_figsize(len(items)))
    history.plot_timeline(ax, items, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing
    return fig


def test_plot_timeline_draws_everything_in_japanese_without_missing_glyphs():
    fig = _draw_without_missing_glyphs(MILESTONES)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    for m in MILESTONES:
        assert any(t.startswith(f"{m.year} {m.title}") for t in texts), m.title
    for name, _, _ in ERAS:
        assert any(t.replace("\n", "") == name for t in texts), name
    assert ax.get_xlabel() == "年"
    assert ax.get_legend() is not None
    assert len(ax.get_legend().get_texts()) == len(CATEGORIES)
    plt.close(fig)


@pytest.mark.parametrize("era", ERAS, ids=lambda e: e[0])
def test_plot_timeline_for_each_era(era):
    name, first, last = era
    items = history.milestones(era=name)
    fig = _draw_without_missing_glyphs(items, xlim=(first - 0.5, last + 0.5))
    ax = fig.axes[0]
    assert ax.get_xlim() == (first - 0.5, last + 0.5)
    assert str(len(items)) in ax.get_title()
    plt.close(fig)


def test_plot_timeline_with_nothing_to_draw_says_so():
    fig = _draw_without_missing_glyphs(())
    assert any("該当する出来事はない" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)


def test_plot_timeline_rejects_bad_input():
    fig, ax = plot.subplots()
    with pytest.raises(ValueError, match="xlim"):
        history.plot_timeline(ax, MILESTONES, xlim=(2000, 1990))
    with pytest.raises(ValueError, match="Milestone"):
        history.plot_timeline(ax, [(1958, "パーセプトロン")])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="n_items"):
        history.timeline_figsize(-1)
    plt.close(fig)


def test_the_chapter_table_lists_exactly_the_milestones():
    """Chapter 1 shows the milestones as a static table (with citations); it must match the data."""
    if not NOTEBOOK.exists():
        pytest.skip("book/01_history.ipynb not written yet")
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    rows = re.findall(
        r"(?m)^\| (\d{4}) \| ([^|]+?) \| [^|]+ \| [^|]+ \| \{cite[:pt]*\}`([^`]+)` \|$", text
    )
    assert [(int(y), t, k) for y, t, k in rows] == [(m.year, m.title, m.cite) for m in MILESTONES]


def test_the_chapter_era_table_matches_the_eras():
    if not NOTEBOOK.exists():
        pytest.skip("book/01_history.ipynb not written yet")
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    rows = re.findall(r"(?m)^\| (\S+) \| (\d{4})〜(\d{4})? \|", text)
    expected = [
        (name, str(first), "" if i == len(ERAS) - 1 else str(last))
        for i, (name, first, last) in enumerate(ERAS)
    ]
    assert rows == expected
