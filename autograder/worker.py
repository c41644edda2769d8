"""The sandboxed half of the grader: run a student's cells, then each task's driver.

This file runs INSIDE the sandbox, as a script, next to a copy of `drivers.py`. It imports only
the standard library and numpy (and `drivers`). The grader also imports it (as
`autograder.worker`) for the wire format, which both halves share: see `encode_arrays`,
`decode_arrays`, `write_frame`.

Protocol (one request in, one frame per event out):

- stdin: ``u64 length | JSON request | array blob``. The request is
  ``{"cells": [{"name", "source"}], "tasks": [{"index", "function", "driver", "args"}],
  "limits": {"memory_bytes", "cpu_seconds", "processes", "file_bytes"}}``; an array argument
  appears in ``args`` as ``{"__array__": [dtype, shape, offset, nbytes]}`` into the blob.
- results fd (argv[1], never stdout: what the student prints never counts): frames
  ``b"AGF1" | u32 header length | JSON header | u64 blob length | blob`` with header ``event``
  one of ``loaded``, ``load_error`` (``cell``, ``error``) or ``task`` (``index``, ``ok``,
  ``error``, ``kind``, ``arrays``).

Arrays travel as raw little-endian bytes of dtype float64, int64 or bool with their shape, never
pickle and never an object of the student's classes; the grader rebuilds plain ndarrays and
checks sizes. Whatever the student's code does to this process (patching numpy or builtins,
forging frames) can only change the numbers its own functions are credited with.
"""
from __future__ import annotations

import json
import os
import struct
import sys
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
            array = _plain_array(value)
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


def _plain_array(value: Any):
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


def _set_limits(limits: dict[str, int]) -> None:
    """Resource limits for this process and its children (set before any student code runs)."""
    import resource

    def cap(which: int, value: int | None) -> None:
        if value:
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass  # a limit the platform refuses; the grader's wall clock still applies

    cap(resource.RLIMIT_AS, limits.get("memory_bytes"))
    cap(resource.RLIMIT_CPU, limits.get("cpu_seconds"))
    cap(resource.RLIMIT_FSIZE, limits.get("file_bytes"))
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dumps
    except (ValueError, OSError):
        pass
    cap(resource.RLIMIT_NOFILE, 256)
    if limits.get("processes") and os.getuid() != 0:
        # RLIMIT_NPROC counts every process of this uid; it does not bind root, where the
        # grader's pids cgroup does the work.
        cap(resource.RLIMIT_NPROC, limits["processes"])


# Plotting and notebook-display libraries are replaced by inert stand-ins while grading: the
# grader never draws, and importing matplotlib alone costs a second of CPU per notebook.
INERT_MODULES = ("matplotlib", "mpl_toolkits", "seaborn", "IPython", "ipywidgets")


class Inert:
    """Stands in for anything of a plotting library: every use returns another Inert."""

    def __getattr__(self, name: str) -> "Inert":
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Inert()

    def __call__(self, *args: Any, **kwargs: Any) -> "Inert":
        return Inert()

    def __getitem__(self, key: Any) -> "Inert":
        return Inert()

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __iter__(self):  # `fig, ax = plt.subplots()`
        return iter((Inert(), Inert()))

    def __enter__(self) -> "Inert":
        return self

    def __exit__(self, *exc: Any) -> bool:
        return False

    def __mro_entries__(self, bases: tuple) -> tuple:
        return (object,)


def install_inert_modules(names: tuple[str, ...] = INERT_MODULES) -> None:
    """Make `import matplotlib.pyplot as plt` (and the like) return inert modules."""
    import importlib.abc
    import importlib.machinery
    import types

    class InertModule(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            if name.startswith("__") and name.endswith("__"):
                raise AttributeError(name)
            return Inert()

    class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, fullname: str, path: Any = None, target: Any = None):
            if fullname.split(".")[0] in names:
                return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
            return None

        def create_module(self, spec: Any) -> types.ModuleType:
            module = InertModule(spec.name)
            module.__path__ = []
            return module

        def exec_module(self, module: types.ModuleType) -> None:
            pass

    sys.meta_path.insert(0, Finder())


def compile_cell(source: str, name: str):
    """Compile a cell; IPython-only lines (%magic, !shell) are commented out if they break it."""
    filename = f"<cell {name}>"
    try:
        return compile(source, filename, "exec")
    except SyntaxError:
        lines = source.split("\n")
        cleaned = ["# " + line if line.lstrip().startswith(("%", "!")) else line for line in lines]
        if cleaned == lines:
            raise
        return compile("\n".join(cleaned), filename, "exec")


def _die_with_parent() -> None:
    """Linux: SIGKILL this process if its parent dies (the fallback mode's safety net)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _read_request(stream: BinaryIO) -> tuple[dict[str, Any], bytes]:
    (length,) = struct.unpack("<Q", stream.read(8))
    request = json.loads(stream.read(length))
    blob = stream.read()
    return request, blob


def main(argv: list[str]) -> int:
    result_fd = int(argv[1])
    _die_with_parent()
    request, blob = _read_request(sys.stdin.buffer)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _set_limits(request.get("limits", {}))

    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import numpy as np  # noqa: F401  (imported once, before the student's code)

    import drivers  # the graders' drivers, copied next to this file

    # Bind what the loop below needs now, before the student's code can patch anything.
    run_driver = drivers.run
    encode, write, describe, to_plain = encode_arrays, write_frame, short_error, _plain_array
    tasks = request["tasks"]
    for task in tasks:
        task["args"] = decode_arrays(task["args"], blob)

    install_inert_modules()
    ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__,
                          "get_ipython": Inert(), "display": Inert()}
    for cell in request["cells"]:
        try:
            code = compile_cell(cell["source"], cell["name"])
            exec(code, ns)
        except BaseException as exc:  # SyntaxError, SystemExit, KeyboardInterrupt, ...
            write(result_fd, {"event": "load_error", "cell": cell["name"], "error": describe(exc)})
            return 0
    write(result_fd, {"event": "loaded"})

    for task in tasks:
        header: dict[str, Any] = {"event": "task", "index": task["index"], "ok": False,
                                  "error": "", "kind": "", "arrays": {}}
        data = b""
        if task["function"] not in ns:
            header.update(kind="not_defined", error=f"{task['function']} is not defined")
        else:
            try:
                values = run_driver(ns, task["driver"], task["args"])
                if not isinstance(values, dict):
                    raise TypeError(f"driver {task['driver']!r} returned {type(values).__name__}")
                plain = {str(name): to_plain(value) for name, value in values.items()}
                header["arrays"], data = encode(plain)
                header["ok"] = True
            except BaseException as exc:
                kind = "not_defined" if type(exc).__name__ == "NotDefined" else "exception"
                header.update(kind=kind, error=describe(exc), arrays={})
                data = b""
        try:
            write(result_fd, header, data)
        except BaseException as exc:  # e.g. the header held something JSON cannot encode
            write(result_fd, {"event": "task", "index": task["index"], "ok": False,
                              "kind": "exception", "error": describe(exc), "arrays": {}})
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv))
