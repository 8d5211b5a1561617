"""The autograder run by an instructor who is not root (catalogue item 14): the whole
catalogue suite, the grader-error suite, the bookkeeping suite, the zygote suite (user-
namespace mode: the zygote and its children share the user's uid) and the Dask cluster
suite (scheduler and workers as that user too), run as an ordinary user in a venv made
from Debian's own ``python3.11`` and from a Python in the user's home (pyenv style), each
with ``.[grader,cluster,worker]`` only (no PyTorch, no Sphinx).
"""

from __future__ import annotations

import re

import pytest

from tests.install import installs

SUITES = [
    "tests/autograder/test_catalogue.py",
    "tests/autograder/test_grader_errors.py",
    "tests/autograder/test_bookkeeping.py",
    "tests/autograder/test_zygote.py",
    "tests/autograder/test_syscall_filter.py",
    "tests/autograder/test_cluster.py",
]
# The wheel's contents do not depend on who builds it (and a 3.12 venv has no setuptools
# for --no-build-isolation): that one test runs in the root suite only.
DESELECT = ["-k", "not test_the_wheel_for_workers"]
TEST_TOOLS = ("pytest==9.2.0", "hypothesis==6.170.15")  # as pinned in requirements.txt


@pytest.fixture(scope="module")
def course_copy():
    return installs.clean_copy("grader-course")


@pytest.mark.parametrize("label", ["debian-3.11", "home-3.12"])
def test_the_catalogue_holds_for_an_ordinary_user(course_copy, label):
    interp = installs.require(label)
    venv = installs.make_venv(interp, "grader", course_copy, "grader,cluster,worker", TEST_TOOLS)
    names = {name.lower() for name in installs.installed(venv)}
    assert "torch" not in names and "nbgrader" in names
    result = installs.run_as_user(
        [venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES, *DESELECT],
        cwd=course_copy,
        timeout=1800,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed[1]) >= 50 and "skipped" not in summary, summary
