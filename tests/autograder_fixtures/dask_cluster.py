"""A real Dask cluster on loopback for the tests and the benchmarks: ``dask scheduler`` and
``dask worker --nthreads 1`` processes on 127.0.0.1 (random ports), stopped at the end.

The scheduler and the workers get what a grading machine gets: the two packages
(``autograder`` without its reference outputs, ``upsampling``) copied into a folder of
their own, bubblewrap, and an empty working folder; no course folder, no solutions, no
gradebook.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.autograder_fixtures.course import REPO, venv_env


def worker_packages(folder: Path) -> Path:
    """The packages a worker needs, copied from this repository (``*.py`` and the
    widgets' files only: no reference outputs, no solutions)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "autograder", folder / "autograder",
                    ignore=shutil.ignore_patterns("reference", "__pycache__"))  # fmt: skip
    shutil.copytree(REPO / "upsampling", folder / "upsampling",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return folder


class LocalCluster:
    """``with LocalCluster(tmp, workers=2) as c: c.address``; ``c.kill_worker(i)``."""

    def __init__(self, tmp: Path, workers: int = 2, tls_dir: Path | None = None,
                 nanny: bool = False, preload: str | None = None,
                 allowed_failures: int = 3):  # fmt: skip
        self.tmp, self.n, self.tls_dir = Path(tmp), workers, tls_dir
        self.nanny, self.preload, self.allowed_failures = nanny, preload, allowed_failures
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.address = ""

    def _tls(self, role: str) -> list[str]:
        if self.tls_dir is None:
            return []
        d = self.tls_dir
        return ["--tls-ca-file", str(d / "ca.pem"), "--tls-cert", str(d / f"{role}.pem"),
                "--tls-key", str(d / f"{role}.key")]  # fmt: skip

    def _env(self, pythonpath: Path | None) -> dict:
        env = venv_env()
        env.pop("PYTHONPATH", None)
        if pythonpath is not None:
            env["PYTHONPATH"] = str(pythonpath)
        env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
        env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(self.allowed_failures)
        # As the README starts the scheduler: a worker holds only the job it runs, so a job
        # that kills its worker takes no other job down with it.
        env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.0"
        return env

    def _start(self, args: list[str], cwd: Path, pythonpath=None, log="log") -> subprocess.Popen:
        cwd.mkdir(parents=True, exist_ok=True)
        out = open(self.tmp / f"{log}.txt", "wb")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=cwd,
                                env=self._env(pythonpath), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        proc.log = out
        self.procs.append(proc)
        return proc

    def __enter__(self) -> LocalCluster:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.packages = packages = worker_packages(self.tmp / "packages")
        info = self.tmp / "scheduler.json"
        protocol = ["--protocol", "tls"] if self.tls_dir else []
        self._start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(info), "--idle-timeout", "1800", *protocol,
                     *self._tls("scheduler")], self.tmp / "scheduler", pythonpath=packages,
                    log="scheduler")  # fmt: skip
        try:
            self.address = self._wait_for(info)
            for i in range(self.n):
                self.add_worker(i)
            self.wait_for_workers(self.n)
        except BaseException:
            self.stop()
            raise
        return self

    def add_worker(self, i: int) -> None:
        extra = ["--nanny" if self.nanny else "--no-nanny"]
        if self.preload:
            extra += ["--preload", self.preload]
        proc = self._start(["worker", self.address, "--nthreads", "1", *extra,
                            "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60",
                            "--memory-limit", "0", "--name", f"w{i}", *self._tls("worker")],
                           self.tmp / f"worker{i}", pythonpath=self.packages,
                           log=f"worker{i}")  # fmt: skip
        self.workers.append(proc)

    def _wait_for(self, info: Path, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, KeyError):
                return json.loads(info.read_text())["address"]
            if self.procs[0].poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the scheduler did not start: {self.logs('scheduler')}")

    def client(self):
        from distributed import Client

        from autograder.cluster import client_security

        security = client_security(self.tls_dir) if self.tls_dir else None
        return Client(self.address, security=security, timeout=30, set_as_default=False)

    def wait_for_workers(self, n: int, timeout: float = 120) -> None:
        with self.client() as client:
            deadline = time.monotonic() + timeout
            while len(client.nthreads()) < n:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers did not join: {self.logs('worker0')}")
                time.sleep(0.2)

    def restart_worker(self, i: int) -> None:
        """A new worker in place of worker ``i`` (after :meth:`kill_worker`)."""
        self.add_worker(i)
        self.workers[i] = self.workers.pop()
        self.wait_for_workers(self.n)

    def kill_worker(self, i: int) -> None:
        os.kill(self.workers[i].pid, signal.SIGKILL)
        self.workers[i].wait()

    def logs(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return (self.tmp / f"{name}.txt").read_text(errors="replace")[-3000:]
        return ""

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.log.close()

    def __exit__(self, *exc) -> None:
        self.stop()
