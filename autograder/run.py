"""Grading a whole class: the run that finds the submissions, feeds them to a runner
and records each as it finishes.

The jobs run on a runner (:mod:`autograder.runners`: threads on this machine, or a Dask
cluster, :mod:`autograder.cluster`); this process alone records them
(:mod:`autograder.recording`), so a run that is killed can simply be run again, and two
graders on one course cooperate through per-submission locks. Before anything is graded
the preflight (:mod:`autograder.preflight`) proves that the sandbox and the reference
work here.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder import grading_times, report
from autograder.course import Course, CourseError, submission_lock_name
from autograder.gradebook import GradebookWriter
from autograder.grading.job import Job, Materials
from autograder.grading.records import RecordStatus
from autograder.preflight import preflight
from autograder.recording import Recorder, write_grades_csv
from autograder.sandbox import Limits, Sandbox
from autograder.timing import phase


@dataclass(frozen=True)
class GradingOptions:
    """How a class is graded (the command line's options for ``grade``)."""

    n_jobs: int | None = None  # submissions graded at once here (default: every core)
    force: bool = False  # grade up-to-date submissions too
    students: list[str] | None = None  # only these (default: every submission)
    limits: Limits = field(default_factory=Limits)
    sandbox_mode: str = "auto"  # "auto", "bwrap" or "none"
    progress: bool = True  # a progress bar on stderr
    reference_dir: Path | str | None = None  # default: <course root>/autograder/reference
    checker: object = None  # the verdict function (default: upsampling.checking.check_output)
    run_preflight: bool = True
    scheduler: str | None = None  # a Dask scheduler's address: grade on that cluster
    tls_dir: Path | str | None = None  # the client's certificates for the scheduler
    insecure: bool = False  # allow plain TCP to a scheduler off this machine


def grade_assignment(
    root, assignment: str, options: GradingOptions | None = None, out=sys.stdout
) -> dict:
    """Grade every submission of ``assignment``; returns counts, the records (their JSON
    form), and the errors and grader errors (a non-empty list of either means the run is
    not complete).

    The jobs run in ``options.n_jobs`` threads here
    (:class:`~autograder.runners.LocalRunner`), or on the Dask cluster whose scheduler is
    at ``options.scheduler`` (:class:`~autograder.cluster.ClusterRunner`); this process
    alone writes the gradebook and the course folder.
    """
    options = options or GradingOptions()
    started = time.monotonic()
    connection = None
    if options.scheduler:  # a bad address is refused before the course is touched
        from autograder import cluster

        connection = cluster.connection(options.scheduler, options.tls_dir, options.insecure)
    with phase("open course"):
        course = Course(root, options.reference_dir)
        released_path = _released_notebook(course, assignment)
        materials = Materials.from_files(released_path, course.reference(assignment))
        missing = set(materials.reference.tests) ^ set(materials.released.tests)
    if missing:
        raise CourseError(
            f"the reference and the released notebook disagree on the tests: {sorted(missing)}"
        )
    run = None
    try:
        with course.gradebook() as gb:
            with phase("open course"):
                writer = GradebookWriter(course, gb)
                writer.check_assignment(assignment, released_path.stem, materials.reference)
            runner, description = _runner(options, connection, materials)
            try:
                print(f"autograder: {assignment}: {description}", file=out)
                counts: Counter = Counter()
                todo, job_of = _todo(
                    course, assignment, released_path, materials, runner, options, counts, out
                )
                run = Recorder(course, writer, materials.released, counts)
                with _progress(len(todo), assignment, options.progress) as bar:
                    _drive(course, runner, todo, job_of, options.force, run, bar)
            finally:
                runner.close()
    finally:
        if run is not None:  # the gradebook is closed: late penalties open it again
            write_grades_csv(course, assignment, run)
    counts.update(r["status"] for r in run.results)
    if run.grader_errors:
        counts[RecordStatus.GRADER_ERROR.value] = len(run.grader_errors)
    elapsed = time.monotonic() - started
    try:
        grading_times.record_run(course, assignment, run.seconds, elapsed, description)
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


def _todo(course, assignment, released_path, materials, runner, options, counts, out):
    """``(students to grade, their job maker)``: the wanted submissions that are not up
    to date (counted in ``counts``), once the preflight has passed (if it fails, nothing
    is graded or written)."""
    notebook = released_path.stem

    def make_job(student: str, submission: bytes | None) -> Job:
        return Job.make(
            assignment, student, notebook, submission, materials, options.limits, runner.mode
        )

    def job_of(student: str) -> Job:
        return make_job(student, course.submission(student, assignment, notebook))

    wanted = course.students(assignment) if options.students is None else options.students
    todo = []
    with phase("up to date"):
        for student in wanted:
            if not options.force and up_to_date(course, job_of(student)):
                counts["up to date"] += 1
            else:
                todo.append(student)
    if todo and options.run_preflight:
        with phase("preflight"):
            preflight(course, assignment, released_path, materials, runner, make_job)
        print("autograder: preflight passed (solution full marks, release 0)", file=out)
    return todo, job_of


def _released_notebook(course: Course, assignment: str) -> Path:
    released_paths = course.released_notebooks(assignment)
    if len(released_paths) != 1:
        names = ", ".join(p.name for p in released_paths)
        raise CourseError(f"{assignment} must have exactly one graded notebook, found {names}")
    return released_paths[0]


def _runner(options: GradingOptions, connection, materials: Materials):
    """``(runner, description)``: threads here, or the Dask cluster at ``connection``
    (``(address, security)``)."""
    if connection is not None:
        from autograder import cluster

        runner = cluster.ClusterRunner(*connection, materials, options.sandbox_mode)
        return runner, runner.description
    from autograder.runners import LocalRunner

    n_jobs = options.n_jobs or os.cpu_count() or 1
    with phase("start sandbox"):
        sandbox = Sandbox(options.sandbox_mode, options.limits)
        runner = LocalRunner(sandbox, materials, n_jobs, options.checker)
    return runner, f"{sandbox.description}; {n_jobs} worker(s)"


def up_to_date(course: Course, job: Job) -> bool:
    old = course.read_record(job.student_id, job.assignment)
    return bool(old) and old.get("fingerprint") == job.key


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


def _print_summary(course: Course, run: Recorder, counts: Counter, elapsed, out) -> None:
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
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


def _progress(total: int, assignment: str, enabled: bool):
    if not enabled or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=assignment, unit="nb", file=sys.stderr, dynamic_ncols=True)
