"""The grader builds syntax trees in a thread per submission; on CPython 3.11 two threads
building trees at once can fail with "SystemError: AST constructor recursion depth
mismatch" (python/cpython#106905). CI met it once: the preflight's solution was reported
"could not be graded" and a whole class went ungraded. A garbage collection that runs
Python code while one thread builds a tree lets another thread in; the race below makes
that happen often, through the grader's own parsers.
"""

from __future__ import annotations

import ast
import gc
import io
import sys
import threading
import time

import numpy as np

from autograder.grading import notebooks
from autograder.sandbox.inside import wire

# Longer than notebooks.SHARED_TREE_CHARS, so that every call parses (no cached tree).
SOURCE = "\n".join(
    f"def f{i}(a, b):\n    return [(a + b * {i}) for _ in range(3)]" for i in range(1200)
)
assert len(SOURCE) > notebooks.SHARED_TREE_CHARS


def npy_blob() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(12.0).reshape(3, 4), allow_pickle=False)
    return buffer.getvalue()


class Cycle:
    """Garbage whose collection runs Python code, so a collection can switch threads."""

    def __del__(self):
        sum(range(50))


def race(parsers, seconds: float) -> list[str]:
    """Runs each parser in its own thread for ``seconds`` next to a thread making cyclic
    garbage, with collections frequent; the errors met (each thread stops at its first)."""
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def parse_until_stop(parser):
        while time.monotonic() < stop and not errors:
            try:
                parser()
            except Exception as exc:  # noqa: BLE001 - any failure is what is looked for
                errors.append(repr(exc))
                return

    def churn():
        while time.monotonic() < stop and not errors:
            a, b = Cycle(), Cycle()
            a.other, b.other = b, a

    threads = [threading.Thread(target=parse_until_stop, args=(p,)) for p in parsers]
    threads.append(threading.Thread(target=churn))
    thresholds = gc.get_threshold()
    gc.set_threshold(50, 1, 1)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.set_threshold(*thresholds)
    return errors


def test_the_graders_parsers_survive_the_race():
    if sys.version_info[:2] == (3, 11):  # where CPython has the bug, the race shows it
        errors = race([lambda: ast.parse(SOURCE)] * 3, seconds=20)
        assert errors and "recursion depth mismatch" in errors[0]
    blob = npy_blob()
    expected = np.arange(12.0).reshape(3, 4)

    def decode():
        assert np.array_equal(wire.blob_to_array(blob), expected)

    parsers = [
        lambda: notebooks.parse(SOURCE),
        lambda: notebooks.to_python(SOURCE),
        lambda: notebooks.docstring(SOURCE),
        decode,
        decode,
    ]
    assert race(parsers, seconds=4) == []
