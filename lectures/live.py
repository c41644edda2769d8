"""Live figures for a lecture hall: one figure per demo, redrawn in place when a knob turns.

A demo is a ``LiveFigure`` subclass. It declares its knobs as data (``Control``: the name
``set`` takes, a label, every value the knob can take, the default), builds its figure once
(``_build``) and updates that figure's artists in place for new settings (``_draw``):
``set_data`` on lines, ``set_values`` on histograms, ``set_text`` on labels, never a new
figure. ``redraw(**changes)`` is the widget callback: update, then render one PNG.

``show(demo)`` puts ipywidgets controls above an ``ipywidgets.Image`` that holds the PNG, so
the page swaps one image per change. Rendering ourselves (Agg, fast PNG compression) instead
of through a plotting backend keeps the figure the same object in pytest, in the benchmark
and in JupyterLab, and lets Run All show every figure at its default settings.
"""
from __future__ import annotations

import contextlib
import io
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Readable from the back of a room: large type, thick lines.
PRESENTATION_RC: dict[str, Any] = {
    "font.size": 17, "axes.titlesize": 19, "axes.labelsize": 17, "xtick.labelsize": 15,
    "ytick.labelsize": 15, "legend.fontsize": 15, "figure.titlesize": 21,
    "lines.linewidth": 2.8, "lines.markersize": 7, "axes.grid": True, "grid.alpha": 0.3,
}
DPI = 72
"""Pixels per inch of the rendered PNG: a 16-inch-wide figure is 1152 px, a projector's width."""
PNG_CACHE_SIZE = 256  # PNGs kept per figure (~0.1 MB each): dragging a slider back is free
PNG_COMPRESS_LEVEL = 1  # zlib level 1: a third faster than matplotlib's default, PNGs ~20 % bigger

CONTROLS_CSS = """<style>
.lecture-controls .widget-label, .lecture-controls .widget-readout,
.lecture-controls .widget-toggle-button, .lecture-controls label { font-size: 20px !important; }
.lecture-controls .widget-toggle-button { height: 36px; }
</style>"""


def one_blas_thread() -> Any:
    """A context in which numpy's BLAS uses one thread (threadpoolctl; a no-op without it).

    The demos multiply 128 x 64 matrices: threads cost more than they save, and on a shared
    two-core machine they made single forward passes ten times slower (0.2 s instead of 0.02 s).
    threadpoolctl comes with scikit-learn, a pinned dependency.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class LectureError(ValueError):
    """A demo was asked for a setting it does not have (an unknown knob or value)."""


@dataclass(frozen=True)
class Control:
    """One knob: ``name`` is the keyword ``LiveFigure.set`` takes.

    Attributes:
        name: the setting's keyword, e.g. ``"depth"``.
        label: the text beside the widget, e.g. ``"depth L"``.
        values: every value the knob can take, in order (a slider steps through them).
        default: the value at Run All (the lecture's number), one of ``values``.
        widget: ``"slider"`` (ipywidgets.SelectionSlider) or ``"buttons"`` (ToggleButtons).
    """

    name: str
    label: str
    values: tuple
    default: Any
    widget: str = "slider"

    def __post_init__(self) -> None:
        if not self.values:
            raise LectureError(f"control {self.name!r} has no values")
        if self.default not in self.values:
            raise LectureError(f"control {self.name!r}: default {self.default!r} is not one of its values")
        if self.widget not in ("slider", "buttons"):
            raise LectureError(f"control {self.name!r}: widget must be 'slider' or 'buttons'")

    def text(self, value: Any) -> str:
        """The widget's label for ``value``: ``0.9``, ``1e-03``, ``sigmoid``, ``off``."""
        if isinstance(value, (float, np.floating)):
            return f"{value:g}"
        return str(value)


class LiveFigure:
    """A figure built once whose artists ``set`` updates in place; subclasses fill in the demo.

    Attributes:
        controls: the knobs (class attribute, a tuple of ``Control``).
        settings: the current value of every control, ``{name: value}``.
        fig: the one ``matplotlib.figure.Figure`` (Agg canvas, not managed by pyplot).
        last_redraw_seconds: wall time of the last ``redraw`` (update + render).
        last_redraw_cpu_seconds: CPU time of this process during it (what a busy machine's
            other jobs cannot inflate).
    """

    controls: tuple[Control, ...] = ()

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {c.name: c.default for c in self.controls}
        with matplotlib.rc_context(PRESENTATION_RC):
            self.fig = self._build()
            FigureCanvasAgg(self.fig)
            self._dynamic = list(self._dynamic_artists())
            for artist in self._dynamic:
                artist.set_animated(True)
            self._draw(dict(self.settings))
        self._background: Any = None
        self._pngs: OrderedDict[tuple, bytes] = OrderedDict()  # settings -> PNG, least recent first
        self.last_redraw_seconds = self.last_redraw_cpu_seconds = float("nan")

    # ------------------------------------------------------------------ to override
    def _build(self) -> Figure:
        """Create the figure and every artist ``_draw`` will update."""
        raise NotImplementedError

    def _draw(self, settings: dict[str, Any]) -> None:
        """Update the artists for ``settings`` (one value per control), in place."""
        raise NotImplementedError

    def _dynamic_artists(self) -> list[Any]:
        """The artists ``_draw`` changes (whole Axes allowed); everything else is drawn once.

        Empty (the default) means no caching: every render draws the whole figure. Otherwise
        the static rest is drawn once into a cached background and each render restores it and
        draws only these (matplotlib's blitting), which skips the contours, wires and tick
        labels that never change. Whatever ``_draw`` touches must be listed here.
        """
        return []

    # ------------------------------------------------------------------ the callbacks
    def control(self, name: str) -> Control:
        """The control called ``name``, else LectureError."""
        for c in self.controls:
            if c.name == name:
                return c
        raise LectureError(f"{type(self).__name__} has no control {name!r}; "
                           f"controls: {[c.name for c in self.controls]}")

    def set(self, **changes: Any) -> None:
        """Change some settings and update the figure's artists (no rendering)."""
        for name, value in changes.items():
            if value not in self.control(name).values:
                raise LectureError(f"{name}={value!r} is not one of {self.control(name).values}")
        self.settings.update(changes)
        with matplotlib.rc_context(PRESENTATION_RC):
            self._draw(dict(self.settings))

    def render_png(self) -> bytes:
        """The figure as PNG bytes (Agg draw, then PIL at zlib level 1)."""
        from PIL import Image

        canvas = self.fig.canvas
        with matplotlib.rc_context(PRESENTATION_RC):
            if not self._dynamic:
                canvas.draw()
            else:
                if self._background is None:  # the static rest, once (animated artists are skipped)
                    canvas.draw()
                    self._background = canvas.copy_from_bbox(self.fig.bbox)
                canvas.restore_region(self._background)
                for artist in self._dynamic:
                    self.fig.draw_artist(artist)
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(self.fig.canvas.buffer_rgba())).save(
            buffer, format="png", compress_level=PNG_COMPRESS_LEVEL)
        return buffer.getvalue()

    def redraw(self, **changes: Any) -> bytes:
        """What a widget calls on a change: ``set(**changes)``, then the PNG of the new settings.

        The artists are always updated; the PNG is rendered unless these exact settings were
        rendered before (then the cached bytes are returned: the same picture).
        """
        start, cpu = time.perf_counter(), time.process_time()
        self.set(**changes)
        key = tuple(self.settings.items())
        png = self._pngs.pop(key, None)
        if png is None:  # a setting seen before is the very same picture (rendering is deterministic)
            png = self.render_png()
        self._pngs[key] = png
        while len(self._pngs) > PNG_CACHE_SIZE:
            self._pngs.popitem(last=False)
        self.last_redraw_seconds = time.perf_counter() - start
        self.last_redraw_cpu_seconds = time.process_time() - cpu
        return png


# ---------------------------------------------------------------------- fast text
_SUPERSCRIPT = str.maketrans("0123456789-", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b")


def sup(k: int) -> str:
    """``k`` as Unicode superscript digits (``sup(100)`` is "\u00b9\u2070\u2070").

    Plain text, not mathtext: parsing ``$10^{-5}$`` costs milliseconds per new label, and a
    live redraw makes new labels every time.
    """
    return str(int(k)).translate(_SUPERSCRIPT)


_SUBSCRIPT = str.maketrans("0123456789", "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089")


def sub(k: int) -> str:
    """``k`` as Unicode subscript digits (``w`` + ``sub(100)`` reads w with 100 below)."""
    return str(int(k)).translate(_SUBSCRIPT)


def plain_linear_axis(axis: Any) -> None:
    """Tick labels as ``f"{v:g}"``: matplotlib's default formatter consults the locale per label."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}".replace("-", "\u2212")))


def plain_log_axis(axis: Any, numticks: int = 8) -> None:
    """Label a log axis's decades as ``1e-05`` in plain text (no mathtext), no minor ticks.

    Minor ticks cost more than they show: 8 per decade over 15 decades is 120 tick objects to
    lay out on every redraw.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    axis.set_major_locator(LogLocator(base=10, numticks=numticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"1e{round(np.log10(v)):+d}" if v > 0 else ""))
    axis.set_minor_locator(NullLocator())


# ---------------------------------------------------------------------- what the figure shows
def figure_data(fig: Figure) -> dict[str, Any]:
    """Everything a redraw may change, as plain data: ``{key: array or str}``.

    Keys name the artist: ``"ax1/line0"`` (an (n, 2) array of the line's points),
    ``"ax2/patch3"`` (a histogram's heights then edges, 1-D), ``"ax0/text2"``, ``"ax0/title"``,
    ``"ax0/xlim"``, ``"fig/text0"`` (strings and limits). Invisible artists are left out.
    """
    data: dict[str, Any] = {}
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        data[f"ax{i}/title"] = ax.get_title()
        data[f"ax{i}/xlim"] = np.asarray(ax.get_xlim(), dtype=np.float64)
        data[f"ax{i}/ylim"] = np.asarray(ax.get_ylim(), dtype=np.float64)
        for k, line in enumerate(ax.get_lines()):
            if line.get_visible():
                data[f"ax{i}/line{k}"] = np.asarray(line.get_xydata(), dtype=np.float64)
        for k, patch in enumerate(ax.patches):
            if patch.get_visible() and hasattr(patch, "get_data"):
                values, edges, *_ = patch.get_data()
                data[f"ax{i}/patch{k}"] = np.concatenate([np.asarray(values, dtype=np.float64),
                                                          np.asarray(edges, dtype=np.float64)])
        for k, text in enumerate(ax.texts):
            if text.get_visible():
                data[f"ax{i}/text{k}"] = text.get_text()
    for k, text in enumerate(fig.texts):
        if text.get_visible():
            data[f"fig/text{k}"] = text.get_text()
    return data


def non_finite(data: Mapping[str, Any]) -> list[str]:
    """Keys of ``figure_data`` arrays that hold an inf or nan (an empty list when all finite)."""
    return [k for k, v in data.items() if isinstance(v, np.ndarray) and not np.all(np.isfinite(v))]


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Keys whose data differ between two ``figure_data`` snapshots (added or removed count)."""
    keys = set(before) | set(after)

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
        return type(a) is type(b) and a == b

    return sorted(k for k in keys if k not in before or k not in after or not same(before[k], after[k]))


# ---------------------------------------------------------------------- the widgets
def show(demo: LiveFigure, *, display: bool = True) -> Any:
    """Widgets for every control above the figure's image; each change calls ``demo.redraw``.

    Args:
        demo: the live figure.
        display: show the box now (IPython.display); False only returns it (tests).

    Returns:
        The ``ipywidgets.VBox``; ``box.controls`` maps control names to their widgets and
        ``box.image`` is the ``ipywidgets.Image`` holding the PNG.
    """
    import ipywidgets as widgets

    width_px = int(demo.fig.get_figwidth() * demo.fig.dpi)
    image = widgets.Image(value=demo.redraw(), format="png",
                          layout=widgets.Layout(width="100%", max_width=f"{width_px}px"))
    controls: dict[str, Any] = {}
    for c in demo.controls:
        options = [(c.text(v), v) for v in c.values]
        common = {"options": options, "value": demo.settings[c.name], "description": c.label,
                  "style": {"description_width": "initial"}}
        if c.widget == "buttons":
            w = widgets.ToggleButtons(**{**common, "style": {"description_width": "initial",
                                                             "button_width": "112px"}})
        else:
            w = widgets.SelectionSlider(continuous_update=True, readout=True,
                                        layout=widgets.Layout(width="520px"), **common)

        def on_change(change: dict, name: str = c.name) -> None:
            image.value = demo.redraw(**{name: change["new"]})

        w.observe(on_change, names="value")
        controls[c.name] = w
    panel = widgets.GridBox(list(controls.values()),
                            layout=widgets.Layout(grid_template_columns="repeat(2, minmax(560px, 1fr))"))
    panel.add_class("lecture-controls")
    box = widgets.VBox([widgets.HTML(CONTROLS_CSS), panel, image])
    box.controls, box.image = controls, image
    if display:
        from IPython.display import display as ipython_display

        ipython_display(box)
    return box
