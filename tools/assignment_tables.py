"""Writes the assignment tables of ``exercises/README.md`` and ``docs/grading-contract.md``
from the registry (``upsampling/assignments.py``).

    .venv/bin/python -m tools.assignment_tables

``tests/exercises/test_notebooks.py`` fails when a committed table differs from the registry's.
"""

from __future__ import annotations

import re
from pathlib import Path

from upsampling.assignments import assignments_table

ROOT = Path(__file__).resolve().parent.parent
TABLES = {"exercises/README.md": True, "docs/grading-contract.md": False}
"""File (relative to the course root) -> whether its table lists folders."""


def table_block(text: str, folders: bool) -> re.Match:
    """The assignment table in ``text``: its header row and every row under it."""
    header = re.escape(assignments_table(folders).splitlines()[0])
    match = re.search(rf"^{header}\n(?:\|.*\|\n?)+", text, re.M)
    if match is None:
        raise ValueError("no assignment table (its header row) in the text")
    return match


def with_table(text: str, folders: bool) -> str:
    match = table_block(text, folders)
    end = "\n" if match.group(0).endswith("\n") else ""
    return text[: match.start()] + assignments_table(folders) + end + text[match.end() :]


def main() -> None:
    for name, folders in TABLES.items():
        path = ROOT / name
        text = path.read_text(encoding="utf-8")
        new = with_table(text, folders)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {name}")


if __name__ == "__main__":
    main()
