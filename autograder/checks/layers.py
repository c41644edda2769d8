"""Checks of every `backprop_lib.layers` function (assignment 2).

A forward (``affine_forward``, ``relu_forward``, ...) is checked by its ``out`` against the
reference (driver ``forward``). A backward is run after the student's own forward, whose cache
it reads (driver ``forward_backward``), with a random upstream ``dout``; each gradient it
returns is one check (``dx``, ``dW``, ``db``, ...) against the numerical gradient of
``sum(reference_forward(...) * dout)``. ``leaky_relu`` and ``elu`` are also run with a
non-default ``alpha`` (checks ``out_alpha``, ``dx_alpha``). The losses return ``loss`` and
``dscores`` (``dpred`` for MSE), the gradient checked against the numerical gradient of the
reference loss; ``l2_regularization`` returns ``loss`` and ``dweights``.

Cost runs (`cost`, mistake ``not_backprop``): the backward of affine, maxout and
squared_norm and the three losses also run on large inputs in the same call; over
`cost.MAX_CPU_SECONDS` of CPU time every gradient check of that run fails, and the large run's
gradients must match the reference's.

Inputs: batches of N = 5 rows, Xavier-scaled weights, ReLU-type inputs with |x| >= 1e-2,
maxout pieces >= 1e-2 apart, SVM margins >= 1e-2 from the hinge (see `inputs`).

Mistakes tried for a wrong gradient: ``ignored_upstream`` (the backward of an upstream of ones),
``activation_not_preactivation`` (sigmoid / tanh / ELU: sigma' at the output; sigmoid / tanh:
the slope computed from dout), ``wrong_mask`` (ReLU masked on dout; leaky ReLU / ELU without
their slope or with it on the wrong side; maxout's branches swapped), ``not_accumulated``
(maxout's dx from one branch only; the SVM's correct-class gradient without the margin count),
``wrong_sign``, ``missing_transpose``, ``bias_not_summed``, ``missing_mean`` (losses: N times
the right one), ``wrong_reg_factor`` (``reg * W``), ``wrong_shape``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from backprop_lib import layers as ref

from .mistakes import Context
from . import cost, inputs
from .core import (FLOOR_GRAD, FLOOR_VALUE, TOL_GRAD, TOL_VALUE, Outcome, Task, Verdict, combine,
                   compare, memo)
from .numeric import numerical_gradient

N = 5


@dataclass(frozen=True)
class LayerSpec:
    """A forward / backward pair by their library names: inputs, gradients, how to draw inputs."""

    forward: str
    backward: str
    inputs: tuple[str, ...]
    grads: tuple[str, ...]
    draw: Callable[[np.random.Generator], list]
    alpha: float | None = None  # a non-default alpha to check too (leaky ReLU, ELU)
    default_alpha: float = 1.0  # the library's default alpha (for the mistake's sigma')
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


_PAIRS: tuple[LayerSpec, ...] = (
    LayerSpec("affine_forward", "affine_backward", ("x", "W", "b"), ("dx", "dW", "db"), _affine,
              bias_grads=("db",)),
    LayerSpec("relu_forward", "relu_backward", ("x",), ("dx",),
              lambda rng: [inputs.away_from(rng, (N, 4))]),
    LayerSpec("sigmoid_forward", "sigmoid_backward", ("x",), ("dx",),
              lambda rng: [inputs.normal(rng, (N, 4), 2.0)],
              at_output=lambda out, _a: _sigmoid(out) * (1.0 - _sigmoid(out))),
    LayerSpec("tanh_forward", "tanh_backward", ("x",), ("dx",),
              lambda rng: [inputs.normal(rng, (N, 4), 1.5)],
              at_output=lambda out, _a: 1.0 - np.tanh(out) ** 2),
    LayerSpec("leaky_relu_forward", "leaky_relu_backward", ("x",), ("dx",),
              lambda rng: [inputs.away_from(rng, (N, 4))], alpha=0.05, default_alpha=0.1),
    LayerSpec("elu_forward", "elu_backward", ("x",), ("dx",),
              lambda rng: [inputs.away_from(rng, (N, 4), 1.5)], alpha=0.5, default_alpha=1.0,
              at_output=lambda out, a: np.where(out >= 0, 1.0, a * np.exp(out))),
    LayerSpec("maxout_forward", "maxout_backward", ("x", "W1", "b1", "W2", "b2"),
              ("dx", "dW1", "db1", "dW2", "db2"), _maxout, bias_grads=("db1", "db2")),
    LayerSpec("squared_norm_forward", "squared_norm_backward", ("x", "W"), ("dx", "dW"),
              lambda rng: [inputs.normal(rng, (3,)), inputs.xavier(rng, 4, 3) * 2.0]),
)
SPECS: dict[str, LayerSpec] = {name: spec for spec in _PAIRS for name in (spec.forward, spec.backward)}
"""Graded function name (``affine_backward``) -> the spec of its forward / backward pair."""
LOSSES = ("softmax_loss", "svm_loss", "mse_loss")

FUNCTIONS: tuple[str, ...] = (*SPECS, *LOSSES, "l2_regularization")


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
    if function not in SPECS:
        raise KeyError(function)
    spec = SPECS[function]
    variants = [("", None)] + ([("_alpha", spec.alpha)] if spec.alpha is not None else [])
    tasks = []
    for suffix, alpha in variants:
        args: dict = {"fn": function, "n_in": len(spec.inputs)}
        for i, x in enumerate(spec.draw(rng)):
            args[f"in{i}"] = x
        if alpha is not None:
            args["kw_alpha"] = alpha
        if function == spec.forward:
            tasks.append(Task(function, "out" + suffix, "forward", args))
            continue
        out, _ = _ref_forward(spec, args)
        args.update(fwd=spec.forward, n_grads=len(spec.grads),
                    dout=float(inputs.normal(rng, ())) if np.ndim(out) == 0 else inputs.normal(rng, np.shape(out)))
        args.update(cost.layer_args(spec.forward, rng))
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
    args = {"fn": function, "n_in": 2, "in0": scores, "in1": y, **cost.loss_args(function, rng)}
    grad = "dpred" if function == "mse_loss" else "dscores"
    return [Task(function, "loss", "loss", cost.without_cost_run(args)), Task(function, grad, "loss", args)]


# ----------------------------------------------------------------------------- reference
def _ref_forward(spec: LayerSpec, args: dict, replace: dict[int, np.ndarray] | None = None):
    xs = [args[f"in{i}"] for i in range(args["n_in"])]
    for i, x in (replace or {}).items():
        xs[i] = x
    kwargs = {"alpha": args["kw_alpha"]} if "kw_alpha" in args else {}
    return getattr(ref, spec.forward)(*xs, **kwargs)


def _backward_refs(spec: LayerSpec, args: dict) -> dict:
    dout = args["dout"]
    out, _ = _ref_forward(spec, args)
    backward = getattr(ref, spec.backward)

    def grads_for(upstream) -> list[np.ndarray]:
        result = backward(upstream, _ref_forward(spec, args)[1])
        return [np.asarray(g, dtype=np.float64) for g in (result if len(spec.grads) > 1 else (result,))]

    numerical = []
    for i in range(len(spec.grads)):
        def f(v: np.ndarray, i: int = i) -> float:
            return float(np.sum(np.asarray(_ref_forward(spec, args, {i: v})[0]) * dout))
        numerical.append(numerical_gradient(f, args[f"in{i}"]))
    ones = np.ones_like(np.asarray(dout)) if np.ndim(dout) else 1.0  # the local gradient alone
    extra: list[dict] = [{"ignored_upstream": [g]} for g in grads_for(ones)]
    if spec.at_output is not None:
        alpha = args.get("kw_alpha", spec.default_alpha)
        extra[0]["activation_not_preactivation"] = [spec.at_output(np.asarray(out), alpha) * dout]
    for i, more in enumerate(_student_candidates(spec, args, dout, grads_for)):
        for name, wrong in more.items():
            extra[i].setdefault(name, []).extend(wrong)
    big = []
    if "big_n_in" in args:
        big_inputs = [args[f"big_in{i}"] for i in range(args["big_n_in"])]
        result = backward(args["big_dout"], getattr(ref, spec.forward)(*big_inputs)[1])
        big = [np.asarray(g, dtype=np.float64) for g in (result if len(spec.grads) > 1 else (result,))]
    return {"grads": grads_for(dout), "numerical": numerical, "extra": extra, "big": big}


def _student_candidates(spec: LayerSpec, args: dict, dout, grads_for) -> list[dict]:
    """Wrong answers students hand in for this backward (tests/fixtures/student_bugs.py), per
    gradient: the slope taken from the upstream gradient, a ReLU-type mask on the wrong
    condition or without its slope, a fan-out gradient assigned instead of added."""
    x = np.asarray(args["in0"], dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    alpha = args.get("kw_alpha", spec.default_alpha)
    name = spec.backward
    if name == "sigmoid_backward":
        s = _sigmoid(dout)
        return [{"activation_not_preactivation": [dout * (1.0 - dout), s * (1.0 - s) * dout]}]
    if name == "tanh_backward":
        t = np.tanh(dout)
        return [{"activation_not_preactivation": [1.0 - dout ** 2, dout * (1.0 - dout ** 2),
                                                  (1.0 - t ** 2) * dout]}]
    if name == "relu_backward":
        return [{"wrong_mask": [dout * (dout > 0)]}]
    if name == "leaky_relu_backward":
        return [{"wrong_mask": [dout * (x > 0), np.where(x > 0, alpha * dout, dout),
                                dout * np.where(dout > 0, 1.0, alpha)]}]
    if name == "elu_backward":
        return [{"wrong_mask": [dout * alpha * np.exp(x), dout * (x > 0)]}]
    if name == "maxout_backward":
        _x, W1, b1, W2, b2 = (args[f"in{i}"] for i in range(5))
        first = (x @ W1.T + b1) >= (x @ W2.T + b2)
        dz1, dz2 = dout * first, dout * ~first
        swapped = [dz2 @ W1 + dz1 @ W2, dz2.T @ x, dz2.sum(axis=0), dz1.T @ x, dz1.sum(axis=0)]
        out = [{"wrong_mask": [g]} for g in swapped]
        out[0]["not_accumulated"] = [dz1 @ W1, dz2 @ W2]
        return out
    return []


def _loss_refs(function: str, args: dict) -> dict:
    scores, y = args["in0"], args["in1"]
    fn = getattr(ref, function)
    loss, dscores = fn(scores, y)
    numerical = numerical_gradient(lambda s: fn(s, y)[0], scores)
    candidates: dict[str, list] = {}
    if function == "svm_loss":  # s_y is in every margin (a fan-out): its gradient is -count / N
        N_rows = scores.shape[0]
        rows = np.arange(N_rows)
        active = (dscores > 0).astype(np.float64)  # the margins > 0 (j != y)
        once = active.copy()
        once[rows, y] = -(active.sum(axis=1) > 0).astype(np.float64)  # -1 instead of -count
        candidates["not_accumulated"] = [active / N_rows, once / N_rows]  # 0 instead of -count
    return {"loss": loss, "dscores": dscores, "numerical": numerical, "candidates": candidates}


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
        small = cost.without_cost_run(args)  # the loss check's args: one memo entry for both
        refs = memo(function, small, lambda: _loss_refs(function, small))
        N_rows = args["in0"].shape[0]
        if task.check == "loss":
            return compare(values, "loss", refs["loss"], name="loss", tol=TOL_VALUE, floor=FLOOR_VALUE,
                           context=Context("loss", gradient=False, batch_size=N_rows, mean=True))
        slow = cost.too_slow(outcome, function, task.check)
        if slow:
            return slow
        verdict = compare(values, "dscores", refs["numerical"], name=task.check, tol=TOL_GRAD,
                          floor=FLOOR_GRAD, right=refs["dscores"], sample=True,
                          context=Context(task.check, batch_size=N_rows, mean=True,
                                          candidates=refs["candidates"]))
        if verdict.passed and "big_in0" in args:
            big = getattr(ref, function)(args["big_in0"], args["big_in1"])[1]  # analytic: cheap
            return cost.big_verdict(values, [("big_dscores", big, task.check)], combine) or verdict
        return verdict
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
    spec = SPECS[function]
    if function == spec.forward:
        out, _ = _ref_forward(spec, args)
        return compare(values, "out", out, name="out", tol=TOL_VALUE, floor=FLOOR_VALUE)
    refs = memo(function, args, lambda: _backward_refs(spec, args))
    grad = task.check.removesuffix("_alpha")
    i = spec.grads.index(grad)
    batch = args["in0"].shape[0] if np.ndim(args["in0"]) == 2 else None
    context = Context(grad, bias=grad in spec.bias_grads, batch_size=batch, candidates=refs["extra"][i])
    slow = cost.too_slow(outcome, function, grad)
    if slow:
        return slow
    verdict = compare(values, f"g{i}", refs["numerical"][i], name=grad, tol=TOL_GRAD, floor=FLOOR_GRAD,
                      context=context, right=refs["grads"][i], sample=True)
    if verdict.passed and refs["big"]:
        return cost.big_verdict(values, [(f"big_g{i}", refs["big"][i], grad)], combine) or verdict
    return verdict
