"""One notebook's result as Gradescope's `results.json` (its published autograder specification).

`gradescope_results(result, ...)` maps the kit's result dict (the curriculum's JSON: `checks[]`
rows with `function, check, points, max_points, passed, message, mistake`) to:

    {"score", "execution_time", "output", "output_format": "text", "visibility",
     "stdout_visibility": "hidden", "extra_data": {...},
     "tests": [{"name": "<function>: <check>", "number", "score", "max_score",
                "status": "passed" | "failed", "output", "output_format": "text",
                "visibility", "tags": [function, mistake?]}, ...]}

One test per check, in the order the grader ran them; `score` is the result's `auto_score`,
so it equals the class grader's for the same notebook, student id and seed. A test's `output`
is the check's message (how far off, which shape) and, when the check named a mistake, its
name, title and hint (`outputs.feedback.MISTAKE_HINTS`, the feedback page's words). Nothing
else of the check goes out: never its inputs, expected values, the feedback plot's sample or
hidden test code (the grader never reads test cells' code). Messages may quote the student's
own exception, so they are written as plain text (`output_format: "text"`, which Gradescope
escapes), with control and bidi characters shown as escapes, and cut at `MAX_OUTPUT_CHARS`.

Visibility: tests are `visible` by default (the kit's feedback is written for students; it
holds nothing hidden), `stdout_visibility` is always `hidden` (the grader's log is for
instructors). `gradescope --visibility after_due_date` holds the tests back until the deadline.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..outputs.feedback import MISTAKE_HINTS
from ..outputs.safe_text import terminal_text
from ..pipeline.results import write_atomic

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
"""Gradescope's visibility values (the first is the kit's default)."""
MAX_OUTPUT_CHARS = 4000
"""A test's output is cut here (a check's message is a few lines)."""


def _clip(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 20] + " ... (cut)"


def _number(value: Any) -> float:
    return round(float(value or 0.0), 6)


def _points(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def test_output(check: dict[str, Any]) -> str:
    """The text a student sees under one check: the message, then the named mistake's hint."""
    lines = [terminal_text(str(check.get("message") or ""))]
    mistake = check.get("mistake")
    if mistake:
        name = terminal_text(str(mistake))
        title, hint = MISTAKE_HINTS.get(str(mistake), (name.replace("_", " ").capitalize(), ""))
        lines.append(f"Looks like: {title} ({name}). {hint}".rstrip())
    return _clip("\n".join(line for line in lines if line))


def test_entries(checks: list[dict[str, Any]], visibility: str = "visible") -> list[dict[str, Any]]:
    """One Gradescope test per check row, numbered `<function>.<check>` in the grader's order."""
    functions: list[str] = []
    counts: dict[str, int] = {}
    tests = []
    for check in checks:
        function = str(check.get("function", ""))
        if function not in counts:
            functions.append(function)
            counts[function] = 0
        counts[function] += 1
        tags = [function] + ([str(check["mistake"])] if check.get("mistake") else [])
        tests.append({
            "name": f"{function}: {check.get('check', '')}",
            "number": f"{functions.index(function) + 1}.{counts[function]}",
            "score": _number(check.get("points")),
            "max_score": _number(check.get("max_points")),
            "status": "passed" if check.get("passed") else "failed",
            "output": test_output(check),
            "output_format": "text",
            "visibility": visibility,
            "tags": tags,
        })
    return tests


def summary_output(result: dict[str, Any], manual_points: float = 0.0, note: str = "") -> str:
    """The text above the tests: the score, what went wrong with the notebook, what is not here."""
    score, best = _number(result.get("auto_score")), _number(result.get("auto_max_score"))
    lines = [f"{result.get('assignment')}: {_points(score)} of {_points(best)} autograded points."]
    if note:
        lines.append(note)
    if result.get("status") != "ok" and result.get("reason"):
        lines.append(terminal_text(str(result["reason"])))
    lines.append("Each check runs your functions on inputs you have not seen and compares them "
                 "with numerical gradients and the reference; a failed check says by how much it "
                 "missed and, where the error matches a common mistake, names it.")
    if manual_points > 0:
        lines.append(f"The written answers ({_points(manual_points)} points) are graded by hand "
                     f"and are not part of this score.")
    return _clip("\n".join(lines), 4 * MAX_OUTPUT_CHARS)


def gradescope_results(result: dict[str, Any], *, seconds: float, visibility: str = "visible",
                       manual_points: float = 0.0, note: str = "",
                       extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Gradescope's results.json for one graded notebook (see the module docstring).

    Args:
        result: the kit's result dict from `autograder.pipeline`.
        seconds: wall time of the whole run (`execution_time`).
        visibility: one of `VISIBILITIES`, for every test.
        manual_points: points of the hand-graded cells (said in the output, not scored).
        note: one more sentence for the top-level output (e.g. which file was graded).
        extra: more fields for `extra_data` (stored by Gradescope, shown to instructors).
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, got {visibility!r}")
    extra_data = {"student_id": result.get("student_id"), "assignment": result.get("assignment"),
                  "status": result.get("status"), "auto_max_score": _number(result.get("auto_max_score"))}
    extra_data.update(extra or {})
    return {
        "score": _number(result.get("auto_score")),
        "execution_time": round(float(seconds), 3),
        "output": summary_output(result, manual_points, note),
        "output_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "extra_data": extra_data,
        "tests": test_entries(list(result.get("checks") or []), visibility),
    }


def write_results_json(results: dict[str, Any], path: Path) -> Path:
    """Write Gradescope's results (a dict from `gradescope_results`) to `path`, atomically."""
    return write_atomic(Path(path), json.dumps(results, indent=1, allow_nan=False) + "\n")
