"""The child side of grading: runs a student's notebook code inside the sandbox.

This file is executed, on its own, by an interpreter inside the sandbox
(``python -I -S harness.py ...``). It needs only the standard library and numpy, and it
never sees reference outputs, hidden test code, the gradebook or the course folder.
With bubblewrap that interpreter is the worker slot's :class:`ZygoteServer`, which imports
numpy once and forks one child per notebook run; otherwise each child is a fresh
interpreter.

It talks to the trusted parent over two pipes (the messages are listed in ``wire.py``):
``setup`` runs the cells, each ``call`` runs one test case. Its first message, ``hello``,
says that the sandbox and the interpreter started and numpy imports under the limits,
before any student code runs.

A child that dies before its ``hello`` failed for the grader's reasons (bubblewrap, the
interpreter, limits too small to start it), never for the student's: the parent reports
it as a grader error, not as the student's fault.

Only data crosses: a value returned by the student's function is turned into plain arrays
and JSON scalars here; the parent rebuilds it and compares it in its own interpreter.
The frames, the messages and the value encoding are defined once, in ``wire.py``, which
both sides import.
"""

from __future__ import annotations

import builtins
import errno as _errno
import fcntl
import json
import mmap
import os
import signal
import sys
import time
import traceback
import types


def _load_wire():
    """``wire.py`` from this file's folder (the sandbox mounts the two side by side); the
    interpreter runs isolated (``-I``), so this folder is not on ``sys.path``."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wire.py")
    spec = importlib.util.spec_from_file_location("_grading_wire", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wire = _load_wire()
MAX_MESSAGE = wire.MAX_TEXT


# ----------------------------------------------------------------------------- child


class _Anything:
    """Stand-in for IPython objects: accepts any attribute access or call, does nothing."""

    def __getattr__(self, name):
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False


class _Shell(_Anything):
    """``get_ipython()`` for the script: magics are ignored, except the cell magics that
    only wrap their body (``%%time``, ``%%capture``, ...), whose body is run."""

    PASS_THROUGH = {"time", "timeit", "capture", "prun", "debug"}

    def __init__(self, namespace):
        self._namespace = namespace
        self.user_ns = namespace

    def run_cell_magic(self, name, line, body):
        if name in self.PASS_THROUGH:
            exec(compile(body, "<cell magic>", "exec"), self._namespace)

    def run_line_magic(self, name, line, *args, **kwargs):
        return None

    def system(self, *args, **kwargs):
        return None

    getoutput = system


class ForbiddenImport(ImportError):
    pass


class _Blocker:
    """Meta-path finder that refuses the libraries students must not call.

    The modules are not mounted in the sandbox in the first place; this only turns the
    failure into a clear message."""

    def __init__(self, names):
        self.names = tuple(names)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.names:
            raise ForbiddenImport(
                f"{top} is not available during grading: implement this with numpy only",
                name=fullname,
            )
        return None


def _classify(exc) -> str | None:
    """Which resource limit, if any, an exception reports."""
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, RecursionError):
        return None
    if isinstance(exc, OSError):
        if exc.errno == _errno.EFBIG:
            return "file size"
        if exc.errno in (_errno.ENOSPC, _errno.EDQUOT):
            return "disk space"
        if exc.errno == _errno.EMFILE:
            return "open files"
        if exc.errno == _errno.EAGAIN and exc.filename is None:
            return "processes"  # fork/clone refused by RLIMIT_NPROC
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        return "processes"
    return None


def _describe(exc) -> dict:
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001 - a student's __str__ may raise anything
        message = "<message could not be shown>"
    tb = [
        (f.filename, f.lineno, f.name)
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.startswith("<cell")
    ]
    return {
        "type": type(exc).__name__,
        "module": getattr(type(exc), "__module__", ""),
        "message": message[:MAX_MESSAGE],
        "errno": getattr(exc, "errno", None) if isinstance(exc, OSError) else None,
        "limit": _classify(exc),
        "where": [f"{name} ({file}, line {line})" for file, line, name in tb][-3:],
    }


class Child:
    def __init__(self, fd_in, fd_out, namespace_names, spare=()):
        self.fd_in, self.fd_out = fd_in, fd_out
        self.pid = os.getpid()
        self.in_pid_namespace = namespace_names
        self.spare = {"1", str(self.pid), *map(str, spare)}  # and the zygote, our parent
        self.one_by_one = bool(spare)

    # --- guards -------------------------------------------------------------------

    def _after_student_code(self):
        """A process forked by student code must never speak for the harness."""
        if os.getpid() != self.pid:
            os._exit(0)
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - student code may have replaced them
                pass
        self._kill_others()

    def _kill_others(self):
        """Kill background processes left by student code (only inside our own PID
        namespace, where ``kill(-1)`` reaches nothing but the sandbox). Under a zygote
        the processes are killed one by one, sparing it: ``kill(-1)`` would reach it
        too when it has our uid (user-namespace mode)."""
        if not self.in_pid_namespace:
            return
        for _ in range(100):
            others = []
            for name in os.listdir("/proc"):
                if name.isdigit() and name not in self.spare:
                    try:
                        with open(f"/proc/{name}/stat", "rb") as f:
                            state = f.read().rpartition(b")")[2].split()[0]
                    except OSError:
                        continue
                    if state != b"Z":
                        others.append(name)
            if not others:
                break
            for pid in others if self.one_by_one else (-1,):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            self._reap()
        self._reap()

    @staticmethod
    def _reap():
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    # --- protocol -------------------------------------------------------------------

    def send(self, header, blobs=()):
        wire.write_frame(self.fd_out, header, blobs)

    def run(self):
        header, _ = wire.read_frame(self.fd_in)
        assert header["op"] == "setup", header
        sys.meta_path.insert(0, _Blocker(header.get("forbidden", ())))
        module = types.ModuleType("__main__")
        namespace = module.__dict__
        namespace["__builtins__"] = builtins
        shell = _Shell(namespace)
        namespace["get_ipython"] = lambda: shell
        namespace["display"] = lambda *a, **k: None
        sys.modules["__main__"] = module
        skip = set(header.get("skip", ()))
        for cell in header["cells"]:
            index = cell["index"]
            if index in skip:
                continue
            self.send({"ev": "cell_start", "index": index})
            error = None
            try:
                code = compile(cell["code"], f"<cell {index + 1}>", "exec")
                exec(code, namespace)
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: next cell runs
                error = _describe(exc)
            self._after_student_code()
            self.send({"ev": "cell_end", "index": index, "error": error})
        callables = sorted(
            name for name, value in list(namespace.items()) if callable(value) and type(name) is str
        )
        self.send({"ev": "ready", "callables": callables[:1000]})

        while True:
            header, blobs = wire.read_frame(self.fd_in)
            if header["op"] == "exit":
                return
            name, args, kwargs = wire.decode_call(header, blobs)
            function = namespace.get(name)
            try:
                value = function(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001
                self._after_student_code()
                self.send({"ev": "error", "error": _describe(exc)})
                continue
            self._after_student_code()
            out = []
            try:
                encoded = wire.encode_value(value, out)
            except BaseException as exc:  # noqa: BLE001 - e.g. MemoryError while copying
                self.send({"ev": "error", "error": _describe(exc)})
                continue
            self.send({"ev": "result", "value": encoded}, out)


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("harness: could not drop privileges")


def _set_limits(limits: dict) -> None:
    import resource

    names = {
        "as": resource.RLIMIT_AS,
        "cpu": resource.RLIMIT_CPU,
        "fsize": resource.RLIMIT_FSIZE,
        "nproc": resource.RLIMIT_NPROC,
        "nofile": resource.RLIMIT_NOFILE,
        "core": resource.RLIMIT_CORE,
    }
    for key, value in limits.items():
        soft = hard = int(value)
        if key == "cpu":  # SIGXCPU at the soft limit, SIGKILL one second later
            hard = soft + 1
        resource.setrlimit(names[key], (soft, hard))


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _start_child(config: dict) -> None:
    """What every child does before its ``hello``: limits, stdin, the import path,
    numpy."""
    _set_limits(config["limits"])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes raise EFBIG instead
    sys.path[:] = [p for p in sys.path if p and p not in config["site"]] + list(config["site"])
    sys.stdin = open(os.devnull)  # noqa: SIM115
    import numpy  # noqa: F401 - fails here, before the hello, if the sandbox cannot load it


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    if config.get("zygote_fd") is not None:
        ZygoteServer(config).serve()
        os._exit(0)
    if config.get("uid") is not None:
        _drop_privileges(config["uid"], config["gid"])
    if not config.get("pid_namespace"):
        _die_with_parent()
    _start_child(config)
    wire.write_frame(config["fd_out"], {"ev": "hello", "python": sys.version.split()[0]})
    Child(config["fd_in"], config["fd_out"], bool(config.get("pid_namespace"))).run()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: student atexit hooks and finalisers


# ----------------------------------------------------------------------------- zygote

PR_SET_DUMPABLE = 4
SCRATCH = ("/tmp", "/dev/shm", "/dev/mqueue")  # the sandbox's only writable places
SYSV_IPC = ("/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem")
CHILD_FD_BASE = 3  # the forked child's channel in, channel out are fds 3 and 4


def _prctl(option: int, value: int) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


def _capabilities_left() -> list[str]:
    with open("/proc/self/status") as f:
        return [
            line.split(":")[0]
            for line in f
            if line.startswith(("CapEff:", "CapPrm:", "CapAmb:")) and int(line.split()[1], 16)
        ]


class ZygoteServer:
    """One per worker slot: a harness that has imported numpy and forks a child for
    each notebook run (messages in ``wire.py``). It runs no student code, holds nothing
    of any student, and is not dumpable, so a child of its uid (user-namespace mode)
    cannot ptrace it or read its memory; as root it keeps ``CAP_SETUID``, ``CAP_SETGID``
    and ``CAP_KILL`` and each child drops to the slot's uid. Before each fork it kills
    every other process in the PID namespace and checks that the previous child left
    nothing behind (files, IPC objects); if it did, it says ``dirty`` and exits, and
    the grader starts a fresh sandbox."""

    def __init__(self, config: dict):
        import socket

        self.config = config
        self.sock = socket.socket(fileno=config["zygote_fd"])
        self.pid = os.getpid()
        self.reaped: dict[int, int] = {}  # child pid -> wait status, reaped while killing

    def serve(self) -> None:
        """Serve the grader until it says something else or goes; however that ends (an
        answer it can no longer receive included), every other process in the sandbox is
        killed first: the sandbox lives exactly as long as the grader's socket."""
        try:
            self._serve()
        finally:
            if os.getpid() == self.pid:  # not in a forked child on its way out
                self.kill_others()

    def _serve(self) -> None:
        _prctl(PR_SET_DUMPABLE, 0)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_IGN)
        sys.path[:] = [p for p in sys.path if p] + list(self.config["site"])
        import numpy  # noqa: F401 - every child gets it from here, already imported
        import numpy.random  # noqa: F401 - numpy loads it lazily; a child reseeds it

        self.send({"ev": "hello", "python": sys.version.split()[0]})
        while True:
            try:
                header, fds = wire.recv_control(self.sock, wire.CHILD_FDS)
            except (EOFError, ConnectionError):
                self.kill_others()
                return
            if header.get("op") == "kill":
                self.kill_others()
                self.send({"ev": "exited", "pid": None, "code": None})
                continue
            if header.get("op") != "fork" or len(fds) != wire.CHILD_FDS:
                for fd in fds:
                    os.close(fd)
                return
            self.kill_others()
            left = self.leftovers()
            if left:
                for fd in fds:
                    os.close(fd)
                self.send({"ev": "dirty", "what": left})
                return
            self.reaped.clear()
            pid = os.fork()
            if pid == 0:
                self.become_child(header, fds)  # never returns
            for fd in fds:
                os.close(fd)
            self.send({"ev": "forked", "pid": pid})
            if not self.watch(pid):
                return

    def send(self, header: dict) -> None:
        wire.send_control(self.sock, header)

    def watch(self, pid: int) -> bool:
        """Until the child ends: a ``kill`` kills it and all it started; False if the
        grader has gone."""
        import selectors

        pidfd = os.pidfd_open(pid)
        sel = selectors.DefaultSelector()
        sel.register(pidfd, selectors.EVENT_READ, "child")
        sel.register(self.sock, selectors.EVENT_READ, "grader")
        gone = False
        try:
            while True:
                events = [key.data for key, _ in sel.select()]
                if "grader" in events:
                    try:
                        header, fds = wire.recv_control(self.sock, wire.CHILD_FDS)
                        for fd in fds:
                            os.close(fd)
                    except (EOFError, ConnectionError, wire.ProtocolError):
                        header, gone = {"op": "kill"}, True
                    if header.get("op") == "kill":
                        self.kill_others()
                if "child" in events or gone:
                    status = self.reaped.pop(pid, None)
                    if status is None:
                        _, status = os.waitpid(pid, 0)
                    if gone:
                        return False
                    self.send({"ev": "exited", "pid": pid, "code": _exit_code(status)})
                    return True
        finally:
            sel.close()
            os.close(pidfd)

    def kill_others(self) -> None:
        """SIGKILL every process in the sandbox but this one and its init, until none
        is left (``kill(-1)`` spares the caller and the namespace's init)."""
        for _ in range(200):
            alive = []
            for name in os.listdir("/proc"):
                if name.isdigit() and name not in ("1", str(self.pid)):
                    try:
                        with open(f"/proc/{name}/stat", "rb") as f:
                            state = f.read().rpartition(b")")[2].split()[0]
                    except OSError:
                        continue
                    if state not in (b"Z", b"X"):
                        alive.append(name)
            if not alive:
                return
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            self.reap()
            time.sleep(0.001)

    def reap(self) -> None:
        """Reap the children that have ended (the forked child is the zygote's only
        child: what it started is reparented to the namespace's init)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.reaped[pid] = status

    def leftovers(self) -> list[str]:
        """What the previous child left that would reach the next one."""
        left = []
        for folder in SCRATCH:
            try:
                if os.listdir(folder):
                    left.append(folder)
            except FileNotFoundError:
                continue
            except OSError:
                left.append(folder)
        for table in SYSV_IPC:
            try:
                with open(table) as f:
                    if len(f.read().splitlines()) > 1:
                        left.append(table)
            except FileNotFoundError:
                continue
        return left

    def become_child(self, header: dict, fds: list[int]) -> None:
        """In the forked process: the child a fresh interpreter would have been."""
        try:
            self.sock.close()
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
            for fd, target in zip(high, (CHILD_FD_BASE, CHILD_FD_BASE + 1, 1, 2), strict=True):
                os.dup2(fd, target)
            os.closerange(CHILD_FD_BASE + 2, 1 << 16)
            for sig in (signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if header.get("uid") is not None:
                _drop_privileges(header["uid"], header["gid"])
            if _capabilities_left():
                raise SystemExit(f"harness: capabilities left: {_capabilities_left()}")
            _prctl(PR_SET_DUMPABLE, 1)  # like a fresh interpreter (the zygote is not)
            _start_child({**header, "site": self.config["site"]})
            import numpy.random

            numpy.random.seed()  # fresh entropy, as a fresh interpreter would have
            try:  # room to run (importing numpy afresh would have needed it)
                mmap.mmap(-1, 8 << 20).close()
            except OSError:
                raise SystemExit("harness: the memory limit leaves no room to run") from None
            fd_in, fd_out = CHILD_FD_BASE, CHILD_FD_BASE + 1
            wire.write_frame(fd_out, {"ev": "hello", "python": sys.version.split()[0]})
            Child(fd_in, fd_out, True, spare=(os.getppid(),)).run()
            sys.stdout.flush()
        except SystemExit as exc:
            try:
                print(exc, file=sys.stderr, flush=True)
            except BaseException:  # noqa: BLE001
                pass
            os._exit(1)
        except BaseException:  # noqa: BLE001 - whatever happens, never back in the loop
            try:
                traceback.print_exc()
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001
                pass
            os._exit(1)
        os._exit(0)


def _exit_code(status: int) -> int:
    """A wait status as ``Popen.returncode`` says it (negative: killed by that signal)."""
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    main(sys.argv)
