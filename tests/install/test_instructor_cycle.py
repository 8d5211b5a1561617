"""The instructor's whole cycle, with the commands exactly as "For instructors" and the
README write them, from a plain shell (no environment activated, PATH=/usr/bin:/bin) on a
fresh copy of the course: release, grade (with its feedback), export.

It runs as the user running the suite, with the course environment ``.venv`` that `make`
made (as root that environment's interpreter may be unreadable for anybody else; the
grader as an ordinary user is tested in ``test_grading_as_ordinary_user.py``)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess

import pytest

from tests.autograder.fixtures.course import make_submission
from tests.autograder.fixtures.crafted import MATRIX
from tests.install import installs

A = "03_transposed_conv"
RELEASE = f".venv/bin/nbgrader generate_assignment {A} --force"
GRADE = f".venv/bin/python -m autograder grade {A} --jobs 2"
EXPORT = ".venv/bin/nbgrader export --to nbgrader_grades.csv"
COMMANDS = (RELEASE, GRADE, EXPORT)
STUDENTS = {"ada": None, "bo, jr": {MATRIX: "def conv_matrix(*args):\n    return None"}}


@pytest.mark.parametrize("page", ["book/for_instructors.md", "README.md"])
def test_the_pages_give_these_commands(page):
    text = (installs.REPO / page).read_text(encoding="utf-8")
    for command in COMMANDS:
        assert command in text, f"{page} does not give `{command}`"


@pytest.fixture(scope="module")
def course():
    root = installs.clean_copy("instructor-course")
    (root / ".venv").symlink_to(installs.REPO / ".venv")  # the course environment (make)
    return root


def _run(command: str, root):
    plain = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=root,
        env=plain,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"`{command}` failed:\n{result.stdout[-3000:]}\n" + (result.stderr[-3000:])
    )
    return result


def test_release_grade_feedback_export_from_a_plain_shell(course):
    _run(RELEASE, course)
    assert (course / "gradebook.db").is_file()
    for student, answers in STUDENTS.items():
        make_submission(course, A, student, answers=answers)

    graded = _run(GRADE, course)
    assert "preflight passed" in graded.stdout
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    full = rows["ada"]["max_score"]
    assert rows["ada"]["score"] == full and float(full) > 0
    assert float(rows["bo, jr"]["score"]) < float(full)
    for student in STUDENTS:
        feedback = course / "feedback" / student / A
        assert (feedback / "transposed_conv.html").is_file()
        assert (feedback / "results.json").is_file()

    _run(EXPORT, course)
    with open(course / "nbgrader_grades.csv", newline="", encoding="utf-8") as f:
        exported = [r for r in csv.DictReader(f) if r["assignment"] == A]
    assert {r["student_id"] for r in exported} >= {"ada"}
    ada = next(r for r in exported if r["student_id"] == "ada")
    assert float(ada["raw_score"]) == float(full)
    shutil.rmtree(course / "submitted")
