"""Reading a submission and comparing it with the release (autograder.grading.notebooks),
on a small notebook made here: what runs, what counts as tampering, and how the graded
notebook is laid out. Nothing is executed."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.grading import notebooks
from autograder.grading.notebooks import UnreadableNotebook

SETUP = "import numpy as np"
STUB = "def double(x):\n    raise NotImplementedError"
ANSWER = "def double(x):\n    return 2 * x"
TEST = '"""double doubles an array."""\ncheck_cases(double, "00_fixture", "test-double")'


def cell(kind, source, **nbgrader):
    made = (
        nbformat.v4.new_code_cell(source)
        if kind == "code"
        else nbformat.v4.new_markdown_cell(source)
    )
    if nbgrader:
        made.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False,
                                     "locked": False, **nbgrader}  # fmt: skip
    return made


def release():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        cell("markdown", "# Doubling", grade_id="intro", locked=True),
        cell("code", SETUP, grade_id="setup", locked=True),
        cell("code", STUB, grade_id="answer-double", solution=True),
        cell("code", TEST, grade_id="test-double", grade=True, points=2, locked=True),
    ]
    return nb


RELEASED = notebooks.Released.from_notebook(release())


def submission(edit=None) -> bytes:
    nb = release()
    nb.cells[2].source = ANSWER
    if edit:
        edit(nb)
    return nbformat.writes(nb).encode()


def analyse(edit=None):
    return notebooks.analyse(RELEASED, notebooks.read_notebook(submission(edit)))


def test_the_release_names_its_tests_answers_and_read_only_cells():
    assert list(RELEASED.tests) == ["test-double"]
    test = RELEASED.tests["test-double"]
    assert (test.index, test.points, test.title) == (3, 2.0, "double doubles an array.")
    assert RELEASED.solutions == {"answer-double"} and RELEASED.locked == {"setup": SETUP}


def test_an_honest_submission_runs_every_code_cell_but_the_tests():
    result = analyse()
    assert [(c["index"], c["origin"]) for c in result.cells] == [(1, "released"), (2, "student")]
    assert result.cells[1]["code"] == ANSWER + "\n"
    assert (result.tampered, result.flags, result.notes) == ({}, [], [])


def edit_test(nb):
    nb.cells[3].source = TEST + "\nassert True"


def strip_test(nb):
    del nb.cells[3].metadata["nbgrader"]


def duplicate_test(nb):
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[3])))
    copy.id = "copy-of-the-test"
    nb.cells.append(copy)


def delete_test(nb):
    del nb.cells[3]


def worth_more(nb):
    nb.cells[3].metadata["nbgrader"]["points"] = 100


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (edit_test, "the test cell was edited"),
        (strip_test, "the test cell's nbgrader metadata was removed or renamed"),
        (duplicate_test, "the test cell appears 2 times (duplicated grade_id)"),
        (delete_test, "the test cell was deleted or edited beyond recognition"),
        (worth_more, "the test cell's nbgrader metadata was changed"),
    ],
)
def test_a_tampered_test_is_named_with_its_reason_and_flagged(edit, reason):
    result = analyse(edit)
    assert result.tampered == {"test-double": reason}
    assert f"test test-double: {reason}" in result.flags
    assert all(c["index"] != 3 for c in result.cells)  # a test cell is never run


def test_an_edited_read_only_cell_runs_as_released():
    def edit(nb):
        nb.cells[1].source = "import torch as np"

    result = analyse(edit)
    assert result.cells[0] == {"index": 1, "code": SETUP + "\n", "origin": "released"}
    assert result.notes == [
        "cell 2 is read-only in the release but was edited; the released version was run instead"
    ]


def test_an_extra_grade_cell_is_ignored_and_flagged():
    def edit(nb):
        nb.cells.append(cell("code", "pass", grade_id="bonus", grade=True, points=100))

    result = analyse(edit)
    assert result.tampered == {}
    assert result.flags == [
        "cell 5: an extra grade cell (grade_id 'bonus', 100 points) that is not in the "
        "released notebook; ignored"
    ]


def test_ipython_syntax_becomes_python_and_python_stays_as_it_is():
    assert notebooks.to_python("x = 1") == "x = 1\n"
    assert notebooks.to_python("%time y = 2") == "get_ipython().run_line_magic('time', 'y = 2')\n"
    assert notebooks.to_python("!ls") == "get_ipython().system('ls')\n"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"cells": [', "not valid JSON (line 1, column 12"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b"[]", "JSON is not an object"),
        (json.dumps({"nbformat": 5, "cells": []}).encode(), "format version 5"),
        (json.dumps({"nbformat": 4, "cells": {}}).encode(), "no list of cells"),
    ],
)
def test_an_unreadable_submission_says_why(data, reason):
    with pytest.raises(UnreadableNotebook, match=reason.replace("(", r"\(")):
        notebooks.read_notebook(data)


def test_the_graded_notebook_is_the_release_with_the_answers_and_the_verdicts():
    def add_cell(nb):
        nb.cells.insert(3, nbformat.v4.new_code_cell("print(double(2))"))

    nb = notebooks.read_notebook(submission(add_cell))
    graded = notebooks.autograded_notebook(RELEASED, nb, {"test-double": "autograder: passed"})
    sources = [c.source for c in graded.cells]
    assert sources == ["# Doubling", SETUP, ANSWER, "print(double(2))", TEST]
    test = graded.cells[4]
    assert test.metadata["nbgrader"]["grade_id"] == "test-double"
    assert [o["text"] for o in test.outputs] == ["autograder: passed"]
    assert "nbgrader" not in graded.cells[3].metadata  # a student's own cell grades nothing
    nbformat.validate(graded)


def test_the_solved_release_holds_the_instructors_answers():
    source = release()
    source.cells[2].source = f"### BEGIN SOLUTION\n{ANSWER}\n### END SOLUTION"
    solved = notebooks.solved_release(release(), source)
    assert [c.source for c in solved.cells] == ["# Doubling", SETUP, ANSWER, TEST]


def test_cells_without_nbgrader_metadata_appear_once_in_the_graded_notebook():
    """The release's ordinary cells (instructions, a plotting cell: no nbgrader metadata)
    stay in a submission; the graded notebook shows each once, in the release's order,
    with the student's own cells after the cell they followed."""
    PLOT = "print(double(np.arange(3)))"

    def with_plain_cells(nb):
        nb.cells.insert(0, cell("markdown", "Read this first."))
        nb.cells.insert(4, cell("markdown", "## Try it"))
        nb.cells.insert(5, cell("code", PLOT))
        nb.cells.append(cell("markdown", "Done."))

    released = release()
    with_plain_cells(released)
    released = notebooks.Released.from_notebook(released)

    def student(nb):
        with_plain_cells(nb)
        nb.cells.insert(6, cell("code", "double(5)"))  # the student's own, after PLOT

    graded = notebooks.autograded_notebook(
        released, notebooks.read_notebook(submission(student)), {"test-double": "passed"}
    )
    assert [c.source for c in graded.cells] == [
        "Read this first.", "# Doubling", SETUP, ANSWER, "## Try it", PLOT, "double(5)",
        TEST, "Done.",
    ]  # fmt: skip
    nbformat.validate(graded)
