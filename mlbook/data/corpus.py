"""The book's own text as a corpus (chapters 10, 11, 15): the Markdown of its pages, read from
the repository at run time, so the corpus grows with the book."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BookText", "book_text"]


@dataclass(frozen=True)
class BookText:
    """The Markdown of the book's pages, split per page: ``train`` holds the first
    ``1 - held_out_fraction`` of each page (cut at a paragraph break), ``held_out`` the rest."""

    train: str
    held_out: str
    pages: tuple[str, ...]

    @property
    def text(self) -> str:
        return self.train + self.held_out


def _book_dir(root: str | None) -> Path:
    here = Path(__file__).resolve().parents[2]  # the repository, for an editable install
    candidates = [here, Path.cwd(), Path.cwd() / "mlbook", Path.cwd().parent]
    if os.environ.get("MLBOOK_REPO"):
        candidates.insert(0, Path(os.environ["MLBOOK_REPO"]))
    if root:
        candidates = [Path(root)]
    for c in candidates:
        if (c / "book" / "intro.md").is_file():
            return c / "book"
    raise FileNotFoundError(
        "book_text() reads the book's own pages (book/*.ipynb, book/*.md) from a clone of the "
        "repository, and none was found in: " + ", ".join(str(c) for c in candidates) + ". "
        "Clone the book's repository (the one named in its _config.yml) and pass root= or "
        "set MLBOOK_REPO to the clone."
    )


def book_text(held_out_fraction: float = 0.1, root: str | None = None) -> BookText:
    """The corpus of chapter 10: the Markdown cells of ``book/*.ipynb`` and the ``book/*.md``
    pages, read at run time (so the corpus grows with the book), in file-name order.

    The repository is ``root`` when given, else the first of ``$MLBOOK_REPO``, the folder above
    the installed package (an editable install: the repository itself), the working directory,
    ``./mlbook`` and the parent folder that holds ``book/intro.md``; when none holds ``book/intro.md`` (e.g. mlbook installed from git in Colab
    without a clone) a ``FileNotFoundError`` says how to get one. There is no bundled copy:
    the point is that the text is the book as it is.
    """
    if not 0 < held_out_fraction < 1:
        raise ValueError(f"held_out_fraction must lie in (0, 1), got {held_out_fraction}")
    folder = _book_dir(root)
    pages, train, held = [], [], []
    for path in sorted(folder.glob("*.ipynb")) + sorted(folder.glob("*.md")):
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            md = [c["source"] for c in cells if c["cell_type"] == "markdown"]
            text = "\n\n".join(s if isinstance(s, str) else "".join(s) for s in md)
        else:
            text = path.read_text(encoding="utf-8")
        text = text.strip() + "\n\n"
        cut = text.rfind("\n\n", 0, int(len(text) * (1 - held_out_fraction))) + 2
        cut = cut if cut > 2 else int(len(text) * (1 - held_out_fraction))
        pages.append(path.name)
        train.append(text[:cut])
        held.append(text[cut:])
    if not pages:
        raise FileNotFoundError(f"no book/*.ipynb or book/*.md in {folder}")
    return BookText("".join(train), "".join(held), tuple(pages))
