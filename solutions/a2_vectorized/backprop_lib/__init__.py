# Generated for a2_vectorized from backprop_lib/__init__.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""backprop_lib: the course kit's reference numpy library for backpropagation.

Modules (import them directly, e.g. ``from backprop_lib.layers import affine_forward``):
gates, graph, layers, gradcheck, init, mlp, optim, diagnostics, plots, checks, data, validate.
This file imports no submodule on purpose: the grader's sandbox exposes only the modules an
assignment may use.

Importing the package sets one thing in the process: glibc's two malloc thresholds (see
``keep_freed_arrays``), so a training step reuses the memory of the arrays it freed the step
before instead of page-faulting it in again.
"""
from __future__ import annotations

import os

__version__ = "0.1.0"

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""glibc's ``mallopt`` parameter numbers (``<malloc.h>``)."""

MMAP_THRESHOLD_BYTES = 32 * 2**20
TRIM_THRESHOLD_BYTES = 64 * 2**20
"""The values glibc's own heuristic reaches once a program frees a 32 MiB block."""

ALLOCATOR_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
"""Set by the user (or ``glibc.malloc.*`` in ``GLIBC_TUNABLES``), these decide the allocator
instead: ``keep_freed_arrays`` then leaves it alone."""


def keep_freed_arrays() -> bool:
    """Fix glibc's malloc thresholds at 32 MiB (mmap) and 64 MiB (trim); True if they were set.

    A training step frees arrays and allocates ones of the same size: at float64 a
    784-256-128-10 MLP's ``W1``, ``dW1`` and velocity are 1.6 MB each. glibc starts with a
    128 KiB mmap threshold and raises it (and the trim threshold, to twice that) only when a
    larger mmap'ed block is freed, so a fresh process gives the freed top of its heap back to
    the kernel whenever it exceeds about 3.2 MB, and the next step faults those pages in again:
    100-570 minor faults a step, up to 1 ms of a 4 ms step (``benchmarks/mlp_speed.py``).
    Fixed from the start at the values glibc's heuristic would reach by itself after a 32 MiB
    block is freed, blocks under 32 MiB come from the heap and up to 64 MiB of free heap is
    kept for the next allocation. Nothing changes in what any function computes.

    Does nothing (returns False) where the C library is not glibc (macOS, Windows, musl), and
    where the user chose the allocator's settings (any of ``ALLOCATOR_VARIABLES``, or a
    ``glibc.malloc.`` tunable in ``GLIBC_TUNABLES``).
    """
    if (any(os.environ.get(name) for name in ALLOCATOR_VARIABLES)
            or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
        import ctypes

        libc = ctypes.CDLL(None)  # the C library this process already runs on
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
                    and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    except (AttributeError, ImportError, OSError, TypeError, ValueError):
        return False  # no confstr name, no ctypes, no mallopt: another C library


ALLOCATOR_TUNED = keep_freed_arrays()
"""Whether importing the package set glibc's thresholds (False: not glibc, or set by the user)."""
