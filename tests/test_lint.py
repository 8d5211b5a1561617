"""The code follows the project's ruff settings (pyproject.toml): no lint finding, and
laid out as ``ruff format`` lays it out."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [["check", "--output-format", "concise", "."], ["format", "--check", "."]],
    ids=["check", "format"],
)
def test_ruff_finds_nothing(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
