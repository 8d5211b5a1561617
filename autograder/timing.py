"""The grader's named phases, for whoever wants to know where a run spends its time.

The grader wraps its main steps in :class:`phase` (``with phase("run cells"): ...``);
each costs one global lookup unless a collector is installed with :func:`collect`
(``benchmarks/grading_profile.py`` installs one). A collector has ``enter(name)`` and
``exit(name)``, called on the thread that runs the phase; phases nest.

This module imports nothing of the grader, so every layer may use it (the sandbox layer
too: tests/autograder/unit/test_layers.py allows it).
"""

from __future__ import annotations

import contextlib

# Every phase the grader times, in the order a run meets them (the profile's rows).
PHASES = (
    "open course",  # the course folder, the release and the reference, the gradebook
    "start sandbox",  # probe bubblewrap, take the slot uids
    "start zygote",  # a slot's long-lived sandbox: bubblewrap, python, numpy
    "up to date",  # which submissions already have a record with the same key
    "preflight",  # grade the solution and the unmodified release
    "grade",  # one submission, from bytes to record
    "read notebook",  # parse it, compare it with the release, scan its imports
    "run cells",  # a child runs the notebook's cells (forked, then set up)
    "call",  # one case: arguments in, the value out
    "check",  # the verdict on one value
    "record",  # gradebook, autograded notebook, feedback, record file
    "grades.csv",  # late penalties, then every record into grades.csv
)

_collector = None


class phase:  # noqa: N801 - used like a function: ``with phase("grade"):``
    """Time the block as phase ``name`` (one of :data:`PHASES`) if a collector is
    installed; otherwise do nothing."""

    __slots__ = ("name", "collector")

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.collector = _collector
        if self.collector is not None:
            self.collector.enter(self.name)
        return self

    def __exit__(self, *exc) -> bool:
        if self.collector is not None:
            self.collector.exit(self.name)
        return False


@contextlib.contextmanager
def collect(collector):
    """Send every phase to ``collector`` while the block runs."""
    global _collector
    if _collector is not None:
        raise RuntimeError("a timing collector is already installed")
    _collector = collector
    try:
        yield collector
    finally:
        _collector = None
