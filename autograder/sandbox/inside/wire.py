"""The wire protocol between the grader and its sandboxed worker (runs on BOTH sides).

The worker writes frames with `write_frame`; the grader (`autograder/sandbox/launch.py`) reads
them and rebuilds arrays with `decode_arrays`. Imports only the standard library and numpy, so
it can be copied into the sandbox beside `worker.py`.

Frame: ``b"AGF1" | u32 header length | JSON header | u64 blob length | blob``. Arrays travel as
raw little-endian bytes of dtype float64, int64 or bool with their shape, never pickle and
never an object of the student's classes.

The student's code runs in the worker's process and can write any bytes to the results
channel. The grader therefore trusts nothing of a frame: `parse_header` refuses a header
larger than `MAX_HEADER_BYTES` or nested deeper than `MAX_HEADER_DEPTH` (a deeply nested JSON
would otherwise raise RecursionError in the grader) with `MalformedFrame`, a ValueError whose
message is a plain sentence for the student's row; `decode_arrays` refuses references outside
the blob. How many bytes a frame may hold is decided by the grader per check
(`autograder/pipeline/limits.py`); `MAX_BLOB_BYTES` is only the ceiling.
"""
from __future__ import annotations

import json
import os
import re
import struct
from typing import Any, BinaryIO

MAGIC = b"AGF1"
WIRE_DTYPES = ("<f8", "<i8", "|b1")
MAX_HEADER_BYTES = 64 << 10
"""A frame's JSON header: an honest one is under 8 KiB (a 600-character message, escaped)."""
MAX_HEADER_DEPTH = 8
"""Nesting of the header's JSON: an honest one is 5 deep ({"arrays": {name: {"__array__": [.., []]}}})."""
MAX_BLOB_BYTES = 64 << 20
FRAME_OVERHEAD = 4 + 4 + 8
"""Bytes of a frame that are neither header nor data: magic, header length, data length."""
MAX_MESSAGE_CHARS = 600
MAX_SHAPE_DIMS = 8
MAX_NAME_CHARS = 40


class MalformedFrame(ValueError):
    """Bytes on the results channel that are not a frame the worker writes; the message says why."""


def _nesting(text: bytes) -> int:
    """The deepest nesting of JSON arrays / objects in `text` (brackets inside strings ignored)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def parse_header(data: bytes) -> dict[str, Any]:
    """The JSON object of a frame's header.

    Raises:
        MalformedFrame: larger than MAX_HEADER_BYTES, nested deeper than MAX_HEADER_DEPTH, not
            UTF-8 JSON, or not an object.
    """
    if len(data) > MAX_HEADER_BYTES:
        raise MalformedFrame(f"a result header of {len(data)} bytes, more than the "
                             f"{MAX_HEADER_BYTES} a result needs")
    if _nesting(data) > MAX_HEADER_DEPTH:
        raise MalformedFrame(f"a result header nested more than {MAX_HEADER_DEPTH} levels deep")
    try:
        header = json.loads(data)
    except RecursionError:  # not reachable after the depth check; kept as a second wall
        raise MalformedFrame("a result header nested too deeply") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError, int digits
        raise MalformedFrame(f"a result header that is not JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise MalformedFrame("a result header that is not a JSON object")
    return header


def encode_arrays(values: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Replace every ndarray in `values` by a reference into one blob of raw bytes.

    Returns (JSON-able dict, blob). Scalars (str/int/float/bool/None) pass through.
    """
    import numpy as np

    meta: dict[str, Any] = {}
    chunks: list[bytes] = []
    offset = 0
    for name, value in values.items():
        if isinstance(value, np.ndarray):
            array = plain_array(value)
            data = array.tobytes()
            meta[str(name)] = {"__array__": [array.dtype.str, list(array.shape), offset, len(data)]}
            chunks.append(data)
            offset += len(data)
        else:
            meta[str(name)] = value
    return meta, b"".join(chunks)


def _shown(value: Any, limit: int = 40) -> str:
    """`repr(value)` cut to `limit` characters (names and shapes in a forged frame are the student's)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def decode_arrays(meta: dict[str, Any], blob: bytes) -> dict[str, Any]:
    """Inverse of `encode_arrays`; arrays come back as fresh, writable, plain ndarrays.

    Raises MalformedFrame (a ValueError) for an unknown dtype, a bad shape or a reference
    outside the blob.
    """
    import numpy as np

    out: dict[str, Any] = {}
    for name, value in meta.items():
        if isinstance(value, dict) and "__array__" in value:
            ref = value["__array__"]
            if not (isinstance(ref, list) and len(ref) == 4):
                raise MalformedFrame(f"array {_shown(name)} has a bad reference")
            dtype, shape, offset, nbytes = ref
            if not isinstance(dtype, str) or dtype not in WIRE_DTYPES:
                raise MalformedFrame(f"array {_shown(name)} has dtype {_shown(dtype)}, "
                                     f"expected one of {WIRE_DTYPES}")
            if not (isinstance(shape, list) and len(shape) <= 32
                    and all(isinstance(s, int) and 0 <= s < 2**31 for s in shape)):
                raise MalformedFrame(f"array {_shown(name)} has a bad shape {_shown(shape)}")
            if not (isinstance(offset, int) and isinstance(nbytes, int) and 0 <= offset
                    and offset + nbytes <= len(blob)):
                raise MalformedFrame(f"array {_shown(name)} points outside the data it came with")
            count = 1
            for s in shape:
                count *= s
            itemsize = np.dtype(dtype).itemsize
            if count * itemsize != nbytes:
                raise MalformedFrame(f"array {_shown(name)}: shape {_shown(shape)} does not "
                                     f"match {nbytes} bytes")
            flat = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
            out[name] = flat.reshape(shape).copy()
        else:
            out[name] = value
    return out


def plain_array(value: Any):
    """A contiguous float64 / int64 / bool base-class ndarray holding the numbers of `value`."""
    import numpy as np

    array = np.asarray(value)
    if type(array) is not np.ndarray:  # a subclass: keep only its raw numbers
        array = array.view(np.ndarray)
    kind = array.dtype.kind
    if kind == "b":
        wire = np.dtype("|b1")
    elif kind in "iu":
        wire = np.dtype("<i8")
    elif kind == "f":
        wire = np.dtype("<f8")
    else:
        # complex, object, strings: numbers or nothing
        wire = np.dtype("<f8")
    return np.array(array, dtype=wire, order="C")  # (not ascontiguousarray: it makes 0-d 1-d)


def write_frame(stream: BinaryIO | int, header: dict[str, Any], blob: bytes = b"") -> None:
    """Write one frame (to a binary file object or a raw fd)."""
    head = json.dumps(header).encode()
    data = MAGIC + struct.pack("<I", len(head)) + head + struct.pack("<Q", len(blob)) + blob
    if isinstance(stream, int):
        view = memoryview(data)
        while view:
            written = os.write(stream, view)
            view = view[written:]
    else:
        stream.write(data)
        stream.flush()


def short_error(exc: BaseException) -> str:
    """'TypeName: message', truncated: what a check's feedback shows."""
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:  # a student's exception whose __str__ raises
        text = type(exc).__name__
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


def shape_fields(value: Any) -> dict[str, Any] | None:
    """`value` as validated shape fields ``{"name": str, "got": [int], "expected": [int]}``, or
    None. Names are at most 40 characters, shapes at most 8 non-negative ints. Never raises
    (both sides call it: the worker on a student's exception, the grader on a frame)."""
    try:
        if not isinstance(value, dict):
            return None
        name, got, expected = value.get("name"), value.get("got"), value.get("expected")
        if type(name) is not str or not 0 < len(name) <= MAX_NAME_CHARS:
            return None
        shapes = []
        for shape in (got, expected):
            if not isinstance(shape, (list, tuple)) or len(shape) > MAX_SHAPE_DIMS:
                return None
            if not all(type(n) is int and 0 <= n < 1 << 40 for n in shape):
                return None
            shapes.append([int(n) for n in shape])
        return {"name": str(name), "got": shapes[0], "expected": shapes[1]}
    except BaseException:  # a student's object whose methods raise
        return None


_MATMUL = re.compile(r"^matmul: Input operand \d has a mismatch in its core dimension \d, "
                     r"with gufunc signature [^ ]+ \(size (\d{1,12}) is different from (\d{1,12})\)$")
_BROADCAST = re.compile(r"^operands could not be broadcast together with shapes "
                        r"\(([\d,]{0,80})\) \(([\d,]{0,80})\)")
_DOT = re.compile(r"^shapes \(([\d, ]{0,80})\) and \(([\d, ]{0,80})\) not aligned")


def _ints(text: str) -> list[int]:
    return [int(n) for n in text.replace(" ", "").split(",") if n]


def numpy_shape_of(exc: BaseException) -> dict[str, Any] | None:
    """Shape fields read once from numpy's own ValueError of a shape mismatch, else None:
    ``matmul`` (got / expected: the two core sizes that differ), ``dot`` and ``broadcast``
    (the first two operands' shapes). Never raises."""
    try:
        if type(exc) is not ValueError or not exc.args or type(exc.args[0]) is not str:
            return None
        text = exc.args[0][:400]
        for name, pattern in (("matmul", _MATMUL), ("dot", _DOT), ("broadcast", _BROADCAST)):
            match = pattern.match(text)
            if match:
                a, b = match.groups()
                return shape_fields({"name": name, "got": _ints(a), "expected": _ints(b)})
        return None
    except BaseException:
        return None


def grad_shape_of(exc: BaseException) -> dict[str, Any] | None:
    """The shape fields of the library's `validate.GradShapeError` (the student's copy of the
    class, so recognised by name and attributes), or of numpy's shape-mismatch ValueError
    (`numpy_shape_of`), else None. Never raises."""
    try:
        if type(exc).__name__ != "GradShapeError":
            return numpy_shape_of(exc)
        return shape_fields({"name": exc.name, "got": list(exc.got), "expected": list(exc.expected)})
    except BaseException:
        return None
