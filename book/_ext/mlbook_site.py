"""The book's own Sphinx extension: Japanese full-text search that finds compound terms.

Sphinx's Japanese search splits the page text with TinySegmenter (in Python) when it builds the
index, but the page splits a query with the default ``\\W+`` rule, so a compound query such as
「学習曲線」 stays one term that no page was indexed under, and finds nothing.

The fix here makes index and query agree by construction. Every run of Japanese characters is
indexed, besides TinySegmenter's words, as its overlapping character bigrams (学習曲線 → 学習, 習曲,
曲線); the page's ``splitQuery`` turns a query into the same bigrams. A page that contains the
query string contains all its bigrams, so it is found (the search ANDs the terms), whatever
TinySegmenter makes of the surrounding text. Latin words are indexed and queried as ``\\w+``
tokens, as on an English site.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx
from sphinx.search.ja import SearchJapanese

# Hiragana, katakana (with ー), CJK ideographs (with 々 〆 ヵ ヶ) and half-width katakana.
JA_CHARS = "\u3041-\u3096\u30a1-\u30fa\u30fc\u3005\u3006\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
JA_RUN = re.compile(f"[{JA_CHARS}]+")
LATIN_WORD = re.compile(r"[A-Za-z0-9_]+")


def japanese_bigrams(text: str) -> list[str]:
    """The overlapping character bigrams of every run of Japanese characters in ``text``."""
    return [run[i : i + 2] for run in JA_RUN.findall(text) for i in range(len(run) - 1)]


def query_terms(query: str) -> list[str]:
    """What the page's ``splitQuery`` returns (this is its reference implementation)."""
    terms = []
    for run in JA_RUN.findall(query):
        terms.extend([run] if len(run) == 1 else japanese_bigrams(run))
    return terms + LATIN_WORD.findall(query)


SPLIT_QUERY_JS = r"""
/* The book's Japanese query splitter (book/_ext/mlbook_site.py): Japanese runs become their
   character bigrams, as in the index; Latin words stay words. */
function splitQuery(query) {
  const terms = [];
  for (const run of query.match(/[JA_CHARS]+/gu) || []) {
    const chars = Array.from(run);
    if (chars.length === 1) terms.push(run);
    for (let i = 0; i + 1 < chars.length; i++) terms.push(chars[i] + chars[i + 1]);
  }
  for (const word of query.match(/[A-Za-z0-9_]+/g) || []) terms.push(word);
  return terms;
}
""".replace("JA_CHARS", JA_CHARS.encode("unicode_escape").decode("ascii"))


class SearchJapaneseCompound(SearchJapanese):
    """Japanese search whose index also holds character bigrams, and whose page splits queries
    into the same bigrams."""

    js_splitter_code = SPLIT_QUERY_JS

    def split(self, input: str) -> list[str]:
        words = super().split(input)  # TinySegmenter: keeps single-word queries ranking well
        return words + japanese_bigrams(input) + LATIN_WORD.findall(input)


def setup(app: Sphinx) -> dict[str, object]:
    app.add_search_language(SearchJapaneseCompound)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
