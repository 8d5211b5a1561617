"""``python -m autograder``'s start-up: the command line is set up, and ``--help``
answered, without the heavy packages that only the commands themselves need
(benchmarks/cli_startup.py measures the time); the grader's trimmed jsonschema still
validates notebooks."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "nbformat", "jsonschema", "nbgrader", "sqlalchemy", "dask", "matplotlib")
PROBE = """
import runpy, sys
try:
    runpy.run_module("autograder", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
print("EXIT", code, *sorted(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["report", "--help"], ["grade", "--help"], ["similarity", "--help"]]
)
def test_help_imports_none_of_the_heavy_packages(argv):
    run = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "usage: python -m autograder" in run.stdout
    assert run.stdout.strip().splitlines()[-1] == "EXIT 0"


def test_similarity_help_shows_the_calibrated_defaults(capsys):
    from autograder import cli, similarity

    with pytest.raises(SystemExit):
        cli.main(["similarity", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default {similarity.DEFAULT_THRESHOLD})" in text
    assert f"(default {similarity.DEFAULT_K})" in text


def test_a_command_error_is_reported_in_one_line(tmp_path, capsys):
    from autograder import cli

    assert cli.main(["report", "03_transposed_conv", "--course-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograder") and "Traceback" not in err


VALIDATES = """
import sys
import autograder  # keeps jsonschema's format-checker packages out
import nbformat

assert all(sys.modules[name] is None for name in autograder.JSONSCHEMA_FORMAT_PACKAGES)
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
nbformat.validate(nb)
del nb.cells[0]["outputs"]  # a code cell must have outputs
try:
    nbformat.validate(nb)
except nbformat.ValidationError as exc:
    print("REJECTED", exc.message)
"""


def test_notebooks_are_still_validated_without_the_format_checkers():
    """The grader keeps jsonschema's format-checker packages out (autograder/__init__.py), in a
    fresh interpreter as a grading command starts; nbformat still rejects a notebook
    that breaks its schema."""
    run = subprocess.run(
        [sys.executable, "-c", VALIDATES], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("REJECTED") and "outputs" in run.stdout
