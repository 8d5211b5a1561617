"""The sandbox's system-call filter (autograder/sandbox/seccomp.py), attacked from inside:
each denied call fails with EPERM in a child forked by the slot's zygote and in a process
that child forks, the keyring attack of issue 19 finds nothing, and honest numpy code,
threads and warnings still work. As root the children run as the slot's uid; as an
ordinary user (tests/install/test_grading_as_ordinary_user.py runs this file too) in a user
namespace."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.sandbox import Limits, Sandbox, UidPool
from autograder.sandbox.seccomp import CLONE_NAMESPACES, DENIED, syscall_number
from autograder.sandbox.session import Returned, Session
from upsampling.checking import Unrepresentable

LIMITS = Limits(test_timeout=10.0, setup_timeout=20.0)
NUMBERS = {name: syscall_number(name) for name in DENIED}
NUMBERS = {name: nr for name, nr in NUMBERS.items() if nr is not None}

PROBE = """
import ctypes, os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def call(nr, *args):
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    if result == 0 and nr == CLONE:  # a clone the filter let through: the copy leaves
        os._exit(0)
    return [int(result), ctypes.get_errno()]

def seccomp_mode():
    with open("/proc/self/status") as f:
        return [line.split()[1] for line in f if line.startswith("Seccomp:")][0]

def probe(numbers, clone_flags):
    out = {str(nr): call(nr, 0, 0, 0, 0, 0) for nr in numbers}
    out.update({f"clone {flag}": call(CLONE, flag | 17, 0, 0, 0, 0) for flag in clone_flags})
    out["personality(PER_BSD)"] = call(PERSONALITY, 6)
    out["personality(query)"] = call(PERSONALITY, 0xFFFFFFFF)
    out["add_key(user)"] = call(ADD_KEY, ctypes.addressof(TYPE), ctypes.addressof(DESC),
                                ctypes.addressof(DESC), 4, -3)
    out["seccomp"] = seccomp_mode()
    return out

TYPE = ctypes.create_string_buffer(b"user")
DESC = ctypes.create_string_buffer(b"answer")

def look(numbers, clone_flags, in_grandchild=False):
    if not in_grandchild:
        return str(probe(numbers, clone_flags))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write_end, str(probe(numbers, clone_flags)).encode())
        os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    os.waitpid(pid, 0)
    return data.decode()
"""

HONEST = """
import threading, warnings
import numpy as np

def look(x):
    results = []
    threads = [threading.Thread(target=lambda: results.append(float(np.linalg.norm(x))))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("careful")
        np.array([1.0]) / 0.0
    return [results, len(caught), float(np.fft.fft(x).real.sum())]
"""


@pytest.fixture
def slot():
    sandbox = Sandbox("bwrap", LIMITS)
    pool = UidPool(1, enabled=sandbox.root)
    yield sandbox, pool.free[0]
    sandbox.close()
    pool.close()


def _call(slot, code, function, args, kwargs):
    sandbox, uid = slot
    session = Session(sandbox, uid, [{"index": 0, "code": code}], Unrepresentable)
    try:
        assert session.start(), session.broken
        assert session.cell_results[0]["status"] == "ok", session.cell_results
        outcome = session.call(function, args, kwargs, LIMITS.test_timeout)
    finally:
        session.close()
    assert isinstance(outcome, Returned), outcome
    return outcome.value


def _probe_code():
    constants = {n: syscall_number(n) for n in ("clone", "personality", "add_key")}
    head = "CLONE, PERSONALITY, ADD_KEY = {clone}, {personality}, {add_key}\n".format(**constants)
    return head + PROBE


def test_the_sandbox_says_it_filters_system_calls(slot):
    assert slot[0].bwrap.seccomp, slot[0].filter_problem
    assert "system-call filter" in slot[0].description
    assert len(NUMBERS) >= 50


@pytest.mark.parametrize("where", ["zygote's child", "a process it forks"])
def test_every_denied_call_fails_with_eperm_inside_the_sandbox(slot, where):
    import ast
    import errno

    kwargs = {
        "numbers": sorted(NUMBERS.values()),
        "clone_flags": sorted(CLONE_NAMESPACES.values()),
        "in_grandchild": where != "zygote's child",
    }
    got = ast.literal_eval(_call(slot, _probe_code(), "look", [], kwargs))
    assert got.pop("seccomp") == "2"  # a filter is installed in this very process
    query = got.pop("personality(query)")
    assert query[0] >= 0  # reading the personality is allowed
    by_name = {name: got[str(nr)] for name, nr in NUMBERS.items()}
    by_name.update({k: v for k, v in got.items() if not k.isdigit()})
    wrong = {name: r for name, r in by_name.items() if r != [-1, errno.EPERM]}
    assert wrong == {}, wrong


def test_honest_numpy_threads_and_warnings_still_work(slot):
    x = np.arange(6.0)
    results, warned, total = _call(slot, HONEST, "look", [x], {})
    assert results == [pytest.approx(float(np.linalg.norm(x)))] * 4
    assert warned == 2 and total == pytest.approx(float(np.fft.fft(x).real.sum()))
