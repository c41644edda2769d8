"""The class report: one self-contained page of how the class did, for TAs and lecturers.

`write_report(results, out_dir)` writes `out_dir/report/index.html` from the result dicts of a
grading run (the curriculum's JSON plus `"seconds"`): status counts, a score histogram per
assignment, the pass rate of every check, the most common named mistakes, and the time each
notebook took to grade. Figures are matplotlib (Agg canvas, no pyplot state) embedded as base64
PNGs, so the page is one file that opens offline.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .html import escape, fmt_points, img, new_figure, page, png_data_uri, table
from ..pipeline.results import write_atomic
from ..registry import ASSIGNMENTS

STATUSES = ("ok", "error", "timeout", "missing")
STATUS_COLORS = {"ok": "#4c9a5e", "error": "#c0392b", "timeout": "#e08e0b", "missing": "#9e9e9e"}
MAX_PROBLEM_ROWS = 200


def _assignments(results: list[dict]) -> list[str]:
    """The assignments present, in course order, then any others sorted by name."""
    present = {str(r.get("assignment")) for r in results}
    return [a for a in ASSIGNMENTS if a in present] + sorted(present - set(ASSIGNMENTS))


def _grid(n: int, cols: int = 3) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return (n + cols - 1) // cols, cols


def score_histograms(results: list[dict], assignments: list[str]) -> str:
    """Data URI of one histogram of `auto_score` per assignment (every row, missing ones at 0)."""
    rows, cols = _grid(len(assignments))
    fig = new_figure(3.6 * cols, 2.6 * rows)
    for i, a in enumerate(assignments):
        ax = fig.add_subplot(rows, cols, i + 1)
        mine = [r for r in results if r.get("assignment") == a]
        scores = np.array([float(r.get("auto_score") or 0) for r in mine])
        top = max([float(r.get("auto_max_score") or 0) for r in mine] + [float(scores.max(initial=0)), 1e-9])
        ax.hist(scores, bins=np.linspace(0, top, 11), color="#3b6ea5", edgecolor="white")
        ax.set_title(f"{a}  (n={len(mine)}, mean {scores.mean():.1f} / {fmt_points(top)})", fontsize=9)
        ax.set_xlabel("auto_score", fontsize=8)
        ax.set_ylabel("notebooks", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.subplots_adjust(hspace=0.6, wspace=0.35, left=0.08, right=0.98, top=0.9, bottom=0.15 / rows)
    return png_data_uri(fig)


def status_counts(results: list[dict], assignments: list[str]) -> dict[str, Counter]:
    """Per assignment, how many rows have each status."""
    counts: dict[str, Counter] = {a: Counter() for a in assignments}
    for r in results:
        counts[str(r.get("assignment"))][str(r.get("status", "ok"))] += 1
    return counts


def status_figure(counts: dict[str, Counter]) -> str:
    """Data URI of a stacked horizontal bar per assignment, one colour per status."""
    names = list(counts)
    fig = new_figure(7.5, 0.5 * len(names) + 1.2)
    ax = fig.add_subplot()
    left = np.zeros(len(names))
    for status in STATUSES:
        widths = np.array([counts[a][status] for a in names], dtype=float)
        ax.barh(names, widths, left=left, color=STATUS_COLORS[status], label=status)
        left += widths
    ax.invert_yaxis()
    ax.set_xlabel("notebooks")
    ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.subplots_adjust(left=0.22, right=0.97, bottom=0.8 / (0.5 * len(names) + 1.2), top=0.82)
    return png_data_uri(fig)


def pass_rates(results: list[dict], assignment: str) -> list[tuple[str, str, int, int]]:
    """(function, check, passed, graded) for every check of `assignment`, in the order first seen.

    Only notebooks whose code loaded (status ok) count: an error or missing row fails every
    check at once and says nothing about any one of them.
    """
    tally: dict[tuple[str, str], list[int]] = {}
    for r in results:
        if r.get("assignment") != assignment or r.get("status", "ok") != "ok":
            continue
        for c in r.get("checks") or []:
            key = (str(c.get("function", "")), str(c.get("check", "")))
            entry = tally.setdefault(key, [0, 0])
            entry[0] += bool(c.get("passed"))
            entry[1] += 1
    return [(f, c, p, n) for (f, c), (p, n) in tally.items()]


def pass_rate_figure(rates: list[tuple[str, str, int, int]], assignment: str) -> str:
    """Data URI of one horizontal bar per check: the fraction of graded notebooks that passed it."""
    labels = [f"{f}: {c}" for f, c, _, _ in rates]
    values = [p / n if n else 0.0 for _, _, p, n in rates]
    height = 0.24 * len(rates) + 1.0
    fig = new_figure(7.5, height)
    ax = fig.add_subplot()
    colors = ["#4c9a5e" if v >= 0.8 else "#e08e0b" if v >= 0.5 else "#c0392b" for v in values]
    ax.barh(range(len(values)), values, color=colors)
    ax.set_yticks(range(len(values)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of graded notebooks that passed")
    ax.set_title(assignment, fontsize=10)
    fig.subplots_adjust(left=0.42, right=0.97, bottom=0.6 / height, top=1 - 0.35 / height)
    return png_data_uri(fig)


def mistake_counts(results: list[dict]) -> Counter:
    """(assignment, function, mistake) -> number of notebooks showing it (once per notebook)."""
    counts: Counter = Counter()
    for r in results:
        seen = {(str(r.get("assignment")), str(c.get("function", "")), str(c["mistake"]))
                for c in r.get("checks") or [] if c.get("mistake")}
        counts.update(seen)
    return counts


def mistake_figure(counts: Counter) -> str:
    """Data URI of the number of notebooks per named mistake, over all assignments."""
    per_name: Counter = Counter()
    for (_, _, name), n in counts.items():
        per_name[name] += n
    names = [name for name, _ in per_name.most_common()]
    fig = new_figure(7.5, 0.32 * len(names) + 1.0)
    ax = fig.add_subplot()
    ax.barh(names, [per_name[n] for n in names], color="#6a3fb5")
    ax.invert_yaxis()
    ax.set_xlabel("notebook x function pairs showing the mistake")
    fig.subplots_adjust(left=0.32, right=0.97, bottom=0.6 / (0.32 * len(names) + 1.0), top=0.95)
    return png_data_uri(fig)


def time_figure(seconds: dict[str, list[float]]) -> str:
    """Data URI of a box plot of grading seconds per notebook, one box per assignment."""
    names = list(seconds)
    fig = new_figure(7.5, 0.45 * len(names) + 1.2)
    ax = fig.add_subplot()
    ax.boxplot([seconds[a] for a in names], orientation="horizontal", tick_labels=names)
    ax.invert_yaxis()
    ax.set_xlabel("seconds to grade one notebook")
    fig.subplots_adjust(left=0.22, right=0.97, bottom=0.8 / (0.45 * len(names) + 1.2), top=0.95)
    return png_data_uri(fig)


def _seconds(results: list[dict], assignments: list[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for r in results:
        s = r.get("seconds")
        if isinstance(s, (int, float)) and not isinstance(s, bool) and np.isfinite(s):
            out[str(r.get("assignment"))].append(float(s))
    return {a: out[a] for a in assignments if out.get(a)}


def render_report(results: list[dict]) -> str:
    """The class report for a list of result dicts, as an HTML string."""
    assignments = _assignments(results)
    students = sorted({str(r.get("student_id")) for r in results})
    body = ["<h1>Class report</h1>",
            f'<p class="muted">{len(students)} students, {len(results)} notebooks, '
            f"{len(assignments)} assignments.</p>"]
    if not results:
        body.append("<p>No results to report.</p>")
        return page("Class report", "\n".join(body))

    counts = status_counts(results, assignments)
    body.append("<h2>Status</h2>")
    body.append(table(
        ["assignment", *STATUSES, "mean score", "max"],
        [[escape(a), *(str(counts[a][s]) for s in STATUSES),
          fmt_points(np.mean([float(r.get("auto_score") or 0) for r in results if r.get("assignment") == a])),
          fmt_points(max(float(r.get("auto_max_score") or 0) for r in results if r.get("assignment") == a))]
         for a in assignments],
        numeric={1, 2, 3, 4, 5, 6}))
    body.append(img(status_figure(counts), "status counts per assignment"))

    body.append("<h2>Scores</h2>")
    body.append(img(score_histograms(results, assignments), "score histogram per assignment"))

    body.append("<h2>Pass rate per check</h2>")
    body.append('<p class="muted">Among the notebooks whose code loaded (status ok). Green: at '
                "least 80% passed; orange: at least half; red: fewer.</p>")
    for a in assignments:
        rates = pass_rates(results, a)
        if rates:
            body.append(f"<h3>{escape(a)}</h3>")
            body.append(img(pass_rate_figure(rates, a), f"pass rate per check of {a}"))

    body.append("<h2>Most common mistakes</h2>")
    mistakes = mistake_counts(results)
    if mistakes:
        body.append(img(mistake_figure(mistakes), "notebooks per named mistake"))
        body.append(table(["assignment", "function", "mistake", "notebooks"],
                          [[escape(a), f"<code>{escape(f)}</code>", f"<code>{escape(m)}</code>", str(n)]
                           for (a, f, m), n in mistakes.most_common(20)], numeric={3}))
    else:
        body.append("<p>No named mistakes were found.</p>")

    body.append("<h2>Time per notebook</h2>")
    seconds = _seconds(results, assignments)
    if seconds:
        body.append(img(time_figure(seconds), "seconds per notebook and assignment"))
        body.append(table(
            ["assignment", "notebooks", "median s", "95th pct s", "max s", "total s"],
            [[escape(a), str(len(s)), f"{np.median(s):.2f}", f"{np.percentile(s, 95):.2f}",
              f"{max(s):.2f}", f"{sum(s):.1f}"] for a, s in seconds.items()],
            numeric={1, 2, 3, 4, 5}))
    else:
        body.append("<p>No timings were recorded.</p>")

    problems = sorted((r for r in results if r.get("status", "ok") != "ok"),
                      key=lambda r: (str(r.get("assignment")), str(r.get("student_id"))))
    body.append("<h2>Notebooks that did not load</h2>")
    if problems:
        rows = [[escape(r.get("student_id")), escape(r.get("assignment")), escape(r.get("status")),
                 escape(r.get("reason") or "")] for r in problems[:MAX_PROBLEM_ROWS]]
        body.append(table(["student", "assignment", "status", "reason"], rows))
        if len(problems) > MAX_PROBLEM_ROWS:
            body.append(f"<p>... and {len(problems) - MAX_PROBLEM_ROWS} more (see grades.csv).</p>")
    else:
        body.append("<p>Every notebook loaded.</p>")
    return page("Class report", "\n".join(body))


def write_report(results: list[dict], out_dir: Path) -> Path:
    """Write the class report to `out_dir/report/index.html` (atomically) and return its path.

    Args:
        results: result dicts of one grading run (the curriculum's JSON plus `"seconds"`).
        out_dir: the grading command's `--output` folder.
    """
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise ValueError("results must be a list of result dicts")
    path = Path(out_dir) / "report" / "index.html"
    write_atomic(path, render_report(results))
    return path
