"""Checks of every `backprop_lib.layers` function (assignment 2).

A forward (``affine_forward``, ``relu_forward``, ...) is checked by its ``out`` against the
reference (driver ``forward``). A backward is run after the student's own forward, whose cache
it reads (driver ``forward_backward``), with a random upstream ``dout``; each gradient it
returns is one check (``dx``, ``dW``, ``db``, ...) against the numerical gradient of
``sum(reference_forward(...) * dout)``. ``leaky_relu`` and ``elu`` are also run with a
non-default ``alpha`` (checks ``out_alpha``, ``dx_alpha``). The losses return ``loss`` and
``dscores`` (``dpred`` for MSE), the gradient checked against the numerical gradient of the
reference loss; ``l2_regularization`` returns ``loss`` and ``dweights``.

Inputs: batches of N = 5 rows, Xavier-scaled weights, ReLU-type inputs with |x| >= 1e-2,
maxout pieces >= 1e-2 apart, SVM margins >= 1e-2 from the hinge (see `inputs`).

Mistakes tried for a wrong gradient: ``ignored_upstream`` (the backward of an upstream of ones),
``activation_not_preactivation`` (sigmoid / tanh / ELU: sigma' at the output),
``wrong_sign``, ``missing_transpose``, ``bias_not_summed``, ``missing_mean`` (losses: N times
the right one), ``wrong_reg_factor`` (``reg * W``), ``wrong_shape``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from backprop_lib import layers as ref

from .mistakes import Context
from . import inputs
from .core import (FLOOR_GRAD, FLOOR_VALUE, TOL_GRAD, TOL_VALUE, Outcome, Task, Verdict, combine,
                   compare, memo, numerical_gradient)

N = 5


@dataclass(frozen=True)
class LayerSpec:
    """A forward / backward pair: input names, gradient names, how to draw inputs."""

    inputs: tuple[str, ...]
    grads: tuple[str, ...]
    draw: Callable[[np.random.Generator], list]
    alpha: float | None = None  # a non-default alpha to check too (leaky ReLU, ELU)
    bias_grads: tuple[str, ...] = ()
    at_output: Callable[[np.ndarray, float], np.ndarray] | None = None  # sigma'(out) for the mistake


def _affine(rng):
    return [inputs.normal(rng, (N, 4)), inputs.xavier(rng, 3, 4), inputs.normal(rng, (3,), 0.1)]


def _maxout(rng):
    def draw():
        return [inputs.normal(rng, (N, 4)), inputs.xavier(rng, 3, 4), inputs.normal(rng, (3,), 0.1),
                inputs.xavier(rng, 3, 4), inputs.normal(rng, (3,), 0.1)]

    def apart(xs):
        x, W1, b1, W2, b2 = xs
        return bool(np.all(np.abs((x @ W1.T + b1) - (x @ W2.T + b2)) >= inputs.GAP))
    return inputs.redraw_until(draw, apart)


def _sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


SPECS: dict[str, LayerSpec] = {
    "affine": LayerSpec(("x", "W", "b"), ("dx", "dW", "db"), _affine, bias_grads=("db",)),
    "relu": LayerSpec(("x",), ("dx",), lambda rng: [inputs.away_from(rng, (N, 4))]),
    "sigmoid": LayerSpec(("x",), ("dx",), lambda rng: [inputs.normal(rng, (N, 4), 2.0)],
                         at_output=lambda out, _a: _sigmoid(out) * (1.0 - _sigmoid(out))),
    "tanh": LayerSpec(("x",), ("dx",), lambda rng: [inputs.normal(rng, (N, 4), 1.5)],
                      at_output=lambda out, _a: 1.0 - np.tanh(out) ** 2),
    "leaky_relu": LayerSpec(("x",), ("dx",), lambda rng: [inputs.away_from(rng, (N, 4))], alpha=0.05),
    "elu": LayerSpec(("x",), ("dx",), lambda rng: [inputs.away_from(rng, (N, 4), 1.5)], alpha=0.5,
                     at_output=lambda out, a: np.where(out >= 0, 1.0, a * np.exp(out))),
    "maxout": LayerSpec(("x", "W1", "b1", "W2", "b2"), ("dx", "dW1", "db1", "dW2", "db2"), _maxout,
                        bias_grads=("db1", "db2")),
    "squared_norm": LayerSpec(("x", "W"), ("dx", "dW"),
                              lambda rng: [inputs.normal(rng, (3,)), inputs.xavier(rng, 4, 3) * 2.0]),
}
_DEFAULT_ALPHA = {"leaky_relu": 0.1, "elu": 1.0}
LOSSES = ("softmax_loss", "svm_loss", "mse_loss")

FUNCTIONS: tuple[str, ...] = tuple(
    [f"{layer}_{part}" for layer in SPECS for part in ("forward", "backward")]
    + list(LOSSES) + ["l2_regularization"])


# ----------------------------------------------------------------------------- tasks
def tasks_for(function: str, rng: np.random.Generator) -> list[Task]:
    """The tasks of a layers function (see the module docstring for the check names)."""
    if function in LOSSES:
        return _loss_tasks(function, rng)
    if function == "l2_regularization":
        weights = [inputs.xavier(rng, 3, 4), inputs.xavier(rng, 2, 3)]
        args = {"fn": function, "n_in": 2, "in0": weights[0], "in1": weights[1],
                "reg": float(rng.uniform(0.1, 1.0))}
        return [Task(function, check, "l2", args) for check in ("loss", "dweights")]
    layer, part = function.rsplit("_", 1)
    if layer not in SPECS or part not in ("forward", "backward"):
        raise KeyError(function)
    spec = SPECS[layer]
    variants = [("", None)] + ([("_alpha", spec.alpha)] if spec.alpha is not None else [])
    tasks = []
    for suffix, alpha in variants:
        args: dict = {"fn": function, "n_in": len(spec.inputs)}
        for i, x in enumerate(spec.draw(rng)):
            args[f"in{i}"] = x
        if alpha is not None:
            args["kw_alpha"] = alpha
        if part == "forward":
            tasks.append(Task(function, "out" + suffix, "forward", args))
            continue
        out, _ = _ref_forward(layer, args)
        args.update(fwd=f"{layer}_forward", n_grads=len(spec.grads),
                    dout=float(inputs.normal(rng, ())) if np.ndim(out) == 0 else inputs.normal(rng, np.shape(out)))
        tasks += [Task(function, grad + suffix, "forward_backward", args) for grad in spec.grads]
    return tasks


def _loss_tasks(function: str, rng: np.random.Generator) -> list[Task]:
    C = 4
    if function == "softmax_loss":
        scores, y = inputs.normal(rng, (N, C), 1.5), inputs.labels(rng, N, C)
    elif function == "svm_loss":
        scores, y = inputs.hinge_scores(rng, N, C)
    else:
        scores, y = inputs.normal(rng, (N, 3)), inputs.normal(rng, (N, 3))
    args = {"fn": function, "n_in": 2, "in0": scores, "in1": y}
    grad = "dpred" if function == "mse_loss" else "dscores"
    return [Task(function, check, "loss", args) for check in ("loss", grad)]


# ----------------------------------------------------------------------------- reference
def _ref_forward(layer: str, args: dict, replace: dict[int, np.ndarray] | None = None):
    xs = [args[f"in{i}"] for i in range(args["n_in"])]
    for i, x in (replace or {}).items():
        xs[i] = x
    kwargs = {"alpha": args["kw_alpha"]} if "kw_alpha" in args else {}
    return getattr(ref, f"{layer}_forward")(*xs, **kwargs)


def _backward_refs(layer: str, args: dict) -> dict:
    spec = SPECS[layer]
    dout = args["dout"]
    out, _ = _ref_forward(layer, args)
    backward = getattr(ref, f"{layer}_backward")

    def grads_for(upstream) -> list[np.ndarray]:
        result = backward(upstream, _ref_forward(layer, args)[1])
        return [np.asarray(g, dtype=np.float64) for g in (result if len(spec.grads) > 1 else (result,))]

    numerical = []
    for i in range(len(spec.grads)):
        def f(v: np.ndarray, i: int = i) -> float:
            return float(np.sum(np.asarray(_ref_forward(layer, args, {i: v})[0]) * dout))
        numerical.append(numerical_gradient(f, args[f"in{i}"]))
    ones = np.ones_like(np.asarray(dout)) if np.ndim(dout) else 1.0  # the local gradient alone
    extra: list[dict] = [{"ignored_upstream": [g]} for g in grads_for(ones)]
    if spec.at_output is not None:
        alpha = args.get("kw_alpha", _DEFAULT_ALPHA.get(layer, 1.0))
        extra[0]["activation_not_preactivation"] = [spec.at_output(np.asarray(out), alpha) * dout]
    return {"grads": grads_for(dout), "numerical": numerical, "extra": extra}


def _loss_refs(function: str, args: dict) -> dict:
    scores, y = args["in0"], args["in1"]
    fn = getattr(ref, function)
    loss, dscores = fn(scores, y)
    numerical = numerical_gradient(lambda s: fn(s, y)[0], scores)
    return {"loss": loss, "dscores": dscores, "numerical": numerical}


def _l2_refs(args: dict) -> dict:
    weights, reg = [args["in0"], args["in1"]], args["reg"]
    loss, dweights = ref.l2_regularization(weights, reg)
    numerical = []
    for i in range(len(weights)):
        def f(v: np.ndarray, i: int = i) -> float:
            return ref.l2_regularization([v if j == i else W for j, W in enumerate(weights)], reg)[0]
        numerical.append(numerical_gradient(f, weights[i]))
    return {"loss": loss, "dweights": dweights, "numerical": numerical}


# ----------------------------------------------------------------------------- evaluate
def evaluate(task: Task, outcome: Outcome) -> Verdict:
    """Verdict of one layers check."""
    function, args, values = task.function, task.args, outcome.values
    if function in LOSSES:
        refs = memo(function, args, lambda: _loss_refs(function, args))
        N_rows = args["in0"].shape[0]
        if task.check == "loss":
            return compare(values, "loss", refs["loss"], name="loss", tol=TOL_VALUE, floor=FLOOR_VALUE,
                           context=Context("loss", gradient=False, batch_size=N_rows, mean=True))
        return compare(values, "dscores", refs["numerical"], name=task.check, tol=TOL_GRAD,
                       floor=FLOOR_GRAD, right=refs["dscores"], sample=True,
                       context=Context(task.check, batch_size=N_rows, mean=True))
    if function == "l2_regularization":
        refs = memo(function, args, lambda: _l2_refs(args))
        weights, reg = [args["in0"], args["in1"]], args["reg"]
        if task.check == "loss":
            return compare(values, "loss", refs["loss"], name="loss", tol=TOL_VALUE, floor=FLOOR_VALUE,
                           context=Context("loss", gradient=False, candidates={
                               "wrong_reg_factor": [0.5 * refs["loss"], 2.0 * refs["loss"]]}))
        return combine([
            compare(values, f"g{i}", refs["numerical"][i], name=f"dweights[{i}]", tol=TOL_GRAD,
                    floor=FLOOR_GRAD, right=refs["dweights"][i], sample=True,
                    context=Context(f"dweights[{i}]", candidates={"wrong_reg_factor": [reg * W]}))
            for i, W in enumerate(weights)])
    layer, part = function.rsplit("_", 1)
    if part == "forward":
        out, _ = _ref_forward(layer, args)
        return compare(values, "out", out, name="out", tol=TOL_VALUE, floor=FLOOR_VALUE)
    spec = SPECS[layer]
    refs = memo(function, args, lambda: _backward_refs(layer, args))
    grad = task.check.removesuffix("_alpha")
    i = spec.grads.index(grad)
    batch = args["in0"].shape[0] if np.ndim(args["in0"]) == 2 else None
    context = Context(grad, bias=grad in spec.bias_grads, batch_size=batch, candidates=refs["extra"][i])
    return compare(values, f"g{i}", refs["numerical"][i], name=grad, tol=TOL_GRAD, floor=FLOOR_GRAD,
                   context=context, right=refs["grads"][i], sample=True)
