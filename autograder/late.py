"""Late penalties, assigned by nbgrader's own ``AssignLatePenalties`` step.

``nbgrader autograde`` ends each notebook with the ``AssignLatePenalties`` preprocessor:
if the submission's timestamp (from ``timestamp.txt``) is after the assignment's due date
in the gradebook (plus the student's extension, if any), it asks the configured
late-submission plugin for a penalty, clips it to ``[0, notebook score]`` and stores it
in the gradebook, where the formgrader and ``nbgrader export`` read it. Our grader
bypasses ``autograde``, so after a run it calls that same preprocessor, configured from
the course's ``nbgrader_config.py``, for every submission of the assignment that is late
(or was penalised before): the stock plugin (``c.LateSubmissionPlugin.penalty_method =
"zero"``), or the instructor's own class (``c.AssignLatePenalties.plugin_class =
"module.Class"``, importable from the course root, as nbgrader allows).

``grades.csv`` then reads the penalties back from the gradebook, so it shows the same
numbers as ``nbgrader export``: ``score`` = max(0, raw score - ``late_penalty``).
"""

from __future__ import annotations

import contextlib
import sys
import warnings


@contextlib.contextmanager
def _course_on_path(root):
    """Plugin modules are imported from the course root, as ``nbgrader`` does (it puts
    its working directory, the course root, first on ``sys.path``)."""
    entry = str(root)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def _preprocessor(course):
    from nbgrader.preprocessors import AssignLatePenalties

    return AssignLatePenalties(config=course.coursedir.config)


def assign_late_penalties(course, assignment: str) -> dict[str, float]:
    """Run nbgrader's ``AssignLatePenalties`` on every late submission of ``assignment``
    (and on any that carries a penalty from before, which it resets); returns
    student id -> the assignment's total penalty. Nothing to do without a due date."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    db_url = course.coursedir.db_url
    todo = []
    with warnings.catch_warnings(), Gradebook(db_url, course.coursedir.course_id) as gb:
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            return {}
        for submission in gb.assignment_submissions(assignment):
            for nb in submission.notebooks:
                late = submission.total_seconds_late > 0
                if late or nb.late_submission_penalty is not None:
                    todo.append((submission.student.id, nb.name))
    if todo:
        with (
            _course_on_path(course.root),
            warnings.catch_warnings(),
            course.lock("gradebook.lock"),
        ):
            warnings.simplefilter("ignore")
            step = _preprocessor(course)
            for student, notebook in todo:
                resources = {
                    "nbgrader": {
                        "notebook": notebook,
                        "assignment": assignment,
                        "student": student,
                        "db_url": db_url,
                    }
                }
                step.preprocess(nbformat.v4.new_notebook(), resources)
    return {
        student: penalty
        for (aid, student), penalty in gradebook_penalties(course).items()
        if aid == assignment
    }


def gradebook_penalties(course) -> dict[tuple[str, str], float]:
    """(assignment, student id) -> the late penalty the gradebook holds (0 if none), for
    every submission: what ``nbgrader export`` subtracts."""
    from nbgrader.api import Gradebook

    if not gradebook_exists(course):
        return {}
    out = {}
    with (
        warnings.catch_warnings(),
        Gradebook(course.coursedir.db_url, course.coursedir.course_id) as gb,
    ):
        warnings.simplefilter("ignore")
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                out[(assignment.name, submission.student.id)] = float(
                    submission.late_submission_penalty or 0.0
                )
    return out


def gradebook_exists(course) -> bool:
    url = course.coursedir.db_url
    if not url.startswith("sqlite:///"):
        return True
    from pathlib import Path

    return Path(url[len("sqlite:///") :]).is_file()
