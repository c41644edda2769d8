"""The lecture's worked computational graphs, live: inputs as sliders, every wire redrawn.

Each figure is ``backprop_lib.drawing.draw_graph`` of a ``backprop_lib.graph`` example, drawn
once; a change of input runs the graph's forward and backward again and rewrites the value
(green, above) and gradient (red, below) on every wire, plus a summary line with the
lecture's formulas. The defaults are the lecture's numbers:

- ``CircuitFigure``: ``f = (x + y) z`` at (-2, 5, -4): q = 3, f = -12, grads (-4, -4, 3).
- ``NeuronFigure``: the sigmoid neuron at w = (2, -3, -3), x = (-1, -2): f = 0.73,
  dw = (-0.20, -0.39, 0.20), dx = (0.39, -0.59); the sigmoid gate's shortcut ``(1 - f) f``
  gives the chain's 0.20 at z.
- ``SoftplusFigure``: ``h(x) = log(1 + exp(-x))``, checked against ``h'(x) = -exp(-x) / (1 + exp(-x))``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import same_color
from matplotlib.figure import Figure

from backprop_lib.drawing import GRAD_COLOR, VALUE_COLOR, draw_graph, format_number, layout_graph
from backprop_lib.graph import Graph, circuit_example, neuron_example, softplus_example

from .live import Control, LectureError, LiveFigure

FONT_SCALE = 1.8   # draw_graph's 9-11 pt labels, scaled for a lecture hall
INCH_PER_UNIT = 2.1  # figure inches per unit of draw_graph's layout (at most)
MAX_WIDTH = 19.0     # inches: a wider graph is drawn tighter so its labels stay large on screen


def _grid(lo: float, hi: float, step: float = 0.5) -> tuple[float, ...]:
    """``lo, lo + step, ..., hi`` as rounded floats (slider values)."""
    return tuple(float(v) for v in np.round(np.arange(lo, hi + step / 2, step), 6))


def _run(graph: Graph) -> Graph:
    """Forward then backward (the output is the loss, upstream gradient 1)."""
    graph.forward()
    graph.backward()
    return graph


class GraphFigure(LiveFigure):
    """Base of the three graphs: subclasses give ``_graph(settings)`` and ``_summary``."""

    heading = ""

    def _graph(self, s: dict[str, Any]) -> Graph:
        raise NotImplementedError

    def _summary(self, g: Graph, s: dict[str, Any]) -> str:
        raise NotImplementedError

    def _build(self) -> Figure:
        data = _run(self._graph(self.settings)).to_data()
        pos = layout_graph(data["nodes"], data["edges"])
        xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
        units = (max(xs) - min(xs) + 2.4, max(ys) - min(ys) + 1.4)
        scale = min(INCH_PER_UNIT, MAX_WIDTH / units[0])  # a wide graph gets smaller spacing, same type
        height = scale * units[1] + 1.6
        fig = Figure(figsize=(max(scale * units[0], 12.0), height), dpi=72)
        ax = fig.add_axes((0.01, 1.5 / height, 0.98, 1 - 2.2 / height))
        draw_graph(data["nodes"], data["edges"], output=data["output"], ax=ax)
        for text in ax.texts:
            text.set_fontsize(text.get_fontsize() * FONT_SCALE)
        handles, labels = ax.get_legend_handles_labels()  # draw_graph's key, moved to a corner
        ax.get_legend().remove()
        fig.legend(handles, labels, loc="upper right", fontsize=15, frameon=False)
        self.value_texts = [t for t in ax.texts if same_color(t.get_color(), VALUE_COLOR)]
        self.grad_texts = [t for t in ax.texts if same_color(t.get_color(), GRAD_COLOR)]
        if not len(self.value_texts) == len(self.grad_texts) == len(data["edges"]):
            raise LectureError("draw_graph's labels no longer match the graph's edges one to one")
        self.title = fig.suptitle(self.heading, fontsize=21)
        self.summary = fig.text(0.02, 0.3 / height, "", fontsize=18, va="bottom", family="DejaVu Sans Mono")
        return fig

    def _dynamic_artists(self) -> list[Any]:
        return [*self.value_texts, *self.grad_texts, self.summary]

    def labels(self) -> list[tuple[str, str, str]]:
        """``(value name, value text, gradient text)`` per wire as drawn now, in edge order."""
        edges = self._graph(self.settings).to_data()["edges"]
        return [(e["name"], v.get_text(), g.get_text())
                for e, v, g in zip(edges, self.value_texts, self.grad_texts)]

    def _draw(self, s: dict[str, Any]) -> None:
        g = _run(self._graph(s))
        for edge, value_text, grad_text in zip(g.to_data()["edges"], self.value_texts, self.grad_texts):
            value_text.set_text(format_number(edge["value"]))
            grad_text.set_text(format_number(edge["grad"]))
        self.summary.set_text(self._summary(g, s))


class CircuitExample(GraphFigure):
    """``f(x, y, z) = (x + y) z``: the add gate distributes, the multiply gate swaps."""

    heading = "f(x, y, z) = (x + y) z:   q = x + y,  f = q z"
    controls = (
        Control("x", "x", _grid(-5, 5), -2.0),
        Control("y", "y", _grid(-5, 5), 5.0),
        Control("z", "z", _grid(-5, 5), -4.0),
    )

    def _graph(self, s: dict[str, Any]) -> Graph:
        return circuit_example(s["x"], s["y"], s["z"])

    def _summary(self, g: Graph, s: dict[str, Any]) -> str:
        n = format_number
        return (f"q = x + y = {n(g.value('q'))}    f = q z = {n(g.value('f'))}\n"
                f"df/dx = z = {n(g.grad('x'))}    df/dy = z = {n(g.grad('y'))}    "
                f"df/dz = q = {n(g.grad('z'))}")


class NeuronExample(GraphFigure):
    """The 2-input sigmoid neuron through the primitive gates *-1, exp, +1, 1/x."""

    heading = "f(w, x) = 1 / (1 + exp(-(w\u2080x\u2080 + w\u2081x\u2081 + w\u2082)))"
    controls = (
        Control("w0", "w\u2080", _grid(-4, 4), 2.0),
        Control("x0", "x\u2080", _grid(-4, 4), -1.0),
        Control("w1", "w\u2081", _grid(-4, 4), -3.0),
        Control("x1", "x\u2081", _grid(-4, 4), -2.0),
        Control("w2", "w\u2082", _grid(-4, 4), -3.0),
    )

    def _graph(self, s: dict[str, Any]) -> Graph:
        return neuron_example(w=(s["w0"], s["w1"], s["w2"]), x=(s["x0"], s["x1"]))

    def _summary(self, g: Graph, s: dict[str, Any]) -> str:
        n = format_number
        f = g.value("f")
        shortcut = _run(neuron_example(w=(s["w0"], s["w1"], s["w2"]), x=(s["x0"], s["x1"]),
                                       use_sigmoid_gate=True))
        dw = [g.grad(f"w{i}") for i in range(3)]
        dx = [g.grad(f"x{i}") for i in range(2)]
        same = np.allclose([shortcut.grad(k) for k in ("w0", "w1", "w2", "x0", "x1")], dw + dx)
        return (f"f = {n(f)}    dw = {n(dw)}    dx = {n(dx)}\n"
                f"sigmoid gate: df/dz = (1 - f) f = {n((1 - f) * f)}, chain of gates: "
                f"{n(g.grad('z'))}  ({'the same' if same else 'DIFFERENT'})")


class SoftplusExample(GraphFigure):
    """``h(x) = log(1 + exp(-x))`` through *-1, exp, +1, log."""

    heading = "h(x) = log(1 + exp(-x))"
    controls = (Control("x", "x", _grid(-4, 4), 1.0),)

    def _graph(self, s: dict[str, Any]) -> Graph:
        return softplus_example(s["x"])

    def _summary(self, g: Graph, s: dict[str, Any]) -> str:
        n = format_number
        x = s["x"]
        formula = -np.exp(-x) / (1 + np.exp(-x))
        return (f"h = {n(g.value('h'), 3)}    backprop dh/dx = {n(g.grad('x'), 3)}\n"
                f"formula h'(x) = -exp(-x) / (1 + exp(-x)) = {n(formula, 3)}")
