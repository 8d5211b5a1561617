"""Catalogue item 12 and friends: kill and resume, two graders, re-grading, weak isolation."""

from __future__ import annotations

import concurrent.futures
import csv
import os
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from pathlib import Path

import pytest

from autograder.run import GradingOptions, grade_assignment
from autograder.sandbox import Limits, Sandbox
from autograder.sandbox.processes import processes_of_uid
from tests.autograder.fixtures.course import (
    FIXTURE,
    REPO,
    fixture_course,
    fresh_copy,
    grade_command,
    make_submission,
    venv_env,
)

N = 12
WRONG = {"double-answer": "def double(x):\n    return 3 * x"}


def _expected(student: str) -> float:
    return 1.0 if student.endswith("7") else 3.0


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    os.environ["PATH"] = venv_env()["PATH"]
    root = fixture_course(tmp_path_factory.mktemp("fixture") / "course")
    for i in range(N):
        student = f"student{i:02d}"
        make_submission(root, FIXTURE, student, answers=WRONG if _expected(student) < 3 else None)
    return root


@pytest.fixture
def course(template, tmp_path):
    return fresh_copy(template, tmp_path)


def _grader(root: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        grade_command(root, "--no-progress", "--timeout", "3", *extra),
        cwd=REPO,
        env=venv_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_consistent(root: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        subs = gb.assignment_submissions(FIXTURE)
        assert sorted(s.student.id for s in subs) == [f"student{i:02d}" for i in range(N)]
        for sub in subs:
            assert sub.score == _expected(sub.student.id)
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student_id"] for r in rows) == [f"student{i:02d}" for i in range(N)]
    assert all(float(r["score"]) == _expected(r["student_id"]) for r in rows)


def _cmdline(pid: int) -> str:
    """What a process is: its command line, state and parent (for a failure message)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120].decode()
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
        ppid = int(status["PPid"])
        parent = Path(f"/proc/{ppid}/cmdline").read_bytes().replace(b"\0", b" ")[:80].decode()
        return (
            f"{cmd} [state {status['State'].strip()}, NSpid {status['NSpid'].strip()}, "
            f"parent {ppid}: {parent}]"
        )
    except (OSError, KeyError, ValueError) as exc:
        return repr(exc)


def _processes() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every live process."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_bytes().rpartition(b")")[2].split()
                if fields[0] not in (b"Z", b"X"):
                    found[int(name)] = (int(fields[1]), Path(f"/proc/{name}/cmdline").read_bytes())
            except (OSError, IndexError, ValueError):
                continue
    return found


def _in_a_sandbox(cmdline: bytes) -> bool:
    program = cmdline.split(b"\0")[0]
    return program.endswith(b"bwrap") or b"/opt/grader/harness.py" in cmdline


def _strays() -> list[int]:
    """Sandbox processes (bubblewrap, the zygote, children and what they started) whose
    grader is gone: every ancestor up to the machine's init is itself a sandbox process.
    The sandboxes of graders that are still running (another test, another grader on
    this machine, which may hold the same slot uids later) are not strays; counting them
    by uid, as this test once did, made it fail whenever another grader ran meanwhile."""
    procs = _processes()
    strays = []
    for pid, (ppid, cmdline) in procs.items():
        if not _in_a_sandbox(cmdline):
            continue
        while ppid in procs and ppid != 1 and _in_a_sandbox(procs[ppid][1]):
            ppid = procs[ppid][0]
        if ppid in (0, 1):
            strays.append(pid)
    return strays


def test_killed_grader_resumes_without_loss_or_doubling(course):
    proc = _grader(course, "--jobs", "2")
    records = course / "autograded"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(list(records.glob(f"*/{FIXTURE}/autograder.json"))) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    # Nothing survives the kill itself. A sandbox lives as long as its zygote's control
    # socket to the grader (not bubblewrap's --die-with-parent, which a bwrap started in
    # the instant of the kill arms too late): at its end the zygote kills every process
    # of its sandbox, and the PID namespace dies with it. Noticing takes a moment.
    deadline = time.monotonic() + 10
    while _strays() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = {pid: _cmdline(pid) for pid in _strays()}
    assert left == {}, f"sandboxed processes survived the killed grader: {left}"
    done = len(list(records.glob(f"*/{FIXTURE}/autograder.json")))
    assert 3 <= done < N
    again = _grader(course, "--jobs", "2")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert f"{done} already up to date" in out or done == N
    _check_consistent(course)
    assert _strays() == []


def test_two_graders_on_one_gradebook(course):
    first, second = _grader(course, "--jobs", "1"), _grader(course, "--jobs", "1")
    for proc in (first, second):
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    _check_consistent(course)
    assert _strays() == []


def test_regrading_gives_identical_results(course):
    result = grade_assignment(
        course, FIXTURE, GradingOptions(n_jobs=2, progress=False, limits=Limits(test_timeout=3))
    )
    assert not result["errors"]
    files = sorted(course.glob(f"autograded/*/{FIXTURE}/autograder.json"))
    files += sorted(course.glob(f"feedback/*/{FIXTURE}/*"))
    before = {p: p.read_bytes() for p in files}
    csv_before = (course / "grades.csv").read_bytes()
    again = grade_assignment(
        course, FIXTURE, GradingOptions(n_jobs=2, progress=False, limits=Limits(test_timeout=3))
    )
    assert again["counts"]["up to date"] == N  # nothing changed: nothing re-graded
    forced = grade_assignment(
        course,
        FIXTURE,
        GradingOptions(n_jobs=2, progress=False, force=True, limits=Limits(test_timeout=3)),
    )
    assert len(forced["records"]) == N
    assert {p: p.read_bytes() for p in files} == before
    assert (course / "grades.csv").read_bytes() == csv_before
    _check_consistent(course)


def test_weak_isolation_still_grades_and_warns(course, tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"  # the grader's temporary folders go here, to be counted
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = grade_assignment(
            course,
            FIXTURE,
            GradingOptions(
                n_jobs=2,
                progress=False,
                sandbox_mode="none",
                limits=Limits(test_timeout=3),
                students=["student00", "student07"],
            ),
        )
    assert any("WITHOUT a sandbox" in str(w.message) for w in caught)
    scores = {r["student_id"]: r["score"] for r in result["records"]}
    assert scores == {"student00": 3.0, "student07": 1.0}
    assert result["sandbox"] == "none"
    assert list(scratch.iterdir()) == []  # no package folder or run folder left behind


def test_weak_isolation_makes_one_package_folder_for_threads_starting_at_once(
    tmp_path, monkeypatch
):
    """The grader's threads start their first children at the same moment: they share one
    package folder, and close() leaves none behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the weak-isolation warning
        sandbox = Sandbox("none")
    threads = 8
    start = threading.Barrier(threads)

    def site(_):
        start.wait()
        return sandbox._site()

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        sites = set(pool.map(site, range(threads)))
    assert len(sites) == 1
    assert list(tmp_path.iterdir()) == list(sites)
    sandbox.close()
    assert list(tmp_path.iterdir()) == []


def test_zombies_are_not_counted_as_live_processes():
    """A dead child not yet reaped (a zombie) is not a process left alive; a live one is."""
    import subprocess as sp

    live = sp.Popen(["sleep", "30"])
    dead = sp.Popen(["true"])
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # wait until `true` has exited, unreaped
            with open(f"/proc/{dead.pid}/status") as f:
                if "zombie" in f.read():
                    break
            time.sleep(0.01)
        mine = processes_of_uid(os.getuid())
        assert live.pid in mine
        assert dead.pid not in mine
    finally:
        live.kill()
        live.wait()
        dead.wait()
