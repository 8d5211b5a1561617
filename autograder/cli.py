"""Command line: ``python -m autograder grade <assignment> [--jobs N] [--course-root PATH]``.

``python -m autograder similarity <assignment>`` compares the code every pair of students
wrote (:mod:`autograder.similarity`); ``python -m autograder export <assignment> --format
canvas|moodle`` writes grades an LMS imports (:mod:`autograder.lms_export`).

``python -m autograder report [<assignment>]`` writes the class report of an assignment, or
without one the course overview (:mod:`autograder.class_report`,
:mod:`autograder.course_overview`), from the records and the gradebook.

``python -m autograder job SPEC.json`` grades a single submission described by a JSON job
spec (the files named by :class:`JobSpec`) and prints its record: the unit of work
to hand to a distributed engine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import warnings
from pathlib import Path

from autograder.sandbox import Limits


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade every submission of an assignment")
    grade.add_argument("assignment", help="assignment name, e.g. 03_transposed_conv")
    grade.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at once (default: every core)",
    )
    grade.add_argument("--course-root", default=".", help="nbgrader course root (default: .)")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--force", action="store_true", help="re-grade up-to-date submissions too")
    grade.add_argument(
        "--reference-dir",
        help="folder of <assignment>.npz (default: <course root>/autograder/reference)",
    )
    grade.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "none"),
        default="auto",
        help="auto: bubblewrap if it works, else weak isolation with a warning",
    )
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    dask = grade.add_argument_group("grading on a Dask cluster (README: cluster grading)")
    dask.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="send the jobs to the Dask scheduler at ADDRESS (tls://HOST:8786) instead of "
        "grading on this machine (--jobs is then ignored)",
    )
    dask.add_argument(
        "--tls",
        metavar="DIR",
        help="folder with ca.pem, client.pem and client.key (python -m autograder certs DIR)",
    )
    dask.add_argument(
        "--insecure",
        action="store_true",
        help="allow a plain tcp:// scheduler that is not on this machine (trusted networks only)",
    )
    _limit_options(grade)
    grade.set_defaults(run=_grade)
    job = sub.add_parser("job", help="grade one submission from a JSON job spec, print the record")
    job.add_argument("spec", help="JSON file: the fields of autograder.cli.JobSpec ('-' = stdin)")
    job.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto")
    _limit_options(job)
    job.set_defaults(run=_job)
    certs = sub.add_parser(
        "certs", help="make TLS certificates for grading on a Dask cluster (README)"
    )
    certs.add_argument("folder", help="where to write ca.pem, scheduler.pem, worker.pem, ...")
    certs.add_argument(
        "--host",
        action="append",
        default=[],
        help="a name or IP address the scheduler is reached by (repeatable)",
    )
    certs.add_argument("--days", type=int, default=365, help="validity (default %(default)s)")
    certs.set_defaults(run=_certs)
    _similarity_options(sub)
    _export_options(sub)
    report = sub.add_parser(
        "report",
        help="what the class got wrong: report/<assignment>/index.html, tests.csv, "
        "misconceptions.csv; without an assignment, the course overview (report/index.html)",
    )
    report.add_argument("assignment", nargs="?", help="assignment name (none: the overview)")
    report.add_argument("--course-root", default=".", help="nbgrader course root (default: .)")
    report.set_defaults(run=_report)
    return parser


def _export_options(sub):
    export = sub.add_parser(
        "export", help="write an assignment's grades as a CSV that Canvas or Moodle imports"
    )
    export.add_argument("assignment", help="assignment name, e.g. 03_transposed_conv")
    export.add_argument("--format", required=True, choices=("canvas", "moodle"), dest="lms")
    export.add_argument("--course-root", default=".", help="nbgrader course root (default: .)")
    export.add_argument("--roster", help="CSV of the class (e.g. the LMS's own grade export)")
    export.add_argument(
        "--roster-id",
        default="student_id",
        help="roster column holding the nbgrader student ids (default %(default)s)",
    )
    export.add_argument(
        "--column",
        help="name of the grade column (default: the assignment; for Canvas, copy the "
        "'Name (id)' header of its export to update that assignment)",
    )
    export.add_argument(
        "--zeros", action="store_true", help="0 for students without a submission (default: empty)"
    )
    export.add_argument(
        "--to", help="output file (default: <course root>/<assignment>_<format>.csv)"
    )
    export.set_defaults(run=_export)


def _similarity_options(sub):
    from autograder.similarity_defaults import DEFAULT_K, DEFAULT_THRESHOLD

    sim = sub.add_parser(
        "similarity",
        help="compare the code every pair of students wrote; similarity.csv and .html",
    )
    sim.add_argument("assignment", help="assignment name, e.g. 03_transposed_conv")
    sim.add_argument("--course-root", default=".", help="nbgrader course root (default: .)")
    sim.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="flag pairs scoring at least this (default %(default)s)",
    )
    sim.add_argument(
        "-k",
        type=int,
        default=DEFAULT_K,
        help="length of the token k-grams compared (default %(default)s)",
    )
    sim.set_defaults(run=_similarity)


def _limit_options(parser):
    defaults = Limits()
    group = parser.add_argument_group("limits per submission")
    group.add_argument(
        "--timeout",
        type=float,
        default=defaults.test_timeout,
        help="seconds for all cases of one test (default %(default)s)",
    )
    group.add_argument(
        "--setup-timeout",
        type=float,
        default=defaults.setup_timeout,
        help="seconds to run the notebook's cells (default %(default)s)",
    )
    group.add_argument(
        "--memory-mb",
        type=int,
        default=defaults.memory_mb,
        help="address space of the child (default %(default)s)",
    )
    group.add_argument("--cpu-seconds", type=int, default=defaults.cpu_seconds)
    group.add_argument("--processes", type=int, default=defaults.processes)


def _limits(args) -> Limits:
    return dataclasses.replace(
        Limits(),
        test_timeout=args.timeout,
        setup_timeout=args.setup_timeout,
        memory_mb=args.memory_mb,
        cpu_seconds=args.cpu_seconds,
        processes=args.processes,
    )


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    # nbgrader runs `alembic` from PATH; make this environment's bin/ findable.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    warnings.simplefilter("always", UserWarning)
    try:
        return args.run(args)
    except Exception as exc:
        if not isinstance(exc, _reported_errors()):
            raise
        print(f"autograder: {exc}", file=sys.stderr)
        return 2


# The errors main reports in one line, by module: a module that was never imported
# raised none of them, so main need not import it (the cluster's pulls in the grader).
REPORTED_ERRORS = {
    "autograder.course": "CourseError",
    "autograder.sandbox.processes": "SandboxError",
    "autograder.cluster": "ClusterError",
}


def _reported_errors() -> tuple[type[Exception], ...]:
    return tuple(
        getattr(sys.modules[module], name)
        for module, name in REPORTED_ERRORS.items()
        if module in sys.modules
    )


def _report(args) -> int:
    from autograder import class_report, course_overview

    try:
        if args.assignment:
            page = class_report.write(Path(args.course_root), args.assignment)
        else:
            page = course_overview.write(Path(args.course_root))
    except class_report.ReportError as exc:
        print(f"autograder report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {page}")
    return 0


def _grade(args) -> int:
    """``grade ASSIGNMENT``: every submission; 1 if any could not be graded."""
    from autograder.run import GradingOptions, grade_assignment

    options = GradingOptions(
        n_jobs=args.jobs,
        force=args.force,
        students=args.student,
        limits=_limits(args),
        sandbox_mode=args.sandbox,
        progress=not args.no_progress,
        reference_dir=args.reference_dir,
        scheduler=args.scheduler,
        tls_dir=args.tls,
        insecure=args.insecure,
    )
    result = grade_assignment(Path(args.course_root), args.assignment, options)
    return 1 if result["errors"] or result["grader_errors"] else 0


def _similarity(args) -> int:
    from autograder import similarity

    try:
        similarity.run(
            Path(args.course_root), args.assignment, args.threshold, args.k, out=sys.stdout
        )
    except ValueError as exc:
        print(f"autograder similarity: {exc}", file=sys.stderr)
        return 2
    return 0


def _export(args) -> int:
    from autograder import lms_export

    try:
        path = lms_export.export(
            Path(args.course_root),
            args.assignment,
            args.lms,
            roster=args.roster,
            roster_id=args.roster_id,
            column=args.column,
            zeros=args.zeros,
            to=args.to,
            warn=sys.stderr,
        )
    except lms_export.ExportError as exc:
        print(f"autograder export: {exc}", file=sys.stderr)
        return 2
    print(f"{args.lms} grades: {path}")
    return 0


def _certs(args) -> int:
    from autograder.cluster import make_certificates

    for path in make_certificates(args.folder, args.host, args.days):
        print(path)
    return 0


def _job(args) -> int:
    """``job SPEC.json``: the spec names files (the fields of :class:`JobSpec`)."""
    from autograder.grading.grade import grade
    from autograder.grading.job import Job, Materials
    from autograder.sandbox import Sandbox, UidPool

    text = sys.stdin.read() if args.spec == "-" else Path(args.spec).read_text()
    try:
        spec = JobSpec(**json.loads(text))
    except (TypeError, ValueError) as exc:
        fields = ", ".join(f.name for f in dataclasses.fields(JobSpec))
        print(
            f"autograder job: {args.spec} is not a job spec ({exc}); it is a JSON object "
            f"with the fields {fields}",
            file=sys.stderr,
        )
        return 2
    sandbox = Sandbox(args.sandbox, _limits(args))
    materials = Materials.from_files(spec.released, spec.reference)
    submission = Path(spec.submission).read_bytes() if spec.submission else None
    job = Job.make(
        spec.assignment,
        spec.student_id,
        spec.notebook,
        submission,
        materials,
        sandbox.limits,
        sandbox.mode,
    )
    pool = UidPool(1, enabled=sandbox.root and sandbox.mode == "bwrap")
    try:
        record = grade(job, materials, sandbox, pool.free[0])
    finally:
        pool.close()
    print(record.dumps(), end="")
    return 0


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """One submission named by files, for ``python -m autograder job SPEC.json``."""

    assignment: str
    student_id: str
    notebook: str  # notebook name without .ipynb
    submission: str | None  # path of the submitted notebook (null: nothing submitted)
    released: str  # path of the released notebook
    reference: str  # path of the reference .npz
