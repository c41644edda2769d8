"""The sandboxed half of the grader: run a student's cells, then each task's driver.

This file runs INSIDE the sandbox, as a script, next to copies of `wire.py` (the frame format,
which the grader shares) and `drivers.py`. It imports only the standard library, numpy, `wire`
and `drivers`, never anything of the trusted side.

Protocol (one request in, one frame per event out):

- stdin: ``u64 length | JSON request | array blob`` (``blob_bytes`` long), then two bytes per cost-timed task: the grader's
  release of it, and after its result the grader's acknowledgement (the CPU time is read). The request is
  ``{"cells": [{"name", "source"}], "tasks": [{"index", "function", "driver", "args"}],
  "limits": {"memory_bytes", "cpu_seconds", "processes", "file_bytes"}}``; an array argument
  appears in ``args`` as ``{"__array__": [dtype, shape, offset, nbytes]}`` into the blob.
- results fd (argv[1], never stdout: what the student prints never counts): frames
  ``b"AGF1" | u32 header length | JSON header | u64 blob length | blob`` with header ``event``
  one of ``loaded``, ``load_error`` (``cell``, ``error``) or ``task`` (``index``, ``ok``,
  ``error``, ``kind``, ``arrays``, and ``shape`` = ``{"name", "got", "expected"}`` when the
  student's code raised the library's `GradShapeError`).

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

if __package__:  # imported by the grader (tests): the package's own wire module
    from . import wire
else:  # run as a script in the sandbox: wire.py and drivers.py lie next to this file
    _here = os.path.dirname(os.path.abspath(__file__))
    if _here not in sys.path:
        sys.path.insert(0, _here)
    import wire  # noqa: E402


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
    blob = stream.read(request["blob_bytes"]) if "blob_bytes" in request else stream.read()
    return request, blob


def _wait_for_release(fd: int, read: Any) -> None:
    """Block until the grader's next byte: before a cost-timed task (its release) and after its
    result (the acknowledgement that the CPU time was read), so that the sandbox's CPU time the
    grader reads around the task is that task's alone, read while every process that spent it
    is still alive; EOF (the grader is gone) releases."""
    try:
        read(fd, 1)
    except OSError:
        pass


def main(argv: list[str]) -> int:
    result_fd = int(argv[1])
    _die_with_parent()
    request, blob = _read_request(sys.stdin.buffer)
    release_fd = os.dup(0)  # the grader's releases of cost-timed tasks; the student sees /dev/null
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    read = os.read
    _set_limits(request.get("limits", {}))

    import numpy as np  # noqa: F401  (imported once, before the student's code)

    import drivers  # the graders' drivers, copied next to this file

    # Bind what the loop below needs now, before the student's code can patch anything.
    run_driver = drivers.run
    encode, write, describe, to_plain = (wire.encode_arrays, wire.write_frame, wire.short_error,
                                         wire.plain_array)
    shape_of = wire.grad_shape_of
    tasks = request["tasks"]
    for task in tasks:
        task["args"] = wire.decode_arrays(task["args"], blob)

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
        if task["args"].get("cpu_timed"):
            _wait_for_release(release_fd, read)
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
                shape = shape_of(exc)
                if shape is not None:  # the library's shape check: its shapes as numbers
                    header["shape"] = shape
                data = b""
        try:
            write(result_fd, header, data)
        except BaseException as exc:  # e.g. the header held something JSON cannot encode
            write(result_fd, {"event": "task", "index": task["index"], "ok": False,
                              "kind": "exception", "error": describe(exc), "arrays": {}})
        if task["args"].get("cpu_timed"):
            # stay, idle, until the grader has read the CPU time after this result: a worker
            # that ran on (or ended, after its last task) would take that time with it
            _wait_for_release(release_fd, read)
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv))
