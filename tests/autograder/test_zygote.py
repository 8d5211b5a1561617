"""The worker slot's zygote: one sandbox serves the slot's children one after the other,
and nothing passes from one student's child to the next one's.

Each test runs notebooks (as cell code) through :class:`autograder.sandbox.session.Session` in one
bubblewrap sandbox and one slot, in a known order: the first student leaves or attacks
something, the next one looks. As root the children run as the slot's uid (the zygote
stays root); as an ordinary user (``tests/install/test_grading_as_ordinary_user.py`` runs this
file too) the zygote and its children share the user's uid in a user namespace.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from autograder.sandbox import Limits, Sandbox, UidPool
from autograder.sandbox.processes import processes_of_uid
from autograder.sandbox.session import CRASHED, Fault, Returned, Session
from tests.autograder.fixtures.channels import CHANNELS, REFUSED_AT_ONCE, channel_code
from upsampling.checking import Unrepresentable

LIMITS = Limits(test_timeout=5.0, setup_timeout=20.0)

# What the next student's child sees of the sandbox: other processes (besides the
# namespace's init, itself and its parent), the scratch folders, a module attribute set
# by the previous student, and when the sandbox started (pid 1's start time).
LOOK = """
import os
import numpy

def look(x):
    me, parent = str(os.getpid()), str(os.getppid())
    others = []
    for name in os.listdir("/proc"):
        if name.isdigit() and name not in ("1", me, parent):
            with open(f"/proc/{name}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] != "Z":
                    others.append(name)
    with open("/proc/1/stat") as f:
        started = int(f.read().rpartition(")")[2].split()[19])
    scratch = {d: sorted(os.listdir(d)) for d in ("/tmp", "/dev/shm") if os.path.isdir(d)}
    return (len(others), str(scratch), getattr(numpy, "left_by_the_last_one", "nothing"),
            started, 2 * x)
"""

BACKGROUND = """
import os, time, numpy
numpy.left_by_the_last_one = "a secret"
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(0.05)
    os._exit(0)
time.sleep(0.2)

def look(x):
    return 2 * x
"""

LEAVES_A_FILE = BACKGROUND.replace(
    'numpy.left_by_the_last_one = "a secret"',
    'numpy.left_by_the_last_one = "a secret"\nopen("/tmp/answers.txt", "w").write("42")',
)

READS_ZYGOTE_MEMORY = """
import os

def look(x):
    pid = os.getpid() if int(x) == 0 else os.getppid()  # 0: itself, to show it can
    try:
        with open(f"/proc/{pid}/maps") as f:
            start = int(f.readline().split("-")[0], 16)
        with open(f"/proc/{pid}/mem", "rb") as f:
            f.seek(start)
            f.read(4)
    except OSError as exc:
        return f"refused ({type(exc).__name__})"
    return "read it"
"""

SIGNALS_ZYGOTE = """
import os, signal, time

def look(x):
    try:
        os.kill(os.getppid(), signal.{name})
    except OSError:
        return "refused"
    time.sleep(0.5)
    return "sent"
"""


@pytest.fixture
def slot():
    sandbox = Sandbox("bwrap", LIMITS)
    pool = UidPool(1, enabled=sandbox.root)
    yield sandbox, pool.free[0]
    sandbox.close()
    pool.close()


def _run(slot, code: str, x=3):
    """One student's notebook (one cell) and one call of ``look(x)``."""
    sandbox, uid = slot
    session = Session(sandbox, uid, [{"index": 0, "code": code}], Unrepresentable)
    try:
        assert session.start(), session.broken
        assert session.cell_results[0]["status"] == "ok", session.cell_results
        return session.call("look", [np.array(x)], {}, LIMITS.test_timeout)
    finally:
        session.close()


def _returned(outcome):
    """The value a call returned (failing the test on anything else)."""
    assert isinstance(outcome, Returned), outcome
    return outcome.value


def _look(slot):
    value = _returned(_run(slot, LOOK, x=21))
    others, scratch, attribute, started, doubled = value
    assert int(doubled) == 42  # this student's code ran normally
    return others, scratch, attribute, started


def test_processes_and_memory_do_not_reach_the_next_student(slot):
    _, _, _, first_start = _look(slot)
    assert int(_returned(_run(slot, BACKGROUND))) == 6
    others, scratch, attribute, started = _look(slot)
    assert started == first_start  # the same sandbox served all three children
    assert others == 0
    assert attribute == "nothing"
    assert "answers" not in scratch
    if slot[0].root:
        assert processes_of_uid(slot[1]) == []  # and nothing of the slot uid lives on


def test_files_left_in_tmp_do_not_reach_the_next_student(slot):
    _, _, _, first_start = _look(slot)
    assert int(_returned(_run(slot, LEAVES_A_FILE))) == 6
    others, scratch, attribute, started = _look(slot)
    assert scratch == str({"/tmp": [], "/dev/shm": []})
    assert others == 0 and attribute == "nothing"
    assert started != first_start  # a file left behind costs the slot a fresh sandbox


def test_a_child_cannot_read_its_zygote_memory(slot):
    assert _run(slot, READS_ZYGOTE_MEMORY, x=0) == Returned("read it")  # its own
    value = _returned(_run(slot, READS_ZYGOTE_MEMORY, x=1))
    assert value.startswith("refused"), value
    _look(slot)


@pytest.mark.parametrize("name", ["SIGKILL", "SIGSTOP", "SIGTERM"])
def test_a_child_that_signals_its_zygote_only_hurts_itself(slot, name):
    _, _, _, first_start = _look(slot)
    outcome = _run(slot, SIGNALS_ZYGOTE.replace("{name}", name))
    if slot[0].root:  # the zygote is root, the child the slot uid: not allowed
        assert outcome == Returned("refused")
    elif name == "SIGKILL":  # same uid: the student's own process dies with the zygote
        assert isinstance(outcome, Fault) and outcome.kind == CRASHED, outcome
    else:  # ignored (SIGTERM), or a stopped zygote, killed with its sandbox afterwards
        assert outcome == Returned("sent")
    others, scratch, attribute, started = _look(slot)  # the next student is graded normally
    assert others == 0 and attribute == "nothing"
    if slot[0].root or name == "SIGTERM":
        assert started == first_start


def test_as_root_the_zygote_is_root_and_the_child_the_slot_uid(slot):
    sandbox, uid = slot
    code = """
import os

def look(x):
    with open(f"/proc/{os.getppid()}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["Uid"].split()[0]), os.getuid(), os.geteuid()
"""
    zygote_uid, child_uid, child_euid = _returned(_run(slot, code))
    if sandbox.root:
        assert (zygote_uid, child_uid, child_euid) == (0, uid, uid)
    else:  # user-namespace mode: one uid for all, the zygote protected by not dumpable
        assert zygote_uid == child_uid == child_euid == os.getuid()


# Channels between submissions (issue 19): tests/autograder/fixtures/channels.py.
@pytest.mark.parametrize("channel", list(CHANNELS))
def test_nothing_one_submission_leaves_reaches_the_next(slot, channel):
    leave, find = CHANNELS[channel]
    assert _returned(_run(slot, channel_code(find, "find"))) == ""  # a clean slot
    left = _returned(_run(slot, channel_code(leave, "leave")))
    assert left == REFUSED_AT_ONCE.get(channel, "left"), left
    assert _returned(_run(slot, channel_code(find, "find"))) == ""
    if slot[0].root:
        assert processes_of_uid(slot[1]) == []
