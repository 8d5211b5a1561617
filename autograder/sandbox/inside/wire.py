"""The grading channel between the trusted grader and the sandboxed child: one module.

Both sides import this file: the grader (:mod:`autograder.sandbox.session`,
``.processes``, ``.zygote``) and the child (``harness.py``, which loads it from its own
folder inside the sandbox, where only the standard library and numpy exist: nothing here
may import anything else).

A *frame* is ``<II`` (length of a JSON header, number of blobs), the JSON header, then
``<Q`` length + bytes for each blob. A blob is one array in ``.npy`` format, written and
read with ``allow_pickle=False``: no pickle ever crosses the channel.

Messages (the header's ``op`` from the grader, ``ev`` from the child)::

    grader -> child   setup {cells, skip, forbidden}   call {function, args, kwargs}   exit
    child -> grader   hello {python}   cell_start {index}   cell_end {index, error}
                      ready {callables}   result {value}   error {error}

With bubblewrap, each worker slot keeps one long-lived *zygote* in its sandbox (a
harness that has imported numpy and forks a child per notebook run). The grader talks
to it over a ``SOCK_SEQPACKET`` socket, one JSON header per packet (:func:`send_control`,
:func:`recv_control`); a ``fork`` request carries the new child's four pipe ends (channel
in, channel out, stdout, stderr) as ``SCM_RIGHTS``::

    grader -> zygote  fork {limits, uid, gid} + 4 fds   kill
    zygote -> grader  hello {python}   forked {pid}   exited {pid, code}   dirty {what}

``exited.code`` is what :attr:`subprocess.Popen.returncode` would say; ``dirty`` means the
previous child left something behind that the zygote cannot remove (a file in ``/tmp``,
an IPC object): the zygote exits and the grader starts a fresh one.

A returned value is encoded by :func:`encode_value` (arrays, numpy scalars, Python
scalars, tuples and lists of them) and rebuilt by :func:`decode_value`. Nothing the
child sends is trusted: every parser of its bytes (:func:`take_frame`,
:func:`recv_control`, :func:`blob_to_array`, :func:`decode_value`, :func:`decode_error`,
:func:`decode_index`, :func:`decode_callables`) checks each claim against what arrived
before allocating anything and raises only :class:`ProtocolError` (or
:class:`OutputTooLarge`); the grader counts a forged message as tampering.
"""

from __future__ import annotations

import io
import json
import os
import struct
import threading

HEADER = struct.Struct("<II")  # JSON length, number of blobs
BLOB = struct.Struct("<Q")  # length of one .npy blob
MAX_JSON = 1 << 20
MAX_BLOBS = 1024
MAX_TEXT = 2000  # characters kept of a returned string or an exception message
MAX_ITEMS = 64  # items kept of a returned tuple or list
MAX_DEPTH = 4

# CPython 3.11 keeps the syntax-tree builder's recursion depth in one place for all
# threads, so two threads building trees at once (``ast.parse``, ``ast.literal_eval``) can
# fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905).
# The grader builds trees in a thread per submission (here and in ``grading.notebooks``):
# it builds every one under this lock.
SYNTAX_TREE_LOCK = threading.Lock()


class ProtocolError(Exception):
    """The child sent something that is not a well-formed message."""


class OutputTooLarge(Exception):
    """The child sent more data than the limits allow."""


# ----------------------------------------------------------------------------- frames


def loads_header(data: bytes, what: str) -> dict:
    """The JSON object of a frame or control packet sent by the untrusted side: anything
    else (bad UTF-8 or JSON, nesting deep enough to exhaust the recursion limit, an
    integer of too many digits, not an object) is a :class:`ProtocolError`."""
    try:
        header = json.loads(data)
    except Exception as exc:  # noqa: BLE001 - RecursionError, ValueError, UnicodeError...
        raise ProtocolError(f"malformed {what} ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"malformed {what} (not a JSON object)")
    return header


def encode_frame(header: dict, blobs=()) -> bytes:
    data = json.dumps(header, allow_nan=True).encode()
    parts = [HEADER.pack(len(data), len(blobs)), data]
    for blob in blobs:
        parts += [BLOB.pack(len(blob)), blob]
    return b"".join(parts)


def write_frame(fd: int, header: dict, blobs=()) -> None:
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
    """Blocking read of one frame (the child's side; the grader reads with deadlines)."""
    n_json, n_blobs = HEADER.unpack(_read_exact(fd, HEADER.size))
    header = json.loads(_read_exact(fd, n_json))
    blobs = [_read_exact(fd, BLOB.unpack(_read_exact(fd, BLOB.size))[0]) for _ in range(n_blobs)]
    return header, blobs


def take_frame(buffer: bytearray, max_blob: int) -> tuple[dict, list[bytes]] | None:
    """Remove one complete frame from the front of ``buffer`` (bytes read so far from an
    untrusted child); ``None`` if it is not complete yet."""
    if len(buffer) < HEADER.size:
        return None
    n_json, n_blobs = HEADER.unpack_from(buffer)
    if n_json > MAX_JSON or n_blobs > MAX_BLOBS:
        raise ProtocolError("malformed frame from the child")
    pos = HEADER.size + n_json
    spans = []
    for _ in range(n_blobs):
        if len(buffer) < pos + BLOB.size:
            return None
        (size,) = BLOB.unpack_from(buffer, pos)
        if size > max_blob:
            raise OutputTooLarge()
        pos += BLOB.size
        spans.append((pos, pos + size))
        pos += size
    if len(buffer) < pos:
        return None
    header = loads_header(bytes(buffer[HEADER.size : HEADER.size + n_json]), "frame")
    blobs = [bytes(buffer[a:b]) for a, b in spans]
    del buffer[:pos]
    return header, blobs


# ----------------------------------------------------------------------------- zygote

MAX_CONTROL = 1 << 16  # bytes of one control packet
CHILD_FDS = 4  # channel in, channel out, stdout, stderr


def send_control(sock, header: dict, fds=()) -> None:
    """One control packet (a JSON header, and file descriptors passed with SCM_RIGHTS)."""
    import socket

    data = json.dumps(header).encode()
    if len(data) > MAX_CONTROL:
        raise ProtocolError("control message too long")
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


def recv_control(sock, max_fds: int = 0) -> tuple[dict, list[int]]:
    """The next control packet; raises EOFError when the other side has closed, and
    ProtocolError on anything that is not one JSON object (closing any fds it carried)."""
    import socket

    data, fds, _, _ = socket.recv_fds(sock, MAX_CONTROL, max_fds)
    if not data:
        for fd in fds:
            os.close(fd)
        raise EOFError("control socket closed")
    try:
        return loads_header(data, "control message"), fds
    except ProtocolError:
        for fd in fds:
            os.close(fd)
        raise


# ----------------------------------------------------------------------------- arrays


def array_to_blob(array) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


# What a blob may hold: plain numbers and booleans of a fixed size (no object, string,
# void, structured or datetime dtypes), in a shape of bounded rank.
ALLOWED_DTYPES = frozenset(
    f"{order}{code}" for code in ("b1", "i1", "u1") for order in ("|",)
) | frozenset(
    f"{order}{code}"
    for code in ("i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")
    for order in ("<", ">")
)
MAX_NDIM = 32
MAX_DIM = 1 << 31  # elements along one axis (numpy itself stops at 2**63)
MAX_NPY_HEADER = 4096
_NPY_MAGIC = b"\x93NUMPY"
_NPY_KEYS = {"descr", "fortran_order", "shape"}


def blob_to_array(blob: bytes):
    """The array in one ``.npy`` blob, every claim of its header checked against what
    arrived: the format version, a header of bounded size holding exactly ``descr``,
    ``fortran_order`` and ``shape``, an allowed dtype, a shape of non-negative ints of
    bounded rank, and ``prod(shape) * itemsize`` equal to the bytes that follow. Nothing
    is allocated before the check (``numpy.lib.format.read_array`` would allocate the
    claimed shape first). Raises only :class:`ProtocolError`."""
    import ast

    import numpy as np

    try:
        blob = bytes(blob)
        if blob[:6] != _NPY_MAGIC or len(blob) < 10:
            raise ProtocolError("not an .npy blob")
        major = blob[6]
        if major == 1:
            start, (size,) = 10, struct.unpack_from("<H", blob, 8)
        elif major in (2, 3) and len(blob) >= 12:
            start, (size,) = 12, struct.unpack_from("<I", blob, 8)
        else:
            raise ProtocolError("unknown .npy version")
        if size > MAX_NPY_HEADER or start + size > len(blob):
            raise ProtocolError("an .npy header longer than the blob or the limit")
        text = blob[start : start + size].decode("latin1" if major < 3 else "utf8")
        if "\\" in text:  # numpy writes none; a bad escape would make the parser warn
            raise ProtocolError("an .npy header with a backslash")
        with SYNTAX_TREE_LOCK:
            meta = ast.literal_eval(text)
        if type(meta) is not dict or set(meta) != _NPY_KEYS:
            raise ProtocolError("an .npy header without exactly descr, fortran_order, shape")
        descr, fortran, shape = meta["descr"], meta["fortran_order"], meta["shape"]
        if type(descr) is not str or descr not in ALLOWED_DTYPES:
            raise ProtocolError(f"a dtype the protocol does not allow ({str(descr)[:40]!r})")
        if type(fortran) is not bool or type(shape) is not tuple or len(shape) > MAX_NDIM:
            raise ProtocolError("an .npy header with a bad shape or order")
        if not all(type(n) is int and 0 <= n < MAX_DIM for n in shape):
            raise ProtocolError("an .npy header with a bad shape")
        dtype = np.dtype(descr)
        count = 1
        for n in shape:
            count *= n
        if count * dtype.itemsize != len(blob) - start - size:
            raise ProtocolError(
                "an .npy blob whose header does not match its data "
                f"(shape {shape[:8]} of {descr}, {len(blob) - start - size} bytes)"
            )
        flat = np.frombuffer(blob, dtype=dtype, count=count, offset=start + size).copy()
        return flat.reshape(shape, order="F" if fortran else "C")
    except ProtocolError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a forged header makes the parser do
        raise ProtocolError(f"an unreadable .npy blob ({type(exc).__name__})") from None


# ----------------------------------------------------------------------------- calls


def encode_call(function: str, args, kwargs: dict) -> tuple[dict, list[bytes]]:
    """A ``call`` message: the arguments are arrays (blobs), the keywords plain JSON."""
    blobs = [array_to_blob(arg) for arg in args]
    header = {"op": "call", "function": function, "kwargs": kwargs}
    header["args"] = [{"blob": i} for i in range(len(blobs))]
    return header, blobs


def decode_call(header: dict, blobs) -> tuple[str, list, dict]:
    arrays = [blob_to_array(b) for b in blobs]
    args = [arrays[a["blob"]] if "blob" in a else a["value"] for a in header["args"]]
    return header["function"], args, header.get("kwargs") or {}


# ----------------------------------------------------------------------------- values

_type, _isinstance = type, isinstance  # taken before any student code runs


def _qualname(t) -> str:
    try:
        return f"{t.__module__}.{t.__qualname__}"
    except BaseException:  # noqa: BLE001 - a student's metaclass may raise anything
        return "<unknown type>"


def encode_value(value, blobs: list, depth: int = 0) -> dict:
    """A returned value as JSON plus blobs (the child's side)."""
    import numpy as np

    t = _type(value)
    if t is np.ndarray or _isinstance(value, np.ndarray):
        plain = np.ndarray.view(value, np.ndarray)
        if plain.dtype.hasobject:
            return {"kind": "unsupported", "type": "numpy.ndarray with dtype=object"}
        blobs.append(array_to_blob(plain))
        if t is np.ndarray:
            return {"kind": "ndarray", "blob": len(blobs) - 1}
        return {"kind": "ndarray_subclass", "type": _qualname(t), "blob": len(blobs) - 1}
    if _isinstance(value, np.generic) and t.__module__ == "numpy":
        if np.asarray(value).dtype.hasobject:
            return {"kind": "unsupported", "type": _qualname(t)}
        blobs.append(array_to_blob(np.asarray(value)))
        return {"kind": "npscalar", "blob": len(blobs) - 1}
    if t is bool or t is int or t is float or t is str or value is None:
        if t is int and value.bit_length() > 256:
            return {"kind": "unsupported", "type": "int (more than 256 bits)"}
        if t is str:
            value = value[:MAX_TEXT]
        return {"kind": "py", "type": t.__name__, "value": value}
    if t is complex:
        return {"kind": "py", "type": "complex", "value": [value.real, value.imag]}
    if t is tuple or t is list:
        if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return {"kind": "unsupported", "type": f"{t.__name__} (too deep or too long)"}
        return {"kind": t.__name__, "items": [encode_value(v, blobs, depth + 1) for v in value]}
    return {"kind": "unsupported", "type": _qualname(t)}


_SCALARS = {
    "int": lambda v: v if type(v) is int else None,
    "float": lambda v: float(v) if type(v) in (int, float) else None,
    "bool": lambda v: v if type(v) is bool else None,
    "str": lambda v: v if type(v) is str else None,
}


def decode_value(node, blobs, unrepresentable, depth: int = 0):
    """Rebuild a returned value from the child's data (the grader's side).

    ``unrepresentable(description)`` makes the stand-in for a value the child could not
    send (an object of another type); the checker reports it as a wrong type.
    """
    import numpy as np

    try:
        if type(node) is not dict:
            raise ProtocolError("a value that is not a JSON object")
        kind = node["kind"]
        if kind in ("ndarray", "npscalar") and (type(node["blob"]) is not int or node["blob"] < 0):
            raise ProtocolError("a blob index that is not an int")
        if kind == "ndarray":
            array = blob_to_array(blobs[node["blob"]])
            return array if type(array) is np.ndarray else unrepresentable("unknown")
        if kind == "ndarray_subclass":
            return unrepresentable(f"{str(node['type'])[:80]} (a subclass of numpy.ndarray)")
        if kind == "npscalar":
            array = blob_to_array(blobs[node["blob"]])
            if array.shape != ():
                raise ProtocolError("a numpy scalar that is not 0-d")
            return array[()]
        if kind == "py":
            t, value = node["type"], node["value"]
            if t == "NoneType" and value is None:
                return None
            if t == "complex" and isinstance(value, list) and len(value) == 2:
                return complex(float(value[0]), float(value[1]))
            scalar = _SCALARS[t](value) if t in _SCALARS else None
            if scalar is None:
                raise ValueError("bad scalar")
            return scalar
        if kind in ("tuple", "list"):
            items = node["items"]
            if depth >= MAX_DEPTH or type(items) is not list or len(items) > MAX_ITEMS:
                raise ProtocolError(f"a {kind} nested too deep or too long")
            items = [decode_value(i, blobs, unrepresentable, depth + 1) for i in items]
            return tuple(items) if kind == "tuple" else items
        if kind == "unsupported":
            return unrepresentable(str(node.get("type", "an unsupported object"))[:120])
        raise ProtocolError(f"an unknown kind of value ({str(kind)[:40]!r})")
    except ProtocolError:
        raise
    except Exception as exc:  # noqa: BLE001 - any claim that does not hold
        raise ProtocolError(f"unreadable data ({type(exc).__name__})") from None


# ----------------------------------------------------------------------------- events

LIMITS = ("memory", "file size", "disk space", "open files", "processes")
MAX_CALLABLES = 1000
MAX_NAME = 200


def _text(value, limit: int, what: str) -> str:
    if type(value) is not str:
        raise ProtocolError(f"{what} that is not a string")
    return value[:limit]


def decode_error(error) -> dict:
    """The child's description of an exception (``error`` of ``cell_end`` and ``error``
    events), every field checked: ``type``, ``module`` and ``message`` strings, ``errno``
    an int or None, ``limit`` one of :data:`LIMITS` or None, ``where`` at most three
    strings. Raises only :class:`ProtocolError`."""
    if type(error) is not dict:
        raise ProtocolError("an error that is not a JSON object")
    errno, limit, where = error.get("errno"), error.get("limit"), error.get("where", [])
    if errno is not None and type(errno) is not int:
        raise ProtocolError("an error whose errno is not an int")
    if limit is not None and limit not in LIMITS:
        raise ProtocolError("an error naming an unknown limit")
    if type(where) is not list or len(where) > 3:
        raise ProtocolError("an error whose 'where' is not a short list")
    return {
        "type": _text(error.get("type"), 80, "an error type"),
        "module": _text(error.get("module", ""), 200, "an error module"),
        "message": _text(error.get("message", ""), MAX_TEXT, "an error message"),
        "errno": errno,
        "limit": limit,
        "where": [_text(w, MAX_NAME, "an error location") for w in where],
    }


def decode_index(value, indices) -> int:
    """A cell index sent by the child: an int, one of the ``indices`` of the cells sent."""
    if type(value) is not int or value not in indices:
        raise ProtocolError("a cell index that names no cell")
    return value


def decode_callables(value) -> set[str]:
    """The names the notebook defined (``ready.callables``): a list of strings."""
    if type(value) is not list or len(value) > MAX_CALLABLES:
        raise ProtocolError("callables that are not a list of names")
    return {_text(name, MAX_NAME, "a callable's name") for name in value}
