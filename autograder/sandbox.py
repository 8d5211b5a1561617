"""Starting, talking to and killing the sandboxed child that runs student code.

With bubblewrap (``bwrap``) the child sees a read-only ``/usr``, the base interpreter's
standard library (its ``site-packages`` masked), numpy and the harness, a private
size-limited ``/tmp`` and nothing else: no course folder, no reference outputs, no
gradebook, no network, its own PID namespace; it dies with the grader. When the grader
runs as root the child drops to a dedicated unprivileged uid (one per worker slot, so
``RLIMIT_NPROC`` bounds a fork bomb and a sweep by uid finds every stray process).
Without bubblewrap the same harness runs with rlimits, its own process group and a
restricted ``sys.path`` only, and the grader says so loudly.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

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

    def _bwrap_command(self, config: dict) -> list[str]:
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
        cmd += ["--proc", "/proc", "--dev", "/dev"]
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
        if self.root:
            cmd += ["--cap-add", "CAP_SETUID,CAP_SETGID"]
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
        """Start one child; ``uid`` is the worker slot's unprivileged uid (root only)."""
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
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait()
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


def processes_of_uid(uid: int) -> list[int]:
    """Live processes of ``uid``. Zombies are left out: they are already dead (they run
    nothing and hold no memory), and the host's init, not us, reaps them, as slowly as
    it likes.

    ``/proc/N`` belongs to the process's effective uid, so only the processes that pass
    that cheap test have their ``status`` read (real uid, state): one scan costs a stat
    per process instead of a read. A slot process that made itself non-dumpable shows a
    root-owned ``/proc/N`` and is not found here, but it cannot leave its PID namespace,
    and every process in it dies with the namespace's init (bubblewrap's, killed with
    the child)."""
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
