"""The Python runtime a sandbox sees: an interpreter, its standard library and numpy, staged.

The sandbox never mounts the grader's venv, its base prefix (which may live under an unreadable
`/root`) or the host's `/usr`: any of them may hold the kit itself (`pip install .` puts the
answer key into `site-packages`, a system-wide install into `/usr/local`). Instead, once per run,
this module stages a runtime into a temp folder the sandbox's uid can read, laid out as a tiny
`/usr` that the sandbox mounts read-only:

    RUNTIME/usr/bin/python3                    the grader's base interpreter
    RUNTIME/usr/lib/python3.X/                 its standard library (no site-/dist-packages,
                                               no test suite, IDLE, tkinter, ensurepip)
    RUNTIME/usr/lib/python3.X/lib-dynload/     its extension modules
    RUNTIME/usr/lib/python3.X/numpy/           numpy (tests left out) and, beside it,
    RUNTIME/usr/lib/python3.X/numpy.libs/      the wheel's bundled OpenBLAS/gfortran, if any
    RUNTIME/usr/lib/<multiarch>/               every shared library those files need (`elf.py`)
    RUNTIME/usr/lib64/ld-linux-*.so.*          the dynamic loader, where ELF files expect it

numpy sits in the standard library's folder, so it imports with no site folder at all, and the
only module folders on the sandbox's `sys.path` are this standard library and the stage
(`/grader`, see `stage.py`). Nothing else of the host's Python installations is reachable:
`stage_runtime` refuses a runtime that holds any module of the kit (see `KIT_PACKAGES`).

Files are hard-linked where the file system allows it (the runtime costs no space and well under a
second to stage), else copied with their times (so the bytecode stays valid). The cost is
measured (`Runtime.seconds`) and paid once per grading process: `staged_runtime()` caches the
runtime keyed by interpreter and numpy version and removes it when the process exits.
"""
from __future__ import annotations

import atexit
import compileall
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import SandboxUnavailable
from . import elf, uid

#: Top-level packages of the kit; the staged runtime must hold none of them.
KIT_PACKAGES = ("backprop_lib", "autograder", "courseware", "tools", "solutions")
#: Folders of the standard library a grading run never needs (and site folders: never).
SKIPPED_STDLIB = ("site-packages", "dist-packages", "test", "idlelib", "tkinter", "turtledemo",
                  "ensurepip", "lib2to3", "pydoc_data", "__phello__")
SKIPPED_NUMPY = ("tests",)
#: Loaded by glibc with dlopen (thread cancellation, unwinding), so ldd never lists it.
DLOPENED = ("libgcc_s.so.1",)

SANDBOX_PYTHON = "/usr/bin/python3"


@dataclass(frozen=True)
class Runtime:
    """A staged runtime.

    Attributes:
        root: host folder holding `usr/` (readable by the sandbox's uid).
        python: the interpreter's path inside the sandbox.
        seconds: wall time staging took.
        files: number of files staged.
        linked: True when files were hard-linked, False when copied.
    """

    root: Path
    python: str
    seconds: float
    files: int
    linked: bool

    def bwrap_args(self) -> list[str]:
        """bwrap arguments that make this runtime the sandbox's `/usr`, `/lib`, `/lib64`."""
        args = ["--ro-bind", str(self.root / "usr"), "/usr"]
        for top in ("bin", "lib", "lib64"):
            if (self.root / "usr" / top).is_dir():
                args += ["--symlink", f"usr/{top}", f"/{top}"]
        return args


def _interpreter() -> Path:
    """The real (base) interpreter binary behind this process, a venv's or not."""
    return Path(os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable))


def _stdlib() -> tuple[Path, Path]:
    """(standard library folder, extension module folder) of the base interpreter."""
    base = {"base": sys.base_prefix, "installed_base": sys.base_prefix,
            "platbase": sys.base_exec_prefix, "installed_platbase": sys.base_exec_prefix}
    stdlib = Path(sysconfig.get_path("stdlib", vars=base))
    dynload = sysconfig.get_config_var("DESTSHARED") or str(stdlib / "lib-dynload")
    return stdlib, Path(dynload)


class _Stager:
    """Links or copies files into the runtime, remembering what it made (plain strings and
    `os.scandir`: pathlib's overhead was most of the staging time)."""

    def __init__(self) -> None:
        self.linked = True
        self.paths: list[str] = []
        self.dirs: set[str] = set()

    @property
    def files(self) -> int:
        return len(self.paths)

    def folder(self, target: str) -> None:
        if target not in self.dirs:
            os.makedirs(target, exist_ok=True)
            self.dirs.add(target)

    def file(self, source: str | Path, target: str | Path) -> None:
        source, target = str(source), str(target)
        self.folder(os.path.dirname(target))
        mode = os.stat(source).st_mode
        if self.linked and mode & 0o004:  # a link shares the inode: only for world-readable files
            try:
                os.link(source, target)
                self.paths.append(target)
                return
            except OSError:
                self.linked = False
        shutil.copy2(source, target)
        os.chmod(target, 0o755 if mode & 0o111 else 0o644)
        self.paths.append(target)

    def tree(self, source: str | Path, target: str | Path, skip: tuple[str, ...]) -> None:
        source, target = str(source), str(target)
        self.folder(target)
        with os.scandir(source) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in skip:
                        self.tree(entry.path, os.path.join(target, entry.name), skip)
                elif entry.is_file():
                    self.file(entry.path, os.path.join(target, entry.name))


_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(/\S+)\s+\(0x[0-9a-f]+\)\s*$")
_LOADER_LINE = re.compile(r"^\s*(/\S+)\s+\(0x[0-9a-f]+\)\s*$")


def _elf_files(paths: list[str]) -> list[Path]:
    return [Path(p) for p in paths if p.endswith(".so") or ".so." in os.path.basename(p)
            or os.path.basename(os.path.dirname(p)) == "bin"]


def _shared_libraries(files: list[Path]) -> tuple[dict[str, Path], set[Path]]:
    """({soname: host path}, {dynamic loader paths}) that `files` need, from `ldd`."""
    needed: dict[str, Path] = {}
    loaders: set[Path] = set()
    for start in range(0, len(files), 200):
        chunk = [str(f) for f in files[start:start + 200]]
        out = subprocess.run(["ldd", *chunk], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if m := _LDD_LINE.match(line):
                needed.setdefault(m.group(1), Path(m.group(2)))
            elif m := _LOADER_LINE.match(line):
                loaders.add(Path(m.group(1)))
    return needed, loaders


def stage_runtime(into: Path) -> Runtime:
    """Stage the interpreter, its standard library, numpy and their shared libraries in `into`.

    Raises:
        SandboxUnavailable: a library `elf.py` cannot place and no `ldd` to ask, or the staged
            tree holds a kit module.
    """
    import numpy

    started = time.monotonic()
    stager = _Stager()
    usr = into / "usr"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    lib = usr / "lib" / version
    stdlib, dynload = _stdlib()
    stager.file(_interpreter(), usr / "bin" / "python3")
    stager.tree(stdlib, lib, SKIPPED_STDLIB)
    if dynload.is_dir() and dynload != stdlib / "lib-dynload":
        stager.tree(dynload, lib / "lib-dynload", ())
    for path in (lib / "lib-dynload").glob("_tkinter*"):  # tkinter itself is not staged
        path.unlink()
        stager.paths.remove(str(path))
    numpy_dir = Path(numpy.__file__).resolve().parent
    stager.tree(numpy_dir, lib / "numpy", SKIPPED_NUMPY)
    if (numpy_dir.parent / "numpy.libs").is_dir():
        stager.tree(numpy_dir.parent / "numpy.libs", lib / "numpy.libs", ())
    staged = {p.name for p in (lib / "numpy.libs").glob("*")} if (lib / "numpy.libs").is_dir() else set()
    needed, loaders, unresolved = elf.needed_libraries(_elf_files(stager.paths), staged)
    if unresolved:  # the headers did not say enough: ask the loader itself
        if shutil.which("ldd") is None:
            raise SandboxUnavailable("staging the sandbox's Python needs ldd (glibc's libc-bin)")
        more, more_loaders = _shared_libraries(unresolved)
        needed = {**more, **needed}
        loaders |= more_loaders
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    system = usr / "lib" / multiarch if multiarch else usr / "lib"
    for soname, host in needed.items():
        if soname not in staged and soname not in {p.name for p in loaders}:
            stager.file(Path(os.path.realpath(host)), system / soname)
    for name in DLOPENED:
        for folder in {p.parent for p in needed.values()}:
            if (folder / name).exists() and not (system / name).exists():
                stager.file(Path(os.path.realpath(folder / name)), system / name)
    for loader in loaders:  # e.g. /lib64/ld-linux-x86-64.so.2 -> usr/lib64/ld-linux-x86-64.so.2
        parts = loader.parts[1:]
        rel = Path(*parts[1:]) if parts[0] == "usr" else Path(*parts)
        stager.file(Path(os.path.realpath(loader)), usr / rel)
    # Bytecode for anything lacking it, naming the sandbox's paths (the sandbox writes none).
    compileall.compile_dir(lib / "numpy", ddir=f"/usr/lib/{version}/numpy", quiet=2)
    _refuse_kit_modules(usr, [*stager.dirs, *stager.paths])
    for folder in [str(into), *stager.dirs]:
        os.chmod(folder, 0o755)
    return Runtime(into, SANDBOX_PYTHON, time.monotonic() - started, stager.files, stager.linked)


def _refuse_kit_modules(usr: Path, staged: list[str]) -> None:
    """Raise if any module or package of the kit made it into the runtime (`staged` paths)."""
    for path in map(Path, staged):
        stem = path.name.split(".")[0]
        if stem in KIT_PACKAGES and (path.suffix in ("", ".py", ".pyc", ".so")):
            raise SandboxUnavailable(f"the staged Python runtime would hold {path.name} "
                                     f"({path.relative_to(usr.parent)}): refusing to grade")


_cache: dict[tuple[str, ...], Runtime] = {}
_cache_lock = threading.Lock()


def runtime_key() -> tuple[str, ...]:
    """What a staged runtime depends on: interpreter, Python and numpy versions and places."""
    import numpy

    return (str(_interpreter()), sys.version, numpy.__version__, os.path.dirname(numpy.__file__))


def staged_runtime() -> Runtime:
    """The runtime of this grading process, staged on first use (thread-safe), then reused.

    It lives in a fresh temp folder `autograder-runtime-<pid>-*` (under a folder the sandbox's uid
    can reach) and is removed when the process exits; those of graders that died are swept.
    """
    key = runtime_key()
    with _cache_lock:
        if key not in _cache:
            into = uid.own_temp_folder("autograder-runtime", uid.reachable_tmp())
            atexit.register(shutil.rmtree, into, True)
            try:
                _cache[key] = stage_runtime(into)
            except BaseException:
                shutil.rmtree(into, ignore_errors=True)
                raise
        return _cache[key]


def forget_staged_runtime() -> None:
    """Drop this process's cached runtime (the next sandbox stages a fresh one). Benchmarks use
    it so that every run they time pays the staging, as one grading command does."""
    with _cache_lock:
        for runtime in _cache.values():
            shutil.rmtree(runtime.root, ignore_errors=True)
        _cache.clear()
