"""The grader's handle on a worker slot's *zygote*.

Starting bubblewrap and an interpreter and importing numpy costs more than running most
notebooks, so each worker slot keeps one sandbox alive, a zygote: ``harness.py`` imports
numpy once there and forks one child per notebook run. Nothing passes from one child to
the next: the zygote runs no student code and cannot be ptraced or (as root) signalled by
its children; before each fork it kills every other process in the sandbox, and a child
that left anything in the writable places (``/tmp``, ``/dev/shm``, message queues,
System V IPC) costs the slot a fresh sandbox. A zygote that died (a child of its uid may
kill it in user-namespace mode) is replaced at the next start.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import time

from autograder.sandbox.bwrap import BwrapCommand
from autograder.sandbox.inside import wire
from autograder.sandbox.processes import SandboxError, kill_process_group
from autograder.sandbox.seccomp import program_fd


class ZygoteLost(Exception):
    """The zygote died, stopped answering or was left dirty (start a fresh one)."""


class ZygoteHandle:
    """The grader's end of one worker slot's zygote: a long-lived bubblewrap sandbox in
    which ``harness.py`` has imported numpy and forks one child per notebook run (its
    side is ``harness.ZygoteServer``; the messages are in ``wire.py``). Used by one
    thread."""

    ANSWER_TIMEOUT = 5.0  # seconds for a fork or a kill to be answered

    def __init__(self, bwrap: BwrapCommand, uid: int | None, setup_timeout: float):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"zygote_fd": theirs.fileno(), "uid": uid if bwrap.root else None}
        filter_fd = program_fd(bwrap.seccomp) if bwrap.seccomp else None
        inherited = (theirs.fileno(),) if filter_fd is None else (theirs.fileno(), filter_fd)
        try:
            self.proc = subprocess.Popen(
                bwrap.command(config, filter_fd),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=inherited,
                process_group=0,
                env={"PATH": "/usr/bin:/bin"},
                cwd="/",
                close_fds=True,
            )
        except OSError as exc:
            ours.close()
            raise SandboxError(f"could not start the sandbox: {exc}") from exc
        finally:
            theirs.close()
            if filter_fd is not None:
                os.close(filter_fd)
        self.sock = ours
        self.alive = True
        self.child_pid = None
        timeout = setup_timeout
        try:
            header = self.recv(time.monotonic() + timeout)
            if header.get("ev") != "hello":
                raise ZygoteLost("it sent something else first")
        except ZygoteLost as exc:
            said = self._stderr()
            self.destroy()
            detail = f"; it said: {' / '.join(said[-2:])[-400:]}" if said else ""
            raise SandboxError(
                f"the sandboxed interpreter did not start: {exc}{detail}. Check that "
                "bubblewrap works for this user (bwrap --ro-bind / / true) and that numpy "
                f"imports within {timeout:g} s"
            ) from exc

    def _stderr(self) -> list[str]:
        try:
            os.set_blocking(self.proc.stderr.fileno(), False)
            text = (self.proc.stderr.read(1 << 14) or b"").decode("utf-8", "replace")
        except (OSError, ValueError):
            return []
        return [line.strip() for line in text.splitlines() if line.strip()]

    def usable(self) -> bool:
        return self.alive and self.proc.poll() is None

    def recv(self, deadline: float) -> dict:
        """The zygote's next message; ZygoteLost if it closed or did not answer in time."""
        while True:
            if not self.alive:
                raise ZygoteLost("it is gone")
            remaining = max(deadline - time.monotonic(), 0.0)
            if not select.select([self.sock], [], [], remaining)[0]:
                if time.monotonic() >= deadline:
                    raise ZygoteLost("it did not answer")
                continue
            try:
                header, _ = wire.recv_control(self.sock)
                return header
            except (EOFError, OSError, wire.ProtocolError) as exc:
                self.alive = False
                raise ZygoteLost(f"its socket closed ({type(exc).__name__})") from exc

    def fork(self, config: dict, fds: list[int]) -> int:
        """Fork a child with these pipe ends; its pid in the sandbox."""
        try:
            wire.send_control(self.sock, {"op": "fork", **config}, fds)
        except OSError as exc:
            self.alive = False
            raise ZygoteLost(f"its socket closed ({exc})") from exc
        deadline = time.monotonic() + self.ANSWER_TIMEOUT
        while True:
            header = self.recv(deadline)
            event = header.get("ev")
            if event == "forked" and isinstance(header.get("pid"), int):
                self.child_pid = header["pid"]
                return self.child_pid
            if event == "dirty":
                self.alive = False
                raise ZygoteLost(f"the last child left {header.get('what')}")
            if event != "exited":  # a late answer about the last child
                self.alive = False
                raise ZygoteLost("it sent something unexpected")

    def kill(self) -> None:
        try:
            wire.send_control(self.sock, {"op": "kill"})
        except OSError:
            self.alive = False

    def destroy(self) -> None:
        """Kill the whole sandbox (its PID namespace dies with its init)."""
        self.alive = False
        try:
            self.sock.close()
        except OSError:
            pass
        kill_process_group(self.proc)
        if self.proc.stderr:
            self.proc.stderr.close()


class ForkedProcess:
    """A child forked by a zygote, seen as a :class:`subprocess.Popen` by ChildProcess:
    its exit code comes from the zygote, which waits for it."""

    def __init__(self, zygote: ZygoteHandle, pid: int, stdout, stderr):
        self.zygote, self.pid = zygote, pid
        self.stdout, self.stderr = stdout, stderr
        self.returncode = None

    def _take(self, header: dict) -> bool:
        """True if ``header`` says that this child (or nothing: pid None) has exited."""
        if header.get("ev") != "exited":
            self.zygote.alive = False
            raise ZygoteLost("it sent something unexpected")
        if header.get("pid") == self.pid:
            code = header.get("code")
            self.returncode = code if isinstance(code, int) else -signal.SIGKILL
            return True
        return header.get("pid") is None

    def _lost(self) -> None:
        """The zygote is gone: so is its PID namespace, and this child with it."""
        self.zygote.destroy()
        if self.returncode is None:
            self.returncode = -signal.SIGKILL

    def poll(self):
        if self.returncode is None:
            try:
                self.wait(0)
            except subprocess.TimeoutExpired:
                pass
        return self.returncode

    def wait(self, timeout=None):
        deadline = time.monotonic() + (1e9 if timeout is None else timeout)
        while self.returncode is None:
            try:
                self._take(self.zygote.recv(deadline))
            except ZygoteLost:
                if self.zygote.alive and time.monotonic() >= deadline:
                    raise subprocess.TimeoutExpired("child", timeout) from None
                self._lost()
        return self.returncode

    def kill_all(self) -> None:
        """Kill the child and every process it started (the zygote does it; one that
        does not answer in time is killed with its sandbox)."""
        if not self.zygote.usable():
            self._lost()
            return
        ended_before = self.returncode is not None  # then the answer is exited(None)
        self.zygote.kill()
        deadline = time.monotonic() + ZygoteHandle.ANSWER_TIMEOUT
        try:
            while True:
                header = self.zygote.recv(deadline)
                self._take(header)
                if (header.get("pid") is None) if ended_before else self.returncode is not None:
                    return
        except ZygoteLost:
            self._lost()
