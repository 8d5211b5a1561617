"""Starting, talking to and killing the sandboxed child that runs student code.

With bubblewrap (``bwrap``) the child sees a read-only ``/usr``, the base interpreter's
standard library (its ``site-packages`` masked), numpy and the harness, a private
size-limited ``/tmp`` and nothing else: no course folder, no reference outputs, no
gradebook, no network, its own PID namespace; it dies with the grader. When the grader
runs as root the child drops to a dedicated unprivileged uid (one per worker slot, so
``RLIMIT_NPROC`` bounds a fork bomb and a sweep by uid finds every stray process).
Without bubblewrap the same harness runs with rlimits, its own process group and a
restricted ``sys.path`` only, and the grader says so loudly.

Starting bubblewrap and an interpreter and importing numpy costs more than running most
notebooks, so each worker slot keeps one sandbox alive, a *zygote* (:class:`Zygote`):
``harness.py`` imports numpy once there and forks one child per notebook run. Nothing
passes from one child to the next: the zygote runs no student code and cannot be
ptraced or (as root) signalled by its children; before each fork it kills every other
process in the sandbox, and a child that left anything in the writable places (``/tmp``,
``/dev/shm``, message queues, System V IPC) costs the slot a fresh sandbox. A zygote that
died (a child of its uid may kill it in user-namespace mode) is replaced at the next
start.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder import wire
from autograder.wire import OutputTooLarge, encode_frame, take_frame

HARNESS = Path(__file__).with_name("harness.py")
WIRE = Path(__file__).with_name("wire.py")  # harness.py loads it from its own folder
SANDBOX_PACKAGES = ("numpy",)
FORBIDDEN_MODULES = ("torch", "upsampling", "tensorflow", "jax", "keras", "autograder")
UID_RANGE = range(61000, 61999)
LOCK_DIR = Path(tempfile.gettempdir())


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed child (all configurable from the command line)."""

    memory_mb: int = 1024
    cpu_seconds: int = 120
    file_size_mb: int = 16
    processes: int = 32
    open_files: int = 256
    tmp_size_mb: int = 64
    setup_timeout: float = 30.0
    test_timeout: float = 10.0
    output_mb: int = 64
    log_kb: int = 16

    def rlimits(self) -> dict:
        return {
            "as": self.memory_mb << 20,
            "cpu": self.cpu_seconds,
            "fsize": self.file_size_mb << 20,
            "nproc": self.processes,
            "nofile": self.open_files,
            "core": 0,
        }

    def to_json(self) -> dict:
        return asdict(self)


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


def _site_dirs(prefix: Path) -> list[Path]:
    """The package folders of the interpreter installed at ``prefix`` that exist on this
    machine (only those can be masked: bubblewrap cannot create a mount point inside the
    read-only system tree). Debian's own Python has ``dist-packages`` folders, pyenv's and
    python.org's a ``site-packages`` one."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    scheme = sysconfig.get_paths(vars={"base": str(prefix), "platbase": str(prefix)})
    found = [Path(scheme["purelib"]), Path(scheme["platlib"])]
    for lib in (prefix / "lib", prefix / "local" / "lib"):
        for name in (version, "python3"):
            found += [lib / name / "site-packages", lib / name / "dist-packages"]
    unique = []
    for path in found:
        if path.is_dir() and path not in unique and path.is_relative_to(prefix):
            unique.append(path)
    return unique


def _package_dirs(names) -> list[tuple[str, str]]:
    """(host path, name) of each allowed package and its bundled ``<name>.libs``."""
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise SandboxError(f"package {name!r} is needed in the sandbox but is not installed")
        path = Path(list(spec.submodule_search_locations)[0]).resolve()
        found.append((str(path), name))
        libs = path.with_name(f"{name}.libs")
        if libs.is_dir():
            found.append((str(libs), libs.name))
    return found


class Sandbox:
    """How children are started: ``mode`` is ``"bwrap"`` or ``"none"`` (weak isolation)."""

    def __init__(self, mode: str = "auto", limits: Limits | None = None):
        self.limits = limits or Limits()
        self.bwrap = shutil.which("bwrap")
        self.root = os.geteuid() == 0
        if mode == "auto":
            mode = "bwrap" if self.bwrap and self._bwrap_works() else "none"
        elif mode == "bwrap" and not (self.bwrap and self._bwrap_works()):
            raise SandboxError("bubblewrap (bwrap) is not installed or cannot create a sandbox")
        self.mode = mode
        self.packages = _package_dirs(SANDBOX_PACKAGES)
        self.base_prefix = Path(sys.base_prefix).resolve()
        self.python = Path(sys._base_executable).resolve()  # not the venv: no site-packages
        self._fallback_site = None
        self._zygotes: dict = {}  # (thread, uid, /tmp size) -> Zygote
        self._zygotes_lock = threading.Lock()
        if mode == "none":
            warnings.warn(WEAK_ISOLATION, stacklevel=2)

    # --- description ----------------------------------------------------------------

    @property
    def description(self) -> str:
        if self.mode == "bwrap":
            who = "unprivileged uid per worker" if self.root else "user namespace"
            return f"bubblewrap sandbox ({who}; no network, no course files, own PID namespace)"
        return "NO SANDBOX (weak isolation: rlimits and process group only)"

    def _bwrap_works(self) -> bool:
        try:
            out = subprocess.run(
                [self.bwrap, *self._namespaces(), "--ro-bind", "/", "/", "--", "/bin/true"],
                capture_output=True,
                timeout=20,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return out.returncode == 0

    def _namespaces(self) -> list[str]:
        ns = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        ns += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if not self.root:
            ns.insert(0, "--unshare-user")
        return ns

    # --- commands -------------------------------------------------------------------

    def _bwrap_command(self, config: dict, zygote: bool = False) -> list[str]:
        cmd = [self.bwrap, *self._namespaces(), "--hostname", "sandbox"]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / top
            if host.is_symlink():
                cmd += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                cmd += ["--ro-bind", str(host), str(host)]
        for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"):
            cmd += ["--ro-bind-try", path, path]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue"]
        cmd += ["--perms", "1777", "--size", str(self.limits.tmp_size_mb << 20), "--tmpfs", "/tmp"]
        cmd += ["--perms", "0755", "--dir", "/opt", "--perms", "0755", "--dir", "/opt/site"]
        cmd += ["--perms", "0755", "--dir", "/opt/grader"]
        # The base interpreter (not the venv), with every package folder masked. One that
        # lives outside /usr (pyenv, a home directory, /opt) is mounted read-only at its own
        # path: its binary finds its libpython through a RUNPATH that names that path.
        python = str(self.python)
        masks = _site_dirs(self.base_prefix)
        if not self.base_prefix.is_relative_to("/usr"):
            for parent in reversed(self.base_prefix.parents[:-1]):  # traversable after the
                cmd += ["--perms", "0755", "--dir", str(parent)]  # drop to a sandbox uid
            cmd += ["--ro-bind", str(self.base_prefix), str(self.base_prefix)]
            masks += _site_dirs(Path("/usr"))  # the system's own packages, also mounted
        for path in masks:
            cmd += ["--tmpfs", str(path)]
        for host, name in self.packages:
            cmd += ["--ro-bind", host, f"/opt/site/{name}"]
        cmd += ["--ro-bind", str(HARNESS), "/opt/grader/harness.py"]
        cmd += ["--ro-bind", str(WIRE), "/opt/grader/wire.py"]
        # Nothing but /tmp, /dev/shm and /dev/mqueue stays writable (in user-namespace
        # mode the folders bubblewrap makes belong to the user).
        cmd += ["--remount-ro", "/dev", "--remount-ro", "/"]
        if self.root:  # a zygote kills its children (of the slot uid) before each fork
            cmd += ["--cap-add", "CAP_SETUID,CAP_SETGID" + (",CAP_KILL" if zygote else "")]
        cmd += ["--clearenv"]
        for key, value in _child_env("/tmp").items():
            cmd += ["--setenv", key, value]
        cmd += ["--chdir", "/tmp", "--"]
        config = dict(config, site=["/opt/site"], pid_namespace=True)
        return [*cmd, python, "-I", "-S", "-B", "/opt/grader/harness.py", json.dumps(config)]

    def _plain_command(self, config: dict, workdir: str) -> list[str]:
        if self._fallback_site is None:
            site = Path(tempfile.mkdtemp(prefix="autograder-site-"))
            for host, name in self.packages:
                (site / name).symlink_to(host)
            self._fallback_site = site
        config = dict(config, site=[str(self._fallback_site)], pid_namespace=False, uid=None)
        return [str(self.python), "-I", "-S", "-B", str(HARNESS), json.dumps(config)]

    def start(self, uid: int | None) -> ChildProcess:
        """Start one child; ``uid`` is the worker slot's unprivileged uid (root only).
        With bubblewrap the child is forked by the slot's zygote (started on first use,
        and again whenever the last one died or was left dirty)."""
        if self.mode == "bwrap":
            return self._fork(uid)
        return self._spawn(uid)

    def _zygote(self, uid: int | None, fresh: bool) -> Zygote:
        key = (threading.get_ident(), uid, self.limits.tmp_size_mb)
        with self._zygotes_lock:
            zygote = self._zygotes.pop(key, None)
        if zygote is not None and (fresh or not zygote.usable()):
            zygote.destroy()
            zygote = None
        if zygote is None:
            zygote = Zygote(self, uid)  # raises SandboxError if it cannot start
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

    def close(self) -> None:
        """End the zygotes (they also end with the grader)."""
        with self._zygotes_lock:
            zygotes, self._zygotes = list(self._zygotes.values()), {}
        for zygote in zygotes:
            zygote.destroy()

    def _spawn(self, uid: int | None) -> ChildProcess:
        """A fresh interpreter for one child (weak isolation)."""
        c2p_r, c2p_w = os.pipe()
        p2c_r, p2c_w = os.pipe()
        config = {
            "fd_in": p2c_r,
            "fd_out": c2p_w,
            "limits": self.limits.rlimits(),
            "uid": uid if self.root and self.mode == "bwrap" else None,
            "gid": uid,
        }
        workdir = None
        if self.mode == "bwrap":
            cmd, env, cwd = self._bwrap_command(config), {"PATH": "/usr/bin:/bin"}, "/"
        else:
            workdir = tempfile.mkdtemp(prefix="autograder-run-")
            cmd, env, cwd = self._plain_command(config, workdir), _child_env(workdir), workdir
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(p2c_r, c2p_w),
                process_group=0,
                env=env,
                cwd=cwd,
                close_fds=True,
            )
        except OSError as exc:
            for fd in (c2p_r, c2p_w, p2c_r, p2c_w):
                os.close(fd)
            raise SandboxError(f"could not start the sandbox: {exc}") from exc
        os.close(p2c_r)
        os.close(c2p_w)
        sweep = uid if (self.root and self.mode == "bwrap") else None
        return ChildProcess(proc, c2p_r, p2c_w, self.limits, sweep_uid=sweep, workdir=workdir)


WEAK_ISOLATION = (
    "\n" + "!" * 78 + "\n"
    "!! bubblewrap (bwrap) is not available: student code will run WITHOUT a sandbox.\n"
    "!! It runs as your user, can read your files (solutions, reference outputs) and\n"
    "!! reach the network; only resource limits and timeouts apply. Install bubblewrap\n"
    "!! (Debian/Ubuntu: apt-get install bubblewrap) before grading real submissions.\n" + "!" * 78
)


def _child_env(home: str) -> dict:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


def _describe_exit(code: int | None, killed_by_us: bool) -> tuple[str, str | None]:
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

    def recv(self, deadline: float):
        """Next frame from the child; raises Timeout, ChildGone, ProtocolError, OutputTooLarge."""
        while True:
            frame = self._frame()
            if frame is not None:
                return frame
            if not self.channel_open:
                code = self._wait_exit(2.0)
                raise ChildGone(*_describe_exit(code, killed_by_us=False))
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
        if isinstance(self.proc, ForkedProcess):
            self.proc.kill_all()
        else:
            _kill_process_group(self.proc)
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


def _kill_process_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()


class ZygoteLost(Exception):
    """The zygote died, stopped answering or was left dirty (start a fresh one)."""


class Zygote:
    """The grader's end of one worker slot's zygote: a long-lived bubblewrap sandbox in
    which ``harness.py`` has imported numpy and forks one child per notebook run (its
    side is ``harness.Zygote``; the messages are in ``wire.py``). Used by one thread."""

    ANSWER_TIMEOUT = 5.0  # seconds for a fork or a kill to be answered

    def __init__(self, sandbox: Sandbox, uid: int | None):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {"zygote_fd": theirs.fileno(), "uid": uid if sandbox.root else None}
        try:
            self.proc = subprocess.Popen(
                sandbox._bwrap_command(config, zygote=True),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
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
        self.sock = ours
        self.alive = True
        self.child_pid = None
        timeout = sandbox.limits.setup_timeout
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
        _kill_process_group(self.proc)
        if self.proc.stderr:
            self.proc.stderr.close()


class ForkedProcess:
    """A child forked by a zygote, seen as a :class:`subprocess.Popen` by ChildProcess:
    its exit code comes from the zygote, which waits for it."""

    def __init__(self, zygote: Zygote, pid: int, stdout, stderr):
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
        deadline = time.monotonic() + Zygote.ANSWER_TIMEOUT
        try:
            while True:
                header = self.zygote.recv(deadline)
                self._take(header)
                if (header.get("pid") is None) if ended_before else self.returncode is not None:
                    return
        except ZygoteLost:
            self._lost()


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


class UidPool:
    """Unprivileged uids for the worker slots, unique across graders on this machine.

    Each uid is held through an exclusive lock file for the grader's lifetime, so two
    graders never share a uid (and never sweep each other's processes)."""

    def __init__(self, n: int, enabled: bool):
        self.locks = []
        self.free: list[int | None] = []
        if not enabled:
            self.free = [None] * n
            return
        for uid in UID_RANGE:
            if len(self.free) == n:
                break
            fd = os.open(LOCK_DIR / f"autograder-uid-{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            kill_uid(uid)  # strays from a grader that was killed earlier
            self.locks.append(fd)
            self.free.append(uid)
        if len(self.free) < n:
            raise SandboxError("no free sandbox uid: too many graders running")

    def close(self) -> None:
        for fd in self.locks:
            os.close(fd)
        self.locks = []
