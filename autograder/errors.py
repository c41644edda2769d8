"""The grader's own errors: one base, `GraderError`, that the CLI turns into a one-line message
and exit code 2. Anything else that escapes the command is a bug and keeps its traceback.

Nothing a submission does raises these (a broken student notebook is a graded row, never an
exception); they say the command was called wrongly or the course or machine is not set up.
The subclasses also derive from the built-in type a caller would expect (`ValueError`,
`RuntimeError`), so ``except ValueError`` around the library functions keeps working.
"""
from __future__ import annotations


class GraderError(Exception):
    """Base of the errors the CLI reports as ``autograder: error: <message>`` and exit 2."""


class UsageError(GraderError, ValueError):
    """A bad argument: a non-positive limit, `jobs < 1`."""


class CourseLayoutError(GraderError, ValueError):
    """The course's folders break the contract: no `solutions/` or `SUBMITTED` folder, no
    `<a>/<a>.ipynb` in it, or a source notebook the grader cannot read its points from."""


class SandboxUnavailable(GraderError, RuntimeError):
    """The sandbox cannot run here at all (a machine problem, not a submission's)."""
