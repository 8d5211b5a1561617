"""Grading a whole class: finding submissions, running jobs, recording results.

The jobs run on a runner (:mod:`autograder.runners`: threads on this machine, or a Dask
cluster, :mod:`autograder.cluster`); this process alone records them. Results are
recorded idempotently, so a run that is killed can simply be run again:

1. the grade is computed by a runner (the student's code runs in a sandbox);
2. the gradebook is updated (scores are *set*, never added) under a file lock;
3. the autograded notebook, the feedback HTML, the student's ``results.json`` and a log
   are written, each atomically;
4. last, ``autograded/<student>/<assignment>/autograder.json`` is written: the commit
   point. A later run skips a submission whose record carries the same fingerprint (the
   job's key: same notebook, release, reference, grader and limits) unless ``--force``.

``grades.csv`` is rebuilt from the records at the end of every run (never appended), and
two graders on one course cooperate through per-submission locks.

The grader's own failures never become a student's grade:

- before a class is graded, a *preflight* grades the assignment's solution (the released
  notebook with the instructor's answers: it must score full marks) and the unmodified
  release (it must score 0) in the same sandbox; if either is off, the run stops before
  anything is written (:class:`PreflightError`);
- during a run, a submission whose grading failed for the grader's reasons (the sandbox
  or its interpreter did not start, the checker broke, the gradebook could not be
  written) gets the status ``grader error``: it is not written to the gradebook and not
  committed, it is listed in the summary, the exit code is non-zero, and the next run
  grades it again. The reason is kept in ``autograded/<student>/<assignment>/grader-error.json``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from autograder import job as jobs
from autograder import late, notebooks, report, timings
from autograder.records import Record, RecordStatus, TestStatus, student_view
from autograder.sandbox import Limits, Sandbox

RECORD = "autograder.json"
GRADER_ERROR_RECORD = "grader-error.json"
STATE_DIR = ".autograder"
PREFLIGHT_STUDENT = "(preflight)"


class CourseError(Exception):
    """The course is not set up for grading this assignment (the message says how to fix it)."""


class PreflightError(CourseError):
    """The grader cannot grade this assignment correctly here: nothing was graded."""


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` at once (readers see the old or the new file), on
    disk (fsync) before the replace: every file of a submission survives a crash once its
    record, written last, exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Course:
    """The nbgrader course folder (``nbgrader_config.py`` at its root)."""

    def __init__(self, root, reference_dir=None):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        self.root = Path(root).resolve()
        config = Config()
        if (self.root / "nbgrader_config.py").is_file():
            config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        self.coursedir = CourseDirectory(config=config)
        self.coursedir.root = str(self.root)
        self.reference_dir = (
            Path(reference_dir) if reference_dir else self.root / "autograder" / "reference"
        )
        self.state = self.root / self.coursedir.autograded_directory / STATE_DIR

    def path(self, step: str, student: str, assignment: str) -> Path:
        base = {
            "release": self.coursedir.release_directory,
            "submitted": self.coursedir.submitted_directory,
            "autograded": self.coursedir.autograded_directory,
            "feedback": self.coursedir.feedback_directory,
        }[step]
        return self.root / base / student / assignment if student else self.root / base / assignment

    def released_notebooks(self, assignment: str) -> list[Path]:
        folder = self.path("release", "", assignment)
        found = sorted(folder.glob("*.ipynb"))
        if not found:
            raise CourseError(
                f"no released notebook in {folder}: run `nbgrader generate_assignment "
                f"{assignment}` first"
            )
        return found

    def source_notebook(self, assignment: str, name: str) -> Path:
        path = self.root / self.coursedir.source_directory / assignment / name
        if not path.is_file():
            raise CourseError(
                f"no solution notebook at {path}: the preflight grades it before a class is "
                "graded, to prove that the sandbox and the reference work (restore it from "
                "the course repository)"
            )
        return path

    def reference(self, assignment: str) -> Path:
        path = self.reference_dir / f"{assignment}.npz"
        if not path.is_file():
            raise CourseError(f"no reference outputs at {path}")
        return path

    def students(self, assignment: str) -> list[str]:
        base = self.root / self.coursedir.submitted_directory
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())

    def submission(self, student: str, assignment: str, notebook: str) -> bytes | None:
        path = self.path("submitted", student, assignment) / f"{notebook}.ipynb"
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def record_path(self, student: str, assignment: str) -> Path:
        return self.path("autograded", student, assignment) / RECORD

    def read_record(self, student: str, assignment: str) -> dict | None:
        try:
            return json.loads(self.record_path(student, assignment).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def all_records(self) -> list[dict]:
        records = []
        base = self.root / self.coursedir.autograded_directory
        for path in sorted(base.glob(f"*/*/{RECORD}")):
            with contextlib.suppress(OSError, ValueError):
                records.append(json.loads(path.read_text(encoding="utf-8")))
        return records

    def _lock_file(self, name: str) -> int:
        folder = self.state / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)

    def try_lock(self, name: str) -> int | None:
        """Take the exclusive lock file ``autograded/.autograder/locks/<name>`` if it is
        free (its descriptor, for :meth:`unlock`), else ``None``."""
        fd = self._lock_file(name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @staticmethod
    def unlock(fd: int) -> None:
        os.close(fd)

    @contextlib.contextmanager
    def lock(self, name: str):
        """Hold the lock file ``name``, waiting for another grader if needed."""
        fd = self._lock_file(name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)


def submission_lock_name(student: str, assignment: str, notebook: str) -> str:
    key = f"{assignment}\0{student}\0{notebook}".encode()
    return "submission-" + hashlib.sha256(key).hexdigest()[:24] + ".lock"


# ----------------------------------------------------------------------------- gradebook


class GradebookWriter:
    """Writes results through nbgrader's Gradebook API, one transaction per submission,
    serialised across graders by a lock file (and retried if sqlite is busy)."""

    def __init__(self, course: Course):
        from nbgrader.api import Gradebook

        self.course = course
        self.gb = Gradebook(course.coursedir.db_url, course.coursedir.course_id)

    def close(self):
        self.gb.close()

    def check_assignment(self, assignment: str, notebook: str, reference: jobs.Reference):
        from nbgrader.api import MissingEntry

        try:
            self.gb.find_assignment(assignment)
            nb = self.gb.find_notebook(notebook, assignment)
        except MissingEntry:
            raise CourseError(
                f"assignment {assignment!r} (notebook {notebook!r}) is not in the gradebook: "
                f"run `nbgrader generate_assignment {assignment}` (or `nbgrader db assignment "
                f"add {assignment}` after it) first"
            ) from None
        cells = {c.name: c for c in nb.grade_cells}
        for gid, spec in reference.tests.items():
            if gid not in cells:
                raise CourseError(
                    f"test {gid!r} of the reference is not a grade cell of {notebook}"
                )
            if float(cells[gid].max_score) != float(spec["points"]):
                raise CourseError(
                    f"test {gid!r}: the gradebook gives {cells[gid].max_score} points, the "
                    f"reference {spec['points']}; regenerate one of them"
                )

    def write(self, record: Record, timestamp) -> None:
        for attempt in range(20):
            try:
                with self.course.lock("gradebook.lock"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings
                    self._write(record, timestamp)
                return
            except Exception as exc:  # sqlite busy under a grader that ignores our lock
                self.gb.db.rollback()
                if "locked" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _write(self, record: Record, timestamp) -> None:
        """What ``nbgrader autograde`` records for a submission (the student, the
        submission mirroring the assignment, each test's ``auto_score`` and
        ``needs_manual_grade``, the notebook's flag), in one transaction: the rows
        nbgrader's ``add_student``, ``update_or_create_submission`` and ``find_grade``
        give, made through its ORM objects without their commits, with one query for all
        the notebook's grades (none for a new submission: its rows are inserted with
        their scores)."""
        from nbgrader import utils
        from nbgrader.api import MissingEntry, Student

        gb, db, sid, aid = self.gb, self.gb.db, record.student_id, record.assignment
        student = db.get(Student, sid)
        if student is None:
            if gb.authenticator:
                gb.authenticator.add_student_to_course(sid, gb.course_id)
            student = Student(id=sid)
            db.add(student)
        submission = self._find_submission(aid, student)
        with db.no_autoflush:  # new rows are inserted once, at the commit
            if submission is None:
                submission, notebooks_ = self._add_submission(aid, student)
                if record.notebook not in notebooks_:
                    raise MissingEntry(
                        f"No such submitted notebook: {aid}/{record.notebook} for {sid}"
                    )
                nb, grades = notebooks_[record.notebook]
            else:
                nb = self._submitted_notebook(submission, record.notebook, aid, sid)
                grades = self._grades(nb)
            if timestamp:
                submission.timestamp = utils.parse_utc(timestamp)
            for test in record.tests:
                grade = grades.get(test.grade_id)
                if grade is None:
                    raise MissingEntry(
                        f"No such grade: {test.grade_id}/{record.notebook}/{aid} for {sid}"
                    )
                grade.auto_score = float(test.points)
                review = test.status is TestStatus.TAMPERED or bool(test.flags)
                grade.needs_manual_grade = grade.manual_score is not None or review
            nb.flagged = bool(record.flags)
        db.commit()

    def _find_submission(self, assignment: str, student):
        from nbgrader.api import Assignment, SubmittedAssignment

        return (
            self.gb.db.query(SubmittedAssignment)
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .filter(Assignment.name == assignment, SubmittedAssignment.student_id == student.id)
            .one_or_none()
        )

    def _add_submission(self, assignment: str, student):
        """A new submission, as ``add_submission`` makes it (a notebook, grades and
        comments for each of the assignment's cells), added to the session (not flushed);
        and notebook name -> (its SubmittedNotebook, cell name -> Grade)."""
        from nbgrader.api import Comment, Grade, SubmittedAssignment, SubmittedNotebook

        submission = SubmittedAssignment(
            assignment=self.gb.find_assignment(assignment), student=student
        )
        made = {}
        for notebook in submission.assignment.notebooks:
            nb = SubmittedNotebook(notebook=notebook, assignment=submission)
            grades = {}
            for grade_cell in notebook.grade_cells:
                grades[grade_cell.name] = Grade(cell_id=grade_cell.id, notebook=nb)
            for solution_cell in notebook.solution_cells:
                Comment(cell_id=solution_cell.id, notebook=nb)
            for task_cell in notebook.task_cells:
                Comment(cell_id=task_cell.id, notebook=nb)
                grade = Grade(cell_id=task_cell.id, notebook=nb)
                grades.setdefault(task_cell.name, grade)  # find_grade: grade cells first
            made[notebook.name] = (nb, grades)
        self.gb.db.add(submission)
        return submission, made

    def _submitted_notebook(self, submission, name: str, assignment: str, student: str):
        from nbgrader.api import MissingEntry, Notebook, SubmittedNotebook

        nb = (
            self.gb.db.query(SubmittedNotebook)
            .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
            .filter(SubmittedNotebook.assignment_id == submission.id, Notebook.name == name)
            .one_or_none()
        )
        if nb is None:
            raise MissingEntry(f"No such submitted notebook: {assignment}/{name} for {student}")
        return nb

    def _grades(self, nb) -> dict:
        """cell name -> Grade of a submitted notebook (a grade cell's before a task
        cell's of the same name, as ``find_grade`` looks them up)."""
        from nbgrader.api import BaseCell, Grade

        rows = (
            self.gb.db.query(BaseCell.name, BaseCell.type, Grade)
            .join(Grade, Grade.cell_id == BaseCell.id)
            .filter(Grade.notebook_id == nb.id)
            .all()
        )
        grades = {}
        for name, _, grade in sorted(rows, key=lambda row: row[1] != "GradeCell"):
            grades.setdefault(name, grade)
        return grades


# ----------------------------------------------------------------------------- a run


def _timestamp(course: Course, student: str, assignment: str):
    folder = course.path("submitted", student, assignment)
    try:
        return course.coursedir.get_existing_timestamp(str(folder))
    except Exception:  # an unparsable timestamp.txt: no timestamp rather than no grade
        return None


def save_results(course: Course, record: Record, released) -> None:
    """Steps 3 and 4 of recording (see the module docstring).

    Only the record file, the commit point, is synced to disk: the files written before
    it are written again by the next run if it is missing.
    """
    sid, aid, name = record.student_id, record.assignment, record.notebook
    auto = course.path("autograded", sid, aid)
    feedback = course.path("feedback", sid, aid)
    view = record.student_view()
    sub_path = course.path("submitted", sid, aid) / f"{name}.ipynb"
    nb = None
    if sub_path.is_file():
        with contextlib.suppress(notebooks.UnreadableNotebook, OSError):
            nb = notebooks.read_submission(sub_path.read_bytes())
    texts = {t["grade_id"]: report.test_result_text(t) for t in view["tests"]}
    graded_nb = notebooks.autograded_notebook(released, nb, texts)
    import nbformat

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


def preflight(course, assignment, released_path, materials, runner, make_job) -> None:
    """Grade the solution (must score full marks) and the unmodified release (must score
    0) with ``runner`` (the one that then grades the class: on a cluster, its workers)
    before grading a class; raise :class:`PreflightError` if either is off."""
    import nbformat

    released_nb = nbformat.reads(materials.released.decode("utf-8"), as_version=4)
    source_nb = nbformat.read(course.source_notebook(assignment, released_path.name), 4)
    solved = nbformat.writes(notebooks.solved_release(released_nb, source_nb)).encode()
    wanted = {"solution": make_job(PREFLIGHT_STUDENT, solved),
              "release": make_job(PREFLIGHT_STUDENT, materials.released)}  # fmt: skip
    for job in wanted.values():
        runner.submit(job)
    records = {}
    while len(records) < len(wanted):
        for job, outcome in runner.finished(timeout=1.0):
            what = next(w for w, j in wanted.items() if j is job)
            if isinstance(outcome, BaseException):
                outcome = _failed_record(job, f"grader error: {outcome!r}")
            records[what] = outcome
    problems = _preflight_problems(records)
    if problems:
        raise PreflightError(
            f"preflight failed for {assignment}; nothing was graded and nothing was written.\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nFix the cause, then run the same command again."
        )


def _failed_record(job: jobs.Job, reason: str) -> Record:
    """A grader-error record for a job whose grading raised (nothing is known of it)."""
    return Record(job.assignment, job.student_id, job.notebook, job.key, job.sandbox,
                  0.0, RecordStatus.GRADER_ERROR, notes=[reason])  # fmt: skip


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
                "outputs match the notebooks (autograder/make_reference.py) and that the "
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


def up_to_date(course: Course, job: jobs.Job) -> bool:
    old = course.read_record(job.student_id, job.assignment)
    return bool(old) and old.get("fingerprint") == job.key


def grade_assignment(
    root,
    assignment: str,
    n_jobs: int | None = None,
    force: bool = False,
    students: list[str] | None = None,
    limits: Limits | None = None,
    sandbox_mode: str = "auto",
    progress: bool = True,
    reference_dir=None,
    checker=None,
    out=sys.stdout,
    run_preflight: bool = True,
    scheduler: str | None = None,
    tls_dir=None,
    insecure: bool = False,
) -> dict:
    """Grade every submission of ``assignment``; returns counts, the records (their JSON
    form), and the errors and grader errors (a non-empty list of either means the run is
    not complete).

    The jobs run in ``n_jobs`` threads here (:class:`~autograder.runners.LocalRunner`), or
    on the Dask cluster whose scheduler is at ``scheduler``
    (:class:`~autograder.cluster.ClusterRunner`; ``tls_dir`` holds the client's
    certificates); this process alone writes the gradebook and the course folder.
    """
    started = time.monotonic()
    address = security = None
    if scheduler:
        from autograder import cluster

        address, security = cluster.connection(scheduler, tls_dir, insecure)
    n_jobs = n_jobs or os.cpu_count() or 1
    course = Course(root, reference_dir)
    limits = limits or Limits()
    released_paths = course.released_notebooks(assignment)
    if len(released_paths) != 1:
        names = ", ".join(p.name for p in released_paths)
        raise CourseError(f"{assignment} must have exactly one graded notebook, found {names}")
    released_path = released_paths[0]
    materials = jobs.Materials.from_files(released_path, course.reference(assignment))
    reference = jobs.load_reference(course.reference(assignment))
    released, _ = jobs.load_released(released_path)
    missing = set(reference.tests) ^ set(released.tests)
    if missing:
        raise CourseError(
            f"the reference and the released notebook disagree on the tests: {sorted(missing)}"
        )
    writer = GradebookWriter(course)
    try:
        writer.check_assignment(assignment, released_path.stem, reference)
        if address is None:
            from autograder.runners import LocalRunner

            sandbox = Sandbox(sandbox_mode, limits)
            runner = LocalRunner(sandbox, materials, n_jobs, checker)
            description = f"{sandbox.description}; {n_jobs} worker(s)"
        else:
            runner = cluster.ClusterRunner(address, security, materials, sandbox_mode)
            description = runner.description
    except BaseException:
        writer.close()
        raise
    print(f"autograder: {assignment}: {description}", file=out)

    def make_job(student: str, submission: bytes | None) -> jobs.Job:
        return jobs.Job.make(assignment, student, released_path.stem, submission, materials,
                             limits, runner.mode)  # fmt: skip

    def job_of(student: str) -> jobs.Job:
        return make_job(student, course.submission(student, assignment, released_path.stem))

    wanted = course.students(assignment) if students is None else list(students)
    counts: Counter = Counter()
    todo = []
    for student in wanted:
        if not force and up_to_date(course, job_of(student)):
            counts["up to date"] += 1
        else:
            todo.append(student)
    if todo and run_preflight:
        try:
            preflight(course, assignment, released_path, materials, runner, make_job)
        except BaseException:  # nothing was graded: nothing is written
            runner.close()
            writer.close()
            raise
        print("autograder: preflight passed (solution full marks, release 0)", file=out)
    run = _Recorder(course, writer, released, counts)
    try:
        bar = _progress(len(todo), assignment, progress)
        try:
            _drive(course, runner, todo, job_of, force, run, bar)
        finally:
            bar.close()
    finally:
        runner.close()
        writer.close()
        _write_grades_csv(course, assignment, run)
    counts.update(r["status"] for r in run.results)
    if run.grader_errors:
        counts[RecordStatus.GRADER_ERROR.value] = len(run.grader_errors)
    elapsed = time.monotonic() - started
    try:
        timings.record_run(course, assignment, run.seconds, elapsed, description)
    except OSError as exc:
        run.errors.append(f"the grading times were not recorded: {exc!r}")
    _print_summary(course, run, counts, elapsed, out)
    return {
        "counts": counts,
        "records": run.results,
        "elapsed": elapsed,
        "sandbox": runner.mode,
        "errors": run.errors,
        "grader_errors": run.grader_errors,
    }


class _Recorder:
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

    def record(self, job: jobs.Job, outcome) -> None:
        if isinstance(outcome, BaseException):  # the grader's own failure: not a grade
            outcome = _failed_record(job, f"grader error: {outcome!r}")
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
        save_results(self.course, record, self.released)  # the record file last: commit
        clear_grader_error(self.course, record)
        self.results.append(record.to_json())


def _drive(course: Course, runner, todo: list[str], job_of, force: bool, run, bar) -> None:
    """Keep ``runner`` fed with jobs and record each as it finishes.

    A submission is graded under its lock file (two graders on one course share the
    work); one that another grader holds is tried again later. At most
    ``runner.capacity`` jobs are in flight, which bounds memory and open files however
    large the class.
    """
    pending = list(reversed(todo))  # popped from the end: in the order given
    held: dict[str, int] = {}  # student -> lock descriptor, while their job is in flight
    busy: list[str] = []
    try:
        while pending or held or busy:
            while pending and len(held) < runner.capacity:
                student = pending.pop()
                job = job_of(student)
                fd = course.try_lock(submission_lock_name(student, job.assignment, job.notebook))
                if fd is None:
                    busy.append(student)
                elif not force and up_to_date(course, job):  # another grader just did it
                    course.unlock(fd)
                    run.counts["up to date"] += 1
                    bar.update(1)
                else:
                    held[student] = fd
                    runner.submit(job)
            if not held:
                if busy:  # all that is left is being graded by someone else: wait
                    time.sleep(0.2)
                    pending, busy = list(reversed(busy)), []
                continue
            for job, outcome in runner.finished(timeout=0.2):
                try:
                    run.record(job, outcome)
                finally:
                    course.unlock(held.pop(job.student_id))
                    bar.update(1)
            if not pending and busy:
                pending, busy = list(reversed(busy)), []
    finally:
        for fd in held.values():
            course.unlock(fd)


def _write_grades_csv(course: Course, assignment: str, run: _Recorder) -> None:
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


def _print_summary(course: Course, run: _Recorder, counts: Counter, elapsed, out) -> None:
    print(report.summary_table(run.results, counts, elapsed), file=out)
    for error in run.errors:
        print(f"ERROR: {error}", file=out)
    if run.grader_errors:
        print(
            f"GRADER ERROR: {len(run.grader_errors)} submission(s) were not graded because "
            "the grader itself failed (nothing was recorded for them; the next run grades "
            "them again):",
            file=out,
        )
        for sid, reason in sorted(run.grader_errors.items()):
            print(f"  {sid}: {reason}", file=out)
    print(f"grades: {course.root / 'grades.csv'}", file=out)


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total: int, assignment: str, enabled: bool):
    if not enabled or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=assignment, unit="nb", file=sys.stderr, dynamic_ncols=True)
