"""Shared bits of the grader's HTML output: one self-contained page, embedded PNGs.

Every page the grader writes (a student's feedback, the class report) is a single file that
opens offline: styles inline, images as `data:image/png;base64,...`, no scripts at all. A
Content-Security-Policy in the page forbids scripts and remote loads, so even text that came
from a student's code (exception messages) can never run in a TA's browser; every such text
also goes through `escape`.
"""
from __future__ import annotations

import base64
import html
import io

# No scripts, no remote anything: images only from data: URIs, styles only inline.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 980px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
h3 { margin-bottom: 0.3em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pass { color: #176c2f; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.score { font-size: 1.3em; } .muted { color: #666; }
.box { border-left: 4px solid #888; background: #f7f7f7; padding: 0.6em 1em; margin: 0.8em 0; }
.box.warn { border-color: #c77700; background: #fff6e5; } .box.bad { border-color: #b3261e; background: #fdecea; }
.box.good { border-color: #176c2f; background: #eaf6ec; }
.mistake { border-left: 4px solid #6a3fb5; background: #f3eefb; padding: 0.4em 0.8em; margin: 0.4em 0; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.92em; }
pre { white-space: pre-wrap; word-break: break-word; background: #f7f7f7; padding: 0.5em; }
img.plot { max-width: 100%; height: auto; border: 1px solid #eee; }
.status { display: inline-block; padding: 0.05em 0.5em; border-radius: 0.3em; font-size: 0.9em; }
.status.ok { background: #eaf6ec; } .status.error, .status.timeout { background: #fdecea; }
.status.missing { background: #fff6e5; }
"""


def escape(text: object) -> str:
    """`text` as HTML-safe text (quotes escaped too, so it is safe inside attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML document with the kit's style.

    Args:
        title: plain text (escaped here).
        body: HTML that the caller has already escaped where needed.
    """
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def new_figure(width: float, height: float):
    """A matplotlib `Figure` drawn by the Agg canvas, without pyplot's global state.

    Safe in threads and in processes without a display; nothing needs closing afterwards.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=80)
    FigureCanvasAgg(fig)
    return fig


def png_data_uri(fig, dpi: int = 80) -> str:
    """Render `fig` to PNG and return it as a `data:image/png;base64,...` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def img(uri: str, alt: str) -> str:
    """An `<img>` tag for a data URI, with escaped alt text."""
    return f'<img class="plot" src="{uri}" alt="{escape(alt)}">'


def table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """An HTML table. `header` is plain text (escaped here); `rows` hold HTML (escape before).

    Args:
        numeric: indices of the columns to right-align.
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fmt_points(x: object) -> str:
    """Points as a short number: 2, 1.5, 0.333 (never 0.30000000000000004)."""
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "?"
    return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else "?"
