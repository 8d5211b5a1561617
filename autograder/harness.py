"""The child side of grading: runs a student's notebook code inside the sandbox.

This file is executed, on its own, by a fresh interpreter inside the sandbox
(``python -I -S harness.py ...``). It needs only the standard library and numpy, and it
never sees reference outputs, hidden test code, the gradebook or the course folder.

It talks to the trusted parent over two pipes with length-prefixed frames (a JSON header
followed by ``.npy`` blobs written with ``allow_pickle=False``):

parent -> child  ``setup`` (cells to run), then ``call`` (one test case), ... ``exit``
child -> parent  ``hello`` (the sandbox and the interpreter started, numpy imports under
                 the limits: before any student code runs), ``cell_start`` / ``cell_end``
                 per cell, ``ready``, then ``result`` or ``error`` per call

A child that dies before its ``hello`` failed for the grader's reasons (bubblewrap, the
interpreter, limits too small to start it), never for the student's: the parent reports
it as a grader error, not as the student's fault.

Only data crosses: a value returned by the student's function is turned into plain arrays
and JSON scalars here; the parent rebuilds it and compares it in its own interpreter.
The parent also imports the frame helpers below (``write_frame``, ``encode_frame``,
``decode_header``), so both sides share one definition of the wire format.
"""

from __future__ import annotations

import builtins
import errno as _errno
import io
import json
import os
import signal
import struct
import sys
import traceback
import types

HEADER = struct.Struct("<II")  # JSON length, number of arrays
BLOB = struct.Struct("<Q")  # length of one .npy blob
MAX_JSON = 1 << 20
MAX_MESSAGE = 2000  # characters kept of an exception message
MAX_ITEMS = 64  # items kept of a returned tuple or list
MAX_DEPTH = 4


# ----------------------------------------------------------------------------- framing


def encode_frame(header: dict, blobs: list[bytes] = ()) -> bytes:
    """One frame: ``<II`` (JSON length, blob count), JSON, then ``<Q`` length + bytes per blob."""
    data = json.dumps(header, allow_nan=True).encode()
    parts = [HEADER.pack(len(data), len(blobs)), data]
    for blob in blobs:
        parts += [BLOB.pack(len(blob)), blob]
    return b"".join(parts)


def write_frame(fd: int, header: dict, blobs: list[bytes] = ()) -> None:
    view = memoryview(encode_frame(header, blobs))
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> tuple[dict, list[bytes]]:
    """Blocking read of one frame (used by the child; the parent reads with deadlines)."""
    n_json, n_blobs = HEADER.unpack(_read_exact(fd, HEADER.size))
    header = json.loads(_read_exact(fd, n_json))
    blobs = [_read_exact(fd, BLOB.unpack(_read_exact(fd, BLOB.size))[0]) for _ in range(n_blobs)]
    return header, blobs


def array_to_blob(array) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def blob_to_array(blob: bytes):
    import numpy as np

    return np.lib.format.read_array(io.BytesIO(blob), allow_pickle=False)


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
    def __init__(self, fd_in, fd_out, namespace_names):
        import numpy as np

        self.np = np
        self.ndarray = np.ndarray
        self.generic = np.generic
        self.fd_in, self.fd_out = fd_in, fd_out
        self.pid = os.getpid()
        self._type = type
        self._isinstance = isinstance
        self.in_pid_namespace = namespace_names

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
        namespace, where ``kill(-1)`` reaches nothing but the sandbox)."""
        if not self.in_pid_namespace:
            return
        me = str(self.pid)
        for _ in range(100):
            others = []
            for name in os.listdir("/proc"):
                if name.isdigit() and name not in ("1", me):
                    try:
                        with open(f"/proc/{name}/stat", "rb") as f:
                            state = f.read().rpartition(b")")[2].split()[0]
                    except OSError:
                        continue
                    if state != b"Z":
                        others.append(name)
            if not others:
                break
            try:
                os.kill(-1, signal.SIGKILL)
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

    # --- values -> data -------------------------------------------------------------

    def encode(self, value, blobs, depth=0):
        t = self._type(value)
        np = self.np
        if t is self.ndarray or self._isinstance(value, self.ndarray):
            plain = self.ndarray.view(value, self.ndarray)
            if plain.dtype.hasobject:
                return {"kind": "unsupported", "type": "numpy.ndarray with dtype=object"}
            blobs.append(array_to_blob(plain))
            if t is self.ndarray:
                return {"kind": "ndarray", "blob": len(blobs) - 1}
            return {"kind": "ndarray_subclass", "type": _qualname(t), "blob": len(blobs) - 1}
        if self._isinstance(value, self.generic) and t.__module__ == "numpy":
            if np.asarray(value).dtype.hasobject:
                return {"kind": "unsupported", "type": _qualname(t)}
            blobs.append(array_to_blob(np.asarray(value)))
            return {"kind": "npscalar", "blob": len(blobs) - 1}
        if t is bool or t is int or t is float or t is str or value is None:
            if t is int and value.bit_length() > 256:
                return {"kind": "unsupported", "type": "int (more than 256 bits)"}
            if t is str:
                value = value[:MAX_MESSAGE]
            return {"kind": "py", "type": t.__name__, "value": value}
        if t is complex:
            return {"kind": "py", "type": "complex", "value": [value.real, value.imag]}
        if t is tuple or t is list:
            if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
                return {"kind": "unsupported", "type": f"{t.__name__} (too deep or too long)"}
            return {
                "kind": t.__name__,
                "items": [self.encode(v, blobs, depth + 1) for v in value],
            }
        return {"kind": "unsupported", "type": _qualname(t)}

    # --- protocol -------------------------------------------------------------------

    def send(self, header, blobs=()):
        write_frame(self.fd_out, header, blobs)

    def run(self):
        header, _ = read_frame(self.fd_in)
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
            header, blobs = read_frame(self.fd_in)
            if header["op"] == "exit":
                return
            arrays = [blob_to_array(b) for b in blobs]
            args = [arrays[a["blob"]] if "blob" in a else a["value"] for a in header["args"]]
            kwargs = header.get("kwargs") or {}
            function = namespace.get(header["function"])
            try:
                value = function(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001
                self._after_student_code()
                self.send({"ev": "error", "error": _describe(exc)})
                continue
            self._after_student_code()
            out = []
            try:
                encoded = self.encode(value, out)
            except BaseException as exc:  # noqa: BLE001 - e.g. MemoryError while copying
                self.send({"ev": "error", "error": _describe(exc)})
                continue
            self.send({"ev": "result", "value": encoded}, out)


def _qualname(t) -> str:
    try:
        return f"{t.__module__}.{t.__qualname__}"
    except BaseException:  # noqa: BLE001
        return "<unknown type>"


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


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    if config.get("uid") is not None:
        _drop_privileges(config["uid"], config["gid"])
    if not config.get("pid_namespace"):
        _die_with_parent()
    _set_limits(config["limits"])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes raise EFBIG instead
    sys.path[:] = [p for p in sys.path if p] + list(config["site"])
    sys.stdin = open(os.devnull)  # noqa: SIM115
    import numpy  # noqa: F401 - fails here, before the hello, if the sandbox cannot load it

    write_frame(config["fd_out"], {"ev": "hello", "python": sys.version.split()[0]})
    Child(config["fd_in"], config["fd_out"], bool(config.get("pid_namespace"))).run()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: student atexit hooks and finalisers


if __name__ == "__main__":
    main(sys.argv)
