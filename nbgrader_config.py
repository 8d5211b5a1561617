"""nbgrader configuration for the course (see docs/grading-contract.md).

The course root is this folder, whatever the working directory: the graded notebooks'
instructor versions live in ``solutions/`` (nbgrader's source), the student versions that
``nbgrader generate_assignment`` makes from them in ``exercises/`` (nbgrader's release).
Submissions, autograded copies, feedback and ``gradebook.db`` stay nbgrader's defaults
and are git-ignored.
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# nbgrader's gradebook runs `alembic` from PATH; put the running environment's bin/ first,
# so that `.venv/bin/nbgrader ...` works from a plain shell, without activating anything.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "upsampling"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
