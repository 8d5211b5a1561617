"""The grading channel (autograder/sandbox/inside/wire.py), without a sandbox: frames
built by hand and fed to the grader's reader, values encoded as the child does and
decoded as the grader does, and what a malformed or oversized message becomes."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest

from autograder.sandbox.inside import wire
from upsampling.checking import Unrepresentable


def frame_by_hand(header: dict, blobs=()) -> bytes:
    """The frame format of wire.py's docstring, written independently of encode_frame."""
    data = json.dumps(header).encode()
    out = len(data).to_bytes(4, "little") + len(blobs).to_bytes(4, "little") + data
    for blob in blobs:
        out += len(blob).to_bytes(8, "little") + blob
    return out


def round_trip(value):
    blobs: list[bytes] = []
    node = wire.encode_value(value, blobs)
    buffer = bytearray(wire.encode_frame({"ev": "result", "value": node}, blobs))
    header, received = wire.take_frame(buffer, 1 << 20)
    assert buffer == bytearray()  # the whole frame was taken
    return wire.decode_value(header["value"], received, Unrepresentable)


def test_encode_frame_writes_the_documented_format():
    blob = wire.array_to_blob(np.arange(3.0))
    assert wire.encode_frame({"op": "exit"}, [blob]) == frame_by_hand({"op": "exit"}, [blob])


def test_a_frame_is_taken_only_once_complete_and_the_rest_is_kept():
    first = frame_by_hand({"ev": "cell_start", "index": 2}, [b"abc"])
    second = frame_by_hand({"ev": "ready", "callables": ["f"]})
    buffer = bytearray()
    for byte in first:  # one byte at a time, as a slow child would write it
        assert wire.take_frame(buffer, 100) is None
        buffer.append(byte)
    buffer += second[:5]
    assert wire.take_frame(buffer, 100) == ({"ev": "cell_start", "index": 2}, [b"abc"])
    assert buffer == bytearray(second[:5])


def test_values_survive_the_channel_with_their_types():
    value = (
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.float64(0.25),
        [1, 2.5, True, "text", None, 1 + 2j],
    )
    array, scalar, items = round_trip(value)
    assert type(array) is np.ndarray and array.dtype == np.float32
    np.testing.assert_array_equal(array, [[0, 1, 2], [3, 4, 5]])
    assert type(scalar) is np.float64 and scalar == 0.25
    assert items == [1, 2.5, True, "text", None, 1 + 2j]
    assert [type(v) for v in items[:3]] == [int, float, bool]


def test_what_cannot_cross_arrives_as_a_named_stand_in():
    class Lying(np.ndarray):
        pass

    lying = round_trip(np.zeros(2).view(Lying))
    assert isinstance(lying, Unrepresentable) and "subclass of numpy.ndarray" in lying.type_name
    assert isinstance(round_trip(np.array([object()])), Unrepresentable)
    assert isinstance(round_trip(list(range(wire.MAX_ITEMS + 1))), Unrepresentable)
    assert isinstance(round_trip({"a": 1}), Unrepresentable)
    assert round_trip("x" * (wire.MAX_TEXT + 10)) == "x" * wire.MAX_TEXT


@pytest.mark.parametrize(
    "node",
    [
        {"kind": "ndarray", "blob": 3},  # no such blob
        {"kind": "py", "type": "int", "value": "1"},  # a string claiming to be an int
        {"kind": "py", "type": "set", "value": [1]},  # not a type the channel knows
        {"kind": "tuple"},  # no items
        "not a node",
    ],
)
def test_a_malformed_value_is_a_protocol_error(node):
    with pytest.raises(wire.ProtocolError):
        wire.decode_value(node, [], Unrepresentable)


def test_malformed_and_oversized_frames():
    with pytest.raises(wire.ProtocolError):
        wire.take_frame(bytearray(frame_by_hand([1, 2])), 100)  # JSON, but not an object
    with pytest.raises(wire.ProtocolError):
        wire.take_frame(bytearray((wire.MAX_JSON + 1).to_bytes(4, "little") + bytes(4)), 100)
    with pytest.raises(wire.ProtocolError):
        too_many_blobs = (2).to_bytes(4, "little") + (wire.MAX_BLOBS + 1).to_bytes(4, "little")
        wire.take_frame(bytearray(too_many_blobs), 100)
    with pytest.raises(wire.OutputTooLarge):
        wire.take_frame(bytearray(frame_by_hand({"ev": "result"}, [b"x" * 101])), 100)


def test_a_call_carries_arrays_as_blobs_and_keywords_as_json():
    x = np.arange(4.0).reshape(2, 2)
    header, blobs = wire.encode_call("conv_transpose2d", [x, x.T], {"stride": 2})
    json.dumps(header)  # the header is plain JSON
    name, args, kwargs = wire.decode_call(header, blobs)
    assert name == "conv_transpose2d" and kwargs == {"stride": 2}
    np.testing.assert_array_equal(args[1], x.T)


def test_control_messages_carry_file_descriptors():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    read_end, write_end = os.pipe()
    try:
        wire.send_control(ours, {"op": "fork", "uid": None}, [write_end])
        header, fds = wire.recv_control(theirs, max_fds=1)
        assert header == {"op": "fork", "uid": None} and len(fds) == 1
        os.write(fds[0], b"through the passed descriptor")
        os.close(fds[0])
        assert os.read(read_end, 100) == b"through the passed descriptor"
        ours.send(b"[1, 2]")
        with pytest.raises(wire.ProtocolError):
            wire.recv_control(theirs)
        ours.close()
        with pytest.raises(EOFError):
            wire.recv_control(theirs)
    finally:
        for fd in (read_end, write_end):
            os.close(fd)
        theirs.close()
