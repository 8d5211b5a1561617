"""A throw-away nbgrader course for the autograder tests.

``fixture_course`` builds a tiny assignment (``00_fixture``: two functions, ``double`` and
``shift``, hidden tests included) from scratch; ``real_course`` copies the repository's
graded notebooks, released notebooks and reference outputs. Both run
``nbgrader generate_assignment`` so that the gradebook knows the assignment, exactly as an
instructor's course would.

Crafted submissions are always made *from the released notebook* by code
(:func:`make_submission`): answer cells are filled in by ``grade_id``, and any tampering
is a function applied to the notebook object.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np

from autograder.grading.notebooks import solution_answers

REPO = Path(__file__).resolve().parents[2]
FIXTURE = "00_fixture"
CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.course_id = "fixture-course"
"""


def _cell(kind, source, **nbgrader):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    if nbgrader:
        meta = {"schema_version": 3, "solution": False, "grade": False, "locked": False}
        meta.update(nbgrader)
        cell.metadata["nbgrader"] = meta
    return cell


def _test_source(grade_id, function, visible, hidden, doc):
    return (
        f'"""{doc}"""\n'
        "from upsampling.checking import check_cases\n"
        f'check_cases({function}, "{FIXTURE}", "{grade_id}", {visible!r})\n'
        "### BEGIN HIDDEN TESTS\n"
        f'check_cases({function}, "{FIXTURE}", "{grade_id}", {hidden!r})  # fixture-hidden-marker\n'
        "### END HIDDEN TESTS"
    )


def fixture_source_notebook():
    cells = [
        _cell("markdown", "# Fixture assignment\nImplement `double` and `shift` with numpy."),
        _cell("code", "import numpy as np", grade_id="setup", locked=True),
        _cell(
            "code",
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            grade_id="double-answer",
            solution=True,
        ),
        _cell(
            "code",
            _test_source(
                "fixture-double", "double", ["small"], ["hidden-big"], "double doubles every value."
            ),
            grade_id="fixture-double",
            grade=True,
            locked=True,
            points=2,
        ),
        _cell(
            "code",
            "def shift(x, k=1):\n    ### BEGIN SOLUTION\n    return x + k\n    ### END SOLUTION",
            grade_id="shift-answer",
            solution=True,
        ),
        _cell(
            "code",
            _test_source(
                "fixture-shift", "shift", ["small"], ["negative"], "shift adds k to every value."
            ),
            grade_id="fixture-shift",
            grade=True,
            locked=True,
            points=1,
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def fixture_reference():
    rng = np.random.default_rng(0)
    arrays, tests = {}, {}
    for gid, function, points, cases in (
        ("fixture-double", "double", 2, [("small", True, {}), ("hidden-big", False, {})]),
        ("fixture-shift", "shift", 1, [("small", True, {"k": 3}), ("negative", False, {"k": -2})]),
    ):
        entries = []
        for name, visible, kwargs in cases:
            x = rng.normal(size=(2, 3) if visible else (3, 5))
            out = 2 * x if function == "double" else x + kwargs["k"]
            arrays[f"{gid}/{name}/x"], arrays[f"{gid}/{name}/out"] = x, out
            entries.append(
                {
                    "name": name,
                    "visible": visible,
                    "args": [f"{gid}/{name}/x"],
                    "kwargs": kwargs,
                    "expected": f"{gid}/{name}/out",
                    "check": "allclose",
                }
            )
        tests[gid] = {"function": function, "points": points, "cases": entries}
    arrays["__manifest__"] = np.array(json.dumps({"assignment": FIXTURE, "tests": tests}))
    return arrays


def venv_env() -> dict:
    """The environment with this interpreter's bin/ first on PATH (nbgrader runs ``alembic``)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _generate(root: Path, assignment: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_assignment",
            assignment,
            "--force",
            "--log-level=ERROR",
        ],
        cwd=root,
        check=True,
        capture_output=True,
        env=venv_env(),
    )


def fixture_course(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    src = root / "solutions" / FIXTURE
    src.mkdir(parents=True)
    nbformat.write(fixture_source_notebook(), src / "fixture.ipynb")
    ref = root / "autograder" / "reference"
    ref.mkdir(parents=True)
    np.savez(ref / f"{FIXTURE}.npz", **fixture_reference())
    _generate(root, FIXTURE)
    return root


def fresh_copy(template: Path, tmp_path: Path) -> Path:
    """A copy of a prepared course, for a test that changes or grades it."""
    root = tmp_path / "course"
    shutil.copytree(template, root)
    return root


def real_course(root: Path, assignments) -> Path:
    """A copy of the repository's course (graded notebooks, references) with a fresh gradebook."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    for assignment in assignments:
        shutil.copytree(REPO / "solutions" / assignment, root / "solutions" / assignment)
        (root / "autograder" / "reference").mkdir(parents=True, exist_ok=True)
        shutil.copy(
            REPO / "autograder" / "reference" / f"{assignment}.npz",
            root / "autograder" / "reference",
        )
        _generate(root, assignment)
        released = REPO / "exercises" / assignment
        if released.is_dir():  # grade against what students actually received
            shutil.rmtree(root / "exercises" / assignment)
            shutil.copytree(released, root / "exercises" / assignment)
    return root


# ----------------------------------------------------------------------------- submissions


def released_notebook(root: Path, assignment: str):
    folder = root / "exercises" / assignment
    (path,) = folder.glob("*.ipynb")
    return nbformat.read(path, as_version=4), path.name


def solution_code(root: Path, assignment: str) -> dict:
    """grade_id -> the instructor's answer code (solution markers removed)."""
    (path,) = (root / "solutions" / assignment).glob("*.ipynb")
    return solution_answers(nbformat.read(path, as_version=4))


def make_submission(
    root: Path,
    assignment: str,
    student: str,
    answers=None,
    edit=None,
    raw: bytes | None = None,
    notebook_name: str | None = None,
):
    """Write ``submitted/<student>/<assignment>/<notebook>`` made from the released notebook.

    ``answers`` maps answer-cell grade_ids to code (default: the instructor's solutions);
    ``edit(nb)`` may change the notebook object further (and may return a new one);
    ``raw`` writes those bytes instead (corrupt files).
    """
    nb, name = released_notebook(root, assignment)
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        (folder / (notebook_name or name)).write_bytes(raw)
        return folder / (notebook_name or name)
    nb = copy.deepcopy(nb)
    code = dict(solution_code(root, assignment))
    code.update(answers or {})
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in code and cell.metadata["nbgrader"].get("solution"):
            cell.source = code[gid]
    if edit is not None:
        nb = edit(nb) or nb
    path = folder / (notebook_name or name)
    path.write_text(
        nbformat.writes(nb, version=4) if nb.get("nbformat") == 4 else json.dumps(nb),
        encoding="utf-8",
    )
    return path


def hidden_test_lines(root: Path, assignment: str) -> list[str]:
    """Every non-blank line of hidden test code in the source notebook."""
    folder = root / "solutions" / assignment
    (path,) = folder.glob("*.ipynb")
    nb = nbformat.read(path, as_version=4)
    lines = []
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines
