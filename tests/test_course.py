"""The course edition (scripts/course.py): every exercise graded the way nbgrader reads it, a
student edition that is current and holds no solution, and autograding that gives full marks to
the chapter's own solutions and takes the points of a wrong answer."""

from __future__ import annotations

import ast
import builtins
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import course  # noqa: E402

CHAPTERS = course.chapters()
CHECK_CALL = re.compile(r"\bcheck(_\w+)?\(")


def _read(chapter: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4)


def _assigned(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _loaded(code: str) -> set[str]:
    return {
        n.id
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


def _python(code: str) -> str:
    """Cell source without IPython magics and shell lines, parseable by ast."""
    lines = code.split("\n")
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip()[:1] in ("%", "!") else line
        for line in lines
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_solution_splits_work_from_checks(chapter):
    """A solution code cell that checks an answer does it after its `# 答え合わせ` line, below
    the student's own work, so the student edition can keep the check and drop the work."""
    for ex in course.exercises(_read(chapter)):
        for cell in ex.cells:
            if cell.cell_type != "code":
                continue
            work, test = course.split(cell.source)
            assert not CHECK_CALL.search(work), (
                f"{chapter} {ex.label}: a check before the line `{course.MARKER}`:\n{work}"
            )
            if test:
                assert work.strip(), f"{chapter} {ex.label}: nothing for the student to write"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_is_graded(chapter):
    """Each exercise has a graded cell (an autograded check or a written answer) and a
    difficulty, so its points are its ★, and a title without the ★ (the instructor guide's
    table shows the difficulty in a column of its own)."""
    for ex in course.exercises(_read(chapter)):
        assert 1 <= ex.stars <= 3, f"{chapter} {ex.label}: no ★ difficulty"
        assert ex.tests or ex.answer, f"{chapter} {ex.label}: nothing to grade"
        assert ex.title and not re.search(r"★|[(（]\s*[)）]", ex.title), (
            f"{chapter} {ex.label}: title {ex.title!r} keeps its difficulty"
        )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_checked_names_are_named_in_the_exercise(chapter):
    """The autograder reads the student's variables by name: every name a check reads from the
    student's work appears, in code font, in the exercise's statement."""
    nb = _read(chapter)
    before: set[str] = set()
    solution_ids = {c.id for ex in course.exercises(nb) for c in ex.cells}
    by_cell = {c.id: ex for ex in course.exercises(nb) for c in ex.cells}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.id not in solution_ids:
            before |= _assigned(_python(cell.source))
            continue
        ex = by_cell[cell.id]
        work, test = course.split(cell.source)
        if not test:
            continue
        needed = (_loaded(test) - _assigned(test)) & _assigned(_python(work))
        needed -= before | set(dir(builtins))
        quoted = " ".join(re.findall(r"`([^`]*)`", ex.statement))
        missing = [n for n in sorted(needed) if not re.search(rf"\b{re.escape(n)}\b", quoted)]
        assert not missing, (
            f"{chapter} {ex.label}: the check reads {missing}, which the statement never names "
            "(write them in backticks, e.g. 「…を `name` に入れよ」)"
        )


@pytest.fixture(scope="module")
def fresh_edition(tmp_path_factory):
    """The student edition generated now, by nbgrader, into a scratch course folder."""
    tmp = tmp_path_factory.mktemp("course")
    course.generate(CHAPTERS, tmp / "course", student=tmp / "student")
    return tmp / "student"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_is_current(fresh_edition, chapter):
    """student/ is what `make student` makes from the chapters today (run it after editing)."""
    committed = ROOT / "student" / f"{chapter}.ipynb"
    assert committed.exists(), f"student/{chapter}.ipynb is missing: run `make student`"
    assert nbformat.read(committed, as_version=4) == nbformat.read(
        fresh_edition / f"{chapter}.ipynb", as_version=4
    ), f"student/{chapter}.ipynb is out of date: run `make student`"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_holds_no_solution(chapter):
    """No line of a solution (code the student writes, or a model answer) reaches the student
    edition, unless the chapter prints that line outside its solutions too."""
    nb = _read(chapter)
    exercises = course.exercises(nb)
    hidden = {c.id for ex in exercises for c in ex.cells}
    public = "\n".join(c.source for c in nb.cells if c.id not in hidden)
    public += "\n".join(t for ex in exercises for t in ex.tests)  # the checks are kept
    student = nbformat.read(ROOT / "student" / f"{chapter}.ipynb", as_version=4)
    shown = "\n".join(c.source for c in student.cells)
    assert not any(c.outputs for c in student.cells if c.cell_type == "code"), "outputs left"
    for ex in exercises:
        secret = [course.split(c.source)[0] for c in ex.cells if c.cell_type == "code"]
        secret += [ex.answer]
        for line in "\n".join(secret).split("\n"):
            line = line.strip()
            if len(line) >= 12 and line not in public and line != course.MARKER:
                assert line not in shown, f"{chapter} {ex.label}: solution text {line!r}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_keeps_the_colab_set_up(chapter):
    """The hidden set-up cell (install mlbook, clone the book where a chapter reads it) is the
    first cell of the student edition too, so it runs in Colab as the full chapter does."""
    student = nbformat.read(ROOT / "student" / f"{chapter}.ipynb", as_version=4)
    assert student.cells[0].source == _read(chapter).cells[0].source


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_numbers_exercises_as_the_site(chapter):
    """Jupyter and Colab do not read MyST's exercise markers: in the student edition each
    exercise opens with a heading 練習 N.k, numbered as on the site, and no marker is left."""
    student = nbformat.read(ROOT / "student" / f"{chapter}.ipynb", as_version=4)
    shown = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    assert "{exercise-" not in shown and "{solution-" not in shown
    n = len(course.exercises(_read(chapter)))
    headings = re.findall(r"^#### 練習 (\d+)\.(\d+)", shown, flags=re.M)
    assert headings == [(str(int(chapter[:2])), str(k)) for k in range(1, n + 1)]


def test_nbgrader_command_runs_in_the_course_folder(tmp_path):
    """The instructor guide has teachers run `nbgrader …` in course/ without activating .venv:
    the course's configuration makes that work (nbgrader itself calls `alembic`)."""
    shutil.copy(ROOT / "course" / "nbgrader_config.py", tmp_path)
    chapter = CHAPTERS[0]
    (tmp_path / "source" / chapter).mkdir(parents=True)
    nbformat.write(
        course.source_notebook(_read(chapter), int(chapter[:2])),
        tmp_path / "source" / chapter / "a.ipynb",
    )
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    result = subprocess.run(
        [nbgrader, "generate_assignment", chapter],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "release" / chapter / "a.ipynb").exists()


# A submission of chapter 2 with one wrong answer (exercise 1 counts each update twice), one
# unanswered exercise (3) and one check cell a student rewrote to fail (the next check cell).
CHAPTER, WRONG_LINE, WRONG_BY = "02_perceptron", "updates += 1", "updates += 2"
WRONG, UNANSWERED = "ex-perceptron-1-check1", "ex-perceptron-3"


def _grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


@pytest.mark.slow
def test_autograde_full_marks_and_a_wrong_answer(tmp_path):
    """nbgrader's autograde gives the chapter's own solutions full marks; a wrong answer and an
    unanswered exercise lose exactly the points of their checks, the graded notebook shows the
    Japanese message of the check that failed, and a rewritten check cell is restored."""
    source = course.source_notebook(_read(CHAPTER), int(CHAPTER[:2]))
    scores, _ = course.autograde(CHAPTER, source, tmp_path, student_id="right")
    assert scores and all(score == points for score, points in scores.values()), scores

    (wrong,) = [c for c in source.cells if WRONG_LINE in c.source]
    wrong.source = wrong.source.replace(WRONG_LINE, WRONG_BY)
    for cell in source.cells:
        if _grade_id(cell).startswith(UNANSWERED) and cell.metadata["nbgrader"]["solution"]:
            cell.source = "# ここにコードを書く\nraise NotImplementedError()"
    tampered = next(
        c
        for c in source.cells
        if _grade_id(c) in scores and _grade_id(c) != WRONG and UNANSWERED not in _grade_id(c)
    )
    tampered.source = 'raise AssertionError("答え合わせを書き換えた")'
    bad, graded = course.autograde(CHAPTER, source, tmp_path, student_id="wrong")
    lost = {g for g, (s, _) in bad.items() if s < scores[g][0]}
    assert lost == {WRONG} | {g for g in scores if g.startswith(UNANSWERED)}, lost
    assert all(bad[g][0] == 0 for g in lost), bad
    assert bad[_grade_id(tampered)] == scores[_grade_id(tampered)], "a rewritten check counted"
    (cell,) = [c for c in graded.cells if _grade_id(c) == WRONG]
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert errors and "AND の更新回数：違います" in errors[0].evalue, cell.outputs
