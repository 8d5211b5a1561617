"""``python -m autograder report <assignment>``: the class report of one assignment.

It reads what grading left behind and runs nothing: the records
(``autograded/<student>/<assignment>/autograder.json``, and ``grader-error.json`` where
the last attempt failed), the gradebook's late penalties, ``similarity.csv`` if the
similarity check ran on this assignment, and the grading times
(:mod:`autograder.grading_times`). It writes, in ``report/<assignment>/``:

- ``tests.csv``: ``grade_id,points,submissions,passed,failed,timed_out,crashed,
  over_limit,tampered,grader_error,pass_rate``, one row per test;
- ``misconceptions.csv``: ``grade_id,hint,count,students``, one row per test and
  diagnosis (the hint as the student read it), most frequent first; ``students`` are
  ``;``-separated ids;
- ``index.html``: the page (:func:`autograder.report_page.assignment_page`).

The records of a cluster run are those of a local one, byte for byte, so is the report.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder import class_stats, grading_times, report_page
from autograder.course import GRADER_ERROR_RECORD, RECORD, Course, atomic_write


class ReportError(Exception):
    """The report cannot be made as asked (the message says what to do)."""


@dataclass
class Timing:
    seconds: dict  # student id -> seconds their last grading took
    runs: list

    def _sorted(self) -> list[float]:
        return sorted(self.seconds.values())

    @property
    def median(self) -> float:
        return class_stats.median(self._sorted()) or 0.0

    @property
    def p90(self) -> float:
        values = self._sorted()
        return values[min(len(values) - 1, int(0.9 * len(values)))] if values else 0.0

    @property
    def longest(self) -> float:
        return max(self.seconds.values(), default=0.0)

    @property
    def slowest(self) -> list[tuple[str, float]]:
        return sorted(self.seconds.items(), key=lambda kv: (-kv[1], kv[0]))[:3]


@dataclass
class AssignmentReport:
    """Everything the page shows, gathered once."""

    root: Path
    feedback_dir: Path
    assignment: str
    notebook: str
    records: list[dict]
    penalties: dict  # student id -> late penalty (gradebook)
    late: dict  # student id -> (seconds late, penalty)
    similar: dict  # student id -> [(other student, score)] of flagged pairs
    similarity_note: str
    timing: Timing
    tests: list = field(init=False)
    misconceptions: list = field(init=False)
    review: list = field(init=False)

    def __post_init__(self):
        self.tests = class_stats.test_rows(self.records)
        self.tests_by_id = {t.grade_id: t for t in self.tests}
        self.misconceptions = class_stats.misconceptions(self.records)
        self.review = class_stats.review_list(self.records, self.late, self.similar)
        graded = [r for r in self.records if r["status"] != "grader error"]
        self.raw_scores = {r["student_id"]: r["score"] for r in graded}
        self.final_scores = {
            sid: max(0.0, score - self.penalties.get(sid, 0.0))
            for sid, score in self.raw_scores.items()
        }
        self.scores = sorted(self.final_scores.values())
        self.max_score = max((r["max_score"] for r in self.records), default=0.0)

    @property
    def mean(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None

    @property
    def raw_mean(self) -> float | None:
        raw = list(self.raw_scores.values())
        return sum(raw) / len(raw) if raw else None

    @property
    def median(self) -> float | None:
        return class_stats.median(self.scores)

    @property
    def full_marks(self) -> int:
        return sum(1 for s in self.scores if s >= self.max_score)

    @property
    def penalised(self) -> int:
        return sum(1 for sid in self.raw_scores if self.penalties.get(sid, 0.0) > 0)

    def feedback_href(self, student: str) -> str | None:
        """The student's feedback page, relative to ``report/<assignment>/``."""
        page = self.feedback_dir / student / self.assignment / f"{self.notebook}.html"
        if not page.is_file():
            return None
        up = os.path.relpath(self.feedback_dir, self.root / "report" / self.assignment)
        return report_page.url([*Path(up).parts, student, self.assignment, page.name])


# ----------------------------------------------------------------------------- reading


def read_records(course: Course, assignment: str) -> list[dict]:
    """The assignment's records by student: the committed one, or the grader error of
    the last attempt if that failed (it is not a grade, and the report says so)."""
    base = course.root / course.coursedir.autograded_directory
    records = {}
    for name in (RECORD, GRADER_ERROR_RECORD):
        for path in sorted(base.glob(f"*/{assignment}/{name}")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            data.pop("logs", None)
            records[data["student_id"]] = data
    return [records[sid] for sid in sorted(records)]


def graded_assignments(course: Course) -> list[str]:
    base = course.root / course.coursedir.autograded_directory
    return sorted({p.parent.name for p in base.glob(f"*/*/{RECORD}")})


def gradebook_lateness(course: Course, assignment: str) -> dict[str, tuple[float, float]]:
    """Student id -> (seconds late, late penalty), as nbgrader's ``total_seconds_late``
    and ``late_submission_penalty`` have them (the due date plus the student's extension),
    in one query; nothing if the gradebook or the assignment is not there."""
    from nbgrader.api import Assignment, SubmittedAssignment

    if not course.gradebook_exists():
        return {}
    with course.gradebook() as gb:
        rows = (
            gb.db.query(
                SubmittedAssignment.student_id,
                SubmittedAssignment.timestamp,
                SubmittedAssignment.extension,
                Assignment.duedate,
                SubmittedAssignment.late_submission_penalty,
            )
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .filter(Assignment.name == assignment)
            .all()
        )
    out = {}
    for student, timestamp, extension, duedate, penalty in rows:
        late = 0.0
        if timestamp is not None and duedate is not None:
            due = duedate + extension if extension is not None else duedate
            late = max(0.0, (timestamp - due).total_seconds())
        out[student] = (late, float(penalty or 0.0))
    return out


def similarity_pairs(course: Course, assignment: str, students) -> tuple[dict, str]:
    """The flagged pairs of ``similarity.csv`` (student id -> [(other, score)]) if the
    similarity check last ran on ``assignment``, and a sentence saying what was used."""
    csv_path, html_path = course.root / "similarity.csv", course.root / "similarity.html"
    command = f"python -m autograder similarity {assignment}"
    if not csv_path.is_file():
        return {}, f"The similarity check has not run ({command} runs it)."
    title = f"<title>Similarity: {html.escape(assignment)}</title>"
    try:
        ours = title in html_path.read_text(encoding="utf-8")
    except OSError:
        ours = False
    if not ours:
        return {}, f"similarity.csv is for another assignment ({command} checks this one)."
    pairs: dict[str, list] = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            a, b = row["student_a"], row["student_b"]
            if row["flagged"] == "yes" and a in students and b in students:
                pairs.setdefault(a, []).append((b, float(row["score"])))
                pairs.setdefault(b, []).append((a, float(row["score"])))
    flagged = sum(len(v) for v in pairs.values()) // 2
    return pairs, f"Similarity check (similarity.csv): {flagged} flagged pair(s) listed below."


def gather(root, assignment: str) -> AssignmentReport:
    course = Course(root)
    records = read_records(course, assignment)
    if not records:
        graded = ", ".join(graded_assignments(course)) or "none yet"
        raise ReportError(
            f"assignment {assignment!r} has no graded submission: the report needs records "
            f"in {course.root / course.coursedir.autograded_directory}/<student>/{assignment}/"
            f" (run `python -m autograder grade {assignment}` first; graded: {graded})"
        )
    students = {r["student_id"] for r in records}
    late = gradebook_lateness(course, assignment)
    penalties = {sid: penalty for sid, (_, penalty) in late.items()}
    similar, note = similarity_pairs(course, assignment, students)
    saved = grading_times.read(course, assignment)
    timing = Timing({s: t for s, t in saved["students"].items() if s in students}, saved["runs"])
    return AssignmentReport(
        root=course.root,
        feedback_dir=course.root / course.coursedir.feedback_directory,
        assignment=assignment,
        notebook=records[0]["notebook"],
        records=records,
        penalties=penalties,
        late={sid: v for sid, v in late.items() if sid in students},
        similar=similar,
        similarity_note=note,
        timing=timing,
    )


# ----------------------------------------------------------------------------- writing


def _csv(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def tests_csv(report: AssignmentReport) -> str:
    rows = [class_stats.TESTS_COLUMNS]
    for t in report.tests:
        counts = [t.counts[s] for s in class_stats.STATUSES]
        rows.append([t.grade_id, f"{t.points:g}", t.submissions, *counts, f"{t.pass_rate:.4f}"])
    return _csv(rows)


def misconceptions_csv(report: AssignmentReport) -> str:
    rows = [class_stats.MISCONCEPTIONS_COLUMNS]
    rows += [[m.grade_id, m.hint, m.count, ";".join(m.students)] for m in report.misconceptions]
    return _csv(rows)


def write(root, assignment: str) -> Path:
    """Writes ``report/<assignment>/`` (the page and both CSVs); returns the page's path."""
    report = gather(root, assignment)
    folder = report.root / "report" / assignment
    atomic_write(folder / "tests.csv", tests_csv(report))
    atomic_write(folder / "misconceptions.csv", misconceptions_csv(report))
    atomic_write(folder / "index.html", report_page.assignment_page(report))
    return folder / "index.html"
