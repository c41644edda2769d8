"""Which shared libraries a set of ELF files needs, read from their headers (no `ldd`).

`ldd` starts the dynamic loader once per file, which costs about half a second for the ~110
extension modules of a Python runtime; reading the ELF headers costs milliseconds. The loader's
search is followed for what a staged runtime needs: a file's DT_RPATH (when it has no
DT_RUNPATH) or DT_RUNPATH with `$ORIGIN` expanded, then the system's `ld.so.cache` (`ldconfig
-p`), then the default folders. Only 64-bit little-endian ELF is read (x86-64, aarch64); a
file that is not is skipped, and `needed_libraries` reports what it could not resolve so the
caller can ask `ldd` about those files.
"""
from __future__ import annotations

import os
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 1, 5, 15, 29
DEFAULT_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")


@dataclass
class ElfInfo:
    """What the loader needs of one file: DT_NEEDED names, its search folders, its loader."""

    needed: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    interpreter: str | None = None


def read_elf(path: Path) -> ElfInfo | None:
    """The dynamic section of `path`, or None when it is not a 64-bit little-endian ELF."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
                return None
            phoff, = struct.unpack_from("<Q", head, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
            loads, dynamic, info = [], None, ElfInfo()
            for i in range(phnum):
                p_type, _, offset, vaddr, _, filesz, _, _ = struct.unpack_from(
                    "<IIQQQQQQ", table, i * phentsize)
                if p_type == PT_LOAD:
                    loads.append((vaddr, offset, filesz))
                elif p_type == PT_DYNAMIC:
                    dynamic = (offset, filesz)
                elif p_type == PT_INTERP:
                    f.seek(offset)
                    info.interpreter = f.read(filesz).rstrip(b"\0").decode()
            if dynamic is None:
                return info
            f.seek(dynamic[0])
            raw = f.read(dynamic[1])
            entries = [struct.unpack_from("<qQ", raw, i) for i in range(0, len(raw) - 15, 16)]
            strtab = next((v for t, v in entries if t == DT_STRTAB), None)
            if strtab is None:
                return info
            base = next((off + strtab - va for va, off, size in loads if va <= strtab < va + size),
                        None)
            if base is None:
                return None

            def string(at: int) -> str:
                f.seek(base + at)
                data = f.read(4096)
                return data[:data.index(b"\0")].decode()

            runpath = [string(v) for t, v in entries if t == DT_RUNPATH]
            rpath = [string(v) for t, v in entries if t == DT_RPATH]
            info.needed = [string(v) for t, v in entries if t == DT_NEEDED]
            origin = str(Path(path).parent)
            for spec in (runpath or rpath):
                info.search += [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)
                                for d in spec.split(":") if d]
            return info
    except (OSError, struct.error, ValueError, UnicodeDecodeError):
        return None


def ld_cache() -> dict[str, str]:
    """soname -> path from the system's `ld.so.cache` (64-bit entries first)."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    wide: dict[str, str] = {}
    other: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        name, _, rest = line.strip().partition(" (")
        flags, _, target = rest.partition(") => ")
        if target:
            (wide if "64" in flags else other).setdefault(name, target)
    return {**other, **wide}


def needed_libraries(files: list[Path], known: set[str] = frozenset()
                     ) -> tuple[dict[str, Path], set[Path], list[Path]]:
    """Every shared library `files` need, transitively, but those named in `known`.

    Returns:
        ({soname: host path}, {dynamic loader paths}, [files with a name left unresolved]).
    """
    cache = ld_cache()
    found: dict[str, Path] = {}
    loaders: set[Path] = set()
    unresolved: list[Path] = []
    queue = list(files)
    seen: set[str] = set()
    while queue:
        path = queue.pop()
        if str(path) in seen:
            continue
        seen.add(str(path))
        info = read_elf(path)
        if info is None:
            continue
        if info.interpreter:
            loaders.add(Path(info.interpreter))
        for name in info.needed:
            if name in known or name in found:
                continue
            candidates = [os.path.join(d, name) for d in info.search]
            candidates += [cache[name]] if name in cache else []
            candidates += [os.path.join(d, name) for d in DEFAULT_DIRS]
            hit = next((c for c in candidates if os.path.isfile(c)), None)
            if hit is None:
                unresolved.append(path)
                continue
            found[name] = Path(hit)
            queue.append(Path(os.path.realpath(hit)))
    return found, loaders, unresolved
