"""Recording finished jobs, idempotently, so that a run that is killed can simply be
run again:

1. the grade is computed by a runner (the student's code runs in a sandbox);
2. the gradebook is updated (scores are *set*, never added) under a file lock
   (:mod:`autograder.gradebook`);
3. the autograded notebook, the feedback HTML, the student's ``results.json`` and a log
   are written, each atomically;
4. last, ``autograded/<student>/<assignment>/autograder.json`` is written: the commit
   point. A later run skips a submission whose record carries the same fingerprint (the
   job's key: same notebook, release, reference, grader and limits) unless ``--force``.

A submission whose grading failed for the grader's reasons gets the status ``grader
error``: it is not written to the gradebook and not committed, and the next run grades
it again; the reason is kept in ``autograded/<student>/<assignment>/grader-error.json``.
``grades.csv`` is rebuilt from the records at the end of every run.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter

import nbformat

from autograder import late, report
from autograder.course import GRADER_ERROR_RECORD, RECORD, Course, atomic_write
from autograder.gradebook import GradebookWriter
from autograder.grading import notebooks
from autograder.grading.job import Job
from autograder.grading.records import Record, RecordStatus, student_view
from autograder.timing import phase


def failed_record(job: Job, reason: str) -> Record:
    """A grader-error record for a job whose grading raised (nothing is known of it)."""
    return Record(
        job.assignment,
        job.student_id,
        job.notebook,
        job.key,
        job.sandbox,
        0.0,
        RecordStatus.GRADER_ERROR,
        notes=[reason],
    )


def _timestamp(course: Course, student: str, assignment: str):
    folder = course.path("submitted", student, assignment)
    try:
        return course.coursedir.get_existing_timestamp(str(folder))
    except Exception:  # an unparsable timestamp.txt: no timestamp rather than no grade
        return None


def save_results(course: Course, record: Record, released, submission: bytes | None) -> None:
    """Steps 3 and 4 of recording (see the module docstring): the autograded notebook
    (laid out from ``submission``, the bytes that were graded), the feedback, the log,
    then the record file."""
    sid, aid, name = record.student_id, record.assignment, record.notebook
    auto = course.path("autograded", sid, aid)
    feedback = course.path("feedback", sid, aid)
    view = record.student_view()
    nb = None
    if submission is not None:
        with contextlib.suppress(notebooks.UnreadableNotebook):
            nb = notebooks.read_submission(submission)
    texts = {t["grade_id"]: report.test_result_text(t) for t in view["tests"]}
    graded_nb = notebooks.autograded_notebook(released, nb, texts)
    atomic_write(auto / f"{name}.ipynb", nbformat.writes(graded_nb))
    stamp = course.path("submitted", sid, aid) / "timestamp.txt"
    if stamp.is_file():
        atomic_write(auto / "timestamp.txt", stamp.read_bytes())
    atomic_write(feedback / f"{name}.html", report.feedback_html(view))
    results = json.dumps(view, indent=1, sort_keys=True) + "\n"
    atomic_write(feedback / "results.json", results)
    log = []
    for number, (out, err) in enumerate(record.logs, start=1):
        log.append(f"=== run {number}: stdout ===\n{out}\n=== run {number}: stderr ===\n{err}\n")
    atomic_write(auto / "autograder.log", "".join(log))
    atomic_write(auto / RECORD, record.dumps())


def save_grader_error(course: Course, record: Record) -> None:
    """Keep why the grader failed on a submission (for the instructor; not a grade)."""
    folder = course.path("autograded", record.student_id, record.assignment)
    atomic_write(folder / GRADER_ERROR_RECORD, record.dumps(logs=True))


def clear_grader_error(course: Course, record: Record) -> None:
    folder = course.path("autograded", record.student_id, record.assignment)
    with contextlib.suppress(FileNotFoundError):
        (folder / GRADER_ERROR_RECORD).unlink()


class Recorder:
    """Records finished jobs (the gradebook, then the files, the record file last)."""

    def __init__(self, course: Course, writer: GradebookWriter, released, counts: Counter):
        self.course, self.writer, self.released, self.counts = course, writer, released, counts
        self.results: list[dict] = []  # JSON form of the records written in this run
        self.errors: list[str] = []
        self.grader_errors: dict[str, str] = {}  # student -> why (nothing recorded for them)
        self.seconds: dict[str, float] = {}  # student -> how long their grading took

    def grader_error(self, record: Record, reason: str) -> None:
        self.grader_errors[record.student_id] = reason
        record.status = RecordStatus.GRADER_ERROR
        if not record.notes or record.notes[-1] != reason:
            record.notes.append(reason)
        with contextlib.suppress(OSError):
            save_grader_error(self.course, record)

    def record(self, job: Job, outcome) -> None:
        with phase("record"):
            self._record(job, outcome)

    def _record(self, job: Job, outcome) -> None:
        if isinstance(outcome, BaseException):  # the grader's own failure: not a grade
            outcome = failed_record(job, f"grader error: {outcome!r}")
        record = outcome
        self.seconds[record.student_id] = record.seconds
        if record.is_grader_error:
            self.grader_error(record, record.notes[-1] if record.notes else "grader error")
            return
        try:
            self.writer.write(record, _timestamp(self.course, job.student_id, job.assignment))
        except Exception as exc:
            self.grader_error(record, f"grader error: could not write the gradebook: {exc!r}")
            return
        save_results(self.course, record, self.released, job.submission)  # record last: commit
        clear_grader_error(self.course, record)
        self.results.append(record.to_json())


def write_grades_csv(course: Course, assignment: str, run: Recorder) -> None:
    """``grades.csv``, rebuilt from every record (never appended), late penalties applied."""
    with phase("grades.csv"):
        _write_grades_csv(course, assignment, run)


def _write_grades_csv(course: Course, assignment: str, run: Recorder) -> None:
    penalties = {}
    try:  # nbgrader's late-submission plugin, as `nbgrader autograde` would run it
        late.assign_late_penalties(course, assignment)
        penalties = late.gradebook_penalties(course)
    except Exception as exc:
        run.errors.append(f"late penalties were not assigned: {exc!r}")
    rows = course.all_records()
    try:
        _feedback_with_penalties(course, assignment, rows, penalties)
    except OSError as exc:
        run.errors.append(f"the feedback could not show the late penalties: {exc!r}")
    graded = {(r["student_id"], r["assignment"]) for r in rows}
    rows += [
        report.grader_error_row(sid, assignment)
        for sid in sorted(run.grader_errors)
        if (sid, assignment) not in graded
    ]
    atomic_write(course.root / "grades.csv", report.grades_csv(rows, penalties))


def _feedback_with_penalties(course: Course, assignment: str, rows, penalties) -> None:
    """Feedback pages show the late penalty, which is known only once the whole run is
    recorded: each page of ``assignment`` whose penalty changed is written again."""
    for row in rows:
        if row["assignment"] != assignment:
            continue
        sid = row["student_id"]
        page = course.path("feedback", sid, assignment) / f"{row['notebook']}.html"
        text = report.feedback_html(student_view(row), penalties.get((assignment, sid), 0.0))
        with contextlib.suppress(OSError):
            if page.read_text(encoding="utf-8") == text:
                continue
        atomic_write(page, text)
