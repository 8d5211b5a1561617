"""A student's install: ``python -m pip install ".[student]"`` from the course folder, as an
ordinary user, on every Python the course supports (3.10 to 3.13), with no PyTorch, no
Sphinx, no root; then ``nbgrader validate`` in a folder outside the course, as a student
checks before submitting: a solved notebook passes, the unmodified one fails every test.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from autograder.grading.notebooks import nbgrader_meta, solved_release
from tests.install import installs

ASSIGNMENTS = sorted(p.name for p in (installs.REPO / "exercises").iterdir() if p.is_dir())
NOT_FOR_STUDENTS = ("torch", "sphinx", "jupyter-book", "jupyter_book", "nvidia")


@pytest.fixture(scope="module")
def course_copy():
    return installs.clean_copy("student-course")


@pytest.fixture(scope="module", params=installs.LABELS)
def student_venv(request, course_copy):
    interp = installs.require(request.param)
    venv = installs.make_venv(interp, "student", course_copy, "student")
    if venv.created_seconds is not None:  # figures for the README (quoted by hand)
        print(
            f"\n{interp.label}: .[student] took {venv.created_seconds:.0f} s, "
            f"{venv.size_mb():.0f} MB"
        )
    return interp, venv


def _notebooks(assignment):
    (released,) = (installs.REPO / "exercises" / assignment).glob("*.ipynb")
    (source,) = (installs.REPO / "solutions" / assignment).glob("*.ipynb")
    released_nb = nbformat.read(released, as_version=4)
    solved = solved_release(released_nb, nbformat.read(source, as_version=4))
    grade_ids = [
        nbgrader_meta(c)["grade_id"]
        for c in released_nb.cells
        if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")
    ]
    return released, solved, grade_ids


def _student_folder(name: str):
    folder = installs.home() / "homework" / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    installs.chown_to_user(installs.home() / "homework")
    return folder


def test_no_pytorch_and_no_book_tools(student_venv):
    _, venv = student_venv
    names = {name.lower() for name in installs.installed(venv)}
    assert not [n for n in names if n.startswith(NOT_FOR_STUDENTS)], sorted(names)
    needed_by_students = ("upsampling", "jupyterlab", "nbgrader", "numpy", "matplotlib")
    for needed in (*needed_by_students, "ipywidgets", "anywidget"):
        assert needed in names, f"{needed} is not installed by .[student]"


def test_the_package_works_from_any_folder_with_its_own_reference_data(student_venv):
    """A non-editable install: the self-checks read the package's own visible cases."""
    _, venv = student_venv
    folder = _student_folder("anywhere")
    script = (
        "import upsampling, upsampling.checking as c, numpy as np\n"
        "print(c.reference_dir())\n"
        "m, arrays = c.load_reference('03_transposed_conv')\n"
        "assert m['visible_only'] and all(k.count('/') == 2 for k in arrays)\n"
        "y = upsampling.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))\n"
        "print('x'.join(map(str, y.shape)))"
    )
    result = installs.run_as_user([venv.python, "-c", script], cwd=folder)
    assert result.returncode == 0, result.stderr
    where, shape = result.stdout.split()
    assert where.startswith(str(venv.path)) and where.endswith("upsampling/reference")
    assert shape == "1x1x3x3"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_validate_outside_the_course(student_venv, assignment):
    interp, venv = student_venv
    released, solved, grade_ids = _notebooks(assignment)
    folder = _student_folder(f"{interp.label}-{assignment}")
    nbformat.write(solved, folder / "solved.ipynb")
    shutil.copy(released, folder / "untouched.ipynb")
    installs.chown_to_user(folder)
    nbgrader = venv.path / "bin" / "nbgrader"

    passed = installs.run_as_user([nbgrader, "validate", "solved.ipynb"], cwd=folder)
    assert passed.returncode == 0 and "Success! Your notebook passes all the tests." in (
        passed.stdout
    ), passed.stdout[-3000:] + passed.stderr[-3000:]

    # --invert: "Success" only if every graded test cell fails on the released stubs.
    inverted = installs.run_as_user(
        [nbgrader, "validate", "--invert", "untouched.ipynb"], cwd=folder
    )
    assert inverted.returncode == 0 and "Success!" in inverted.stdout, inverted.stdout[-3000:]
    assert grade_ids, f"{released.name} has no graded test cell"
