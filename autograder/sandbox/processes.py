"""One running child and its process tree: framed messages in and out with deadlines and
output caps, its exit status in words, and killing it with everything it started."""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import time

from autograder.sandbox.inside.wire import OutputTooLarge, encode_frame, take_frame
from autograder.sandbox.limits import Limits


class SandboxError(Exception):
    """The grader could not start a sandboxed child at all (not the student's fault)."""


class Timeout(Exception):
    pass


class ChildGone(Exception):
    """The child's channel closed: the process ended (exit code in ``how``)."""

    def __init__(self, how: str, limit: str | None = None):
        super().__init__(how)
        self.how = how
        self.limit = limit


def describe_exit(code: int | None, killed_by_us: bool) -> tuple[str, str | None]:
    """Turn a child's exit status into words, and the resource limit it points to."""
    if code is None:
        return "the process did not end", None
    sig = -code if code < 0 else (code - 128 if code > 128 else None)
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGXCPU:
            return f"the process was stopped by {name} (CPU time limit)", "CPU time"
        if sig == signal.SIGXFSZ:
            return f"the process was stopped by {name} (file size limit)", "file size"
        if sig == signal.SIGKILL and not killed_by_us:
            return "the process was killed (SIGKILL)", None
        if sig == signal.SIGSEGV:
            return "the process crashed (SIGSEGV, possibly out of memory)", None
        return f"the process was stopped by {name}", None
    return f"the process exited with code {code}", None


class ChildProcess:
    """One running child: framed messages in and out, with deadlines and output caps."""

    def __init__(self, proc, fd_from, fd_to, limits: Limits, sweep_uid=None, workdir=None):
        self.proc = proc
        self.limits = limits
        self.sweep_uid = sweep_uid
        self.workdir = workdir
        self.fd_from, self.fd_to = fd_from, fd_to
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.received = 0
        self.logs = {"stdout": bytearray(), "stderr": bytearray()}
        self.log_total = {"stdout": 0, "stderr": 0}
        self.sel = selectors.DefaultSelector()
        for fd in (fd_from, proc.stdout.fileno(), proc.stderr.fileno()):
            os.set_blocking(fd, False)
        os.set_blocking(fd_to, False)
        self.sel.register(fd_from, selectors.EVENT_READ, "channel")
        self.sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "stdout")
        self.sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "stderr")
        self.channel_open = True
        self.closed = False
        self.killed = False

    def send(self, header: dict, blobs=()) -> None:
        self.outbox += encode_frame(header, blobs)

    def _frame(self):
        """A complete frame from the inbox, or None."""
        return take_frame(self.inbox, self.limits.output_mb << 20)

    def unsolicited(self) -> bool:
        """True if the child has sent anything since the last frame was taken (read
        without waiting): between calls it must be silent, so this is a forged message."""
        if self.inbox:
            return True
        if not self.channel_open:
            return False
        try:
            chunk = os.read(self.fd_from, 1 << 16)
        except BlockingIOError:
            return False
        except OSError:
            return False
        if not chunk:
            self.channel_open = False
            self.sel.unregister(self.fd_from)
            return False
        self.inbox += chunk
        self.received += len(chunk)
        return True

    def recv(self, deadline: float):
        """Next frame from the child; raises Timeout, ChildGone, ProtocolError, OutputTooLarge."""
        while True:
            frame = self._frame()
            if frame is not None:
                return frame
            if not self.channel_open:
                code = self._wait_exit(2.0)
                raise ChildGone(*describe_exit(code, killed_by_us=False))
            now = time.monotonic()
            if now >= deadline:
                raise Timeout()
            if self.outbox:
                self._register_write(True)
            for key, _ in self.sel.select(timeout=min(deadline - now, 1.0)):
                if key.data == "write":
                    self._flush()
                    continue
                try:
                    chunk = os.read(key.fd, 1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if key.data == "channel":
                    if not chunk:
                        self.channel_open = False
                        self.sel.unregister(key.fd)
                        continue
                    self.inbox += chunk
                    self.received += len(chunk)
                    if self.received > self.limits.output_mb << 20:
                        raise OutputTooLarge()
                else:
                    if not chunk:
                        self.sel.unregister(key.fd)
                        continue
                    keep = (self.limits.log_kb << 10) - len(self.logs[key.data])
                    if keep > 0:
                        self.logs[key.data] += chunk[:keep]
                    self.log_total[key.data] += len(chunk)

    def _register_write(self, on: bool) -> None:
        try:
            self.sel.get_key(self.fd_to)
            registered = True
        except KeyError:
            registered = False
        if on and not registered:
            self.sel.register(self.fd_to, selectors.EVENT_WRITE, "write")
        elif not on and registered:
            self.sel.unregister(self.fd_to)

    def _flush(self) -> None:
        try:
            n = os.write(self.fd_to, self.outbox)
            del self.outbox[:n]
        except BlockingIOError:
            pass
        except OSError:  # the child is gone; recv will notice the closed channel
            self.outbox.clear()
        if not self.outbox:
            self._register_write(False)

    def _wait_exit(self, timeout: float):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def drain(self) -> None:
        """Read what is left in the child's stdout and stderr (after it has ended)."""
        for name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            while True:
                try:
                    chunk = os.read(stream.fileno(), 1 << 16)
                except (BlockingIOError, OSError, ValueError):
                    break
                if not chunk:
                    break
                keep = (self.limits.log_kb << 10) - len(self.logs[name])
                if keep > 0:
                    self.logs[name] += chunk[:keep]
                self.log_total[name] += len(chunk)

    def log_text(self, name: str) -> str:
        text = self.logs[name].decode("utf-8", "replace")
        extra = self.log_total[name] - len(self.logs[name])
        if extra > 0:
            text += f"\n[... {extra} more bytes not kept]"
        return text

    def kill(self) -> None:
        """Kill the child's whole process group, then any process left with its uid
        (once: a second call does nothing)."""
        if self.killed:
            return
        self.killed = True
        if hasattr(self.proc, "kill_all"):  # a zygote's child: the zygote kills its tree
            self.proc.kill_all()
        else:
            kill_process_group(self.proc)
        if self.sweep_uid is not None:
            kill_uid(self.sweep_uid)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.channel_open and self.proc.poll() is None:
            try:
                self.send({"op": "exit"})
                self._flush()
                self.proc.wait(timeout=0.5)
            except (subprocess.TimeoutExpired, OSError):
                pass
        self.kill()
        self.sel.close()
        for fd in (self.fd_from, self.fd_to):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc.stdout.close()
        self.proc.stderr.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def kill_process_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()


def processes_of_uid(uid: int) -> list[int]:
    """Live processes of ``uid``. Zombies are left out: they are already dead (they run
    nothing and hold no memory), and the host's init, not us, reaps them, as slowly as
    it likes.

    ``/proc/N`` belongs to the process's effective uid, so only the processes that pass
    that cheap test have their ``status`` read (real uid, state): one scan costs a stat
    per process instead of a read. A slot process that made itself non-dumpable shows a
    root-owned ``/proc/N`` and is not found here, but it cannot leave its PID namespace,
    and every process in it is killed by the slot's zygote (before its next fork, and
    when the grader kills the child) or dies with the namespace's init."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
            with open(f"/proc/{name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith(
                ("Z", "X")
            ):
                pids.append(int(name))
        except (OSError, ValueError, KeyError):
            continue
    return pids


def kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` (a sandbox slot uid, never a real user's)."""
    for _ in range(50):
        pids = processes_of_uid(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
