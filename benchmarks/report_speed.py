"""Class report speed: ``python -m autograder report`` on a class of 1,000 made-up records.

Builds a throw-away course of ``03_transposed_conv`` (the real release, reference and
gradebook) and writes N made-up records as the grader would: each test passed, failed
(most failed cases with a misconception taken from a few plausible ones, some with none),
timed out, crashed, over a limit or tampered with, at rates like a real class's; every
record is entered in the gradebook by the grader's own writer, a tenth of the class is
late under nbgrader's "zero" policy, and grading times are recorded. No student code is
run, here or by the report. Then it times the assignment's report and the course
overview, each in this process and as the command an instructor runs.

    .venv/bin/python -m benchmarks.report_speed [--submissions 1000]
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import class_report, course_overview, grading_times, late, report
from autograder.course import Course, atomic_write
from autograder.gradebook import GradebookWriter
from autograder.grading.job import parse_reference
from autograder.grading.records import CaseResult, Record, RecordStatus, TestResult, TestStatus
from tests.autograder.fixtures.course import real_course, venv_env
from upsampling.checking.misconceptions import HINTS

A = "03_transposed_conv"
# status -> share of tests that end in it (the rest pass)
FAULTS = {
    "failed": 0.22,
    "timed_out": 0.01,
    "crashed": 0.02,
    "over_limit": 0.005,
    "tampered": 0.005,
}
LIKELY = [
    "kernel_not_flipped",
    "correlation",
    "stride_swapped",
    "stride_spacing",
    "padding_one_side",
    "output_padding_zeros",
    "bias_missing",
    "weight_layout",
    "matrix_transposed",
    "matrix_column_major",
]


def made_up_record(student: str, manifest: dict, rng: random.Random) -> Record:
    record = Record(A, student, "transposed_conv", f"made-up-{student}", "bwrap", 0.0)
    for gid, spec in manifest["tests"].items():
        test = TestResult(
            gid, spec["function"], f"{spec['function']}: made up", float(spec["points"])
        )
        draw, status = rng.random(), TestStatus.PASSED
        for name, share in FAULTS.items():
            if draw < share:
                status = TestStatus(name)
                break
            draw -= share
        mistake = (
            rng.choice(LIKELY[:4] if rng.random() < 0.7 else LIKELY) if rng.random() < 0.8 else None
        )
        for number, case in enumerate(spec["cases"], start=1):
            label = f"visible case {case['name']}" if case["visible"] else f"hidden case {number}"
            entry = CaseResult(label, case["visible"], TestStatus.PASSED, f"{label}: passed")
            if status is TestStatus.FAILED and rng.random() < 0.6:
                entry.status = TestStatus.FAILED
                entry.message = f"{label}:\n  wrong values: 12 of 40 differ\n  largest error 1.5"
                if mistake:
                    entry.misconception = mistake
                    entry.message += f"\n  Likely cause: {HINTS[mistake]}"
            test.cases.append(entry)
        if status is TestStatus.FAILED and all(c.status is TestStatus.PASSED for c in test.cases):
            test.cases[-1].status = TestStatus.FAILED
        test.status = status
        test.reason = None if status is TestStatus.PASSED else f"made up: {status.label}"
        if status is TestStatus.TAMPERED:
            test.flags.append("the test cell was edited")
            record.flags.append(f"test {gid}: the test cell was edited")
            record.status = RecordStatus.FLAGGED
        test.points = test.max_points if status is TestStatus.PASSED else 0.0
        record.tests.append(test)
    record.max_score = sum(t.max_points for t in record.tests)
    record.score = sum(t.points for t in record.tests)
    return record


def build(root: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    root = real_course(root, [A])
    with open(root / "nbgrader_config.py", "a") as f:
        f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    course = Course(root)
    manifest = parse_reference(course.reference(A).read_bytes()).manifest
    with course.gradebook() as gb:
        gb.update_or_create_assignment(A, duedate=datetime.datetime(2026, 11, 30, 12))
    seconds = {}
    with course.gradebook() as gb:
        writer = GradebookWriter(course, gb)
        for i in range(n):
            student = f"student{i:04d}"
            record = made_up_record(student, manifest, rng)
            hours = 3 if rng.random() < 0.1 else -2
            writer.write(record, f"2026-11-30 {12 + hours:02d}:00:00 UTC")
            feedback = course.path("feedback", student, A) / "transposed_conv.html"
            atomic_write(feedback, report.feedback_html(record.student_view()))
            atomic_write(course.record_path(student, A), record.dumps())
            seconds[student] = rng.lognormvariate(-1.5, 0.6)
    late.assign_late_penalties(course, A)
    grading_times.record_run(course, A, seconds, sum(seconds.values()) / 2, "made up; 2 worker(s)")
    return root


def timed(what: str, call) -> float:
    started = time.perf_counter()
    call()
    took = time.perf_counter() - started
    print(f"  {what:<52} {took:6.2f} s")
    return took


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=1000)
    args = parser.parse_args(argv)
    os.environ["PATH"] = venv_env()["PATH"]
    folder = Path(tempfile.mkdtemp(prefix="report-speed-"))
    try:
        started = time.perf_counter()
        root = build(folder / "course", args.submissions)
        print(
            f"made-up class of {args.submissions}: built in {time.perf_counter() - started:.1f} s"
        )
        command = [sys.executable, "-m", "autograder", "report", "--course-root", str(root)]
        timed(f"report {A} (in this process)", lambda: class_report.write(root, A))
        timed("overview (in this process)", lambda: course_overview.write(root))
        timed(
            f"python -m autograder report {A}",
            lambda: subprocess.run([*command, A], check=True, capture_output=True),
        )
        timed(
            "python -m autograder report (the overview)",
            lambda: subprocess.run(command, check=True, capture_output=True),
        )
        size = (root / "report" / A / "index.html").stat().st_size
        print(
            f"  page: {size / 1024:.0f} KiB; misconceptions.csv: "
            f"{len((root / 'report' / A / 'misconceptions.csv').read_text().splitlines()) - 1}"
            " rows"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
