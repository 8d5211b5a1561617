"""LMS export: the header rows Canvas and Moodle document, ids mapped through a roster,
every student kept in order, empty cells (not zeros) for students who did not submit."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import lms_export
from autograder.run import GradingOptions, grade_assignment
from autograder.sandbox import Limits
from tests.autograder.fixtures.course import (
    FIXTURE,
    REPO,
    fixture_course,
    make_submission,
    venv_env,
)

WRONG = {"double-answer": "def double(x):\n    return 3 * x"}  # 1 of 3 points
# graded: full marks, 1 point, ids that need quoting, a folder without the notebook
SUBMITTED = {"ada": None, "bo, jr": WRONG, "zoë": None}
NO_NOTEBOOK = "cy"
NEVER_SUBMITTED = "dee"  # known to the gradebook (enrolled), nothing submitted


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    os.environ["PATH"] = venv_env()["PATH"]
    root = fixture_course(tmp_path_factory.mktemp("lms") / "course")
    for student, answers in SUBMITTED.items():
        make_submission(root, FIXTURE, student, answers=answers)
    (root / "submitted" / NO_NOTEBOOK / FIXTURE).mkdir(parents=True)
    (root / "submitted" / NO_NOTEBOOK / FIXTURE / "notes.txt").write_text("oops")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "fixture-course") as gb:
        gb.update_or_create_student(NEVER_SUBMITTED, first_name="Dee", last_name="Dunn")
        gb.update_or_create_student("ada", first_name="Ada", last_name="Byron")
    result = grade_assignment(
        root, FIXTURE, GradingOptions(n_jobs=2, progress=False, limits=Limits(test_timeout=5))
    )
    assert not result["errors"]
    return root


def _export(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "export", FIXTURE, "--course-root", str(root), *args],
        cwd=REPO,
        env=venv_env(),
        capture_output=True,
        text=True,
    )


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write_roster(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")  # a BOM, as Excel writes
    return path


CANVAS_ROSTER = [  # Canvas's own gradebook export, used as the roster
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 1 (101)"],
    ["    Points Possible", "", "", "", "", "10"],
    ["Dunn, Dee", "2004", "S-4", "dee", "Mon", "7"],
    ["Byron, Ada", "2001", "S-1", "ada", "Mon", "9"],
    ["Lovelace, Zoë", "2003", "S-3", "zoë", "Tue", "8"],
    ["Cy Young", "2005", "S-5", "cy", "Tue", "6"],
    ["Eve Early", "2006", "S-6", "eve", "Tue", "5"],  # on the roster, never seen by us
]


def test_canvas_with_roster_keeps_its_order_and_adds_the_missing_at_the_end(course, tmp_path):
    roster = _write_roster(tmp_path / "canvas.csv", CANVAS_ROSTER)
    out = tmp_path / "to_canvas.csv"
    run = _export(
        course,
        "--format",
        "canvas",
        "--roster",
        str(roster),
        "--roster-id",
        "SIS Login ID",
        "--column",
        "Fixture (202)",
        "--to",
        str(out),
    )
    assert run.returncode == 0, run.stderr
    assert "bo, jr" in run.stderr and "not on the roster" in run.stderr
    assert _rows(out) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Fixture (202)"],
        ["    Points Possible", "", "", "", "", "3"],
        ["Dunn, Dee", "2004", "S-4", "dee", "Mon", ""],  # enrolled, did not submit
        ["Byron, Ada", "2001", "S-1", "ada", "Mon", "3"],
        ["Lovelace, Zoë", "2003", "S-3", "zoë", "Tue", "3"],
        ["Cy Young", "2005", "S-5", "cy", "Tue", ""],  # a folder without the notebook
        ["Eve Early", "2006", "S-6", "eve", "Tue", ""],
        ["bo, jr", "", "bo, jr", "", "", "1"],  # graded, not on the roster: kept
    ]


def test_zeros_when_asked(course, tmp_path):
    roster = _write_roster(tmp_path / "canvas.csv", CANVAS_ROSTER)
    out = tmp_path / "zeros.csv"
    run = _export(
        course,
        "--format=canvas",
        f"--roster={roster}",
        "--roster-id=SIS Login ID",
        "--zeros",
        f"--to={out}",
    )
    assert run.returncode == 0, run.stderr
    grades = {row[3]: row[-1] for row in _rows(out)[2:]}
    assert grades == {"dee": "0", "ada": "3", "zoë": "3", "cy": "0", "eve": "0", "": "1"}


def test_moodle_without_roster_lists_everyone_the_gradebook_knows(course):
    run = _export(course, "--format", "moodle")
    assert run.returncode == 0, run.stderr
    path = course / f"{FIXTURE}_moodle.csv"
    assert run.stdout.strip() == f"moodle grades: {path}"
    assert _rows(path) == [
        ["First name", "Last name", "ID number", "Email address", FIXTURE],
        ["Ada", "Byron", "ada", "", "3"],
        ["", "", "bo, jr", "", "1"],
        ["", "", "cy", "", ""],
        ["Dee", "Dunn", "dee", "", ""],
        ["", "", "zoë", "", "3"],
    ]
    assert path.read_text(encoding="utf-8").splitlines()[2] == ',,"bo, jr",,1'


def test_moodle_roster_columns_are_copied(course, tmp_path):
    roster = _write_roster(
        tmp_path / "moodle.csv",
        [
            ["First name", "Last name", "ID number", "Institution", "Email address", "login"],
            ["Zoë", "Lovelace", "u3", "Uni", "zoe@example.org", "zoë"],
            ["Ada", "Byron", "u1", "Uni", "ada@example.org", "ada"],
            ["Bo", "Junior", "u2", "Uni", "bo@example.org", "bo, jr"],
            ["Cy", "Young", "u5", "Uni", "cy@example.org", "cy"],
            ["Dee", "Dunn", "u4", "Uni", "dee@example.org", "dee"],
        ],
    )
    path = lms_export.export(course, FIXTURE, "moodle", roster=roster, roster_id="login")
    assert _rows(path)[1:] == [
        ["Zoë", "Lovelace", "u3", "zoe@example.org", "3"],
        ["Ada", "Byron", "u1", "ada@example.org", "3"],
        ["Bo", "Junior", "u2", "bo@example.org", "1"],
        ["Cy", "Young", "u5", "cy@example.org", ""],
        ["Dee", "Dunn", "u4", "dee@example.org", ""],
    ]


def test_scores_are_the_gradebooks_with_manual_grades_and_late_penalties(course, tmp_path):
    """What nbgrader export reports: a manual score overrides, a late penalty subtracts."""
    import shutil

    from nbgrader.api import Gradebook

    root = tmp_path / "course"
    shutil.copytree(course, root)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "fixture-course") as gb:
        grade = gb.find_grade("fixture-double", "fixture", FIXTURE, "bo, jr")
        grade.manual_score = 1.5  # the instructor gives half of the 2 points back
        nb = gb.find_submission_notebook("fixture", FIXTURE, "zoë")
        nb.late_submission_penalty = 1.0
        gb.db.commit()
    rows = {r[2]: r[-1] for r in _rows(lms_export.export(root, FIXTURE, "moodle"))[1:]}
    assert rows["bo, jr"] == "2.5" and rows["zoë"] == "2" and rows["ada"] == "3"


def test_roster_errors_name_the_problem(course, tmp_path):
    roster = _write_roster(tmp_path / "r.csv", [["name", "login"], ["A", "ada"], ["B", "ada"]])
    with pytest.raises(lms_export.ExportError, match=r"no column 'student_id' \(its columns"):
        lms_export.export(course, FIXTURE, "canvas", roster=roster)
    with pytest.raises(lms_export.ExportError, match=r"'ada' is on lines 2 and 3"):
        lms_export.export(course, FIXTURE, "canvas", roster=roster, roster_id="login")
    run = _export(course, "--format", "canvas", "--roster", str(roster))
    assert run.returncode == 2 and "--roster-id" in run.stderr
    with pytest.raises(lms_export.ExportError, match="not in the gradebook"):
        lms_export.export(course, "99_nothing", "canvas")
