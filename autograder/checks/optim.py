"""Checks of `sgd`, `sgd_momentum` and `minibatches` (assignment 4, `backprop_lib.optim`).

The update rules are checked by values, over several steps (driver ``update_steps``: the
config each step returns is passed to the next, so the velocity carries over):

- ``sgd``: ``steps`` (3 steps with a given learning_rate), ``default_learning_rate`` (config
  {}: learning_rate 1e-2), ``inputs_untouched`` (on the steps' run: no step wrote into the w
  or dw it was handed, and next_w is a new array, not w itself: the docstring's promise);
- ``sgd_momentum``: ``steps`` (4 steps, given learning_rate, momentum and a starting velocity:
  every w on the path), ``velocity`` (config["velocity"] after them, the lecture's
  v <- dw + momentum * v), ``defaults`` (config {}: learning_rate 1e-2, momentum 0.9, velocity
  zeros), ``inputs_untouched`` (on the steps' run: no step wrote into w, dw or the caller's
  velocity array, and next_w is a new array);
- ``minibatches``: ``one_epoch`` (every example exactly once, in batches of batch_size with
  the leftover last, X rows kept with their y), ``order`` (the order of
  ``rng.permutation(N)`` of the generator passed in). N = 23, batch sizes that do not divide it.

Values must match the reference to 1e-9 (norm-wise relative; a few flops of float64).
Mistakes tried: ``momentum_order`` (w stepped with the old velocity before updating it;
momentum applied to the gradient, v <- momentum * dw + v), ``wrong_sign`` (w + lr * dw).
"""
from __future__ import annotations

import numpy as np
from backprop_lib import optim as ref

from .mistakes import Context
from . import inputs
from .core import FLOOR_EXACT, TOL_EXACT, Outcome, Task, Verdict, compare, value_check

FUNCTIONS: tuple[str, ...] = ("sgd", "sgd_momentum", "minibatches")
DEFAULT_LEARNING_RATE, DEFAULT_MOMENTUM = 1e-2, 0.9  # CURRICULUM.md, `optim`
SHAPE = (3, 4)
N_EXAMPLES = 23


def tasks_for(function: str, rng: np.random.Generator) -> list[Task]:
    """The tasks of an optim function (see the module docstring for the check names)."""
    if function == "minibatches":
        args = {"fn": function, "X": inputs.normal(rng, (N_EXAMPLES, 3)),
                "y": np.arange(N_EXAMPLES, dtype=np.int64), "batch_size": int(rng.choice([4, 5, 6, 7])),
                "seed": int(rng.integers(0, 2**31))}
        return [Task(function, check, "minibatches", args) for check in ("one_epoch", "order")]

    def run(steps: int, given: bool) -> dict:
        momentum = given and function == "sgd_momentum"
        return {"fn": function, "w": inputs.normal(rng, SHAPE), "dws": inputs.normal(rng, (steps, *SHAPE)),
                "learning_rate": float(rng.uniform(0.05, 0.5)) if given else None,
                "momentum": float(rng.uniform(0.5, 0.95)) if momentum else None,
                "velocity": inputs.normal(rng, SHAPE) if momentum else None}
    if function == "sgd":
        given = run(3, True)
        return [Task(function, "steps", "update_steps", given),
                Task(function, "default_learning_rate", "update_steps", run(2, False)),
                Task(function, "inputs_untouched", "update_steps", given)]
    if function == "sgd_momentum":
        given = run(4, True)
        return [Task(function, "steps", "update_steps", given),
                Task(function, "velocity", "update_steps", given),
                Task(function, "defaults", "update_steps", run(3, False)),
                Task(function, "inputs_untouched", "update_steps", given)]
    raise KeyError(function)


def momentum_path(w: np.ndarray, dws: np.ndarray, lr: float, mu: float, rule: str = "lecture",
                  v0: np.ndarray | None = None):
    """(ws of shape (T, *w.shape), final velocity) under the lecture's rule or a wrong one.

    rule: ``lecture`` (v = dw + mu v; w -= lr v), ``position_first`` (w -= lr v_old; then
    v = dw + mu v), ``momentum_on_gradient`` (v = mu dw + v; w -= lr v), ``plus`` (w += lr v).
    v0: the starting velocity (zeros when None).
    """
    v = np.zeros_like(w) if v0 is None else np.array(v0, dtype=np.float64)
    ws = []
    for dw in dws:
        if rule == "position_first":
            w = w - lr * v
            v = dw + mu * v
        elif rule == "momentum_on_gradient":
            v = mu * dw + v
            w = w - lr * v
        else:
            v = dw + mu * v
            w = w - lr * v if rule == "lecture" else w + lr * v
        ws.append(w)
    return np.array(ws), v


def _reference(task: Task) -> tuple[np.ndarray, np.ndarray | None]:
    """The reference's path (and final velocity) for an update_steps task."""
    args = task.args
    rule = ref.sgd if task.function == "sgd" else ref.sgd_momentum
    config = {k: args[k] for k in ("learning_rate", "momentum") if args.get(k) is not None}
    if args.get("velocity") is not None:
        config["velocity"] = args["velocity"].copy()
    w, ws = args["w"].copy(), []
    for dw in args["dws"]:
        w, config = rule(w, dw.copy(), config)
        ws.append(w)
    return np.array(ws), config.get("velocity")


def _untouched_verdict(task: Task, values: dict) -> Verdict:
    """``inputs_untouched``: the driver counted the steps that wrote into their inputs."""
    changed = np.asarray(values.get("inputs_changed", np.ones(3)), dtype=np.float64).reshape(-1)
    aliased = float(np.sum(values.get("aliased", np.array(1.0))))
    names = ("w", "dw", "config['velocity']")
    inputs = ", ".join(names if task.function == "sgd_momentum" else names[:2])
    if changed.size != 3 or np.any(changed):
        which = [n for n, c in zip(names, changed) if c] if changed.size == 3 else list(names)
        return Verdict(0.0, False, f"{task.function} modified its input in place: "
                                   f"{' and '.join(which)} changed (in {int(changed.max(initial=1))} "
                                   f"of {len(task.args['dws'])} steps); compute next_w = w - ... as a "
                                   f"new array and leave the caller's arrays alone")
    if aliased:
        return Verdict(0.0, False, f"{task.function} returned w itself (or a view of it) as next_w: "
                                   f"next_w must be a new array")
    return Verdict(1.0, True, f"{inputs} left unmodified, next_w a new array")


def _update_verdict(task: Task, values: dict) -> Verdict:
    args = task.args
    if task.check == "inputs_untouched":
        return _untouched_verdict(task, values)
    ws, velocity = _reference(task)
    lr = args["learning_rate"] if args["learning_rate"] is not None else DEFAULT_LEARNING_RATE
    if task.function == "sgd":
        wrong = [args["w"] + lr * np.cumsum(args["dws"], axis=0)]
        return compare(values, "ws", ws, name="w after each step", tol=TOL_EXACT, floor=FLOOR_EXACT,
                       context=Context("w after each step", gradient=False, candidates={"wrong_sign": wrong}))
    mu = args["momentum"] if args["momentum"] is not None else DEFAULT_MOMENTUM
    paths = {rule: momentum_path(args["w"], args["dws"], lr, mu, rule, args.get("velocity"))
             for rule in ("position_first", "momentum_on_gradient", "plus")}
    if task.check == "velocity":
        if "velocity" not in values:
            return Verdict(0.0, False, "config['velocity'] is missing after the steps: store v in the "
                                       "config you return, so the next step can use it")
        return compare(values, "velocity", velocity, name="velocity", tol=TOL_EXACT, floor=FLOOR_EXACT,
                       context=Context("velocity", gradient=False, candidates={
                           "momentum_order": [paths["momentum_on_gradient"][1]]}))
    candidates = {"momentum_order": [paths["position_first"][0], paths["momentum_on_gradient"][0]],
                  "wrong_sign": [paths["plus"][0]]}
    return compare(values, "ws", ws, name="w after each step", tol=TOL_EXACT, floor=FLOOR_EXACT,
                   context=Context("w after each step", gradient=False, candidates=candidates))


def _minibatch_verdict(task: Task, values: dict) -> Verdict:
    args = task.args
    X, y, batch_size = args["X"], args["y"], args["batch_size"]
    batches = list(ref.minibatches(X, y, batch_size, np.random.default_rng(args["seed"])))
    want_sizes = [len(b[1]) for b in batches]
    want_order = np.concatenate([b[1] for b in batches])
    y_order, X_order, sizes = values.get("y_order"), values.get("X_order"), values.get("sizes")
    if y_order is None or X_order is None or sizes is None:
        return Verdict(0.0, False, "minibatches yielded no usable batches")
    if task.check == "one_epoch":
        if [int(s) for s in sizes] != want_sizes:
            return Verdict(0.0, False, f"batch sizes {[int(s) for s in sizes]}, expected {want_sizes} "
                                       f"(batches of {batch_size}, the leftover examples last)")
        labels = np.asarray(y_order)
        if sorted(labels.tolist()) != list(range(len(y))):
            return Verdict(0.0, False, "one epoch must use every example exactly once")
        together = np.array_equal(X_order, X[labels.astype(np.int64)])
        return value_check(together, "every example exactly once, in the right batch sizes",
                           "the rows of X_batch do not belong to the labels of y_batch: index X and "
                           "y with the same indices")
    same = np.array_equal(np.asarray(y_order), want_order)
    return value_check(same, "batches follow rng.permutation(N), ok",
                       "the examples are not in the order of order = rng.permutation(N) (drawn once "
                       "from the rng passed in), batch k being order[k * B:(k + 1) * B]")


def evaluate(task: Task, outcome: Outcome) -> Verdict:
    """Verdict of one optim check."""
    if task.function == "minibatches":
        return _minibatch_verdict(task, outcome.values)
    return _update_verdict(task, outcome.values)
