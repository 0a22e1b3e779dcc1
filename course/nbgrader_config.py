# nbgrader's configuration for the course edition of the book. `make student` generates the
# assignments here (one per chapter: source/NN_slug, release/NN_slug); a teacher collects
# submissions into submitted/<student>/NN_slug/ and runs `nbgrader autograde NN_slug` in this
# folder. See the instructor guide (book/instructor.md).
import os
import sys

c = get_config()  # noqa: F821 (nbgrader provides it)

# nbgrader creates its gradebook by running the `alembic` command of its own environment, which
# is not on PATH unless that environment is activated: put it there.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ["PATH"].split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ["PATH"]

c.CourseDirectory.root = "."
c.CourseDirectory.course_id = "mlbook"

# What the student edition shows in place of a solution.
c.ClearSolutions.code_stub = {"python": "# ここにコードを書く\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ここに答えを書く"

# A chapter runs whole before its exercises are graded; its longest cell takes about a minute
# on a 2-core CPU.
c.Execute.timeout = 600
