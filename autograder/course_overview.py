"""``python -m autograder report`` (no assignment): the course overview.

Each student's score on each assignment of the gradebook, as ``nbgrader export`` reports
it (manual grades included, minus the late penalty, never below 0), and per assignment
the mean and median over the students who submitted and each test's pass rate (from the
grader's records). It writes, in ``report/``:

- ``overview.csv``: ``student_id``, one column per assignment (empty: no submission),
  ``total``;
- ``assignments.csv``: ``assignment,max_score,submissions,mean,median,pass_rates``
  (``pass_rates``: ``grade_id=rate`` pairs, ``;``-separated, in test order);
- ``index.html``: the page, linking to each assignment's report where one was made.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from autograder import class_report, class_stats, report_page
from autograder.course import Course, atomic_write


@dataclass
class AssignmentFigures:
    name: str
    max_score: float
    scores: list[float]  # of the students who submitted
    pass_rates: dict  # grade_id -> pass rate, from the records (empty if none)

    @property
    def submissions(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return class_stats.median(self.scores)


@dataclass
class Overview:
    root: Path
    students: list[str]
    assignments: list[AssignmentFigures]
    scores: dict  # (student id, assignment) -> score after the late penalty

    def total(self, student: str) -> float:
        return sum(s for (sid, _), s in self.scores.items() if sid == student)

    def report_href(self, assignment: str) -> str | None:
        if (self.root / "report" / assignment / "index.html").is_file():
            return report_page.url([assignment, "index.html"])
        return None


def gather(root) -> Overview:
    course = Course(root)
    if not course.gradebook_exists():
        raise class_report.ReportError(
            f"no gradebook at {course.coursedir.db_url}: the overview reads the scores from "
            "it (run `nbgrader generate_assignment` and grade an assignment first)"
        )
    scores, figures = {}, []
    with course.gradebook() as gb:
        students = sorted(s.id for s in gb.students)
        assignments = sorted(gb.assignments, key=lambda a: (a.duedate is None, a.duedate, a.name))
        for assignment in assignments:
            got = []
            for student, raw, penalty in _submissions(gb, assignment.name):
                score = max(0.0, raw - (penalty or 0.0))  # as nbgrader export computes it
                scores[(student, assignment.name)] = score
                got.append(score)
            rates = {
                t.grade_id: t.pass_rate
                for t in class_stats.test_rows(class_report.read_records(course, assignment.name))
            }
            figures.append(
                AssignmentFigures(assignment.name, float(assignment.max_score), got, rates)
            )
    return Overview(course.root, students, figures, scores)


def _submissions(gb, assignment: str):
    """(student id, score, late penalty) of every submission of ``assignment``: the
    gradebook's own score and penalty, in one query (not three per submission)."""
    from nbgrader.api import Assignment, SubmittedAssignment

    return (
        gb.db.query(
            SubmittedAssignment.student_id,
            SubmittedAssignment.score,
            SubmittedAssignment.late_submission_penalty,
        )
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .filter(Assignment.name == assignment)
        .all()
    )


def _csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def overview_csv(o: Overview) -> str:
    rows = [["student_id", *(a.name for a in o.assignments), "total"]]
    for sid in o.students:
        rows.append(
            [sid, *(_num(o.scores.get((sid, a.name))) for a in o.assignments), _num(o.total(sid))]
        )
    return _csv(rows)


def assignments_csv(o: Overview) -> str:
    rows = [["assignment", "max_score", "submissions", "mean", "median", "pass_rates"]]
    for a in o.assignments:
        rates = ";".join(f"{gid}={rate:.4f}" for gid, rate in a.pass_rates.items())
        mean = None if a.mean is None else round(a.mean, 4)
        rows.append([a.name, _num(a.max_score), a.submissions, _num(mean), _num(a.median), rates])
    return _csv(rows)


def write(root) -> Path:
    """Writes ``report/index.html``, ``overview.csv`` and ``assignments.csv``."""
    overview = gather(root)
    folder = overview.root / "report"
    atomic_write(folder / "overview.csv", overview_csv(overview))
    atomic_write(folder / "assignments.csv", assignments_csv(overview))
    atomic_write(folder / "index.html", report_page.overview_page(overview))
    return folder / "index.html"
