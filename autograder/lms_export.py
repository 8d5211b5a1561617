"""Grades an LMS imports: ``python -m autograder export <assignment> --format canvas|moodle``.

The scores are the gradebook's, as ``nbgrader export`` reports them (manual grades
included, minus the late penalty, never below 0). The file has the header that the LMS's
own grade export writes, which its import reads back:

- **Canvas** (Grades > Import): ``Student, ID, SIS User ID, SIS Login ID, Section`` and
  one column per assignment, then a ``Points Possible`` row. Canvas updates an existing
  assignment when the column is named as in its own export, ``Name (assignment id)``
  (``--column``); any other name creates a new assignment.
- **Moodle** (Grades > Import > CSV file): ``First name, Last name, ID number, Email
  address`` and the grade column; on import, map "ID number" (or the email address) to
  the user field of the same name and the grade column to the grade item.

Who is who comes from an optional roster CSV (for instance the LMS's own grade export):
``--roster-id`` names its column that holds the nbgrader student ids, and its columns
with the names above are copied. Every roster row is written, in the roster's order;
students graded but not on the roster are added at the end (with a warning), so nobody
is lost. A student with no submission gets an empty cell (the LMS then leaves the grade
alone), or 0 with ``--zeros``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = {
    "canvas": ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"],
    "moodle": ["First name", "Last name", "ID number", "Email address"],
}
CANVAS_POINTS_ROW = "    Points Possible"  # as Canvas's own export writes it


class ExportError(Exception):
    """The export cannot be made as asked (the message says what to change)."""


@dataclass
class Student:
    """One row of the export: the nbgrader id and what the LMS knows the student by."""

    student_id: str
    identity: dict = field(default_factory=dict)  # LMS column -> value
    on_roster: bool = True


@dataclass
class Grades:
    max_score: float
    scores: dict  # student id -> score (students with a submission only)


# ----------------------------------------------------------------------------- inputs


def read_roster(path, id_column: str) -> list[Student]:
    """The roster's rows, in order; ``id_column`` holds the nbgrader student ids."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"roster {path}: cannot read it as UTF-8 text ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    if id_column not in columns:
        raise ExportError(
            f"roster {path}: no column {id_column!r} (its columns: {', '.join(columns)}); "
            "name the column that holds the nbgrader student ids with --roster-id"
        )
    students, seen = [], {}
    for line, row in enumerate(reader, start=2):
        first = (row.get(columns[0]) or "").strip()
        if first == CANVAS_POINTS_ROW.strip():  # a Canvas export used as the roster
            continue
        sid = (row.get(id_column) or "").strip()
        if sid and sid in seen:
            raise ExportError(
                f"roster {path}: student id {sid!r} is on lines {seen[sid]} and {line}"
            )
        seen[sid] = line
        identity = {k: (v or "") for k, v in row.items() if k is not None}
        students.append(Student(sid, identity))
    return students


def gradebook_grades(course, assignment: str) -> tuple[Grades, dict]:
    """The gradebook's scores for ``assignment`` (as ``nbgrader export`` computes them)
    and every student it knows: id -> (first name, last name, email)."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            raise ExportError(
                f"assignment {assignment!r} is not in the gradebook: grade it first"
            ) from None
        people = {s.id: (s.first_name or "", s.last_name or "", s.email or "") for s in gb.students}
        scores = {}
        for submission in gb.assignment_submissions(assignment):
            penalty = submission.late_submission_penalty or 0.0
            scores[submission.student.id] = max(0.0, submission.score - penalty)
        return Grades(float(found.max_score), scores), people


def without_notebook(course, assignment: str) -> set[str]:
    """Students whose submission had no notebook (the grader's status ``missing``):
    nothing was submitted, so their cell stays empty like that of a student who did not
    submit at all."""
    return {
        r["student_id"]
        for r in course.all_records()
        if r.get("assignment") == assignment and r.get("status") == "missing"
    }


# ----------------------------------------------------------------------------- the file


def _number(value: float) -> str:
    return f"{value:g}"


def _default_identity(fmt: str, sid: str, person: tuple) -> dict:
    first, last, email = person
    if fmt == "canvas":
        name = f"{last}, {first}" if first and last else (last or first or sid)
        return {"Student": name, "SIS User ID": sid}
    return {"First name": first, "Last name": last, "ID number": sid, "Email address": email}


def rows(
    fmt: str,
    students: list[Student],
    grades: Grades,
    column: str,
    zeros: bool = False,
) -> list[list[str]]:
    """The export as rows of cells, header rows first."""
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    identity_columns = FORMATS[fmt]
    out = [identity_columns + [column]]
    if fmt == "canvas":
        out.append([CANVAS_POINTS_ROW] + [""] * (len(identity_columns) - 1))
        out[-1].append(_number(grades.max_score))
    for student in students:
        if student.student_id in grades.scores:
            cell = _number(grades.scores[student.student_id])
        else:
            cell = "0" if zeros else ""
        out.append([student.identity.get(c, "") for c in identity_columns] + [cell])
    return out


def to_csv(table: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerows(table)
    return buf.getvalue()


def export(
    root,
    assignment: str,
    fmt: str,
    roster=None,
    roster_id: str = "student_id",
    column: str | None = None,
    zeros: bool = False,
    to=None,
    warn=None,
) -> Path:
    """Write the LMS file (default ``<course root>/<assignment>_<format>.csv``)."""
    from autograder.course import Course, atomic_write

    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    course = Course(root)
    grades, people = gradebook_grades(course, assignment)
    for sid in without_notebook(course, assignment):
        grades.scores.pop(sid, None)
    known = set(people) | set(grades.scores)
    if roster is not None:
        students = read_roster(roster, roster_id)
        listed = {s.student_id for s in students}
        extra = sorted(known - listed)
        if extra and warn is not None:
            print(
                f"warning: {len(extra)} student(s) in the gradebook are not on the roster and "
                f"were added at the end: {', '.join(extra)}",
                file=warn,
            )
    else:
        students, extra = [], sorted(known)
    for sid in extra:
        students.append(
            Student(sid, _default_identity(fmt, sid, people.get(sid, ("", "", ""))), False)
        )
    table = rows(fmt, students, grades, column or assignment, zeros)
    path = Path(to) if to else course.root / f"{assignment}_{fmt}.csv"
    atomic_write(path, to_csv(table))
    return path
