"""Before a class is graded, the *preflight* grades the assignment's solution (the
released notebook with the instructor's answers: it must score full marks) and the
unmodified release (it must score 0), on the runner that then grades the class; if
either is off, the run stops before anything is written (:class:`PreflightError`)."""

from __future__ import annotations

import nbformat

from autograder.course import CourseError
from autograder.grading import notebooks
from autograder.grading.records import TestStatus
from autograder.recording import failed_record

PREFLIGHT_STUDENT = "(preflight)"


class PreflightError(CourseError):
    """The grader cannot grade this assignment correctly here: nothing was graded."""


def preflight(course, assignment, released_path, materials, runner, make_job) -> None:
    """Grade the solution (must score full marks) and the unmodified release (must score
    0) with ``runner`` (the one that then grades the class: on a cluster, its workers)
    before grading a class; raise :class:`PreflightError` if either is off."""
    released_nb = nbformat.reads(materials.released_bytes.decode("utf-8"), as_version=4)
    source_nb = nbformat.read(course.source_notebook(assignment, released_path.name), 4)
    solved = nbformat.writes(notebooks.solved_release(released_nb, source_nb)).encode()
    wanted = {
        "solution": make_job(PREFLIGHT_STUDENT, solved),
        "release": make_job(PREFLIGHT_STUDENT, materials.released_bytes),
    }
    for job in wanted.values():
        runner.submit(job)
    records = {}
    while len(records) < len(wanted):
        for job, outcome in runner.finished(timeout=1.0):
            what = next(w for w, j in wanted.items() if j is job)
            if isinstance(outcome, BaseException):
                outcome = failed_record(job, f"grader error: {outcome!r}")
            records[what] = outcome
    problems = _preflight_problems(records)
    if problems:
        raise PreflightError(
            f"preflight failed for {assignment}; nothing was graded and nothing was written.\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nFix the cause, then run the same command again."
        )


def _preflight_problems(records: dict) -> list[str]:
    problems = []
    for what, record in records.items():
        if record.is_grader_error:
            problems.append(f"the {what} could not be graded: {record.notes[-1]}")
            continue
        want = record.max_score if what == "solution" else 0.0
        expected = TestStatus.PASSED if what == "solution" else TestStatus.FAILED
        wrong = [t for t in record.tests if t.status is not expected]
        if record.score != want or wrong:
            got = "; ".join(f"{t.grade_id}: {t.status.label} ({t.reason})" for t in wrong[:4])
            hint = (
                "the instructor's solution must pass every test: check that the reference "
                "outputs match the notebooks (python -m tools.reference) and that the "
                "limits leave room for the solution (--timeout, --memory-mb)"
                if what == "solution"
                else "the released notebook must fail every test: regenerate the release "
                "(nbgrader generate_assignment) and check that its stubs raise "
                "NotImplementedError"
            )
            problems.append(
                f"the {what} scored {record.score:g}/{record.max_score:g}, expected "
                f"{want:g}: {got or record.status.value}. {hint}"
            )
    return problems
