"""How a sandbox is started: the command line, its environment, its uid, what it can see.

Hardened bubblewrap (the promised mode, `HARDENED`):
- as an unprivileged host uid: the grader, when root, starts bubblewrap as uid/gid 65534 with
  no groups (`uid.py`, through `setpriv`), because bubblewrap started by root maps the sandbox
  to host uid 0;
- in its own user namespace (`--unshare-user`; nested ones disabled with `--disable-userns`
  where bubblewrap has it), and its own mount, pid, network, ipc, uts and cgroup namespaces, a
  new session, every capability dropped, dying with the grader;
- under the seccomp filter of `seccomp.py` (`--seccomp FD`);
- seeing only: the staged runtime as `/usr` (`runtime.py`: an interpreter, its standard library,
  numpy, their shared libraries; never the venv, its base prefix or the host's `/usr`), the
  stage at `/grader` (`stage.py`), a fresh `/proc` whose `/proc/sys` is read-only, a minimal
  `/dev`, a private size-capped `/tmp`, the rest read-only (`/` and `/dev` are bubblewrap's
  tmpfs, remounted read-only). No `/sys`, no `/etc`, no home, nothing of the project.
- bwrap's own process (pid 1 inside) gets an empty environment and reads its arguments from a
  pipe, so `/proc/1` shows neither the grader's environment nor host paths; the grader writes
  those arguments only after it has moved bwrap into the sandbox's cgroups (race-free).

Without bubblewrap (or where it cannot create namespaces, e.g. Docker's defaults) the worker
runs as a plain subprocess in its own session, with rlimits, as uid 65534 when the grader is
root (running the staged runtime, which that uid can read); the grader warns that the file
system and other processes are reachable. `HARDENED = False` restores the launch of before
issue 11 (venv at /opt/venv, host `/usr`, the grader's uid, no seccomp): only the benchmark
`benchmarks/hardening_overhead.py` sets it, to measure what the hardening costs.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from . import uid
from .runtime import staged_runtime
from .seccomp import sandbox_filter

#: Benchmarks only: False starts sandboxes the way they were started before the hardening.
HARDENED = True
TMPFS_BYTES = 64 << 20
SANDBOX_HOSTNAME = "sandbox"

SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/matplotlib",
}

_warned: set[str] = set()
_warn_lock = threading.Lock()


def warn_once(key: str, message: str) -> None:
    """Print `message` to stderr the first time `key` is seen in this process."""
    with _warn_lock:
        if key in _warned:
            return
        _warned.add(key)
    print(f"autograder: warning: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Capabilities of this machine, probed once.

_bwrap_ok: dict[tuple[str, bool], bool] = {}
_bwrap_help: dict[str, str] = {}


def _supports(path: str, option: str) -> bool:
    if path not in _bwrap_help:
        try:
            _bwrap_help[path] = subprocess.run([path, "--help"], capture_output=True, text=True,
                                               timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            _bwrap_help[path] = ""
    return option in _bwrap_help[path]


def _bwrap_works(path: str) -> bool:
    """Whether `path` can create the sandbox's namespaces here, started as the sandbox will be."""
    key = (path, HARDENED)
    if key not in _bwrap_ok:
        cmd = [path, "--die-with-parent", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/",
               "--proc", "/proc", "true"]
        if HARDENED:
            cmd[1:1] = ["--unshare-user"]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=20,
                                  **(uid.popen_ids() if HARDENED else {}))
            _bwrap_ok[key] = done.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _bwrap_ok[key] = False
    return _bwrap_ok[key]


def bwrap_path() -> str | None:
    """Path of a bubblewrap that can actually create the sandbox here, else None."""
    found = shutil.which("bwrap")
    if found is None:
        return None
    return found if _bwrap_works(found) else None


def bwrap_skip_reason() -> str | None:
    """None when sandbox tests can run, else why not (for pytest.skip)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) not found: install bubblewrap (apt-get install bubblewrap)"
    if bwrap_path() is None:
        return ("bubblewrap is installed but cannot create namespaces on this machine as an "
                "unprivileged user (are user namespaces disabled, or is this a container "
                "without them?)")
    return None


# --------------------------------------------------------------------------------------------


@dataclass
class Launch:
    """What `subprocess.Popen` gets, plus what the grader writes once the child is in its
    cgroups (`args`: bwrap's arguments, for its `--args` pipe) and the fds to close after."""

    cmd: list[str]
    env: dict[str, str]
    cwd: str
    pass_fds: list[int] = field(default_factory=list)
    popen: dict[str, object] = field(default_factory=dict)
    args: bytes = b""
    args_fd: int | None = None
    tmp: str | None = None


def _env_args() -> list[str]:
    args: list[str] = []
    for key, value in SANDBOX_ENV.items():
        args += ["--setenv", key, value]
    return args


_mirrors: dict[tuple[str, int], Path] = {}
_mirror_lock = threading.Lock()


def reachable_stage(stage: Path) -> Path:
    """`stage`, or, when the sandbox's uid cannot reach it (a stage under a private folder such
    as pytest's), a copy of it under a temp folder it can reach, made once per stage version."""
    if uid.dropped_ids() is None or uid.reachable(stage):
        return stage
    version = max([stage.stat().st_mtime_ns, *(p.stat().st_mtime_ns for p in stage.rglob("*"))])
    key = (str(stage.resolve()), version)
    with _mirror_lock:
        if key not in _mirrors:
            mirror = uid.own_temp_folder("autograder-mirror", uid.reachable_tmp())
            atexit.register(shutil.rmtree, mirror, True)
            shutil.copytree(stage, mirror / "stage")
            mirror.chmod(0o711)
            _mirrors[key] = mirror / "stage"
        return _mirrors[key]


def bwrap_launch(bwrap: str, stage: Path, result_fd: int) -> Launch:
    """The command that starts the worker of `stage` in bubblewrap, writing frames to `result_fd`."""
    if HARDENED:
        stage = reachable_stage(stage)
        runtime = staged_runtime()
        view, python = runtime.bwrap_args(), runtime.python
        own = ["--unshare-user"] + (["--disable-userns"]
                                    if _supports(bwrap, "--disable-userns") else [])
        proc = ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys"]
    else:
        (view, python), own = _unhardened_view(), []
        proc = ["--proc", "/proc"]
    args = [*own, "--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--hostname", SANDBOX_HOSTNAME, "--unshare-cgroup-try",
            "--new-session", "--cap-drop", "ALL", "--clearenv", *_env_args(), *view, *proc,
            "--dev", "/dev", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp",
            "--ro-bind", str(stage), "/grader", "--chdir", "/tmp"]
    if HARDENED:  # bwrap's own tmpfs at / and /dev: no unbounded writable space outside /tmp
        args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    fds = [result_fd]
    rules = sandbox_filter() if HARDENED else None
    if rules is not None:
        seccomp_fd = rules.pipe()
        fds.append(seccomp_fd)
        args += ["--seccomp", str(seccomp_fd)]
    elif HARDENED:
        warn_once("no-seccomp", "libseccomp (pyseccomp) is not available: sandboxes run without "
                  "a seccomp filter (apt-get install libseccomp2; pip install pyseccomp)")
    args_read, args_write = os.pipe()
    fds.append(args_read)
    cmd = [bwrap, "--args", str(args_read), python, "-I", "-B", "/grader/worker.py",
           str(result_fd)]
    cmd, popen = uid.as_sandbox_uid(cmd) if HARDENED else (cmd, {})
    return Launch(cmd, {"PATH": SANDBOX_ENV["PATH"]}, "/", fds, popen,
                  b"".join(a.encode() + b"\0" for a in args), args_write)


def plain_launch(stage: Path, result_fd: int) -> Launch:
    """The fallback: the worker as a plain subprocess (as uid 65534, on the staged runtime,
    when the grader is root)."""
    tmp = tempfile.mkdtemp(prefix="autograder-sandbox-", dir=uid.reachable_tmp())
    env = dict(SANDBOX_ENV, HOME=tmp, MPLCONFIGDIR=os.path.join(tmp, "mpl"), TMPDIR=tmp)
    python, popen = sys.executable, {}
    if HARDENED and uid.dropped_ids() is not None:
        stage = reachable_stage(stage)
        runtime = staged_runtime()
        python = str(runtime.root) + runtime.python
        libs = runtime.root / "usr" / "lib"
        env["LD_LIBRARY_PATH"] = ":".join([str(p) for p in libs.iterdir() if p.is_dir()
                                           and not p.name.startswith("python")] + [str(libs)])
        os.chown(tmp, *uid.dropped_ids())
    cmd = [python, "-I", "-B", str(stage / "worker.py"), str(result_fd)]
    if HARDENED:
        cmd, popen = uid.as_sandbox_uid(cmd)
    return Launch(cmd, env, tmp, [result_fd], popen, tmp=tmp)


# --------------------------------------------------------------------------------------------
# Before issue 11 (benchmarks only): the venv and the host's /usr, read-only.

VENV_IN_SANDBOX = "/opt/venv"


def _unhardened_view() -> tuple[list[str], str]:
    args: list[str] = []
    for top in ("/usr", "/etc/alternatives"):
        if os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(f):
            args += ["--ro-bind", f, f]
    base = os.path.realpath(sys.base_prefix)
    if not base.startswith("/usr/"):
        args += ["--ro-bind", base, base]
    if sys.prefix != sys.base_prefix:
        args += ["--ro-bind", os.path.realpath(sys.prefix), VENV_IN_SANDBOX]
        return args, f"{VENV_IN_SANDBOX}/bin/{os.path.basename(sys.executable)}"
    return args, os.path.realpath(sys.executable)
