"""Which `backprop_lib` modules each assignment grades, and which a student's copy may import.

A student's copy of assignment k may import the helpers and the reference modules of the
assignments before k (a course releases those solutions after their deadline), and nothing of
assignment k or later. The grader's sandbox exposes exactly `allowed_modules(assignment)`.
"""
from __future__ import annotations

ASSIGNMENTS: tuple[str, ...] = (
    "a1_gates",
    "a2_vectorized",
    "a3_mlp",
    "a4_momentum",
    "a5_vanishing",
)

GRADED_MODULES: dict[str, tuple[str, ...]] = {
    "a1_gates": ("gates", "graph"),
    "a2_vectorized": ("layers", "gradcheck"),
    "a3_mlp": ("mlp", "init"),
    "a4_momentum": ("optim",),
    "a5_vanishing": ("diagnostics",),
}

HELPER_MODULES: tuple[str, ...] = ("data", "plots", "drawing", "checks", "validate")


def allowed_modules(assignment: str) -> tuple[str, ...]:
    """The `backprop_lib` modules a student's copy of `assignment` may import.

    Unknown assignments (a course's own addition) get the helpers only.
    """
    allowed = list(HELPER_MODULES)
    if assignment in ASSIGNMENTS:
        for earlier in ASSIGNMENTS[: ASSIGNMENTS.index(assignment)]:
            allowed.extend(GRADED_MODULES[earlier])
    return tuple(allowed)


def forbidden_modules(assignment: str) -> tuple[str, ...]:
    """The graded modules of `assignment` and of every later assignment."""
    if assignment not in ASSIGNMENTS:
        return tuple(m for mods in GRADED_MODULES.values() for m in mods)
    later = ASSIGNMENTS[ASSIGNMENTS.index(assignment):]
    return tuple(m for a in later for m in GRADED_MODULES[a])
