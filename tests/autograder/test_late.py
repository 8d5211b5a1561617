"""Late penalties: nbgrader's LateSubmissionPlugin (stock or custom) applied as
``nbgrader autograde`` applies it, so that grades.csv, the gradebook and
``nbgrader export`` agree; checked against stock ``nbgrader autograde`` itself."""

from __future__ import annotations

import csv
import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.run import GradingOptions, grade_assignment
from autograder.sandbox import Limits
from tests.autograder.fixtures.course import FIXTURE, fixture_course, make_submission, venv_env

DUE = datetime.datetime(2026, 3, 1, 12, 0, 0)  # UTC, as nbgrader stores it
WRONG = {"double-answer": "def double(x):\n    return 3 * x"}  # 1 of 3 points
# student -> (answers, timestamp.txt or None)
SUBMISSIONS = {
    "on_time": (None, "2026-03-01 11:59:00 UTC"),
    "late_2h": (None, "2026-03-01 14:00:00 UTC"),
    "late_10h_wrong": (WRONG, "2026-03-01 22:00:00 UTC"),
    "no_stamp": (None, None),
}
CUSTOM_PLUGIN = '''\
"""A course's own policy: lose a share of the score per hour late."""
from traitlets import Float
from nbgrader.plugins import BasePlugin


class PerHourLate(BasePlugin):
    per_hour = Float(0.1, help="share of the score lost per hour late").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return score * self.per_hour * total_seconds_late / 3600
'''
CUSTOM_CONFIG = """
c.AssignLatePenalties.plugin_class = "late_policy.PerHourLate"
c.PerHourLate.per_hour = 0.25
"""
ZERO_CONFIG = '\nc.LateSubmissionPlugin.penalty_method = "zero"\n'


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    os.environ["PATH"] = venv_env()["PATH"]
    root = fixture_course(tmp_path_factory.mktemp("late") / "course")
    for student, (answers, stamp) in SUBMISSIONS.items():
        path = make_submission(root, FIXTURE, student, answers=answers)
        if stamp:
            (path.parent / "timestamp.txt").write_text(stamp)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "fixture-course") as gb:
        gb.update_or_create_assignment(FIXTURE, duedate=DUE)
    return root


def _course(template, tmp_path, config: str, plugin: str | None = None) -> Path:
    root = tmp_path / "course"
    shutil.copytree(template, root)
    with open(root / "nbgrader_config.py", "a") as f:
        f.write(config)
    if plugin:
        (root / "late_policy.py").write_text(plugin)
    return root


def _grade(root: Path) -> dict[str, dict]:
    result = grade_assignment(
        root, FIXTURE, GradingOptions(n_jobs=2, progress=False, limits=Limits(test_timeout=5))
    )
    assert not result["errors"], result["errors"]
    return _read_csv(root / "grades.csv", "student_id")


def _read_csv(path: Path, key: str) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r[key]: r for r in csv.DictReader(f)}


def _nbgrader_export(root: Path) -> dict[str, dict]:
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", "nbgrader_export.csv"],
        cwd=root,
        env=venv_env(),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    return _read_csv(root / "nbgrader_export.csv", "student_id")


def _penalties(rows: dict, column: str) -> dict[str, float]:
    return {s: float(r[column]) for s, r in rows.items()}


def test_zero_penalty_method(template, tmp_path):
    """nbgrader's stock plugin, 'zero': a late submission loses its whole score."""
    root = _course(template, tmp_path, ZERO_CONFIG)
    rows = _grade(root)
    assert _penalties(rows, "late_penalty") == {
        "on_time": 0.0,
        "late_2h": 3.0,
        "late_10h_wrong": 1.0,
        "no_stamp": 0.0,
    }
    assert _penalties(rows, "score") == {
        "on_time": 3.0,
        "late_2h": 0.0,
        "late_10h_wrong": 0.0,
        "no_stamp": 3.0,
    }
    exported = _nbgrader_export(root)
    assert _penalties(exported, "late_submission_penalty") == _penalties(rows, "late_penalty")
    assert _penalties(exported, "score") == _penalties(rows, "score")


def test_default_configuration_charges_nothing(template, tmp_path):
    """Without configuration nbgrader's plugin ('none') assigns no penalty."""
    rows = _grade(_course(template, tmp_path, ""))
    assert set(_penalties(rows, "late_penalty").values()) == {0.0}
    assert _penalties(rows, "score")["late_2h"] == 3.0


def test_custom_plugin_with_its_own_configuration(template, tmp_path):
    """A course's own plugin class, configured in nbgrader_config.py: 25 % per hour.
    late_2h: 3 points x 0.25 x 2 h = 1.5; late_10h_wrong: 1 x 0.25 x 10 = 2.5, which
    nbgrader clips to the notebook's score, 1."""
    root = _course(template, tmp_path, CUSTOM_CONFIG, CUSTOM_PLUGIN)
    rows = _grade(root)
    assert _penalties(rows, "late_penalty") == {
        "on_time": 0.0,
        "late_2h": 1.5,
        "late_10h_wrong": 1.0,
        "no_stamp": 0.0,
    }
    assert _penalties(rows, "score") == {
        "on_time": 3.0,
        "late_2h": 1.5,
        "late_10h_wrong": 0.0,
        "no_stamp": 3.0,
    }
    assert _penalties(_nbgrader_export(root), "late_submission_penalty") == _penalties(
        rows, "late_penalty"
    )


def test_same_penalties_as_stock_nbgrader_autograde(template, tmp_path):
    """The same course graded by `nbgrader autograde` itself: its export and ours agree."""
    ours = _course(template, tmp_path, CUSTOM_CONFIG, CUSTOM_PLUGIN)
    stock = tmp_path / "stock"
    shutil.copytree(ours, stock)
    _grade(ours)
    env = venv_env()
    env["UPSAMPLING_REFERENCE_DIR"] = str(stock / "autograder" / "reference")
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", FIXTURE, "--force", "--log-level=ERROR"],
        cwd=stock,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    theirs, mine = _nbgrader_export(stock), _nbgrader_export(ours)
    for column in ("raw_score", "late_submission_penalty", "score"):
        assert _penalties(mine, column) == _penalties(theirs, column), column
    assert _penalties(theirs, "late_submission_penalty")["late_2h"] == 1.5


def test_a_changed_due_date_is_applied_on_the_next_run(template, tmp_path):
    """Penalties follow the gradebook: a later due date (or an extension) clears them."""
    root = _course(template, tmp_path, ZERO_CONFIG)
    assert _penalties(_grade(root), "late_penalty")["late_2h"] == 3.0
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "fixture-course") as gb:
        gb.update_or_create_assignment(FIXTURE, duedate=DUE + datetime.timedelta(hours=3))
    rows = _grade(root)  # nothing is re-graded; the penalties are assigned again
    assert _penalties(rows, "late_penalty") == {
        "on_time": 0.0,
        "late_2h": 0.0,
        "late_10h_wrong": 1.0,
        "no_stamp": 0.0,
    }
