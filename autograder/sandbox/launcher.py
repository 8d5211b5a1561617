"""Starting sandboxed children: :class:`Sandbox` decides how (bubblewrap, or weak
isolation where bubblewrap cannot be had) and hands out :class:`ChildProcess` objects.

With bubblewrap each child is forked by its worker slot's zygote (:mod:`.zygote`) in a
sandbox built by :mod:`.bwrap`. When the grader runs as root the child drops to the
slot's unprivileged uid (:mod:`.uids`). Without bubblewrap the same harness runs with
rlimits, its own process group and a restricted ``sys.path`` only, and the grader says
so loudly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
import weakref
from pathlib import Path

from autograder.sandbox.bwrap import HARNESS, BwrapCommand, child_env, package_dirs
from autograder.sandbox.inside import wire
from autograder.sandbox.limits import SANDBOX_PACKAGES, Limits
from autograder.sandbox.processes import ChildProcess, SandboxError
from autograder.sandbox.seccomp import SeccompUnavailable, compile_filter
from autograder.sandbox.zygote import ForkedProcess, ZygoteHandle, ZygoteLost
from autograder.timing import phase

WEAK_ISOLATION = (
    "\n" + "!" * 78 + "\n"
    "!! bubblewrap (bwrap) is not available: student code will run WITHOUT a sandbox.\n"
    "!! It runs as your user, can read your files (solutions, reference outputs) and\n"
    "!! reach the network; only resource limits and timeouts apply. Install bubblewrap\n"
    "!! (Debian/Ubuntu: apt-get install bubblewrap) before grading real submissions.\n" + "!" * 78
)


NO_SYSCALL_FILTER = (
    "\n" + "!" * 78 + "\n"
    "!! The sandbox's system-call filter (seccomp) cannot be built: {reason}.\n"
    "!! Student code runs in bubblewrap's namespaces but may use the kernel keyrings\n"
    "!! (shared between submissions), ptrace, bpf, io_uring and other calls that\n"
    "!! Docker denies. Install libseccomp (Debian: apt-get install libseccomp2).\n" + "!" * 78
)


def syscall_filter() -> tuple[bytes | None, str | None]:
    """The compiled filter, or None and why it cannot be had."""
    try:
        return compile_filter(), None
    except SeccompUnavailable as exc:
        return None, str(exc)


class Sandbox:
    """How children are started: ``mode`` is ``"bwrap"`` or ``"none"`` (weak isolation)."""

    def __init__(self, mode: str = "auto", limits: Limits | None = None):
        self.limits = limits or Limits()
        self.root = os.geteuid() == 0
        self.packages = tuple(package_dirs(SANDBOX_PACKAGES))
        self.python = Path(sys._base_executable).resolve()  # not the venv: no site-packages
        found = shutil.which("bwrap")
        program, self.filter_problem = syscall_filter() if found else (None, None)
        self.bwrap = found and BwrapCommand(
            found,
            self.root,
            self.limits.tmp_size_mb,
            self.python,
            Path(sys.base_prefix).resolve(),
            self.packages,
            program,
        )
        works = bool(self.bwrap) and self.bwrap.works()
        if mode == "auto":
            mode = "bwrap" if works else "none"
        elif mode == "bwrap" and not works:
            raise SandboxError("bubblewrap (bwrap) is not installed or cannot create a sandbox")
        self.mode = mode
        self._fallback_site = None
        self._zygotes: dict = {}  # (thread, uid, /tmp size) -> ZygoteHandle
        self._zygotes_lock = threading.Lock()
        if mode == "none":
            warnings.warn(WEAK_ISOLATION, stacklevel=2)
        elif self.filter_problem:
            warnings.warn(NO_SYSCALL_FILTER.format(reason=self.filter_problem), stacklevel=2)

    @property
    def description(self) -> str:
        if self.mode == "bwrap":
            who = "unprivileged uid per worker" if self.root else "user namespace"
            calls = "system-call filter" if self.bwrap.seccomp else "NO system-call filter"
            return (
                f"bubblewrap sandbox ({who}; {calls}; no network, no course files, "
                "own PID namespace)"
            )
        return "NO SANDBOX (weak isolation: rlimits and process group only)"

    def start(self, uid: int | None) -> ChildProcess:
        """Start one child; ``uid`` is the worker slot's unprivileged uid (root only).
        With bubblewrap the child is forked by the slot's zygote (started on first use,
        and again whenever the last one died or was left dirty)."""
        if self.mode == "bwrap":
            return self._fork(uid)
        return self._spawn()

    def close(self) -> None:
        """End the zygotes (they also end with the grader) and remove the package folder
        of weak isolation."""
        with self._zygotes_lock:
            zygotes, self._zygotes = list(self._zygotes.values()), {}
        for zygote in zygotes:
            zygote.destroy()
        with self._zygotes_lock:
            if self._fallback_site is not None:
                self._remove_site()  # a weakref.finalize: removes the folder once
                self._fallback_site = None

    # --- bubblewrap: a child forked by the slot's zygote ------------------------------

    def _zygote(self, uid: int | None, fresh: bool) -> ZygoteHandle:
        key = (threading.get_ident(), uid, self.limits.tmp_size_mb)
        with self._zygotes_lock:
            zygote = self._zygotes.pop(key, None)
        if zygote is not None and (fresh or not zygote.usable()):
            zygote.destroy()
            zygote = None
        if zygote is None:  # raises SandboxError if it cannot start
            with phase("start zygote"):
                zygote = ZygoteHandle(self.bwrap, uid, self.limits.setup_timeout)
        with self._zygotes_lock:
            self._zygotes[key] = zygote
        return zygote

    def _fork(self, uid: int | None) -> ChildProcess:
        for fresh in (False, True):
            zygote = self._zygote(uid, fresh)
            pipes = [os.pipe() for _ in range(wire.CHILD_FDS)]  # p2c, c2p, stdout, stderr
            ends = [pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1]]  # the child's
            ours = [pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0]]
            config = {
                "limits": self.limits.rlimits(),
                "uid": uid if self.root else None,
                "gid": uid,
            }
            try:
                pid = zygote.fork(config, ends)
            except ZygoteLost as exc:
                for fd in ours:
                    os.close(fd)
                zygote.destroy()
                if fresh:
                    raise SandboxError(f"the sandbox could not start a child: {exc}") from exc
                continue
            finally:
                for fd in ends:
                    os.close(fd)
            to_child, from_child, out, err = ours
            proc = ForkedProcess(zygote, pid, open(out, "rb", 0), open(err, "rb", 0))  # noqa: SIM115
            sweep = uid if self.root else None
            return ChildProcess(proc, from_child, to_child, self.limits, sweep_uid=sweep)
        raise AssertionError("unreachable")

    # --- weak isolation: a fresh interpreter per child --------------------------------

    def _spawn(self) -> ChildProcess:
        c2p_r, c2p_w = os.pipe()
        p2c_r, p2c_w = os.pipe()
        workdir = tempfile.mkdtemp(prefix="autograder-run-")
        config = {
            "fd_in": p2c_r,
            "fd_out": c2p_w,
            "limits": self.limits.rlimits(),
            "site": [str(self._site())],
            "pid_namespace": False,
            "uid": None,
            "gid": None,
        }
        try:
            proc = subprocess.Popen(
                [str(self.python), "-I", "-S", "-B", str(HARNESS), json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(p2c_r, c2p_w),
                process_group=0,
                env=child_env(workdir),
                cwd=workdir,
                close_fds=True,
            )
        except OSError as exc:
            for fd in (c2p_r, c2p_w, p2c_r, p2c_w):
                os.close(fd)
            shutil.rmtree(workdir, ignore_errors=True)
            raise SandboxError(f"could not start the sandbox: {exc}") from exc
        os.close(p2c_r)
        os.close(c2p_w)
        return ChildProcess(proc, c2p_r, p2c_w, self.limits, workdir=workdir)

    def _site(self) -> Path:
        """A folder with links to the allowed packages only (the child's ``sys.path``),
        made once (under the lock: the grader's threads start children at once)."""
        with self._zygotes_lock:
            if self._fallback_site is None:
                site = Path(tempfile.mkdtemp(prefix="autograder-site-"))
                for host, name in self.packages:
                    (site / name).symlink_to(host)
                # removed by close(), or at exit when a cluster worker's sandbox is never
                # closed
                self._remove_site = weakref.finalize(self, shutil.rmtree, site, True)
                self._fallback_site = site
            return self._fallback_site
