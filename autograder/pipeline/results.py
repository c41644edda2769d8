"""Record grades: `OUT/results/<student_id>/<assignment>.json` and `OUT/grades.csv`.

Every write is atomic (a temporary file in the same folder, then `os.replace`): an interrupted
run leaves the previous complete file or none, never half a file.

Every cell of `grades.csv` passes through `outputs.safe_text.csv_cell` (a student id such as
`=HYPERLINK(...)` or `-x` gets a leading `'`; scores stay numbers); the JSON keeps every value
exactly as it is.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..outputs.safe_text import csv_row

GRADES_COLUMNS = ("student_id", "assignment", "auto_score", "auto_max_score", "status", "reason")
STATUSES = ("ok", "error", "timeout", "missing")

ROW_NUMBERS: tuple[str, ...] = ("rel_error", "tol", "shape", "expected_shape")
"""Fields a check's row carries beside the curriculum's, when its check measured them: the
norm-wise relative error and its bound (floats), the output's shape and the expected one
(lists of ints). Feedback and reports read these, never the message."""


def row_numbers(verdict: Any) -> dict[str, Any]:
    """The `ROW_NUMBERS` a verdict (`checks.core.Verdict`) has set, as JSON values; a missing,
    non-finite or malformed value is left out."""
    out: dict[str, Any] = {}
    for key in ROW_NUMBERS:
        value = getattr(verdict, key, None)
        try:
            if value is None:
                continue
            if key in ("rel_error", "tol"):
                value = float(value)
                if not np.isfinite(value):
                    continue
            else:
                value = [int(n) for n in value]
        except (TypeError, ValueError):
            continue
        out[key] = value
    return out


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write `data` (text is UTF-8) to `path` so readers see the old file or the new one, never a part.

    The parent folder is created when missing; the data goes to a temporary file in the same
    folder (mode 0644), which then replaces `path` with `os.replace` (atomic on POSIX).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to a result file")


def result_path(out: Path, student_id: str, assignment: str) -> Path:
    return Path(out) / "results" / student_id / f"{assignment}.json"


def write_result(result: dict[str, Any], out: Path) -> Path:
    """Write one notebook's result dict as `OUT/results/<student_id>/<assignment>.json`."""
    for key in ("student_id", "assignment", "status"):
        if key not in result:
            raise ValueError(f"result has no {key!r}")
    if result["status"] not in STATUSES:
        raise ValueError(f"result status {result['status']!r} is not one of {STATUSES}")
    text = json.dumps(result, indent=1, default=_jsonable, allow_nan=False)
    path = result_path(out, result["student_id"], result["assignment"])
    return write_atomic(path, text + "\n")


def read_result(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _score(value: float) -> float:
    return round(float(value), 4)


def grades_csv_text(results: Iterable[dict[str, Any]]) -> str:
    """The grades table, one row per (student, assignment), sorted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADES_COLUMNS)
    for r in sorted(results, key=lambda r: (r["student_id"], r["assignment"])):
        writer.writerow(csv_row([r["student_id"], r["assignment"], _score(r["auto_score"]),
                                 _score(r["auto_max_score"]), r["status"],
                                 " ".join(str(r.get("reason", "")).split())]))
    return buffer.getvalue()


def write_grades_csv(results: Iterable[dict[str, Any]], path: Path) -> Path:
    """Write `OUT/grades.csv` atomically."""
    return write_atomic(path, grades_csv_text(results))


def read_grades_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
