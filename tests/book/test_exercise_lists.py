"""The book's lists of graded work follow the registry and the graded notebooks.

Each chapter's exercise list and the students' page name every function its notebook
grades (the reference manifest: one entry per graded test cell), in the notebook's order,
and no other; the students' page has one row per assignment of the registry.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from upsampling.assignments import ASSIGNMENTS
from upsampling.checking import load_reference

BOOK = Path(__file__).resolve().parents[2] / "book"


def graded_functions(assignment: str) -> list[str]:
    """The functions the notebook's test cells check, in order of their first cell."""
    manifest, _ = load_reference(assignment)
    return list(dict.fromkeys(test["function"] for test in manifest["tests"].values()))


def named_functions(text: str, candidates) -> list[str]:
    """The candidates named in ``text`` as code (`name` or {py:func}`~module.name`), in order
    of first appearance."""
    found = re.findall(r"`(?:~[\w.]+\.)?(\w+)`", text)
    return [name for name in dict.fromkeys(found) if name in candidates]


def every_graded_function() -> set[str]:
    return {f for a in ASSIGNMENTS for f in graded_functions(a)}


def exercise_list(page: str) -> str:
    """The numbered list of a chapter's Exercises section (before its questions)."""
    text = (BOOK / page).read_text(encoding="utf-8")
    section = text.split("\n## Exercises\n", 1)[1]
    return section.split("Questions to think about", 1)[0]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_chapter_exercise_list_names_every_graded_function(assignment):
    a = ASSIGNMENTS[assignment]
    items = re.findall(r"^\d+\. (.*(?:\n {3}.*)*)", exercise_list(a.chapter_page), re.M)
    named = named_functions("\n".join(items), every_graded_function())
    assert named == graded_functions(assignment), a.chapter_page


def student_rows() -> list[list[str]]:
    text = (BOOK / "for_students.md").read_text(encoding="utf-8")
    header = "| chapter | notebook | you build |"
    table = text.split(header, 1)[1].strip().splitlines()[1:]
    rows = []
    for line in table:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_students_table_has_one_row_per_assignment_in_order():
    expected = [[f"{a.chapter}. {a.chapter_title}", f"`{a.release}`"] for a in ASSIGNMENTS.values()]
    assert [row[:2] for row in student_rows()] == expected


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_students_table_names_every_graded_function(assignment):
    row = student_rows()[list(ASSIGNMENTS).index(assignment)]
    assert named_functions(row[2], every_graded_function()) == graded_functions(assignment)


def test_a_missing_function_is_noticed():
    """The check is not vacuous: dropping one function from a list makes it differ."""
    items = exercise_list(ASSIGNMENTS["03_transposed_conv"].chapter_page)
    shortened = items.replace("`conv_transpose2d_zero_insertion`", "the zero-insertion view")
    named = named_functions(shortened, every_graded_function())
    assert named != graded_functions("03_transposed_conv")
