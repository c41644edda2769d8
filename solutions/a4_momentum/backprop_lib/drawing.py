# Generated for a4_momentum from backprop_lib/drawing.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""Pictures of computational graphs, drawn like the lecture's circuit diagrams.

Inputs sit on the left, gates are circles labelled with their operation ("+", "*", "exp",
"1/x", ...), wires run left to right. On each wire the forward *value* is written above the
line (green) and the *gradient* of the output with respect to that value below it (red),
as on the lecture's slides.

The input is plain data, the shape `backprop_lib.graph.Graph.to_data()` returns, so
``draw_graph(**g.to_data())`` draws a graph:

    nodes: [{"id": "x", "kind": "input", "label": "x"},
            {"id": "n0", "kind": "gate", "label": "+"}, ...]
    edges: [{"source": "x", "target": "n0", "name": "x", "value": -2.0, "grad": -4.0}, ...]

An edge whose ``target`` is None is the graph's output wire. ``value`` and ``grad`` may be
None (not computed yet), a float, or a (nested) list / array (shown by its first entries).
No graded computation lives here (a helper every assignment may import).
"""
from __future__ import annotations

from typing import Any

import numpy as np

VALUE_COLOR = "#1e8a3a"   # green, above the wire
GRAD_COLOR = "#c62828"    # red, below the wire
GATE_FACE = "#f4f4f4"
COLUMN_GAP = 1.7          # horizontal distance between columns of gates
ROW_GAP = 1.0             # vertical distance between wires of one column
__all__ = ["draw_graph", "format_number", "layout_graph"]


def format_number(value: Any, digits: int = 2) -> str:
    """A short text for a value or gradient: ``-0.20``, ``[0.39, -0.59]``, ``(4, 3) array``, ``""`` for None."""
    if value is None:
        return ""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return f"{float(arr):.{digits}f}"
    if arr.ndim == 1 and arr.size <= 3:
        return "[" + ", ".join(f"{v:.{digits}f}" for v in arr) + "]"
    return f"{arr.shape} array"


def _check_input(nodes: list[dict], edges: list[dict]) -> tuple[list[str], dict[str, dict]]:
    if not isinstance(nodes, (list, tuple)) or not nodes:
        raise ValueError("nodes must be a non-empty list of dicts with an 'id'")
    by_id: dict[str, dict] = {}
    for node in nodes:
        if not isinstance(node, dict) or "id" not in node:
            raise ValueError(f"every node must be a dict with an 'id', got {node!r}")
        if node["id"] in by_id:
            raise ValueError(f"node id {node['id']!r} appears twice")
        by_id[node["id"]] = node
    if not isinstance(edges, (list, tuple)):
        raise ValueError("edges must be a list of dicts with 'source' and 'target'")
    for edge in edges:
        if not isinstance(edge, dict) or "source" not in edge or "target" not in edge:
            raise ValueError(f"every edge must be a dict with 'source' and 'target', got {edge!r}")
        for end in ("source", "target"):
            if edge[end] is not None and edge[end] not in by_id:
                raise ValueError(f"edge {end} {edge[end]!r} is not a node id")
        if edge["source"] is None:
            raise ValueError(f"edge source must be a node id, got None in {edge!r}")
    return [n["id"] for n in nodes], by_id


def layout_graph(nodes: list[dict], edges: list[dict]) -> dict[str, tuple[float, float]]:
    """(x, y) of every node: x is the depth (longest path from an input), y spreads each column.

    Columns are ordered by the mean height of their neighbours (a few sweeps), so wires
    cross as little as a small graph needs.

    Raises:
        ValueError: on malformed input or a cycle.
    """
    ids, _ = _check_input(nodes, edges)
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        if e["target"] is not None:
            preds[e["target"]].append(e["source"])
            succs[e["source"]].append(e["target"])
    depth: dict[str, int] = {}
    for _ in range(len(ids) + 1):
        changed = False
        for i in ids:
            d = 1 + max((depth.get(p, 0) for p in preds[i]), default=-1)
            if depth.get(i) != d:
                depth[i], changed = d, True
        if not changed:
            break
    else:
        raise ValueError("the graph has a cycle; a computational graph must be acyclic")
    for i in ids:  # an input sits just left of its first reader (the lecture's w2 enters late)
        if not preds[i] and succs[i]:
            depth[i] = min(depth[s] for s in succs[i]) - 1
    columns: dict[int, list[str]] = {}
    for i in ids:
        columns.setdefault(depth[i], []).append(i)
    y: dict[str, float] = {}

    def place(col: list[str]) -> None:
        for k, i in enumerate(col):
            y[i] = (len(col) - 1) / 2 - k

    for col in columns.values():
        place(col)
    def mean_y(first: list[str], second: list[str]) -> float:
        near = first or second
        return float(np.mean([y[n] for n in near])) if near else 0.0

    for sweep in range(5):  # alternate: order by predecessors going right, successors going left
        forward = sweep % 2 == 0
        for d in sorted(columns, reverse=not forward):
            if forward:
                columns[d].sort(key=lambda i: -mean_y(preds[i], succs[i]))
            else:
                columns[d].sort(key=lambda i: -mean_y(succs[i], preds[i]))
            place(columns[d])
    return {i: (COLUMN_GAP * depth[i], ROW_GAP * y[i]) for i in ids}


def draw_graph(nodes: list[dict], edges: list[dict], *, output: str | None = None, title: str | None = None,
               ax: Any = None, digits: int = 2, value_color: str = VALUE_COLOR, grad_color: str = GRAD_COLOR,
               show_names: bool = False) -> Any:
    """Draw a computational graph with values above and gradients below every wire.

    Args:
        nodes: dicts with ``id``, ``label`` (text in the circle, default the id) and ``kind``
            (``"input"`` nodes are drawn as their label at the left end of their wire).
        edges: dicts with ``source``, ``target`` (a node id, or None for the output wire),
            ``value``, ``grad`` (None, float or array) and optionally ``name``.
        output: the output value's name, written at the end of the output wire (optional).
        title: figure title.
        ax: a matplotlib Axes to draw into (default: a new figure sized to the graph).
        digits: decimals shown.
        value_color, grad_color: colours of the values (above) and gradients (below).
        show_names: also write each wire's value name at its start.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: if nodes / edges are malformed or cyclic.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    pos = layout_graph(nodes, edges)
    _, by_id = _check_input(nodes, edges)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    if ax is None:
        width = max(xs) - min(xs) + 2.4
        height = max(ys) - min(ys) + 1.6
        fig, ax = plt.subplots(figsize=(1.2 * width, max(2.2, 1.2 * height)))
    else:
        fig = ax.figure
    radius = 0.22
    fan_out = {node_id: sum(1 for e in edges if e["source"] == node_id) for node_id in pos}
    for edge in edges:
        sx, sy = pos[edge["source"]]
        is_input = by_id[edge["source"]].get("kind") == "input"
        start_x = sx + (0.12 if is_input else radius)
        if edge["target"] is None:
            tx, ty, end_x = sx + 1.2, sy, sx + 1.2
        else:
            tx, ty = pos[edge["target"]]
            end_x = tx - radius
        wire = {"color": "#555555", "lw": 1.2}
        if fan_out[edge["source"]] == 1 and ty != sy:
            # an elbow, like the lecture's circuits: level first (the labels sit there), then slanted
            bend_x = start_x + 0.5 * (end_x - start_x)
            ax.plot([start_x, bend_x], [sy, sy], **wire, solid_capstyle="round")
            lx, ly, arrow_from = (start_x + bend_x) / 2, sy, (bend_x, sy)
        else:
            # a straight wire; several wires leaving one source get labels further along, apart
            frac = 0.5 if edge["target"] is None or ty == sy else 0.6
            lx = start_x + frac * (end_x - start_x)
            ly, arrow_from = sy + (ty - sy) * frac, (start_x, sy)
        ax.annotate("", xy=(end_x, ty), xytext=arrow_from,
                    arrowprops={"arrowstyle": "-|>", "shrinkA": 0, "shrinkB": 0, **wire})
        ax.text(lx, ly + 0.07, format_number(edge.get("value"), digits), color=value_color,
                ha="center", va="bottom", fontsize=9, fontweight="bold")
        ax.text(lx, ly - 0.07, format_number(edge.get("grad"), digits), color=grad_color,
                ha="center", va="top", fontsize=9, fontweight="bold")
        if show_names and edge.get("name") and not is_input:
            ax.text(start_x + 0.03, sy + 0.02, edge["name"], color="#777777", fontsize=7, ha="left", va="bottom")
        if edge["target"] is None and (output or edge.get("name")):
            ax.text(end_x + 0.05, ty, output or edge["name"], ha="left", va="center", fontsize=11)
    for node_id, (x, y) in pos.items():
        node = by_id[node_id]
        label = str(node.get("label", node_id))
        if node.get("kind") == "input":
            ax.text(x + 0.08, y, label, ha="right", va="center", fontsize=11)
        else:
            ax.add_patch(Circle((x, y), radius, facecolor=GATE_FACE, edgecolor="#333333", lw=1.4, zorder=3))
            ax.text(x, y, label, ha="center", va="center", fontsize=10 if len(label) <= 3 else 7, zorder=4)
    ax.plot([], [], color=value_color, lw=3, label="value (forward)")
    ax.plot([], [], color=grad_color, lw=3, label="gradient (backward)")
    ax.legend(loc="lower left", fontsize=8, frameon=False, bbox_to_anchor=(0.0, -0.02))
    ax.set_xlim(min(xs) - 0.6, max(xs) + 1.8)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig
