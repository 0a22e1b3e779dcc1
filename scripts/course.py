"""The course edition: every chapter as an nbgrader assignment, and its student edition.

    python scripts/course.py [NN_slug ...]          (what `make student` runs)

The chapters stay the single source. Each ``{exercise}`` … ``{solution}`` pair becomes cells
nbgrader reads:

- a solution code cell is split at its line ``# 答え合わせ``: the lines above are the student's
  work (an nbgrader solution region, replaced by a stub in the student edition); the lines from
  the marker on are an autograded test cell (locked, with points), kept for the student;
- the solution's prose is the model answer of a written part: it becomes one manually graded
  answer cell, emptied in the student edition. Prose tagged ``exercise-note`` is commentary on
  the solution, not an answer: it is left out.

An exercise is worth its number of ★; its graded cells share the points evenly. The nbgrader
source notebooks go to ``course/source/<id>/<id>.ipynb``, nbgrader's own ``generate_assignment``
writes ``course/release/<id>/<id>.ipynb``, and that is copied to ``student/<id>.ipynb``.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
STUDENT = ROOT / "student"
MARKER = "# 答え合わせ"
NOTE_TAG = "exercise-note"
_SOLUTION_START = re.compile(r"```\{solution-start\}\s+(\S+)")
_EXERCISE_START = re.compile(r"```\{exercise-start\}(.*)")
_EXERCISE_END = "```{exercise-end}"


@dataclass
class Exercise:
    """One exercise of a chapter and its solution, as the chapter writes them."""

    label: str
    title: str
    stars: int
    statement: str  # the Markdown between exercise-start and exercise-end
    cells: list = field(default_factory=list)  # the solution's cells, in order

    @property
    def tests(self) -> list[str]:
        """The autograded parts: each solution code cell from its ``# 答え合わせ`` line on."""
        return [t for c in self.cells if c.cell_type == "code" for t in [split(c.source)[1]] if t]

    @property
    def answer(self) -> str:
        """The model answer in prose (empty when the solution has none)."""
        prose = [
            c.source
            for c in self.cells
            if c.cell_type == "markdown" and NOTE_TAG not in c.metadata.get("tags", [])
        ]
        return "\n\n".join(prose)

    def points(self) -> float:
        """The points of each graded cell: the exercise's ★ shared by its graded cells."""
        graded = len(self.tests) + bool(self.answer)
        return round(self.stars / graded, 2) if graded else 0.0


def split(code: str) -> tuple[str, str]:
    """``(student's part, test part)`` of a solution code cell; the test part is empty when
    the cell has no ``# 答え合わせ`` line."""
    lines = code.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == MARKER:
            return "\n".join(lines[:i]).rstrip(), "\n".join(lines[i:])
    return code, ""


def _stars(text: str) -> int:
    found = re.search(r"★+", text)
    return len(found.group(0)) if found else 0


def _title(opening: str, statement: str) -> str:
    """The exercise's title without its ★ and any aside that holds them, as (コード・★★)."""
    stars = re.compile(r"[(（][^)）]*★[^)）]*[)）]|★+")
    title = stars.sub("", opening).strip()
    if not title:
        bold = re.search(r"\*\*(.+?)\*\*", statement)
        title = stars.sub("", bold.group(1)).strip(" 。") if bold else ""
    return title or statement.strip().split("\n")[0][:40] + "…"


def exercises(nb: nbformat.NotebookNode) -> list[Exercise]:
    """The exercises of a chapter notebook with their solution cells."""
    cells, found, statements = nb.cells, [], {}
    i = 0
    while i < len(cells):
        source = cells[i].source
        start = _EXERCISE_START.match(source) if cells[i].cell_type == "markdown" else None
        if start:
            label = re.search(r":label:\s*(\S+)", source).group(1)
            j, body = i + 1, []
            while not cells[j].source.startswith(_EXERCISE_END):
                body.append(cells[j].source)
                j += 1
            statement = "\n\n".join(body)
            statements[label] = (start.group(1), statement)
            i = j
        solution = _SOLUTION_START.match(source) if cells[i].cell_type == "markdown" else None
        if solution:
            label = solution.group(1)
            opening, statement = statements[label]
            j, body = i + 1, []
            while not cells[j].source.startswith("```{solution-end}"):
                body.append(cells[j])
                j += 1
            stars = _stars(opening + statement[:200])
            found.append(Exercise(label, _title(opening, statement), stars, statement, body))
            i = j
        i += 1
    return found


def check_labels(test: str) -> list[str]:
    """What a test part checks: the label of every ``check_*`` / ``check`` call in it."""
    labels = []
    for node in ast.walk(ast.parse(test)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name, args = node.func.id, node.args
            what = {k.arg: k.value for k in node.keywords}
            if name.startswith("check_") and (len(args) >= 3 or "what" in what):
                labels.append(_text(args[2] if len(args) >= 3 else what["what"]))
            elif name == "check" and args:
                labels.append(_text(args[0]))
    return labels


def _text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "…" for v in node.values)
    return ast.unparse(node)


def _meta(grade_id: str, *, solution: bool, points: float | None = None) -> dict:
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution}
    meta |= {"schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook(nb: nbformat.NotebookNode, chapter: int) -> nbformat.NotebookNode:
    """The nbgrader source (instructor) version of a chapter: every solution replaced by
    solution regions, autograded test cells and a manually graded answer cell. The MyST
    markers around an exercise, which Jupyter and Colab would show as raw text, become a
    heading 練習 ``chapter``.k as the site numbers it."""
    by_label = {e.label: e for e in exercises(nb)}
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    cells, i, k = nb.cells, 0, 0
    while i < len(cells):
        markdown = cells[i].cell_type == "markdown"
        opening = _EXERCISE_START.match(cells[i].source) if markdown else None
        if opening:
            k += 1
            heading = f"#### 練習 {chapter}.{k} {opening.group(1).strip()}".rstrip()
            out.cells.append(nbformat.v4.new_markdown_cell(heading, id=cells[i].id))
            i += 1
            continue
        if markdown and cells[i].source.startswith(_EXERCISE_END):
            i += 1
            continue
        start = _SOLUTION_START.match(cells[i].source) if markdown else None
        if not start:
            out.cells.append(cells[i])
            i += 1
            continue
        ex = by_label[start.group(1)]
        points, n = ex.points(), 0
        for cell in ex.cells:
            if cell.cell_type != "code":
                continue
            n += 1
            work, test = split(cell.source)
            code = f"### BEGIN SOLUTION\n{work}\n### END SOLUTION"
            new = nbformat.v4.new_code_cell(code, id=cell.id)
            new.metadata = _meta(f"{ex.label}-code{n}", solution=True)
            out.cells.append(new)
            if test:
                new = nbformat.v4.new_code_cell(test, id=f"{cell.id}-check")
                new.metadata = _meta(f"{ex.label}-check{n}", solution=False, points=points)
                out.cells.append(new)
        if ex.answer:
            new = nbformat.v4.new_markdown_cell(ex.answer, id=f"{ex.label}-answer"[:64])
            new.metadata = _meta(f"{ex.label}-answer", solution=True, points=points)
            out.cells.append(new)
        i += len(ex.cells) + 2  # solution-start, the solution, solution-end
    return out


def nbgrader_config() -> object:
    """The course's nbgrader configuration (``course/nbgrader_config.py``)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()


def generate(ids: list[str], course: Path = COURSE, student: Path = STUDENT) -> list[Path]:
    """Write the nbgrader source of each chapter under ``course``, run nbgrader's
    ``generate_assignment`` and copy each release notebook to ``student``."""
    from nbgrader.apps import NbGraderAPI

    if course != COURSE:
        course.mkdir(parents=True, exist_ok=True)
        shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    config = nbgrader_config()
    config.CourseDirectory.root = str(course)
    api = NbGraderAPI(config=config)
    student.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in ids:
        nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
        folder = course / "source" / chapter
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_notebook(nb, int(chapter[:2])), folder / f"{chapter}.ipynb")
        result = api.generate_assignment(chapter, force=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {chapter} failed:\n{result['log']}")
        target = student / f"{chapter}.ipynb"
        shutil.copy(course / "release" / chapter / f"{chapter}.ipynb", target)
        written.append(target)
    return written


def autograde(
    chapter: str, submission: nbformat.NotebookNode, course: Path, student_id: str = "student"
) -> tuple[dict[str, tuple[float, float]], nbformat.NotebookNode]:
    """Grade ``submission`` of ``chapter`` with nbgrader's ``autograde`` in the course folder
    ``course`` (made if needed); return ``{grade_id: (score, points)}`` of its autograded cells
    and the graded notebook (with the output of every test cell)."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    generate([chapter], course, student=course / "student")
    folder = course / "submitted" / student_id / chapter
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(submission, folder / f"{chapter}.ipynb")
    config = nbgrader_config()
    config.CourseDirectory.root = str(course)
    result = NbGraderAPI(config=config).autograde(chapter, student_id, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader autograde {chapter} failed:\n{result['log']}")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(chapter, chapter, student_id)
        scores = {
            g.name: (g.auto_score, g.max_score) for g in notebook.grades if g.auto_score is not None
        }
    graded = course / "autograded" / student_id / chapter / f"{chapter}.ipynb"
    return scores, nbformat.read(graded, as_version=4)


def chapters() -> list[str]:
    """The chapter notebooks' names (``NN_slug``)."""
    return sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--autograde"]:
        return _autograde_reference(argv[1:])
    unknown = sorted(set(argv) - set(chapters()))
    if unknown:
        print(f"unknown chapter(s) {unknown}; the chapters are {chapters()}", file=sys.stderr)
        return 2
    for path in generate(argv or chapters()):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def _autograde_reference(ids: list[str]) -> int:
    """Grade each chapter's own solutions as a submission: every autograded cell must get full
    marks (a check for authors: ``python scripts/course.py --autograde NN_slug``)."""
    import tempfile

    failed = 0
    for chapter in ids:
        nb = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)
        with tempfile.TemporaryDirectory() as tmp:
            scores, _ = autograde(chapter, source_notebook(nb, int(chapter[:2])), Path(tmp))
        for grade_id, (score, points) in sorted(scores.items()):
            failed += score < points
            print(f"{chapter} {grade_id}: {score:g} / {points:g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
