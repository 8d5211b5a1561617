"""The grader's layers, read from its import statements.

- ``autograder/sandbox/inside/`` runs in the sandbox, where only the standard library and
  numpy exist (``harness.py`` is started there with ``python -I -S``);
- ``autograder/sandbox/`` says what happened to a child and imports nothing of the
  grading layer or of the class-level modules, nor the course package;
- ``autograder/grading/`` grades one submission: it may use the sandbox layer and the
  course package's checker, never the class-level modules (course folders, runners,
  cluster, command line).

Both may use :mod:`autograder.timing`, which imports nothing of the grader.

Every import counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "autograder"


def imported_modules(source: str) -> set[str]:
    """Every module an ``import`` statement in ``source`` names (``"."`` for a relative
    import), wherever the statement is."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." if node.level else node.module)
    return found


def imports_of(folder: Path) -> dict[str, set[str]]:
    """module path (relative to autograder/) -> the modules it imports."""
    modules = sorted(folder.rglob("*.py"))
    assert modules, f"no modules in {folder}"
    return {
        path.relative_to(PACKAGE).as_posix(): imported_modules(path.read_text()) for path in modules
    }


def root(module: str) -> str:
    return module.partition(".")[0]


def test_the_import_reader_sees_nested_and_relative_imports():
    source = (
        "import os, numpy.linalg\nfrom json import dumps\n"
        "def f():\n    import torch.nn as nn\n    from . import wire\n"
        "class C:\n    from autograder.grading import job\n"
    )
    assert imported_modules(source) == {
        "os",
        "numpy.linalg",
        "json",
        "torch.nn",
        ".",
        "autograder.grading",
    }


def test_what_runs_inside_the_sandbox_imports_the_standard_library_and_numpy_only():
    for module, imports in imports_of(PACKAGE / "sandbox" / "inside").items():
        outside = {
            name
            for name in imports
            if name != "." and root(name) not in sys.stdlib_module_names and root(name) != "numpy"
        }
        assert "." not in imports, f"{module}: a relative import does not resolve in the sandbox"
        assert outside == set(), f"{module} imports {sorted(outside)}, absent in the sandbox"


@pytest.mark.parametrize(
    ("layer", "allowed", "forbidden"),
    [
        ("sandbox", ("autograder.sandbox", "autograder.timing"), ("upsampling",)),
        ("grading", ("autograder.sandbox", "autograder.grading", "autograder.timing"), ()),
    ],
)
def test_each_layer_imports_only_itself_and_the_layers_below(layer, allowed, forbidden):
    for module, imports in imports_of(PACKAGE / layer).items():
        upward = {name for name in imports if root(name) == "autograder"}
        upward = {name for name in upward if not name.startswith(allowed)}
        assert upward == set(), f"{module} imports {sorted(upward)}, above its layer"
        banned = {name for name in imports if forbidden and name.startswith(forbidden)}
        assert banned == set(), f"{module} imports {sorted(banned)}"


def test_the_timing_module_imports_nothing_of_the_grader():
    imports = imported_modules((PACKAGE / "timing.py").read_text())
    assert {name for name in imports if root(name) == "autograder"} == set()
