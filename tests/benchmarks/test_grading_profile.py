"""A smoke run of ``python -m benchmarks.grading_profile``: it grades a small class with
the grader's phase collector installed and prints a row for every phase, with the
number of times the grader entered it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.timing import PHASES

REPO = Path(__file__).resolve().parents[2]
SUBMISSIONS = 2


@pytest.mark.slow
def test_the_profile_runs_and_times_every_phase():
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.grading_profile",
            "--submissions",
            str(SUBMISSIONS),
            "--no-startup",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ERRORS" not in run.stdout, run.stdout[-3000:]
    calls = {}
    for line in run.stdout.splitlines():
        row = re.match(r"\s+(\S.*?)\s{2,}(\d+)\s+\d+\.\d\d\s", line)
        if row and row[1] in PHASES:
            calls[row[1]] = calls.get(row[1], 0) + int(row[2])
    assert set(calls) == set(PHASES), run.stdout[-3000:]
    # every submission, and the preflight's solution and release, is graded once
    assert calls["grade"] == SUBMISSIONS + 2
    assert calls["read notebook"] == SUBMISSIONS + 2
    assert calls["record"] == SUBMISSIONS  # the preflight records nothing
    assert calls["preflight"] == calls["grades.csv"] == calls["up to date"] == 1
    assert calls["check"] <= calls["call"]
