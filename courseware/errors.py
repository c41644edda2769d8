"""The release tooling's own errors: one base, `CoursewareError`, that ``python -m courseware``
turns into a one-line message and exit code 2. Anything else escaping is a bug and keeps its
traceback. The subclasses also derive from the built-in type a caller would expect, so
``except ValueError`` around the library functions keeps working.
"""
from __future__ import annotations


class CoursewareError(Exception):
    """Base of the errors the CLI reports as ``courseware <command>: <message>`` and exit 2."""


class SourceError(CoursewareError, ValueError):
    """A source breaks the contract: an unknown assignment, a solution notebook or library
    module the pipeline cannot read, a solution region without its ``# TASK:`` line."""


class BuildError(CoursewareError, RuntimeError):
    """A release cannot be written: nbgrader failed, the library lacks a module the assignment
    may import, or a generated folder holds files the build did not write."""


class ExchangeError(CoursewareError, RuntimeError):
    """The exchange cannot be read: no such course or inbound folder (a TA's mistake, never a
    student's submission: a hostile submission is a refused entry, not an exception)."""
