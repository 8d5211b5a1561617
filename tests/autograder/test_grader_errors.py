"""The grader's own failures never reach a student as a zero (catalogue item 13).

A preflight grades the solution and the unmodified release before a class is graded and
stops the run, writing nothing, when either is off; during a run a submission whose
sandbox cannot start is a ``grader error``: not in the gradebook, no score in grades.csv,
listed in the summary, a non-zero exit, and graded again by the next run.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import subprocess

import nbformat
import numpy as np
import pytest

from autograder import runners
from autograder.course import GRADER_ERROR_RECORD, RECORD
from autograder.grading.records import RecordStatus, TestStatus
from autograder.preflight import PreflightError
from autograder.run import GradingOptions, grade_assignment
from autograder.sandbox import Limits
from tests.autograder.fixtures.course import (
    FIXTURE,
    REPO,
    fixture_course,
    fresh_copy,
    grade_command,
    make_submission,
    venv_env,
)

LIMITS = Limits(test_timeout=3)
TOO_SMALL = 16  # MB of address space: not enough to start Python and import numpy
STUDENTS = ("alice", "bob", "unlucky")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = fixture_course(tmp_path_factory.mktemp("fixture") / "course")
    for student in STUDENTS:
        make_submission(root, FIXTURE, student)
    return root


@pytest.fixture
def course(template, tmp_path):
    return fresh_copy(template, tmp_path)


def _gradebook_students(root) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return sorted(s.student.id for s in gb.assignment_submissions(FIXTURE))


def _rows(root) -> dict[str, dict]:
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def _nothing_written(root) -> None:
    assert _gradebook_students(root) == []
    assert not (root / "grades.csv").exists()
    assert list((root / "autograded").glob(f"*/{FIXTURE}/{RECORD}")) == []
    assert not (root / "feedback").exists()


def test_a_sandbox_that_cannot_start_stops_the_run_before_anything_is_written(course):
    result = subprocess.run(
        grade_command(course, "--no-progress", "--memory-mb", str(TOO_SMALL)),
        cwd=REPO,
        env=venv_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr
    assert "preflight failed" in message and "nothing was graded" in message
    assert "the solution could not be graded" in message
    assert "did not start" in message and "--memory-mb" in message
    _nothing_written(course)


def test_a_release_that_passes_its_own_tests_stops_the_run(course):
    """Stubs that already return the right answer would hand out free points."""
    (released,) = (course / "exercises" / FIXTURE).glob("*.ipynb")
    nb = nbformat.read(released, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "double-answer":
            cell.source = "def double(x):\n    return 2 * x"
    nbformat.write(nb, released)
    with pytest.raises(PreflightError, match=r"the release scored 2/3, expected 0") as caught:
        grade_assignment(course, FIXTURE, GradingOptions(n_jobs=2, limits=LIMITS, progress=False))
    assert "fixture-double: passed" in str(caught.value)
    _nothing_written(course)


def test_a_reference_that_the_solution_fails_stops_the_run(course):
    path = course / "autograder" / "reference" / f"{FIXTURE}.npz"
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["fixture-shift/negative/out"] = arrays["fixture-shift/negative/out"] + 1
    np.savez(path, **arrays)
    with pytest.raises(PreflightError, match=r"the solution scored 2/3, expected 3") as caught:
        grade_assignment(course, FIXTURE, GradingOptions(n_jobs=2, limits=LIMITS, progress=False))
    assert "fixture-shift: failed" in str(caught.value)
    _nothing_written(course)


def test_a_sandbox_failing_mid_run_is_a_grader_error_and_is_graded_next_time(course, monkeypatch):
    real_grade = runners.grade

    def grade(job, materials, sandbox, uid=None, checker=None):
        if job.student_id == "unlucky":  # this one's sandbox cannot start
            broken = copy.copy(sandbox)
            broken.limits = dataclasses.replace(sandbox.limits, memory_mb=TOO_SMALL)
            job = dataclasses.replace(job, limits=broken.limits)
            return real_grade(job, materials, broken, uid, checker)
        return real_grade(job, materials, sandbox, uid, checker)

    monkeypatch.setattr(runners, "grade", grade)
    out = __import__("io").StringIO()
    result = grade_assignment(
        course, FIXTURE, GradingOptions(n_jobs=2, limits=LIMITS, progress=False), out=out
    )
    assert list(result["grader_errors"]) == ["unlucky"]
    assert "did not start" in result["grader_errors"]["unlucky"]
    assert sorted(r["student_id"] for r in result["records"]) == ["alice", "bob"]
    summary = out.getvalue()
    assert "1 NOT GRADED (grader error)" in summary and "GRADER ERROR" in summary
    assert "unlucky: grader error" in summary

    assert _gradebook_students(course) == ["alice", "bob"]  # no zero for unlucky
    rows = _rows(course)
    assert rows["unlucky"]["score"] == "" and rows["unlucky"]["status"] == "grader error"
    assert rows["alice"]["score"] == rows["bob"]["score"] == "3"
    folder = course / "autograded" / "unlucky" / FIXTURE
    assert not (folder / RECORD).exists()
    kept = json.loads((folder / GRADER_ERROR_RECORD).read_text())
    assert kept["status"] == RecordStatus.GRADER_ERROR.value
    assert {t["status"] for t in kept["tests"]} == {TestStatus.GRADER_ERROR.value}
    assert not (course / "feedback" / "unlucky").exists()

    monkeypatch.setattr(runners, "grade", real_grade)  # the sandbox works again
    again = grade_assignment(
        course, FIXTURE, GradingOptions(n_jobs=2, limits=LIMITS, progress=False)
    )
    assert again["grader_errors"] == {}
    assert [r["student_id"] for r in again["records"]] == ["unlucky"]
    assert again["counts"]["up to date"] == 2
    assert _gradebook_students(course) == list(STUDENTS)
    assert _rows(course)["unlucky"]["score"] == "3"
    assert not (folder / GRADER_ERROR_RECORD).exists()


def test_the_grader_error_exit_code_is_non_zero(course, monkeypatch):
    from autograder import cli

    real_grade = runners.grade

    def grade(job, materials, sandbox, uid=None, checker=None):
        if job.student_id == "bob":
            raise RuntimeError("a bug in the grader")
        return real_grade(job, materials, sandbox, uid, checker)

    monkeypatch.setattr(runners, "grade", grade)
    code = cli.main(["grade", FIXTURE, "--course-root", str(course), "--no-progress"])
    assert code == 1
    assert _gradebook_students(course) == ["alice", "unlucky"]
    assert _rows(course)["bob"]["status"] == "grader error"
