"""The forbidden-import scan (autograder.grading.scan): which function uses a library
graded code must not use, however it reaches it, and which cell defines each name."""

from __future__ import annotations

from autograder.grading.scan import scan
from autograder.sandbox import FORBIDDEN_MODULES


def cells(*sources, origin="student"):
    return [{"index": i, "code": s, "origin": origin} for i, s in enumerate(sources)]


def test_plain_numpy_code_uses_nothing_forbidden():
    found = scan(cells("import numpy as np", "def f(x):\n    return np.flip(x)"), FORBIDDEN_MODULES)
    assert (found.forbidden, found.forbidden_cells) == ({}, {})
    assert found.defined_in == {"np": 0, "f": 1}


def test_every_way_of_reaching_a_forbidden_library_is_found():
    found = scan(
        cells(
            "import torch.nn.functional as F",
            "def by_alias(x):\n    return F.conv_transpose2d(x, x)",
            "def inside(x):\n    import torch\n    return torch.flip(x)",
            "def dynamic(x):\n    return __import__('tensorflow')",
            "def caller(x):\n    return helper(x)\n\ndef helper(x):\n    return inside(x)",
            "def clean(x):\n    return x",
        ),
        FORBIDDEN_MODULES,
    )
    assert found.forbidden == {
        "by_alias": ["torch"],
        "inside": ["torch"],
        "dynamic": ["tensorflow"],
        "caller": ["torch"],  # through helper, then inside
        "helper": ["torch"],
    }
    assert found.forbidden_cells == {0: ["torch"], 3: ["tensorflow"]}


def test_the_last_definition_wins_and_released_cells_are_not_the_students():
    found = scan(
        cells("def f(x):\n    return x", "x = 1", "def f(x):\n    return 2 * x"),
        FORBIDDEN_MODULES,
    )
    assert found.defined_in == {"f": 2, "x": 1}
    released = scan(cells("import torch", origin="released"), FORBIDDEN_MODULES)
    assert (released.forbidden_cells, released.defined_in) == ({}, {})


def test_a_cell_that_does_not_parse_is_skipped():
    found = scan(cells("def f(:", "import torch"), FORBIDDEN_MODULES)
    assert found.forbidden_cells == {1: ["torch"]}
