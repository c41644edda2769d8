"""The seccomp filter of the sandbox: the system calls a grading run never needs fail.

Compiled once per grading process with libseccomp (through `pyseccomp`, which drives the
system's `libseccomp.so.2` from any venv) into a classic BPF program; every sandbox gets it
through `bwrap --seccomp FD`, which loads it (with `no_new_privs`) just before it starts the
worker, so it binds the worker and everything the student's code starts.

Blocked, with EPERM (data: `BLOCKED`): mounting and namespaces (mount, umount2, the new mount
API, pivot_root, chroot, unshare, setns, and clone with any CLONE_NEW* flag), looking into or
tampering with other processes (ptrace, process_vm_readv/writev, kcmp, pidfd_getfd,
process_madvise), the kernel's keyrings (keyctl, add_key, request_key), eBPF and perf
(bpf, perf_event_open), kernel modules and kexec, reboot, swap, the clock, the host name, raw
I/O ports (iopl, ioperm), userfaultfd, open_by_handle_at, io_uring, fanotify, acct, quotactl,
syslog. `clone3` fails with ENOSYS instead (a filter cannot read its flags, which live in
memory), so glibc falls back to `clone`, whose flags it can read. System calls of another ABI
(i386, x32) kill the process, libseccomp's default for a native filter.
"""
from __future__ import annotations

import errno
import os
import tempfile
import threading
from dataclasses import dataclass

#: System calls that fail with EPERM in the sandbox (names unknown to this libseccomp skipped).
BLOCKED = (
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "sethostname", "setdomainname",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "iopl", "ioperm", "userfaultfd", "open_by_handle_at",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init",
    "acct", "quotactl", "syslog", "lookup_dcookie", "vhangup", "uselib", "nfsservctl",
)
#: Fail with ENOSYS (the C library then falls back to a call the filter can inspect).
NOT_IMPLEMENTED = ("clone3",)
#: clone() fails with EPERM when its flags (argument 0) hold any of these.
CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}


class SeccompUnavailable(Exception):
    """No libseccomp (or pyseccomp) here: sandboxes run without a seccomp filter."""


@dataclass(frozen=True)
class Filter:
    """A compiled filter: `bpf` (the program bwrap loads) and what it blocks."""

    bpf: bytes
    blocked: tuple[str, ...]
    skipped: tuple[str, ...]

    def pipe(self) -> int:
        """A fresh pipe's read end holding the program, for `bwrap --seccomp FD` (caller
        closes it after starting bwrap)."""
        read, write = os.pipe()
        try:
            os.write(write, self.bpf)  # a few KiB: fits the pipe's buffer
        finally:
            os.close(write)
        return read


def build_filter() -> Filter:
    """Compile the filter for this machine's architecture.

    Raises:
        SeccompUnavailable: pyseccomp or the system's libseccomp is missing.
    """
    try:
        import pyseccomp as sc
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: no libseccomp.so
        raise SeccompUnavailable(f"pyseccomp / libseccomp unavailable ({exc})") from None
    rules = sc.SyscallFilter(defaction=sc.ALLOW)
    blocked: list[str] = []
    skipped: list[str] = []

    def add(action: int, name: str, *args: object) -> bool:
        try:
            rules.add_rule(action, name, *args)
        except (OSError, ValueError, RuntimeError):  # unknown to this kernel/libseccomp
            skipped.append(name)
            return False
        return True

    for name in BLOCKED:
        if add(sc.ERRNO(errno.EPERM), name):
            blocked.append(name)
    for name in NOT_IMPLEMENTED:
        if add(sc.ERRNO(errno.ENOSYS), name):
            blocked.append(name)
    for flag in CLONE_NAMESPACE_FLAGS.values():
        add(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    blocked.append("clone(CLONE_NEW*)")
    with tempfile.TemporaryFile() as out:
        rules.export_bpf(out)
        out.seek(0)
        bpf = out.read()
    return Filter(bpf, tuple(blocked), tuple(skipped))


_cached: list[Filter | None] = []
_lock = threading.Lock()


def sandbox_filter() -> Filter | None:
    """The process's compiled filter (built on first use), or None where seccomp is missing."""
    with _lock:
        if not _cached:
            try:
                _cached.append(build_filter())
            except SeccompUnavailable:
                _cached.append(None)
        return _cached[0]
