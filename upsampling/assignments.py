"""The graded assignments: one registry that the notebooks, the reference generator, the
autograder and the tests all read.

Plain data, no numpy and no torch: the autograder imports it in its trusted process, the
student package uses it to find its reference data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    """One graded notebook.

    ``name`` is the nbgrader assignment (the folder in ``solutions/`` and ``exercises/``,
    the stem of ``<name>.npz``); ``topic`` prefixes every ``grade_id`` of the notebook;
    ``chapter`` is the book's chapter number, ``chapter_page`` its file in ``book/`` and
    ``chapter_title`` its title as the tables print it.
    """

    name: str
    notebook: str
    topic: str
    chapter: int
    chapter_page: str
    chapter_title: str

    @property
    def source(self) -> str:
        """Path of the instructor's notebook, relative to the course root."""
        return f"solutions/{self.name}/{self.notebook}"

    @property
    def release(self) -> str:
        """Path of the student's notebook, relative to the course root."""
        return f"exercises/{self.name}/{self.notebook}"


ASSIGNMENTS: dict[str, Assignment] = {
    a.name: a
    for a in (
        Assignment("01_sizes", "sizes.ipynb", "sizes", 1, "01_why_upsample.md", "Why upsample"),
        Assignment(
            "02_unpooling",
            "unpooling.ipynb",
            "unpooling",
            2,
            "02_unpooling.md",
            "Unpooling and fixed upsampling",
        ),
        Assignment(
            "03_transposed_conv",
            "transposed_conv.ipynb",
            "transposed",
            3,
            "03_transposed_convolution.md",
            "The transposed convolution",
        ),
        Assignment(
            "04_checkerboard",
            "checkerboard.ipynb",
            "checkerboard",
            4,
            "04_checkerboard.md",
            "Checkerboard artifacts",
        ),
    )
}
"""Every assignment by name, in chapter order."""


def assignments_table(folders: bool = False) -> str:
    """The Markdown table of the assignments that ``exercises/README.md`` and
    ``docs/grading-contract.md`` show (``tests/exercises/test_notebooks.py`` keeps them equal)."""
    if folders:
        rows = ["| folder | notebook | chapter |", "|---|---|---|"]
        rows += [
            f"| `{a.name}/` | `{a.notebook}` | {a.chapter}. {a.chapter_title} |"
            for a in ASSIGNMENTS.values()
        ]
    else:
        rows = ["| assignment | notebook | chapter |", "|---|---|---|"]
        rows += [f"| `{a.name}` | `{a.notebook}` | {a.chapter} |" for a in ASSIGNMENTS.values()]
    return "\n".join(rows)
