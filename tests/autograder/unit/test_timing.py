"""The grader's named phases (autograder.timing): nothing without a collector; with one,
every phase entered is exited, nested as the code nests them, on the thread that ran it."""

from __future__ import annotations

import threading

import pytest

from autograder import timing
from autograder.timing import phase


class Recorder:
    def __init__(self):
        self.events = []

    def enter(self, name):
        self.events.append(("enter", name, threading.get_ident()))

    def exit(self, name):
        self.events.append(("exit", name, threading.get_ident()))


def test_phases_nest_and_reach_the_collector_in_order():
    recorder = Recorder()
    with timing.collect(recorder):
        with phase("grade"):
            with phase("run cells"):
                pass
            with pytest.raises(ValueError), phase("call"):
                raise ValueError("the block's exception passes through")
    me = threading.get_ident()
    assert recorder.events == [
        ("enter", "grade", me),
        ("enter", "run cells", me),
        ("exit", "run cells", me),
        ("enter", "call", me),
        ("exit", "call", me),
        ("exit", "grade", me),
    ]


def test_without_a_collector_a_phase_records_nothing():
    recorder = Recorder()
    with timing.collect(recorder):
        pass
    with phase("grade"):  # after the collector is gone
        pass
    assert recorder.events == []


def test_a_phase_is_reported_on_the_thread_that_ran_it():
    recorder = Recorder()
    with timing.collect(recorder):
        worker = threading.Thread(target=lambda: phase("grade").__enter__().__exit__())
        worker.start()
        worker.join()
    assert [(kind, name) for kind, name, _ in recorder.events] == [
        ("enter", "grade"),
        ("exit", "grade"),
    ]
    assert {thread for _, _, thread in recorder.events} == {worker.ident}


def test_one_collector_at_a_time():
    with timing.collect(Recorder()), pytest.raises(RuntimeError, match="already installed"):
        with timing.collect(Recorder()):
            pass


def test_every_phase_the_grader_names_is_declared():
    """The profile prints PHASES; a phase used in the code but missing there (or the
    reverse) would be a row nobody reads, or one that is always empty."""
    import re
    from pathlib import Path

    package = Path(timing.__file__).parent
    used = set()
    for module in package.rglob("*.py"):
        used |= set(re.findall(r'phase\("([^"]+)"\)', module.read_text()))
    assert used == set(timing.PHASES)
