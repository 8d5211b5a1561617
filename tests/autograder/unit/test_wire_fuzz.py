"""Property tests of every parser of what the sandboxed child sends (frames, ``.npy``
blobs, returned values, error descriptions, cell events, the zygote's control packets):
over structured malformed input, each either returns what the protocol allows or raises
its own :class:`wire.ProtocolError` (or ``OutputTooLarge``), never anything else, and
never allocates more than arrived."""

from __future__ import annotations

import ast
import json
import socket
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.sandbox import session as session_module
from autograder.sandbox.inside import wire
from autograder.sandbox.limits import Limits
from autograder.sandbox.processes import ChildGone, Timeout
from upsampling.checking import Unrepresentable

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

# --------------------------------------------------------------------------- .npy blobs

DESCRS = sorted(wire.ALLOWED_DTYPES) + [
    "|O",  # object: would unpickle
    "<U3",
    "|S4",
    "|V8",
    "<M8[s]",
    "<m8[D]",
    "|b2",
    "<f3",
    "f8",
    "",
    "[('a', '<f8')]",
]
SHAPE_INTS = st.one_of(
    st.integers(0, 6), st.sampled_from([10**13, 2**63, 2**64 + 1, -1, -(10**13)])
)
SHAPES = st.one_of(
    st.lists(SHAPE_INTS, max_size=4).map(tuple),
    st.lists(st.integers(1, 1), min_size=33, max_size=40).map(tuple),  # rank beyond the limit
    st.sampled_from([[2, 3], (2.0,), ("2",), (True,), None, 7]),
)


def npy_header(meta_text: str, version: int) -> bytes:
    body = meta_text.encode("latin1" if version < 3 else "utf8", "replace")
    if version == 1:
        return b"\x93NUMPY" + bytes([1, 0]) + struct.pack("<H", len(body)) + body
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(body)) + body


@st.composite
def npy_blobs(draw):
    """A blob whose header may lie about anything: dtype, shape, order, keys, version,
    header length, or how many bytes follow."""
    descr = draw(st.sampled_from(DESCRS))
    shape = draw(SHAPES)
    fortran = draw(st.sampled_from([False, True, 0, "no"]))
    meta = {"descr": descr, "fortran_order": fortran, "shape": shape}
    if draw(st.booleans()):
        meta = draw(
            st.sampled_from(
                [
                    {"descr": descr, "shape": shape},  # a key missing
                    dict(meta, extra=1),  # a key too many
                    [descr, shape],  # not a dict
                    "__import__('os')",  # not a literal
                    "{" * 200,  # not even Python
                ]
            )
        )
    text = meta if isinstance(meta, str) else repr(meta)
    version = draw(st.sampled_from([1, 2, 3, 0, 9]))
    head = npy_header(text, version)
    # The honest data length when the claim could hold, give or take a few bytes.
    try:
        honest = int(np.prod(shape)) * np.dtype(descr).itemsize if len(shape) < 8 else 0
    except Exception:  # noqa: BLE001
        honest = 0
    honest = min(max(honest, 0), 4096)
    length = draw(st.one_of(st.just(honest), st.integers(0, 64), st.just(honest + 1)))
    blob = head + draw(st.binary(min_size=length, max_size=length))
    if draw(st.integers(0, 9)) == 0:  # truncate or corrupt the header itself
        cut = draw(st.integers(0, len(blob)))
        blob = blob[:cut]
    return blob


def honest_claim(blob: bytes) -> bool:
    """Independently of wire.py: does this blob's header describe exactly its data?"""
    try:
        version = blob[6]
        start = 10 if version == 1 else 12
        size = struct.unpack_from("<H" if version == 1 else "<I", blob, 8)[0]
        meta = ast.literal_eval(blob[start : start + size].decode("latin1"))
        descr, shape = meta["descr"], meta["shape"]
        if descr not in wire.ALLOWED_DTYPES or set(meta) != {"descr", "fortran_order", "shape"}:
            return False
        if type(meta["fortran_order"]) is not bool or type(shape) is not tuple:
            return False
        if version not in (1, 2, 3) or len(shape) > wire.MAX_NDIM:
            return False
        if not all(type(n) is int and 0 <= n < 2**31 for n in shape):
            return False
        return int(np.prod(shape, dtype=object)) * np.dtype(descr).itemsize == len(blob) - (
            start + size
        )
    except Exception:  # noqa: BLE001
        return False


@FUZZ
@given(npy_blobs())
def test_a_blob_is_read_only_if_its_header_tells_the_truth(blob):
    try:
        array = wire.blob_to_array(blob)
    except wire.ProtocolError:
        assert not honest_claim(blob)
        return
    assert honest_claim(blob)
    assert type(array) is np.ndarray and array.dtype.str in wire.ALLOWED_DTYPES
    assert array.nbytes <= len(blob)  # nothing bigger than what arrived


@FUZZ
@given(
    st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, np.uint8]),
    st.lists(st.integers(0, 4), max_size=3),
    st.booleans(),
    st.data(),
)
def test_honest_arrays_cross_and_mutated_ones_raise_only_the_protocol_error(
    dtype, shape, fortran, data
):
    array = np.asarray(np.arange(int(np.prod(shape))).reshape(shape), dtype=dtype)
    if fortran:
        array = np.asfortranarray(array)
    blob = wire.array_to_blob(array)
    back = wire.blob_to_array(blob)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    # Any corruption of any byte: a readable array of the same size, or the protocol's error.
    mutated = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 4))):
        mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
    try:
        got = wire.blob_to_array(bytes(mutated))
    except wire.ProtocolError:
        return
    assert type(got) is np.ndarray and got.nbytes <= len(mutated)


def test_the_issue_s_ten_to_the_thirteen_header_is_refused_without_allocating():
    head = npy_header(repr({"descr": "<f8", "fortran_order": False, "shape": (10**13,)}), 1)
    with pytest.raises(wire.ProtocolError, match="bad shape"):
        wire.blob_to_array(head)
    head = npy_header(repr({"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}), 1)
    with pytest.raises(wire.ProtocolError, match="does not match its data"):
        wire.blob_to_array(head + bytes(8))
    object_array = npy_header(repr({"descr": "|O", "fortran_order": False, "shape": (1,)}), 1)
    with pytest.raises(wire.ProtocolError, match="dtype"):
        wire.blob_to_array(object_array + b"\x80\x04N.")


# --------------------------------------------------------------------------- values

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=10),
)
JSON_ANY = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)
KINDS = ["ndarray", "ndarray_subclass", "npscalar", "py", "tuple", "list", "unsupported", "x"]
PY_TYPES = ["int", "float", "bool", "str", "NoneType", "complex", "set", 3]


def value_nodes():
    leaf = st.fixed_dictionaries(
        {"kind": st.sampled_from(KINDS)},
        optional={
            "blob": st.one_of(st.integers(-3, 5), JSON_LEAVES),
            "type": st.one_of(st.sampled_from(PY_TYPES), JSON_LEAVES),
            "value": JSON_ANY,
        },
    )
    return st.recursive(
        st.one_of(leaf, JSON_ANY),
        lambda inner: st.fixed_dictionaries(
            {"kind": st.sampled_from(["tuple", "list"]), "items": st.lists(inner, max_size=5)}
        ),
        max_leaves=30,
    )


@FUZZ
@given(value_nodes(), st.lists(npy_blobs(), max_size=3))
def test_decoding_a_forged_value_returns_plain_data_or_raises_the_protocol_error(node, blobs):
    try:
        value = wire.decode_value(node, blobs, Unrepresentable)
    except wire.ProtocolError:
        return
    allowed = (np.ndarray, np.generic, int, float, bool, str, complex, type(None), Unrepresentable)

    def plain(v, depth=0):
        assert depth <= wire.MAX_DEPTH
        if isinstance(v, (list, tuple)):
            assert len(v) <= wire.MAX_ITEMS
            return all(plain(i, depth + 1) for i in v)
        return isinstance(v, allowed) and not (isinstance(v, np.ndarray) and v.dtype.hasobject)

    assert plain(value)


def test_deep_nesting_is_refused_however_it_is_spelled():
    node = {"kind": "int"}
    for _ in range(100_000):  # beyond the recursion limit
        node = {"kind": "list", "items": [node]}
    with pytest.raises(wire.ProtocolError):
        wire.decode_value(node, [], Unrepresentable)
    deep_json = b"[" * 500_000 + b"]" * 500_000
    frame = struct.pack("<II", len(deep_json), 0) + deep_json
    with pytest.raises(wire.ProtocolError):
        wire.take_frame(bytearray(frame), 1 << 20)


# --------------------------------------------------------------------------- frames


@st.composite
def frames(draw):
    """Frames whose length fields may lie, with any JSON (or non-JSON) header."""
    header = draw(
        st.one_of(
            JSON_ANY.map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=40),
            st.just(b"[" * 5000),
        )
    )
    blobs = draw(st.lists(st.binary(max_size=20), max_size=3))
    n_json = draw(st.one_of(st.just(len(header)), st.integers(0, 2**32 - 1)))
    n_blobs = draw(st.one_of(st.just(len(blobs)), st.integers(0, 2**32 - 1)))
    out = struct.pack("<II", n_json, n_blobs) + header
    for blob in blobs:
        size = draw(st.one_of(st.just(len(blob)), st.integers(0, 2**64 - 1)))
        out += struct.pack("<Q", size) + blob
    return out + draw(st.binary(max_size=8))


@FUZZ
@given(frames(), st.integers(1, 64))
def test_taking_a_forged_frame_returns_a_frame_waits_or_raises_a_protocol_error(raw, chunk):
    buffer = bytearray()
    for start in range(0, len(raw), chunk):  # as the bytes arrive
        buffer += raw[start : start + chunk]
        before = len(buffer)
        try:
            frame = wire.take_frame(buffer, 1 << 16)
        except (wire.ProtocolError, wire.OutputTooLarge):
            return
        if frame is None:
            assert len(buffer) == before  # nothing consumed until complete
        else:
            header, blobs = frame
            assert isinstance(header, dict) and all(isinstance(b, bytes) for b in blobs)


@FUZZ
@given(st.one_of(JSON_ANY.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
def test_a_forged_control_packet_is_a_dict_or_a_protocol_error(payload):
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        ours.send(payload)
        try:
            header, fds = wire.recv_control(theirs)
        except EOFError:
            assert payload == b""
        except wire.ProtocolError:
            pass
        else:
            assert isinstance(header, dict) and fds == []
    finally:
        ours.close()
        theirs.close()


# --------------------------------------------------------------------------- events


@FUZZ
@given(JSON_ANY | st.fixed_dictionaries({}, optional={k: JSON_ANY for k in wire.LIMITS}))
def test_a_forged_error_description_is_checked_field_by_field(error):
    try:
        got = wire.decode_error(error)
    except wire.ProtocolError:
        return
    assert type(got["type"]) is str and type(got["message"]) is str
    assert got["limit"] in (None, *wire.LIMITS)
    assert all(type(w) is str for w in got["where"]) and len(got["where"]) <= 3


@FUZZ
@given(JSON_ANY, JSON_ANY)
def test_forged_cell_indices_and_names(index, names):
    try:
        assert wire.decode_index(index, {0, 2, 5}) in {0, 2, 5}
    except wire.ProtocolError:
        pass
    try:
        got = wire.decode_callables(names)
    except wire.ProtocolError:
        return
    assert all(type(n) is str for n in got)


# ------------------------------------------------------------- the session, end to end


class ScriptedChild:
    """A child that sends the given frames (raw bytes, parsed by the real reader)."""

    def __init__(self, raw: bytes):
        self.inbox = bytearray(raw)
        self.received = len(raw)
        self.sent = []

    def unsolicited(self):
        return False

    def send(self, header, blobs=()):
        self.sent.append(header)

    def recv(self, deadline):
        frame = wire.take_frame(self.inbox, 1 << 16)
        if frame is None:
            raise (Timeout() if self.inbox else ChildGone("it closed its channel", None))
        return frame

    def kill(self):
        pass

    def drain(self):
        pass

    def log_text(self, which):
        return ""

    def close(self):
        pass


HELLO = wire.encode_frame({"ev": "hello"})


class ScriptedSandbox:
    def __init__(self, scripts):
        self.scripts = list(scripts)
        self.limits = Limits(setup_timeout=0.01)

    def start(self, uid):
        return ScriptedChild(self.scripts.pop(0) if self.scripts else HELLO)


def event_frames():
    events = st.fixed_dictionaries(
        {"ev": st.sampled_from(["hello", "cell_start", "cell_end", "ready", "result", "error"])},
        optional={
            "index": st.one_of(st.integers(-1, 3), JSON_ANY),
            "error": JSON_ANY,
            "callables": st.one_of(st.lists(st.sampled_from(["f", "g"])), JSON_ANY),
            "value": value_nodes(),
        },
    )
    return st.lists(events, max_size=8).map(
        lambda evs: b"".join(wire.encode_frame(e) for e in [{"ev": "hello"}, *evs])
    )


@FUZZ
@given(st.lists(event_frames(), min_size=1, max_size=3))
def test_any_sequence_of_forged_events_ends_in_a_verdict_never_an_exception(scripts):
    sandbox = ScriptedSandbox(scripts)
    cells = [{"index": i, "code": "pass"} for i in range(3)]
    session = session_module.Session(sandbox, None, cells, Unrepresentable)
    outcome = session.call("f", [np.zeros(2)], {}, 0.01)
    assert isinstance(
        outcome, (session_module.Returned, session_module.Raised, session_module.Fault)
    )
    for result in session.cell_results.values():
        assert result["status"] in ("ok", "error", "timed_out", "crashed", "tampered")


def test_a_header_with_an_escape_is_refused_without_a_warning():
    # numpy never writes a backslash in a header; "\o" would make the parser warn (a
    # SyntaxWarning from Python 3.12) into the sandbox's output before the header is refused.
    head = npy_header(repr({"descr": "<f8", "fortran_order": False, "shape": (1,)}), 1)
    forged = head.replace(b"<f8", b"\\o8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(wire.ProtocolError):
            wire.blob_to_array(forged + bytes(8))
    assert not caught, [str(w.message) for w in caught]
