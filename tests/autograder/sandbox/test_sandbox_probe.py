"""The probe: everything student code can see and do in the real sandbox, against the documented
allowed set (README, "Security"). Anything beyond it fails the test, as root and as uid 65534.

The probe (`fixtures/sandbox_probe.py`) runs as a task exactly like a student's function. The
allowed set, in full:
- ids: uid and gid 65534 (never host root), no capabilities at all, no_new_privs, seccomp on;
- mounts: bubblewrap's read-only `/` and `/dev` tmpfs, the staged runtime read-only at `/usr`,
  the stage read-only at `/grader`, a fresh `/proc` with `/proc/sys` read-only, the device
  nodes, `/dev/pts`, and the private `/tmp`; host paths of mounts only the run's temp folders;
- files: the runtime (`/usr/bin/python3`, `/usr/lib/python3.X/`, shared libraries, the loader),
  the stage (worker, wire, calls, drivers, the assignment's allowed `backprop_lib` modules), devices;
- writable: `/tmp` and the device nodes; no sysctl; no network;
- every system call of `ALWAYS_FAILS` fails: EPERM from the filter (ENOSYS for clone3);
- identity: `sys.prefix` `/usr`, numpy under it, the sandbox's fixed environment, and no
  visible path naming the project, the venv, a home folder or the course.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from autograder.registry import allowed_modules
from autograder.sandbox.command import SANDBOX_ENV
from autograder.sandbox.launch import bwrap_skip_reason

from fixtures.sandbox_probe import run_probe
from fixtures.unprivileged import nobody_skip_reason, run_as_nobody, scratch_kit

REPO = Path(__file__).resolve().parents[3]
SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.sandbox, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]
ASSIGNMENT = "a2_vectorized"

ALLOWED_TOP = {"bin", "dev", "grader", "lib", "lib64", "proc", "tmp", "usr"}
READ_ONLY_MOUNTS = {"/", "/usr", "/proc/sys", "/dev", "/grader"}
DEVICES = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}
WRITABLE_MOUNTS = DEVICES | {"/proc", "/dev/pts", "/tmp"}
HOST_ROOTS = re.compile(r"^(/newroot|/|/sys|/(null|zero|full|random|urandom|tty)|"
                        r"/tmp/autograder-(runtime|stage|probe)-[\w-]+(/usr|/\w+)?)$")
ALLOWED_FILES = re.compile(
    r"^(/usr/bin/python3"
    r"|/usr/lib/python3\.\d+/.+"
    r"|/usr/lib/[\w-]+-linux-gnu/lib[\w.+-]+\.so[.\d]*"
    r"|/usr/lib64/ld-linux[\w.-]+"
    r"|/grader/(__pycache__/)?(worker|wire|calls|drivers)\.(py|cpython-\d+\.pyc)"
    r"|/grader/backprop_lib/(__pycache__/)?\w+\.(py|cpython-\d+\.pyc)"
    r"|/dev/\w+)$")
WRITABLE = DEVICES | {"/dev/ptmx", "/dev/pts/ptmx", "/dev/stdin", "/dev/stdout", "/dev/stderr",
                      "/tmp/"}
ALWAYS_FAILS = {  # syscall -> the errno the seccomp filter answers with
    "mount": 1, "umount2": 1, "unshare(CLONE_NEWUSER)": 1, "unshare(CLONE_NEWNS)": 1,
    "unshare(CLONE_NEWNET)": 1, "setns": 1, "clone(CLONE_NEWUSER)": 1, "clone3": 38,
    "ptrace(PEEKDATA, 1)": 1, "process_vm_readv": 1, "bpf": 1, "perf_event_open": 1,
    "keyctl": 1, "add_key": 1, "request_key": 1, "userfaultfd": 1, "io_uring_setup": 1,
    "init_module": 1, "finit_module": 1, "delete_module": 1, "kexec_load": 1, "reboot": 1,
    "swapoff": 1, "chroot": 1, "pivot_root": 1, "sethostname": 1, "iopl": 1, "ioperm": 1,
    "open_by_handle_at": 1, "fsopen": 1,
}


def forbidden_words() -> list[str]:
    """Strings no visible path may hold: the project, the venvs, homes, the course."""
    words = [str(REPO), str(Path(sys.prefix).resolve()), str(Path(sys.base_prefix).resolve()),
             "/root", "/home", "site-packages", "dist-packages", "solutions", "backprop-kit"]
    return [w for w in words if w not in ("/", "/usr")]


def assert_within_allowed_set(report: dict, library: set[str]) -> None:
    ids = report["ids"]
    assert (ids["uid"], ids["euid"], ids["gid"]) == (65534, 65534, 65534), ids
    assert set(ids["groups"]) <= {65534}, ids
    assert {ids[c] for c in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")} == {"0" * 16}
    assert (ids["NoNewPrivs"], ids["Seccomp"]) == ("1", "2"), ids

    mounts = {point: (root, fstype, opts) for point, root, fstype, opts in report["mounts"]}
    assert set(mounts) <= READ_ONLY_MOUNTS | WRITABLE_MOUNTS, sorted(mounts)
    for point in READ_ONLY_MOUNTS:
        assert mounts[point][2].split(",")[0] == "ro", (point, mounts[point])
    bad_roots = [root for root, _, _ in mounts.values() if not HOST_ROOTS.match(root)]
    assert bad_roots == [], bad_roots

    assert set(report["top"]) <= ALLOWED_TOP, report["top"]
    stray = [f for f in report["files"] if not ALLOWED_FILES.match(f)]
    assert stray == [], stray[:20]
    kit = [f for f in report["files"] if "backprop_lib" in f and not f.startswith("/grader/")]
    assert kit == [], kit
    assert set(report["writable"]) <= WRITABLE, report["writable"]
    assert report["sysctls"] == []
    assert report["network"] != "connected"
    if os.uname().machine == "x86_64":
        assert report["syscalls"] == ALWAYS_FAILS

    ident = report["identity"]
    assert (ident["prefix"], ident["base_prefix"], ident["executable"]) == (
        "/usr", "/usr", "/usr/bin/python3")
    assert ident["numpy"].startswith("/usr/lib/python3.") and ident["cwd"] == "/tmp"
    assert all(p == "/grader" or p.startswith("/usr/lib/python3") for p in ident["path"])
    assert set(ident["environ"]) <= set(SANDBOX_ENV) | {"PWD"}
    assert ident["grader"] == ["__pycache__", "backprop_lib", "calls.py", "drivers.py", "wire.py",
                               "worker.py"]
    staged = {name[:-3] for name in ident["grader_library"] if name.endswith(".py")}
    assert staged == library | {"__init__"}, staged
    visible = json.dumps([report["mounts"], ident])
    leaks = [w for w in forbidden_words() if w in visible]
    assert leaks == [], leaks


def test_probe_as_root_grader_sees_only_the_allowed_set():
    if os.geteuid() != 0:
        pytest.skip("the grader is not root here (the unprivileged test covers this case)")
    assert_within_allowed_set(run_probe(ASSIGNMENT), set(allowed_modules(ASSIGNMENT)))


@pytest.mark.slow
def test_probe_as_unprivileged_grader_from_an_installed_kit_sees_only_the_allowed_set():
    reason = nobody_skip_reason()
    if reason:
        pytest.skip(reason)
    kit = scratch_kit((ASSIGNMENT,))
    done = run_as_nobody(kit, ["tests/fixtures/sandbox_probe.py", ASSIGNMENT])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cannot create cgroups" in done.stderr  # says that its limits are rlimits
    report = json.loads(done.stdout)
    assert_within_allowed_set(report, set(allowed_modules(ASSIGNMENT)))
    assert str(kit.root.parent) not in json.dumps(report)  # nor the scratch kit's paths
