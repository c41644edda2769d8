"""The student's feedback page: one self-contained HTML file per (student, assignment).

`write_feedback(result, path)` turns one result dict (the curriculum's JSON, see
`../../shared/CURRICULUM.md`, "The grading command", plus `"seconds"` and an optional per-check
`"sample"`) into a page that says, per graded function, which checks passed, by how much the
others missed, which common mistake the answer matches (with a hint in the lecture's terms), and,
for failed gradient checks that carry a sample, a small plot of analytic against numerical values.

The page shows only what is in the result: check names, messages and numbers. It never shows
hidden test code (nbgrader's own `generate_feedback` does, nbgrader#917), never runs scripts,
and escapes every message, since messages may quote a student's exception text.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .html import escape, fmt_points, img, new_figure, page, png_data_uri, table
from ..pipeline.results import write_atomic

# Named mistakes (the curriculum's list): a title and a hint in the lecture's terms.
MISTAKE_HINTS: dict[str, tuple[str, str]] = {
    "missing_transpose": (
        "Missing transpose",
        "dW^l = Delta^l.T @ A^{l-1}: the gradient has the shape of W. In the lecture's column "
        "form dC/dW^l = delta^l (a^{l-1})^T; with a batch in rows, dx = dout @ W and "
        "dW = dout.T @ x. Match the shapes to see where the .T belongs.",
    ),
    "wrong_sign": (
        "Wrong sign",
        "The gradient points the wrong way. Recheck the sign of each local gradient: "
        "d(1/x)/dx = -1/x^2, d(exp(-x))/dx = -exp(-x), and a subtraction sends -dout to its "
        "second input. Gradient descent then subtracts it: w <- w - learning_rate * dw.",
    ),
    "missing_mean": (
        "Missing 1/N",
        "The loss averages over the batch, L = (1/N) sum_i L_i, so every row of dscores carries "
        "the factor 1/N. Your gradient is N times too large (or your loss is a sum).",
    ),
    "activation_not_preactivation": (
        "sigma' taken at the activation instead of the pre-activation",
        "Delta^l = sigma'(Z^l) * (Delta^{l+1} @ W^{l+1}): evaluate sigma' at the pre-activation "
        "Z^l, the input of the nonlinearity. For the sigmoid that is s * (1 - s) with "
        "s = sigma(Z^l), not sigma'(A^l).",
    ),
    "ignored_upstream": (
        "Upstream gradient ignored",
        "Backward is local gradient times upstream gradient (the chain rule): "
        "dL/dx = (dz/dx) * dout. Multiply by dout, the gradient that flows in from above.",
    ),
    "momentum_order": (
        "Momentum terms in the wrong order",
        "The lecture's rule updates the velocity first and then steps with the new velocity: "
        "v <- dw + momentum * v, then w <- w - learning_rate * v.",
    ),
    "wrong_reg_factor": (
        "Regularization gradient off by a factor of 2",
        "The penalty is reg * sum_l ||W^l||^2, so its gradient is 2 * reg * W^l, not reg * W^l "
        "(biases are not regularized).",
    ),
    "bias_not_summed": (
        "Bias gradient not summed over the batch",
        "db^l = Delta^l.sum(axis=0): every example of the batch adds its share, and the sum has "
        "the bias's shape (n_l,).",
    ),
    "wrong_shape": (
        "Wrong shape",
        "A gradient has exactly the shape of what it differentiates: dx like x, dW like W, "
        "db like b. Print the shapes next to the inputs' shapes.",
    ),
    "not_backprop": (
        "Not backpropagation",
        "The gradient is right, but it was computed by numerical differences of the forward "
        "pass: two forward calls per input entry, so its cost grows with the number of inputs "
        "(seconds on a layer of 10^4 weights, where the chain rule takes a millisecond). This "
        "course grades backpropagation: write the backward pass from the local gradients.",
    ),
    "not_accumulated": (
        "Gradients assigned instead of added",
        "Where a value is used more than once (a fan-out: x feeds two gates, a weight is used "
        "twice), its gradient is the SUM of the gradients from every use: accumulate with +=, "
        "never overwrite with =.",
    ),
    "missing_local_gradient": (
        "Local gradient missing",
        "Each step back multiplies the upstream gradient by the local gradient. A hidden "
        "layer's delta is Delta^l = sigma'(Z^l) * (Delta^{l+1} @ W^{l+1}): passing "
        "Delta^{l+1} @ W^{l+1} on without sigma'(Z^l) skips the nonlinearity.",
    ),
    "wrong_mask": (
        "Gradient routed on the wrong condition",
        "ReLU passes dout where its INPUT was positive: dx = dout * (x > 0), with x from the "
        "forward's cache (not dout > 0). Leaky ReLU passes alpha * dout where x <= 0, not 0. "
        "A max routes dout to the input that won the forward pass.",
    ),
}

# What a status other than "ok" means for the student, and what to do about it.
STATUS_HELP: dict[str, tuple[str, str]] = {
    "missing": (
        "No notebook was found",
        "We found no notebook for this assignment in your submission, so it scores 0. Submit "
        "the notebook under its original name ({assignment}.ipynb) in the assignment's folder, "
        "and ask your TA if you think you did.",
    ),
    "error": (
        "Your code could not be loaded",
        "The grader could not run your solution cells, so no function could be checked. In "
        "JupyterLab choose Kernel > Restart Kernel and Run All Cells and fix the first error it "
        "shows: a syntax error, a name used before it is defined, or code outside your functions "
        "that fails. Also check that the notebook file opens (it may be damaged).",
    ),
    "timeout": (
        "Your code ran past the time limit",
        "Loading your solution cells took longer than the grader allows. Look for an endless "
        "loop, or training and plotting code at the top level of a solution cell; the grader "
        "only needs the function definitions.",
    ),
}

# Plots go to failed checks only (a passed gradient is a diagonal line, and each plot costs
# ~35 ms), at most MAX_PLOTS per page.
MAX_PLOTS = 4
MAX_SAMPLE_POINTS = 400

def relative_error(check: dict) -> float | None:
    """The check's relative error: its `rel_error` field (the grader's, over the whole array),
    else the norm-wise error of its sample, else None. The message is never parsed."""
    value = check.get("rel_error")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    pair = _sample_arrays(check.get("sample"))
    if pair is not None and pair[0].size:
        a, n = pair
        return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-8))
    return None


def _sample_arrays(sample: object) -> tuple[np.ndarray, np.ndarray] | None:
    """(analytic, numerical) as flat float arrays of equal length, or None when unusable.

    A sample is either {"analytic": [...], "numerical": [...]} or a list of
    (student's value, numerical value) pairs, as `autograder.checks` records it.
    """
    try:
        if isinstance(sample, dict):
            analytic = np.asarray(sample.get("analytic"), dtype=np.float64).ravel()
            numerical = np.asarray(sample.get("numerical"), dtype=np.float64).ravel()
        elif isinstance(sample, (list, tuple)) and sample:
            pairs = np.asarray(sample, dtype=np.float64)
            if pairs.ndim != 2 or pairs.shape[1] != 2:
                return None
            analytic, numerical = pairs[:, 0], pairs[:, 1]
        else:
            return None
    except (TypeError, ValueError):
        return None
    if analytic.shape != numerical.shape:
        return None
    keep = np.isfinite(analytic) & np.isfinite(numerical)
    return analytic[keep], numerical[keep]


def sample_plot(check: dict) -> str | None:
    """A data-URI PNG of the check's analytic against numerical values, or None without a sample."""
    pair = _sample_arrays(check.get("sample"))
    if pair is None or pair[0].size == 0:
        return None
    analytic, numerical = pair
    if analytic.size > MAX_SAMPLE_POINTS:
        pick = np.linspace(0, analytic.size - 1, MAX_SAMPLE_POINTS).astype(int)
        analytic, numerical = analytic[pick], numerical[pick]
    fig = new_figure(3.4, 3.2)
    ax = fig.add_subplot()
    lo = float(min(analytic.min(), numerical.min()))
    hi = float(max(analytic.max(), numerical.max()))
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#999", lw=1)
    color = "#176c2f" if check.get("passed") else "#b3261e"
    ax.scatter(numerical, analytic, s=12, color=color, alpha=0.8)
    ax.set_xlabel("numerical gradient")
    ax.set_ylabel("your gradient (analytic)")
    ax.set_title(f"{check.get('function', '')}: {check.get('check', '')}", fontsize=9)
    fig.subplots_adjust(left=0.2, bottom=0.15, right=0.96, top=0.9)
    return png_data_uri(fig)


def _status_badge(status: str) -> str:
    return f'<span class="status {escape(status)}">{escape(status)}</span>'


def _mistake_html(name: str) -> str:
    title, hint = MISTAKE_HINTS.get(name, (name.replace("_", " ").capitalize(), ""))
    return (
        f'<div class="mistake"><strong>Looks like: {escape(title)}</strong> '
        f"<code>({escape(name)})</code><br>{escape(hint)}</div>"
    )


def _function_section(function: str, checks: list[dict], plots_left: list[int]) -> str:
    earned = sum(float(c.get("points") or 0) for c in checks)
    possible = sum(float(c.get("max_points") or 0) for c in checks)
    all_passed = all(c.get("passed") for c in checks)
    mark = '<span class="pass">all checks passed</span>' if all_passed else '<span class="fail">needs work</span>'
    rows = []
    for c in checks:
        err = relative_error(c)
        rows.append([
            '<span class="pass">pass</span>' if c.get("passed") else '<span class="fail">fail</span>',
            f"<code>{escape(c.get('check', ''))}</code>",
            f"{fmt_points(c.get('points'))} / {fmt_points(c.get('max_points'))}",
            "" if err is None else f"{err:.2e}",
            escape(c.get("message") or ""),
        ])
    parts = [
        f"<h3><code>{escape(function)}</code>: {fmt_points(earned)} / {fmt_points(possible)} points, {mark}</h3>",
        table(["", "check", "points", "relative error", "message"], rows, numeric={2, 3}),
    ]
    mistakes = list(dict.fromkeys(c["mistake"] for c in checks if c.get("mistake")))
    parts.extend(_mistake_html(m) for m in mistakes)
    if any(not c.get("passed") and "NotImplementedError" in str(c.get("message", "")) for c in checks):
        parts.append('<div class="box warn">This function still raises <code>NotImplementedError</code>: '
                     "replace the stub with your code.</div>")
    for c in (c for c in checks if not c.get("passed")):
        if plots_left[0] <= 0:
            break
        uri = sample_plot(c)
        if uri is not None:
            plots_left[0] -= 1
            parts.append(img(uri, f"{function} {c.get('check', '')}: analytic against numerical values"))
    return "\n".join(parts)


def render_feedback(result: dict) -> str:
    """The feedback page for one result dict, as an HTML string."""
    student = result.get("student_id", "")
    assignment = result.get("assignment", "")
    status = str(result.get("status", "ok"))
    score, max_score = result.get("auto_score", 0), result.get("auto_max_score", 0)
    body = [
        f"<h1>Feedback: {escape(assignment)}</h1>",
        f'<p class="muted">Student <code>{escape(student)}</code> &middot; status {_status_badge(status)}</p>',
        f'<p class="score">Autograded score: <strong>{fmt_points(score)} / {fmt_points(max_score)}</strong></p>',
        '<p class="muted">Written answers are graded by your TA and are not part of this score. '
        "The grader checks every function on inputs you have not seen, against numerical "
        "gradients and the reference; each check earns its share of the points.</p>",
    ]
    if status in STATUS_HELP:
        title, text = STATUS_HELP[status]
        reason = result.get("reason") or ""
        body.append(
            f'<div class="box bad"><strong>{escape(title)}.</strong> '
            f"{escape(text.format(assignment=assignment))}"
            + (f"<br>What the grader saw: <code>{escape(reason)}</code>" if reason else "")
            + "</div>"
        )
    checks = [c for c in result.get("checks") or [] if isinstance(c, dict)]
    by_function: dict[str, list[dict]] = {}
    for c in checks:
        by_function.setdefault(str(c.get("function", "")), []).append(c)
    if by_function:
        failed = sum(1 for c in checks if not c.get("passed"))
        summary = (f"{len(checks) - failed} of {len(checks)} checks passed"
                   + ("" if failed else ": well done."))
        body.append(f'<div class="box {"good" if not failed else "warn"}">{escape(summary)}</div>')
        body.append("<h2>Checks per function</h2>")
        plots_left = [MAX_PLOTS]
        body.extend(_function_section(f, cs, plots_left) for f, cs in by_function.items())
        if plots_left[0] < MAX_PLOTS:
            body.append('<p class="muted">Plots: each dot is one entry of a gradient, your value '
                        "against the numerical estimate (f(x+h) - f(x-h)) / 2h. A correct gradient "
                        "puts every dot on the grey diagonal.</p>")
    elif status == "ok":
        body.append('<p class="muted">No checks were recorded for this notebook.</p>')
    return page(f"Feedback {assignment} {student}", "\n".join(body))


def write_feedback(result: dict, path: Path) -> None:
    """Write the student's feedback page for one result dict to `path` (atomically).

    Args:
        result: the curriculum's result JSON as a dict, plus optional `"seconds"` and per-check
            `"sample"` ({"analytic": [...], "numerical": [...]}, or a list of
            (analytic, numerical) pairs).
        path: where the HTML goes, e.g. `OUT/feedback/<student_id>/<assignment>.html`.
    """
    if not isinstance(result, dict):
        raise ValueError(f"result must be a dict, got {type(result).__name__}")
    for key in ("student_id", "assignment", "status"):
        if key not in result:
            raise ValueError(f"result is missing the field {key!r}")
    write_atomic(Path(path), render_feedback(result))
