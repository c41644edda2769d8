"""The wire protocol between the grader and its sandboxed worker (runs on BOTH sides).

The worker writes frames with `write_frame`; the grader (`autograder/sandbox/launch.py`) reads
them and rebuilds arrays with `decode_arrays`. Imports only the standard library and numpy, so
it can be copied into the sandbox beside `worker.py`.

Frame: ``b"AGF1" | u32 header length | JSON header | u64 blob length | blob``. Arrays travel as
raw little-endian bytes of dtype float64, int64 or bool with their shape, never pickle and
never an object of the student's classes.
"""
from __future__ import annotations

import json
import os
import struct
from typing import Any, BinaryIO

MAGIC = b"AGF1"
WIRE_DTYPES = ("<f8", "<i8", "|b1")
MAX_HEADER_BYTES = 1 << 20
MAX_BLOB_BYTES = 64 << 20
MAX_MESSAGE_CHARS = 600


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


def decode_arrays(meta: dict[str, Any], blob: bytes) -> dict[str, Any]:
    """Inverse of `encode_arrays`; arrays come back as fresh, writable, plain ndarrays.

    Raises ValueError for an unknown dtype, a bad shape or a reference outside the blob.
    """
    import numpy as np

    out: dict[str, Any] = {}
    for name, value in meta.items():
        if isinstance(value, dict) and "__array__" in value:
            dtype, shape, offset, nbytes = value["__array__"]
            if dtype not in WIRE_DTYPES:
                raise ValueError(f"array {name!r} has dtype {dtype!r}, "
                                 f"expected one of {WIRE_DTYPES}")
            if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
                raise ValueError(f"array {name!r} has a bad shape {shape!r}")
            if not (isinstance(offset, int) and isinstance(nbytes, int) and 0 <= offset
                    and offset + nbytes <= len(blob)):
                raise ValueError(f"array {name!r} points outside the data it came with")
            count = 1
            for s in shape:
                count *= s
            itemsize = np.dtype(dtype).itemsize
            if count * itemsize != nbytes:
                raise ValueError(f"array {name!r}: shape {shape} does not match {nbytes} bytes")
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
