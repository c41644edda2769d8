"""What the grader accepts from the results channel (`wire.parse_header`, `Sandbox.read_frame`):
headers bounded in size and nesting, frames refused from their length fields before their data
is read, every refusal a plain sentence (never RecursionError, never the grader's own error)."""
from __future__ import annotations

import json
import os
import struct
import threading
import time

import pytest

from autograder.sandbox.inside import wire
from autograder.sandbox.launch import RefusedFrame, Sandbox, SandboxEnded


@pytest.mark.parametrize("data, says", [
    (b"[" * 50000 + b"]" * 50000, "more than the 65536"),
    (b"[" * 20000 + b"]" * 20000, "nested more than 8 levels"),
    (b'{"a": ' * 9 + b"1" + b"}" * 9, "nested more than 8 levels"),
    (b"\xff\xfe{", "not JSON"),
    (b'{"a": 1', "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"n": 1' + b"0" * 5000 + b"}", "not JSON"),  # more digits than int() accepts
])
def test_parse_header_refuses_with_a_sentence(data, says):
    with pytest.raises(wire.MalformedFrame, match=says):
        wire.parse_header(data)


def test_parse_header_accepts_what_the_worker_writes():
    header = {"event": "task", "index": 3, "ok": True, "error": "x" * wire.MAX_MESSAGE_CHARS,
              "kind": "", "arrays": {"dW": {"__array__": ["<f8", [3, 4], 0, 96]}}}
    assert wire.parse_header(json.dumps(header).encode()) == header
    # brackets inside strings are text, not nesting
    assert wire.parse_header(json.dumps({"error": "[[[[[[[[[[{{{{{{\\\"]]"}).encode())


@pytest.mark.parametrize("ref, says", [
    (["<f8", [10], 0, 80], "points outside"),
    (["<f8", [2], 0], "bad reference"),
    (["|O", [1], 0, 8], "has dtype"),
    (["<f8", [1] * 40, 0, 8], "bad shape"),
    (["<f8", [2**40, 2**40], 0, 8], "bad shape"),
    (["<f8", [2], 0, 8], "does not match"),
])
def test_decode_arrays_refuses_forged_references(ref, says):
    with pytest.raises(wire.MalformedFrame, match=says):
        wire.decode_arrays({"x" * 5000: {"__array__": ref}}, bytes(8))


class PipeSandbox(Sandbox):
    """A Sandbox whose results channel is a plain pipe (the read path alone, no process)."""

    def __init__(self):  # noqa: D107 - deliberately not Sandbox.__init__
        self._results, self.write_end = os.pipe()
        self._buffer = bytearray()

    def _ended_detail(self) -> str:
        return "closed"


def _frame(header: bytes, blob_len: int, blob: bytes = b"", magic: bytes = b"AGF1") -> bytes:
    return magic + struct.pack("<I", len(header)) + header + struct.pack("<Q", blob_len) + blob


def _feed(sandbox: PipeSandbox, data: bytes) -> threading.Thread:
    def write():
        try:
            os.write(sandbox.write_end, data)
        except OSError:
            pass
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_read_frame_refuses_a_flood_from_its_length_field():
    sandbox = PipeSandbox()
    head = json.dumps({"event": "task", "index": 0, "ok": True,
                       "arrays": {"out": {"__array__": ["<f8", [8 << 20], 0, 64 << 20]}}}).encode()
    _feed(sandbox, _frame(head, 64 << 20, b"\0" * 4096))  # announces 64 MiB, sends 4 KiB
    with pytest.raises(RefusedFrame, match="more than the 70000 bytes"):
        sandbox.read_frame(time.monotonic() + 10, max_bytes=70000)
    assert len(sandbox._buffer) < 1 << 20  # nothing like the announced data was read


def test_read_frame_takes_an_honest_frame_within_its_bound_and_counts_it():
    sandbox = PipeSandbox()
    meta, blob = wire.encode_arrays({"out": __import__("numpy").arange(12.0).reshape(3, 4)})
    head = json.dumps({"event": "task", "index": 0, "ok": True, "arrays": meta}).encode()
    data = _frame(head, len(blob), blob)
    _feed(sandbox, data)
    frame = sandbox.read_frame(time.monotonic() + 10, max_bytes=len(data))
    assert frame["values"]["out"].shape == (3, 4) and frame.nbytes == len(data)


@pytest.mark.parametrize("data, says", [
    (_frame(b"[" * 30000 + b"]" * 30000, 0), "nested more than 8 levels"),
    (_frame(b"{}", 0, magic=b"EVIL"), "not a result frame"),
    (b"AGF1" + struct.pack("<I", 2**31), "result header of 2147483648 bytes"),
])
def test_read_frame_refuses_malformed_frames_as_the_students(data, says):
    sandbox = PipeSandbox()
    _feed(sandbox, data)
    with pytest.raises(RefusedFrame, match=says) as refused:
        sandbox.read_frame(time.monotonic() + 10)
    assert isinstance(refused.value, SandboxEnded)
