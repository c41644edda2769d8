"""Checks of `init_mlp`, `mlp_forward`, `mlp_backward`, `mlp_loss` (assignment 3, `backprop_lib.mlp`).

- ``init_mlp``: ``keys_shapes`` (exactly W1, b1, ..., WL, bL; W^l of shape (n_l, n_{l-1});
  zero biases), ``xavier_statistics`` and ``he_statistics`` (every W^l by `init.statistics`,
  layers of >= 36 000 weights), ``seeded`` (the same seed gives the same params, another seed
  other ones), ``exact_draw`` (the params equal the docstring's draw: one
  ``default_rng(seed)`` drawing W1, W2, ... in order, as the public check tests).
- ``mlp_forward``: Y against the reference for a sigmoid net, a ReLU net, and a tanh net with
  a sigmoid output layer (checks ``sigmoid``, ``relu``, ``tanh_sigmoid_output``).
- ``mlp_backward``: run after the student's ``mlp_forward`` (its cache), with a random dY;
  every gradient against the numerical gradient of ``sum(mlp_forward(params, X) * dY)``
  (checks ``sigmoid``, ``relu`` and ``tanh_sigmoid_output``, a sigmoid output layer: the
  output activation's slope must be in the output delta; credit is the fraction of W / b
  keys that pass).
- ``mlp_loss``: loss against the reference and every gradient against the numerical gradient
  of the reference loss, for softmax (sigmoid net, no reg), SVM (ReLU net, reg > 0) and MSE
  (tanh net, reg > 0): checks ``softmax_loss``, ``softmax_grads``, ``svm_loss``, ...

Cost runs (`cost`, mistake ``not_backprop``): every mlp_backward and mlp_loss run also
runs a wide net (sizes 100, 60, 10) in the same call; over `cost.MAX_CPU_SECONDS` of CPU time
the run's gradient checks fail, and the wide net's gradients must match the reference's.

Nets: N = 6 rows, sizes [4, 5, 4, 3], Xavier weights, biases of std 0.1; ReLU nets have every
hidden |Z^l| >= 1e-2 and SVM margins are >= 1e-2 from the hinge (see `inputs`).

Mistakes tried: ``activation_not_preactivation`` (the delta rule with sigma' at A^l, computed
by `delta_rule`), ``missing_local_gradient`` (mlp_backward: the hidden layers' or the output
layer's sigma' left out), ``ignored_upstream`` (dY = ones), ``wrong_reg_factor`` (reg * W),
``missing_mean`` (the data part N times too large), ``wrong_sign``, ``missing_transpose``,
``bias_not_summed``, ``wrong_shape``.
"""
from __future__ import annotations

import numpy as np
from backprop_lib import layers as ref_layers
from backprop_lib import mlp as ref

from .mistakes import Context
from . import cost, inputs
from .core import (FLOOR_EXACT, FLOOR_GRAD, FLOOR_VALUE, TOL_EXACT, TOL_GRAD, TOL_VALUE, Outcome,
                   Task, Verdict, combine, compare, memo)
from .numeric import numerical_gradient
from .init import statistics

FUNCTIONS: tuple[str, ...] = ("init_mlp", "mlp_forward", "mlp_backward", "mlp_loss")
N, SIZES = 6, (4, 5, 4, 3)
FORWARD_RUNS = {"sigmoid": ("sigmoid", "identity"), "relu": ("relu", "identity"),
                "tanh_sigmoid_output": ("tanh", "sigmoid")}
BACKWARD_RUNS = {"sigmoid": ("sigmoid", "identity"), "relu": ("relu", "identity"),
                 "tanh_sigmoid_output": ("tanh", "sigmoid")}
LOSS_RUNS = {"softmax": ("sigmoid", 0.0), "svm": ("relu", 1.0), "mse": ("tanh", 1.0)}


# ----------------------------------------------------------------------------- a plain net
_ACTIVATIONS = {"sigmoid": lambda u: 1.0 / (1.0 + np.exp(-u)), "tanh": np.tanh,
                "relu": lambda u: np.maximum(u, 0.0), "identity": lambda u: u}


def _act(name: str, z: np.ndarray) -> np.ndarray:
    return _ACTIVATIONS[name](z)


def _slope(name: str, u: np.ndarray) -> np.ndarray:
    """sigma'(u) for the activation `name`."""
    if name == "sigmoid":
        s = _act("sigmoid", u)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(u) ** 2
    if name == "relu":
        return (u > 0).astype(np.float64)
    return np.ones_like(u)


def forward_pass(params: dict, X: np.ndarray, activation: str, output_activation: str):
    """Zs and As of every layer (As[0] = X), by Z^l = A^{l-1} @ W^l.T + b^l.

    Any parameter may carry a leading batch axis B (W^l of shape (B, n_l, n_{l-1}), b^l of
    shape (B, n_l)): then Z^l and A^l get shape (B, N, n_l), one net per batch entry."""
    L = len(params) // 2
    Zs, As = [], [X]
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        Z = As[-1] @ np.swapaxes(W, -1, -2) + (b[:, None, :] if b.ndim == 2 else b)
        Zs.append(Z)
        As.append(_act(output_activation if l == L else activation, Z))
    return Zs, As


def delta_rule(params: dict, X: np.ndarray, activation: str, output_activation: str, dY: np.ndarray,
               at_activation: bool = False, skip: str | None = None) -> dict[str, np.ndarray]:
    """The delta rule; with `at_activation`, sigma' is (wrongly) taken at A^l instead of Z^l;
    with `skip` ``"hidden"`` / ``"output"``, the hidden layers' / the output layer's sigma' is
    (wrongly) left out: the upstream gradient passed on as the delta."""
    L = len(params) // 2
    Zs, As = forward_pass(params, X, activation, output_activation)
    grads, upstream = {}, dY
    for l in range(L, 0, -1):
        name = output_activation if l == L else activation
        if skip == ("output" if l == L else "hidden"):
            name = "identity"
        delta = _slope(name, As[l] if at_activation else Zs[l - 1]) * upstream
        grads[f"W{l}"] = delta.T @ As[l - 1]
        grads[f"b{l}"] = delta.sum(axis=0)
        upstream = delta @ params[f"W{l}"]
    return grads


def _draw_net(rng: np.random.Generator, kink_free: bool, svm: bool = False):
    L = len(SIZES) - 1

    def draw():
        params = {}
        for l in range(1, L + 1):
            # SVM: larger scores, so that some margins are active and some are not
            scale = 4.0 if svm and l == L else 1.0
            params[f"W{l}"] = scale * inputs.xavier(rng, SIZES[l], SIZES[l - 1])
            params[f"b{l}"] = inputs.normal(rng, (SIZES[l],), 0.1)
        X = inputs.normal(rng, (N, SIZES[0]))
        y = inputs.labels(rng, N, SIZES[-1])
        return params, X, y

    def ok(net) -> bool:
        params, X, y = net
        Zs, _ = forward_pass(params, X, "relu", "identity")
        if not all(np.all(np.abs(Z) >= inputs.GAP) for Z in Zs[:-1]):
            return False
        return not svm or inputs.hinge_safe(Zs[-1], y)
    return inputs.redraw_until(draw, ok) if kink_free else draw()


def _param_args(params: dict) -> dict:
    return {f"param_{k}": v for k, v in params.items()}


def _params(args: dict) -> dict:
    return {k[6:]: v for k, v in args.items() if k.startswith("param_")}


# ----------------------------------------------------------------------------- tasks
def tasks_for(function: str, rng: np.random.Generator) -> list[Task]:
    """The tasks of an mlp function (see the module docstring for the check names)."""
    if function == "init_mlp":
        xavier = {"fn": function, "sizes": np.array([int(rng.integers(180, 221)), int(rng.integers(180, 221)),
                                                     int(rng.integers(180, 221))], dtype=np.int64),
                  "init": "xavier", "seed": int(rng.integers(0, 2**31))}
        he = {"fn": function, "sizes": np.array([int(rng.integers(360, 441)), int(rng.integers(90, 111)),
                                                 int(rng.integers(360, 441))], dtype=np.int64),
              "init": "he", "seed": int(rng.integers(0, 2**31))}
        return [Task(function, "keys_shapes", "init_mlp", xavier),
                Task(function, "xavier_statistics", "init_mlp", xavier),
                Task(function, "he_statistics", "init_mlp", he),
                Task(function, "seeded", "init_mlp", xavier),
                Task(function, "exact_draw", "init_mlp", xavier)]
    tasks = []
    if function == "mlp_forward":
        for check, (activation, output) in FORWARD_RUNS.items():
            params, X, _ = _draw_net(rng, kink_free=False)
            args = {"fn": function, **_param_args(params), "X": X, "activation": activation,
                    "output_activation": output}
            tasks.append(Task(function, check, "mlp_forward", args))
    elif function == "mlp_backward":
        for check, (activation, output) in BACKWARD_RUNS.items():
            params, X, _ = _draw_net(rng, kink_free=activation == "relu")
            args = {"fn": function, **_param_args(params), "X": X, "activation": activation,
                    "output_activation": output, "dY": inputs.normal(rng, (N, SIZES[-1])),
                    **cost.net_args(rng)}
            tasks.append(Task(function, check, "mlp_backward", args))
    elif function == "mlp_loss":
        for loss, (activation, reg_scale) in LOSS_RUNS.items():
            params, X, y = _draw_net(rng, kink_free=activation == "relu", svm=loss == "svm")
            if loss == "mse":
                y = inputs.normal(rng, (N, SIZES[-1]))
            args = {"fn": function, **_param_args(params), "X": X, "y": y, "activation": activation,
                    "loss": loss, "reg": float(reg_scale * rng.uniform(0.05, 0.2)),
                    **cost.net_args(rng, loss)}
            tasks += [Task(function, f"{loss}_loss", "mlp_loss", cost.without_cost_run(args)),
                      Task(function, f"{loss}_grads", "mlp_loss", args)]
    else:
        raise KeyError(function)
    return tasks


# ----------------------------------------------------------------------------- references
def _backward_refs(args: dict) -> dict:
    params, X, dY = _params(args), args["X"], args["dY"]
    act, out_act = args["activation"], args["output_activation"]
    _, cache = ref.mlp_forward(params, X, activation=act, output_activation=out_act)
    right = ref.mlp_backward(dY, cache)
    numerical = _numerical(
        params,
        lambda p: float(np.sum(ref.mlp_forward(p, X, activation=act, output_activation=out_act)[0] * dY)),
        lambda p: np.sum(forward_pass(p, X, act, out_act)[1][-1] * dY, axis=(-2, -1)))
    candidates = {key: {"ignored_upstream": [g]}
                  for key, g in delta_rule(params, X, act, out_act, np.ones_like(dY)).items()}
    if {act, out_act} & {"sigmoid", "tanh"}:
        for key, g in delta_rule(params, X, act, out_act, dY, at_activation=True).items():
            candidates[key]["activation_not_preactivation"] = [g]
    skips = ["hidden"] if act != "identity" else []
    skips += ["output"] if out_act != "identity" else []
    for skip in skips:
        for key, g in delta_rule(params, X, act, out_act, dY, skip=skip).items():
            candidates[key].setdefault("missing_local_gradient", []).append(g)
    big = {}
    if "big_X" in args:
        _, big_cache = ref.mlp_forward(cost.big_params(args), args["big_X"], activation=act,
                                       output_activation=out_act)
        big = ref.mlp_backward(args["big_dY"], big_cache)
    return {"right": right, "numerical": numerical, "candidates": candidates, "big": big}


def _data_loss(Y: np.ndarray, y: np.ndarray, loss: str) -> np.ndarray:
    """The reference's loss formulas in plain numpy, for scores Y of shape (..., N, C).

    Returns the loss of shape (...). No validation: the numerical gradient evaluates this on
    every perturbation at once; `_numerical` verifies it against the reference at the point."""
    n = Y.shape[-2]
    if loss == "mse":
        return 0.5 * np.sum((Y - y) ** 2, axis=(-2, -1)) / n
    onehot = np.arange(Y.shape[-1]) == y[:, None]
    if loss == "softmax":
        shifted = Y - Y.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return -np.sum(np.where(onehot, log_p, 0.0), axis=(-2, -1)) / n
    correct = np.sum(np.where(onehot, Y, 0.0), axis=-1, keepdims=True)
    margins = np.where(onehot, 0.0, np.maximum(0.0, Y - correct + 1.0))
    return np.sum(margins, axis=(-2, -1)) / n


def _numerical(params: dict, reference_f, plain_f, reg: float = 0.0) -> dict[str, np.ndarray]:
    """Numerical gradient (`numeric.numerical_gradient`) of f(params) + reg * sum_l ||W^l||^2
    for every array of params.

    `reference_f` is the reference library's function (one evaluation per call); `plain_f`
    (params, possibly with a leading batch axis, -> losses) is the same loss vectorised over a
    stack of perturbed copies, passed as `batched`: used where it reproduces `reference_f`,
    else `numeric` logs the disagreement and evaluates `reference_f` per perturbation. Either
    way the numbers are those of the reference's function."""
    def penalty(p: dict) -> np.ndarray:
        return reg * sum(np.sum(p[k] ** 2, axis=(-2, -1)) for k in p if k.startswith("W"))

    def one(key: str, v: np.ndarray) -> float:
        return reference_f({**params, key: v}) + float(penalty({**params, key: v}))

    def stacked(key: str, vs: np.ndarray) -> np.ndarray:
        batch = {**params, key: vs}
        return plain_f(batch) + penalty(batch)

    return {key: numerical_gradient(lambda v, key=key: one(key, v), x,
                                    batched=lambda vs, key=key: stacked(key, vs))
            for key, x in params.items()}


def _loss_refs(args: dict) -> dict:
    params, X, reg = _params(args), args["X"], args["reg"]
    act, loss = args["activation"], args["loss"]
    total, right = ref.mlp_loss(params, X, args["y"], activation=act, loss=loss, reg=reg)
    Y, _ = ref.mlp_forward(params, X, activation=act)
    data_loss, dscores = getattr(ref_layers, f"{loss}_loss")(Y, args["y"])
    weights = {k: v for k, v in params.items() if k.startswith("W")}
    reg_loss = reg * sum(float(np.sum(W * W)) for W in weights.values())

    numerical = _numerical(
        params,
        lambda p: ref.mlp_loss(p, X, args["y"], activation=act, loss=loss, reg=0.0)[0],
        lambda p: _data_loss(forward_pass(p, X, act, "identity")[1][-1], args["y"], loss), reg=reg)

    def with_reg(grads: dict, factor: float = 2.0) -> dict:
        return {k: g + factor * reg * params[k] if k in weights else g for k, g in grads.items()}

    data_grads = delta_rule(params, X, act, "identity", dscores)
    candidates: dict[str, dict] = {key: {} for key in params}
    if reg > 0:
        for key, g in with_reg(data_grads, 1.0).items():
            if key in weights:
                candidates[key]["wrong_reg_factor"] = [g]
    for key, g in with_reg({k: N * g for k, g in data_grads.items()}).items():
        candidates[key]["missing_mean"] = [g]
    if act in ("sigmoid", "tanh"):
        at_a = with_reg(delta_rule(params, X, act, "identity", dscores, at_activation=True))
        for key, g in at_a.items():
            candidates[key]["activation_not_preactivation"] = [g]
    loss_candidates = {"missing_mean": [N * data_loss + reg_loss]}
    if reg > 0:
        loss_candidates["wrong_reg_factor"] = [data_loss + 0.5 * reg_loss, data_loss + 2.0 * reg_loss]
    return {"loss": total, "right": right, "numerical": numerical, "candidates": candidates,
            "loss_candidates": loss_candidates}


# ----------------------------------------------------------------------------- evaluate
def _grads_verdict(task: Task, outcome: Outcome, params: dict, refs: dict) -> Verdict:
    slow = cost.too_slow(outcome, task.function, "gradients")
    if slow:
        return slow
    values = outcome.values
    verdict = _small_grads_verdict(values, params, refs)
    if verdict.passed and refs.get("big"):
        pairs = [(f"big_grad_{key}", g, f"d{key}") for key, g in refs["big"].items()]
        return cost.big_verdict(values, pairs, combine) or verdict
    return verdict


def _small_grads_verdict(values: dict, params: dict, refs: dict) -> Verdict:
    parts = []
    for key in params:
        name = f"d{key}"
        context = Context(name, bias=key.startswith("b"), batch_size=N,
                          candidates=refs["candidates"][key])
        parts.append(compare(values, f"grad_{key}", refs["numerical"][key], name=name, tol=TOL_GRAD,
                             floor=FLOOR_GRAD, right=refs["right"][key], context=context, sample=True))
    extra = sorted(k[5:] for k in values if k.startswith("grad_") and k[5:] not in params)
    if extra:
        parts.append(Verdict(0.0, False, f"grads has keys that params does not: {', '.join(extra)}"))
    return combine(parts)


def _init_mlp_verdict(task: Task, values: dict) -> Verdict:
    sizes = [int(n) for n in task.args["sizes"]]
    L = len(sizes) - 1
    want = {**{f"W{l}": (sizes[l], sizes[l - 1]) for l in range(1, L + 1)},
            **{f"b{l}": (sizes[l],) for l in range(1, L + 1)}}
    got = {k[6:]: v for k, v in values.items() if k.startswith("param_")}
    if set(got) != set(want):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        return Verdict(0.0, False, f"params must have keys W1, b1, ..., W{L}, b{L}"
                       + (f"; missing {', '.join(missing)}" if missing else "")
                       + (f"; unexpected {', '.join(extra)}" if extra else ""))
    bad = [f"{k} has shape {got[k].shape}, expected {want[k]}" for k in want if got[k].shape != want[k]]
    if bad:
        return Verdict(0.0, False, "; ".join(bad), "wrong_shape")
    if task.check == "keys_shapes":
        nonzero = [k for k in got if k.startswith("b") and np.any(got[k] != 0)]
        if nonzero:
            return Verdict(0.5, False, f"keys and shapes ok, but biases must start at zero: "
                                       f"{', '.join(nonzero)} are not")
        return Verdict(1.0, True, "keys, shapes and zero biases ok")
    if task.check == "exact_draw":  # the docstring's rule: one default_rng(seed) draws W1, W2, ...
        want = ref.init_mlp(sizes, init=task.args["init"], seed=int(task.args["seed"]))
        return combine([compare(values, f"param_{k}", v, name=k, tol=TOL_EXACT, floor=FLOOR_EXACT)
                        for k, v in want.items()])
    if task.check == "seeded":
        again = {k[6:]: v for k, v in values.items() if k.startswith("again_")}
        other = {k[6:]: v for k, v in values.items() if k.startswith("other_")}
        same = all(k in again and np.array_equal(again[k], got[k]) for k in want)
        differs = any(k in other and np.shape(other[k]) == got[k].shape and not np.array_equal(other[k], got[k])
                      for k in want if k.startswith("W"))
        if same and differs:
            return Verdict(1.0, True, "the same seed gives the same params, another seed other ones")
        return Verdict(0.0, False, "init_mlp must draw from np.random.default_rng(seed): "
                                   + ("the same seed gave different params" if not same
                                      else "a different seed gave the same params"))
    return combine([statistics(got[f"W{l}"], task.args["init"], name=f"W{l}") for l in range(1, L + 1)])


def evaluate(task: Task, outcome: Outcome) -> Verdict:
    """Verdict of one mlp check."""
    args, values = task.args, outcome.values
    if task.function == "init_mlp":
        return _init_mlp_verdict(task, values)
    params = _params(args)
    if task.function == "mlp_forward":
        Y, _ = ref.mlp_forward(params, args["X"], activation=args["activation"],
                               output_activation=args["output_activation"])
        return compare(values, "Y", Y, name="Y", tol=TOL_VALUE, floor=FLOOR_VALUE)
    if task.function == "mlp_backward":
        refs = memo(task.function, args, lambda: _backward_refs(args))
        return _grads_verdict(task, outcome, params, refs)
    small = cost.without_cost_run(args)  # the loss check's args: one memo entry for both
    refs = memo(task.function, small, lambda: _loss_refs(small))
    if "big_X" in args:
        refs = {**refs, "big": ref.mlp_loss(cost.big_params(args), args["big_X"], args["big_y"],
                                            activation=args["activation"], loss=args["loss"],
                                            reg=args["reg"])[1]}
    if task.check.endswith("_loss"):
        return compare(values, "loss", refs["loss"], name="loss", tol=TOL_VALUE, floor=FLOOR_VALUE,
                       context=Context("loss", gradient=False, batch_size=N,
                                       candidates=refs["loss_candidates"]))
    return _grads_verdict(task, outcome, params, refs)
