"""A smoke run of ``python -m benchmarks.cli_startup``: it times ``--help`` and a class
report against ``python -c pass`` and prints a median for each, and what each imported."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_startup_benchmark_prints_a_median_per_command():
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.cli_startup", "--repeat", "1", "--submissions", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"peer: python -c pass\s+\d+ ms", run.stdout), run.stdout
    rows = dict(re.findall(r"^  (--help|report \S+)\s+\d+ ms\s+-?\d+ ms  (.*)$", run.stdout, re.M))
    assert set(rows) == {"--help", "report 03_transposed_conv"}, run.stdout
    assert rows["--help"] == "(none of them)"
    assert "nbgrader" in rows["report 03_transposed_conv"]  # the report reads the gradebook
