# Generated for a3_mlp from backprop_lib/graph.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""A small computational-graph engine over the gates, and the lecture's three worked examples.

A `Graph` holds named *values* and *nodes*. An input node provides a value; a gate node reads
its input values and writes its output values (one, or two for a CopyGate). `forward()` runs
the gates in topological order; `backward()` runs them in reverse and ACCUMULATES (+=) the
gradient of every value: a value read by several gates (it fans out) receives the sum of
their gradients, the lecture's "gradients add at branches".

    g = circuit_example()              # f = (x + y) z at x=-2, y=5, z=-4
    g.forward()                        # -12.0
    grads = g.backward()               # {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}

Plain data for drawing (`backprop_lib.drawing` reads it): `g.to_data()` returns
    {"nodes": [node, ...], "edges": [edge, ...], "output": "f"}
with, in insertion order, one node per input and per gate:
    {"id": "x", "kind": "input", "label": "x", "gate": None, "inputs": [], "outputs": ["x"]}
    {"id": "n0", "kind": "gate", "label": "+", "gate": "AddGate", "inputs": ["x", "y"], "outputs": ["q"]}
and one edge per (value, reader): a value goes from the node that produced it to each gate
that reads it, and the output value also to a pseudo-target None:
    {"source": "x", "target": "n0", "name": "x", "value": -2.0, "grad": -4.0}
`value` and `grad` are floats, nested lists for array values, or None before forward /
backward ran. `grad` is the TOTAL gradient of that value (summed over all its readers).
Input node ids are the input's value name; gate node ids are "n0", "n1", ... unless given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .gates import (
    AddGate,
    ExpGate,
    LogGate,
    MultiplyGate,
    OffsetGate,
    ReciprocalGate,
    ScaleGate,
    SigmoidGate,
)

__all__ = ["Graph", "Node", "circuit_example", "neuron_example", "softplus_example", "gate_label"]


def gate_label(gate: Any) -> str:
    """The short symbol a drawing shows for a gate: "+", "*", "max", "exp", "1/x", "*-1", "+1", ..."""
    fixed = {"AddGate": "+", "MultiplyGate": "*", "MaxGate": "max", "CopyGate": "copy",
             "ExpGate": "exp", "ReciprocalGate": "1/x", "SigmoidGate": "sigmoid", "LogGate": "log"}
    name = type(gate).__name__
    if name == "ScaleGate":
        return f"*{gate.a:g}"
    if name == "OffsetGate":
        return f"+{gate.c:g}" if gate.c >= 0 else f"{gate.c:g}"
    return fixed.get(name, name)


def _plain(v: Any) -> Any:
    """A float or nested list (JSON-friendly) for a value or gradient; None stays None."""
    if v is None:
        return None
    arr = np.asarray(v, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr.tolist()


@dataclass
class Node:
    """One gate of a graph: reads `inputs` (value names), writes `outputs` (value names)."""

    id: str
    gate: Any
    inputs: list[str]
    outputs: list[str]
    label: str = ""


@dataclass
class Graph:
    """Named values wired through gates; forward in topological order, backward in reverse."""

    output: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    grads: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ building
    def input(self, name: str, value: Any) -> str:
        """Declare an input value `name` (a float or an array); returns the name."""
        if name in self.inputs or self._producer(name) is not None or any(n.id == name for n in self.nodes):
            raise ValueError(f"value name {name!r} is already used in this graph")
        self.inputs[name] = value
        return name

    def add(self, gate: Any, inputs: list[str] | str, outputs: list[str] | str, id: str | None = None) -> Node:
        """Add a gate reading the values `inputs` and writing the values `outputs`.

        Args:
            gate: a gate instance (see backprop_lib.gates).
            inputs: one value name or a list, in the order gate.forward takes them.
            outputs: one value name or a list (two for a CopyGate).
            id: node id for drawings, default "n<k>".
        """
        inputs = [inputs] if isinstance(inputs, str) else list(inputs)
        outputs = [outputs] if isinstance(outputs, str) else list(outputs)
        if not outputs:
            raise ValueError("outputs must name at least one value")
        for name in outputs:
            if name in self.inputs or self._producer(name) is not None or outputs.count(name) > 1:
                raise ValueError(f"value name {name!r} is already used in this graph")
        node = Node(id=id or f"n{len(self.nodes)}", gate=gate, inputs=inputs, outputs=outputs,
                    label=gate_label(gate))
        if any(n.id == node.id for n in self.nodes) or node.id in self.inputs:
            raise ValueError(f"node id {node.id!r} is already used in this graph")
        self.nodes.append(node)
        return node

    def _producer(self, name: str) -> Node | None:
        return next((n for n in self.nodes if name in n.outputs), None)

    def topological_order(self) -> list[Node]:
        """The gate nodes so that every node comes after the producers of its inputs."""
        known = set(self.inputs)
        for node in self.nodes:
            known.update(node.outputs)
        for node in self.nodes:
            missing = [v for v in node.inputs if v not in known]
            if missing:
                raise ValueError(f"node {node.id} ({node.label}) reads unknown value(s) {missing}")
        ready, order, pending = set(self.inputs), [], list(self.nodes)
        while pending:
            runnable = [n for n in pending if all(v in ready for v in n.inputs)]
            if not runnable:
                raise ValueError(f"the graph has a cycle through nodes {[n.id for n in pending]}")
            for node in runnable:
                order.append(node)
                ready.update(node.outputs)
                pending.remove(node)
        return order

    # ------------------------------------------------------------------ running
    def forward(self, **new_inputs: Any) -> Any:
        """Run every gate in topological order; returns the output value.

        Keyword arguments replace input values first, e.g. `g.forward(x=1.0)`.
        """
        for name, value in new_inputs.items():
            if name not in self.inputs:
                raise ValueError(f"unknown input {name!r}; inputs are {sorted(self.inputs)}")
            self.inputs[name] = value
        self.values = dict(self.inputs)
        self.grads = {}
        for node in self.topological_order():
            result = node.gate.forward(*(self.values[v] for v in node.inputs))
            if len(node.outputs) == 1:
                result = (result,)
            if not isinstance(result, tuple) or len(result) != len(node.outputs):
                raise ValueError(f"node {node.id} ({node.label}) must produce {len(node.outputs)} output(s)")
            self.values.update(zip(node.outputs, result))
        return self.values[self.output_name()]

    def output_name(self) -> str:
        """The value backward starts from: `output`, or the last gate's first output."""
        if self.output is not None:
            return self.output
        if not self.nodes:
            raise ValueError("the graph has no gates and no output set")
        return self.nodes[-1].outputs[0]

    def backward(self, dout: Any = 1.0) -> dict[str, Any]:
        """Gradients of the output with respect to every value, by the chain rule in reverse.

        Args:
            dout: gradient of the final loss with respect to the output (1.0: the output is the loss).

        Returns:
            dict value name -> gradient (same shape as the value), also stored in `self.grads`.
        """
        if not self.values:
            raise ValueError("call forward() before backward()")
        out = self.output_name()
        grads = {name: np.zeros_like(v, dtype=np.float64) if np.ndim(v) else 0.0
                 for name, v in self.values.items()}
        grads[out] = grads[out] + dout
        # TASK: in reverse topological order, local = node.gate.backward(*grads of its outputs); grads[input] += local (+=: fan-out sums).
        ### BEGIN SOLUTION
        for node in reversed(self.topological_order()):
            upstream = [grads[v] for v in node.outputs]
            local = node.gate.backward(*upstream)
            for name, g in zip(node.inputs, local, strict=True):
                grads[name] += g
        ### END SOLUTION
        self.grads = grads
        return grads

    def value(self, name: str) -> Any:
        """The value `name` after forward()."""
        return self.values[name]

    def grad(self, name: str) -> Any:
        """d output / d `name` after backward()."""
        return self.grads[name]

    # ------------------------------------------------------------------ plain data for drawing
    def to_data(self) -> dict[str, Any]:
        """Nodes, edges, values and gradients as plain dicts and lists (see the module docstring)."""
        nodes = [{"id": name, "kind": "input", "label": name, "gate": None, "inputs": [], "outputs": [name]}
                 for name in self.inputs]
        nodes += [{"id": n.id, "kind": "gate", "label": n.label, "gate": type(n.gate).__name__,
                   "inputs": list(n.inputs), "outputs": list(n.outputs)} for n in self.nodes]
        source = {name: name for name in self.inputs}
        source.update({v: n.id for n in self.nodes for v in n.outputs})

        def edge(name: str, target: str | None) -> dict[str, Any]:
            return {"source": source[name], "target": target, "name": name,
                    "value": _plain(self.values.get(name)), "grad": _plain(self.grads.get(name))}

        edges = [edge(v, n.id) for n in self.nodes for v in n.inputs]
        if self.nodes or self.output:
            edges.append(edge(self.output_name(), None))
        return {"nodes": nodes, "edges": edges, "output": self.output_name() if self.nodes or self.output else None}


# ---------------------------------------------------------------------- the lecture's examples
def circuit_example(x: float = -2.0, y: float = 5.0, z: float = -4.0) -> Graph:
    """f(x, y, z) = (x + y) z, the lecture's first circuit: q = x + y, f = q z.

    At (-2, 5, -4): q = 3, f = -12; df/dx = df/dy = z = -4, df/dz = q = 3.
    """
    g = Graph(output="f")
    g.input("x", float(x)), g.input("y", float(y)), g.input("z", float(z))
    g.add(AddGate(), ["x", "y"], "q")
    g.add(MultiplyGate(), ["q", "z"], "f")
    return g


def neuron_example(w: tuple[float, float, float] = (2.0, -3.0, -3.0), x: tuple[float, float] = (-1.0, -2.0),
                   use_sigmoid_gate: bool = False) -> Graph:
    """f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), a 2-input sigmoid neuron.

    With `use_sigmoid_gate=False` the sigmoid is the lecture's chain of primitive gates
    (*-1, exp, +1, 1/x); with True it is one SigmoidGate, whose local gradient (1 - s) s gives
    the same numbers. At w=(2,-3,-3), x=(-1,-2): f = 0.73, dw = (-0.20, -0.39, 0.20),
    dx = (0.39, -0.59). Value names: w0, w1, w2, x0, x1, w0x0, w1x1, dot, z, then
    neg_z, exp, denom, f (primitive) or f (sigmoid gate).
    """
    if len(w) != 3 or len(x) != 2:
        raise ValueError(f"w must have 3 entries and x 2, got {len(w)} and {len(x)}")
    g = Graph(output="f")
    for i, wi in enumerate(w):
        g.input(f"w{i}", float(wi))
    for i, xi in enumerate(x):
        g.input(f"x{i}", float(xi))
    g.add(MultiplyGate(), ["w0", "x0"], "w0x0")
    g.add(MultiplyGate(), ["w1", "x1"], "w1x1")
    g.add(AddGate(), ["w0x0", "w1x1"], "dot")
    g.add(AddGate(), ["dot", "w2"], "z")
    if use_sigmoid_gate:
        g.add(SigmoidGate(), "z", "f")
    else:
        g.add(ScaleGate(-1.0), "z", "neg_z")
        g.add(ExpGate(), "neg_z", "exp")
        g.add(OffsetGate(1.0), "exp", "denom")
        g.add(ReciprocalGate(), "denom", "f")
    return g


def softplus_example(x: float = 1.0) -> Graph:
    """h(x) = log(1 + exp(-x)) through *-1, exp, +1, log; h'(x) = -exp(-x) / (1 + exp(-x)).

    Value names: x, neg_x, exp, one_plus_exp, h.
    """
    g = Graph(output="h")
    g.input("x", x if isinstance(x, np.ndarray) else float(x))
    g.add(ScaleGate(-1.0), "x", "neg_x")
    g.add(ExpGate(), "neg_x", "exp")
    g.add(OffsetGate(1.0), "exp", "one_plus_exp")
    g.add(LogGate(), "one_plus_exp", "h")
    return g
