# nbgrader's configuration for the course edition of the book. `make student` generates the
# assignments here (one per chapter: source/NN_slug, release/NN_slug); a teacher collects
# submissions into submitted/<student>/NN_slug/ and runs `nbgrader autograde NN_slug` in this
# folder. See the instructor guide (book/instructor.md).
c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.root = "."
c.CourseDirectory.course_id = "mlbook"

# What the student edition shows in place of a solution.
c.ClearSolutions.code_stub = {"python": "# ここにコードを書く\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ここに答えを書く"

# A chapter runs whole before its exercises are graded; its longest cell takes about a minute
# on a 2-core CPU.
c.Execute.timeout = 600
