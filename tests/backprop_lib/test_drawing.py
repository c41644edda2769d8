"""backprop_lib.drawing: the lecture's circuit pictures, values above (green), gradients below (red)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from backprop_lib.drawing import GRAD_COLOR, VALUE_COLOR, draw_graph, format_number, layout_graph  # noqa: E402

# The lecture's f = (x + y) z at (-2, 5, -4), as Graph.to_data() returns it after backward.
NODES = [
    {"id": "x", "kind": "input", "label": "x"},
    {"id": "y", "kind": "input", "label": "y"},
    {"id": "z", "kind": "input", "label": "z"},
    {"id": "n0", "kind": "gate", "label": "+"},
    {"id": "n1", "kind": "gate", "label": "*"},
]
EDGES = [
    {"source": "x", "target": "n0", "name": "x", "value": -2.0, "grad": -4.0},
    {"source": "y", "target": "n0", "name": "y", "value": 5.0, "grad": -4.0},
    {"source": "n0", "target": "n1", "name": "q", "value": 3.0, "grad": -4.0},
    {"source": "z", "target": "n1", "name": "z", "value": -4.0, "grad": 3.0},
    {"source": "n1", "target": None, "name": "f", "value": -12.0, "grad": 1.0},
]


def texts_by_colour(fig) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for text in fig.axes[0].texts:
        out.setdefault(to_hex(text.get_color()), []).append(text.get_text())
    return out


def test_values_and_gradients_are_written_in_their_colours():
    fig = draw_graph(NODES, EDGES, output="f", title="f = (x + y) z")
    by_colour = texts_by_colour(fig)
    assert sorted(by_colour[VALUE_COLOR]) == sorted(["-2.00", "5.00", "3.00", "-4.00", "-12.00"])
    assert sorted(by_colour[GRAD_COLOR]) == sorted(["-4.00", "-4.00", "-4.00", "3.00", "1.00"])
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert {"x", "y", "z", "+", "*", "f"} <= set(labels)
    assert fig.axes[0].get_title() == "f = (x + y) z"
    plt.close(fig)


def test_values_sit_above_their_gradients():
    fig = draw_graph(NODES, EDGES)
    texts = fig.axes[0].texts
    value = next(t for t in texts if t.get_text() == "-12.00")
    grad = next(t for t in texts if t.get_text() == "1.00")
    assert value.get_position()[0] == pytest.approx(grad.get_position()[0])
    assert value.get_position()[1] > grad.get_position()[1]
    plt.close(fig)


def test_layout_puts_gates_after_their_inputs():
    pos = layout_graph(NODES, EDGES)
    assert pos["x"][0] < pos["n0"][0] < pos["n1"][0]
    assert pos["z"][0] < pos["n1"][0] and pos["z"][0] > pos["x"][0]     # z enters late, near its gate
    assert pos["x"][1] != pos["y"][1]


def test_missing_values_draw_blank_and_arrays_are_summarised():
    assert format_number(None) == ""
    assert format_number(0.7310585786) == "0.73"
    assert format_number([0.3932, -0.5898]) == "[0.39, -0.59]"
    assert format_number(np.zeros((4, 3))) == "(4, 3) array"
    blank = [dict(e, value=None, grad=None) for e in EDGES]
    fig = draw_graph(NODES, blank)
    assert set(texts_by_colour(fig)[VALUE_COLOR]) == {""}
    plt.close(fig)


def test_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert draw_graph(NODES, EDGES, ax=ax) is fig
    plt.close(fig)


@pytest.mark.parametrize("nodes, edges, message", [
    ([], EDGES, "nodes must be a non-empty list"),
    (NODES + [{"id": "x"}], EDGES, "node id 'x' appears twice"),
    (NODES, EDGES + [{"source": "x", "target": "nowhere"}], "edge target 'nowhere' is not a node id"),
    (NODES, [{"source": "x"}], "every edge must be a dict with 'source' and 'target'"),
    (NODES, EDGES + [{"source": "n1", "target": "n0"}], "cycle"),
])
def test_bad_input_raises_value_error(nodes, edges, message):
    with pytest.raises(ValueError, match=message):
        draw_graph(nodes, edges)
