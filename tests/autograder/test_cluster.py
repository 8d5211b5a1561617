"""Grading on a Dask cluster: a real ``dask scheduler`` and ``dask worker --nthreads 1``
processes on 127.0.0.1 (tests/autograder/fixtures/dask_cluster.py), stopped at the end.

The records of the catalogue's crafted submissions must be those of local grading, byte
for byte; a worker killed mid-run loses and doubles nothing; the grading command killed
mid-run is resumed by running it again; TLS works with certificates made by the
command; a plain ``tcp://`` address off loopback is refused.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import cluster
from autograder.course import RECORD
from autograder.run import GradingOptions, grade_assignment
from autograder.sandbox import Limits
from tests.autograder.fixtures import crafted
from tests.autograder.fixtures.channels import CHANNELS, REFUSED_AT_ONCE, channel_code
from tests.autograder.fixtures.course import (
    FIXTURE,
    REPO,
    fixture_course,
    fresh_copy,
    grade_command,
    make_submission,
    venv_env,
)
from tests.autograder.fixtures.dask_cluster import LocalCluster

LIMITS = Limits(test_timeout=3.0, setup_timeout=20.0, memory_mb=1024, processes=32)
N = 16
WRONG = {"double-answer": "def double(x):\n    return 3 * x"}


def _expected(student: str) -> float:
    return 1.0 if student.endswith("3") else 3.0


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    with LocalCluster(tmp_path_factory.mktemp("dask"), workers=2) as running:
        yield running
    assert all(p.poll() is not None for p in running.procs)  # none left alive


@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    os.environ["PATH"] = venv_env()["PATH"]
    root = fixture_course(tmp_path_factory.mktemp("fixture") / "course")
    for i in range(N):
        student = f"student{i:02d}"
        make_submission(root, FIXTURE, student, answers=WRONG if _expected(student) < 3 else None)
    return root


def _records(root: Path, assignment: str) -> dict[str, str]:
    return {p.parts[-3]: p.read_text() for p in root.glob(f"autograded/*/{assignment}/{RECORD}")}


def _check_consistent(root: Path, others=()) -> None:
    """Every student graded exactly once, with the expected score, in the gradebook,
    the records and grades.csv alike (``others``: rows of grades.csv for students with
    a grader error)."""
    from nbgrader.api import Gradebook

    students = [f"student{i:02d}" for i in range(N)]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        subs = gb.assignment_submissions(FIXTURE)
        assert sorted(s.student.id for s in subs) == students
        assert all(s.score == _expected(s.student.id) for s in subs)
    records = {sid: json.loads(text) for sid, text in _records(root, FIXTURE).items()}
    assert sorted(records) == students
    assert all(r["score"] == _expected(sid) for sid, r in records.items())
    rows = (root / "grades.csv").read_text().splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == sorted([*students, *others])


@pytest.mark.slow
def test_catalogue_records_on_the_cluster_are_those_of_local_grading(
    dask_cluster, tmp_path_factory
):
    root, subs = crafted.catalogue_course(tmp_path_factory.mktemp("catalogue") / "course")
    remote = fresh_copy(root, tmp_path_factory.mktemp("remote"))
    local_run = grade_assignment(
        root, crafted.A, GradingOptions(n_jobs=2, limits=LIMITS, progress=False), out=io.StringIO()
    )
    out = io.StringIO()
    cluster_run = grade_assignment(
        remote,
        crafted.A,
        GradingOptions(limits=LIMITS, progress=False, scheduler=dask_cluster.address),
        out=out,
    )
    assert "Dask cluster" in out.getvalue() and "2 worker(s)" in out.getvalue()
    assert cluster_run["grader_errors"] == local_run["grader_errors"] == {}
    here, there = _records(root, crafted.A), _records(remote, crafted.A)
    assert len(here) == len(subs) > 20
    assert there == here  # byte for byte: same fingerprints, statuses, messages, points
    for name in ("grades.csv",):
        assert (remote / name).read_text() == (root / name).read_text()


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_and_doubles_nothing(dask_cluster, small_course, tmp_path):
    root = fresh_copy(small_course, tmp_path)
    killed = []

    def kill_when_started():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_records(root, FIXTURE)) < 3:
            time.sleep(0.02)
        dask_cluster.kill_worker(0)  # SIGKILL, in the middle of its job
        killed.append(len(_records(root, FIXTURE)))

    killer = threading.Thread(target=kill_when_started, daemon=True)
    killer.start()
    try:
        result = grade_assignment(
            root,
            FIXTURE,
            GradingOptions(limits=LIMITS, progress=False, scheduler=dask_cluster.address),
            out=io.StringIO(),
        )
    finally:
        killer.join(timeout=130)
        dask_cluster.restart_worker(0)
    assert len(killed) == 1 and killed[0] < N  # killed while jobs were left
    assert result["grader_errors"] == {} and result["errors"] == []
    assert len(result["records"]) == N  # each recorded once
    _check_consistent(root)


@pytest.mark.slow
def test_a_job_that_keeps_killing_workers_is_a_grader_error_for_that_student_alone(
    small_course, tmp_path
):
    """Workers under nannies (restarted when they die); the scheduler gives up on a task
    after it has killed 2 workers (allowed-failures 1), and the command tries it twice
    more; ``poison``'s job kills every worker that runs it
    (tests/autograder/fixtures/dask_poison.py). A job queued behind it on a dying worker
    is a suspect too, and is graded on its second try."""
    root = fresh_copy(small_course, tmp_path)
    make_submission(root, FIXTURE, "poison")
    preload = str(Path(__file__).parent / "fixtures" / "dask_poison.py")
    with LocalCluster(
        tmp_path / "dask", workers=2, nanny=True, preload=preload, allowed_failures=1
    ) as running:
        out = io.StringIO()
        result = grade_assignment(
            root,
            FIXTURE,
            GradingOptions(limits=LIMITS, progress=False, scheduler=running.address),
            out=out,
        )
    assert list(result["grader_errors"]) == ["poison"], result["grader_errors"]
    assert "killed 6 Dask workers (3 tries)" in result["grader_errors"]["poison"]
    assert "GRADER ERROR" in out.getvalue()
    _check_consistent(root, others=["poison"])  # the class went on: graded once each
    folder = root / "autograded" / "poison" / FIXTURE
    assert not (folder / RECORD).exists() and (folder / "grader-error.json").is_file()
    assert "poison,00_fixture,,,grader error" in (root / "grades.csv").read_text()


@pytest.mark.slow
def test_the_command_killed_mid_run_resumes_with_what_is_missing(
    dask_cluster, small_course, tmp_path
):
    root = fresh_copy(small_course, tmp_path)
    command = grade_command(
        root, "--no-progress", "--timeout", "3", "--scheduler", dask_cluster.address
    )
    first = subprocess.Popen(
        command, cwd=REPO, env=venv_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_records(root, FIXTURE)) < 4:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    done = len(_records(root, FIXTURE))
    assert 4 <= done < N
    again = subprocess.run(
        command, cwd=REPO, env=venv_env(), capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{done} already up to date" in again.stdout
    assert f"{N - done} graded" in again.stdout
    _check_consistent(root)


@pytest.mark.slow
def test_grading_over_tls_with_the_commands_certificates(small_course, tmp_path):
    certs = tmp_path / "certs"
    made = subprocess.run(
        [sys.executable, "-m", "autograder", "certs", str(certs)],
        cwd=REPO,
        env=venv_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    for role in ("ca", *cluster.CERT_ROLES):
        assert (certs / f"{role}.pem").is_file()
        assert (certs / f"{role}.key").stat().st_mode & 0o077 == 0  # owner only
    root = fresh_copy(small_course, tmp_path / "c")
    with LocalCluster(tmp_path / "dask", workers=1, tls_dir=certs) as running:
        assert running.address.startswith("tls://127.0.0.1:")
        graded = subprocess.run(
            grade_command(
                root, "--scheduler", running.address, "--tls", str(certs), "--no-progress"
            ),
            cwd=REPO,
            env=venv_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert graded.returncode == 0, graded.stdout + graded.stderr
    _check_consistent(root)
    # A client without the course's certificates is not let in.
    other = tmp_path / "other-certs"
    cluster.make_certificates(other)
    with LocalCluster(tmp_path / "dask2", workers=1, tls_dir=certs) as running:
        with pytest.raises(cluster.ClusterError, match="could not connect"):
            cluster.ClusterRunner(
                running.address, cluster.client_security(other), None, "auto", connect_timeout=5
            )


@pytest.mark.parametrize(
    "address",
    ["tcp://10.20.30.40:8786", "192.168.1.7:8786", "tcp://grading.example.org:8786"],
)
def test_plain_tcp_off_loopback_is_refused(address, small_course):
    with pytest.raises(cluster.ClusterError, match="refusing to send jobs over plain TCP"):
        cluster.connection(address)
    result = subprocess.run(
        grade_command(small_course, "--scheduler", address, "--no-progress"),
        cwd=REPO,
        env=venv_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "refusing to send jobs over plain TCP" in result.stderr
    assert "python -m autograder certs" in result.stderr
    assert not (small_course / "grades.csv").exists()


def test_the_addresses_that_are_allowed():
    assert cluster.connection("tcp://127.0.0.1:8786") == ("tcp://127.0.0.1:8786", None)
    assert cluster.connection("127.0.0.5:8786") == ("tcp://127.0.0.5:8786", None)
    assert cluster.connection("tcp://localhost:8786")[0] == "tcp://localhost:8786"
    # --insecure is the instructor's explicit choice; TLS needs the certificates' folder.
    assert cluster.connection("tcp://10.20.30.40:8786", insecure=True)[1] is None
    with pytest.raises(cluster.ClusterError, match="pass --tls DIR"):
        cluster.connection("tls://10.20.30.40:8786")
    with pytest.raises(cluster.ClusterError, match="unsupported scheduler address"):
        cluster.connection("ws://10.20.30.40:8786")


def test_the_wheel_for_workers_holds_the_grader_and_no_hidden_data(tmp_path):
    """What the README installs on the scheduler and the workers: the grader's code and the
    package, never the reference outputs of hidden cases, the salt or the solutions."""
    import zipfile

    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("upsampling-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    grader = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "autograder").rglob("*.py"))
    assert "autograder/sandbox/inside/harness.py" in grader
    assert [n for n in grader if n not in names] == []  # every sub-package ships
    for name in grader:  # and none of it imports PyTorch (the reference generator is a tool)
        code = zipfile.ZipFile(wheel).read(name).decode()
        assert not re.search(r"^\s*(import|from)\s+torch\b", code, re.MULTILINE), name
    assert not [n for n in names if n.startswith("tools/")]
    assert not [n for n in names if n.startswith("autograder/reference")]
    data = [n for n in names if n.endswith(".npz")]
    assert data and all(n.startswith("upsampling/reference/") for n in data)  # visible only
    assert not [n for n in names if "solutions" in n or n.endswith(".ipynb") or "salt" in n]


def test_one_job_by_hand_gives_the_record_of_a_class_run(small_course, tmp_path):
    """``python -m autograder job SPEC.json``: the unit of work, same record byte for byte."""
    root = fresh_copy(small_course, tmp_path)
    student = "student03"
    grade_assignment(
        root,
        FIXTURE,
        GradingOptions(limits=LIMITS, progress=False, students=[student], n_jobs=1),
        out=io.StringIO(),
    )
    (released,) = (root / "exercises" / FIXTURE).glob("*.ipynb")  # the release folder
    spec = {
        "assignment": FIXTURE,
        "student_id": student,
        "notebook": released.stem,
        "submission": str(root / "submitted" / student / FIXTURE / released.name),
        "released": str(released),
        "reference": str(root / "autograder" / "reference" / f"{FIXTURE}.npz"),
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "job",
            str(tmp_path / "spec.json"),
            "--timeout",
            str(LIMITS.test_timeout),
            "--setup-timeout",
            str(LIMITS.setup_timeout),
        ],
        cwd=REPO,
        env=venv_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == _records(root, FIXTURE)[student]
    assert json.loads(run.stdout)["score"] == _expected(student) == 1.0
    bad = subprocess.run(
        [sys.executable, "-m", "autograder", "job", "-"],
        input='{"x": 1}',
        cwd=REPO,
        env=venv_env(),
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "is not a job spec" in bad.stderr


# On a Dask worker, in the worker's own process (the grader's wheel, no tests package):
# one slot's sandbox serves the find / leave / find of tests/autograder/fixtures/channels.py.
LEAVE_THEN_FIND = """
def leave_then_find(leave, find):
    import numpy as np

    from autograder.sandbox import Limits, Sandbox, UidPool
    from autograder.sandbox.session import Returned, Session
    from upsampling.checking import Unrepresentable

    sandbox = Sandbox("bwrap", Limits(test_timeout=10.0, setup_timeout=20.0))
    pool = UidPool(1, enabled=sandbox.root)
    got = [sandbox.description]
    try:
        for code in (find, leave, find):
            session = Session(sandbox, pool.free[0], [{"index": 0, "code": code}], Unrepresentable)
            try:
                outcome = session.call("look", [np.array(0)], {}, 10.0)
            finally:
                session.close()
            got.append(outcome.value if isinstance(outcome, Returned) else repr(outcome))
    finally:
        sandbox.close()
        pool.close()
    return got
"""


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_nothing_one_submission_leaves_reaches_the_next_on_a_worker(dask_cluster, channel):
    from distributed import Client

    namespace = {"__name__": "leave_then_find_on_a_worker"}  # not importable: sent by value
    exec(compile(LEAVE_THEN_FIND, "<leave_then_find>", "exec"), namespace)
    leave, find = CHANNELS[channel]
    with Client(dask_cluster.address, timeout=60) as client:
        future = client.submit(
            namespace["leave_then_find"],
            channel_code(leave, "leave"),
            channel_code(find, "find"),
            pure=False,
        )
        description, before, left, after = future.result(timeout=180)
    assert "system-call filter" in description and "NO system" not in description
    assert before == "", before
    assert left == REFUSED_AT_ONCE.get(channel, "left"), left
    assert after == "", after
