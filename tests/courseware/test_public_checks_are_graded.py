"""Every public check of every assignment is graded at least as strictly (CURRICULUM.md, "What
grading promises"): a submission that fails a public check loses points in the grader.

The walk runs every public check cell of the student release (`fixtures.release_cells`) with
the reference functions and collects every label it prints. Two kinds of labels:
- numeric ones (``relative error`` / ``shape``): for each graded function of the cell and
  each part of its result (a gate's forward / backward, each item of a returned tuple), a
  plant with that part's numbers 1 % off fails a numeric public check (a check block stops
  at its first FAIL, so the first one of the block; the other blocks of the cell run on) and
  loses points in the grader, in-process. A 1 % error fails every such check (their bounds
  are 1e-6 / 1e-7), so this proves the grader is as strict on the numbers, not each label
  one by one;
- property ones (`check_true`: inputs left alone, x restored, reproducible, keys, ...): each
  must have a hand-written plant in `PROPERTY_PLANTS` (a new public property check fails this
  test until it gets one) under which the public cell fails (at that label, or at a check
  before it in its block) and the grader takes points, in-process.
"""
from __future__ import annotations

import contextlib
import importlib
import io

import numpy as np
import pytest

from autograder import checks
from backprop_lib import checks as public
from fixtures.release_cells import MODULES, release_namespace


def _labels(ns: dict, code: str, cell: str) -> tuple[list[tuple[str, str]], set[str]]:
    """((label, detail) of every PASS line, labels of every FAIL line) of one public cell run
    whose failures do not stop it (a FAIL stops the cell where the code after it needs the value)."""
    out = io.StringIO()

    def soft_fail(label, detail):
        print(f"FAIL {label}: {detail}")
        raise _Stop

    original = public._fail
    public._fail = soft_fail
    try:
        with contextlib.redirect_stdout(out):
            statements = code.split("\n\n")  # a cell's blocks: run on after a failing one
            for block in statements:
                try:
                    exec(compile(block, cell, "exec"), ns)  # noqa: S102
                except _Stop:
                    continue
                except Exception:  # noqa: BLE001 - a value the failed check left broken
                    continue
    finally:
        public._fail = original
    lines = out.getvalue().splitlines()
    passed = [tuple(line[5:].split(": ", 1)) for line in lines if line.startswith("PASS ")]
    failed = {line[5:].split(": ", 1)[0] for line in lines if line.startswith("FAIL ")}
    return passed, failed


class _Stop(Exception):
    pass


def _cells():
    for assignment in MODULES:
        ns, tests = release_namespace(assignment)
        for cell, code in tests.items():
            yield assignment, cell, ns, code


def _graded_loses(function: str, ns: dict, seeds=(0, 1)) -> bool:
    for seed in seeds:
        runs: dict = {}
        for task in checks.tasks_for(function, np.random.default_rng(seed)):
            if id(task.args) not in runs:
                runs[id(task.args)] = checks.run_in_process(ns, task)
            if checks.evaluate(task, runs[id(task.args)]).fraction < 1.0:
                return True
    return False


def _grader_namespace(assignment: str) -> dict:
    ns: dict = {}
    for module in MODULES[assignment]:
        ns.update(vars(importlib.import_module(f"backprop_lib.{module}")))
    return ns


# ----------------------------------------------------------------------------- numeric labels
def _off(value):
    if isinstance(value, dict):
        return {k: _off(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_off(v) for v in value)
    if isinstance(value, (np.ndarray, float, np.floating)):
        return value * 1.01
    return value


def _one_percent_off(obj, part: int):
    """The function (or gate class) with the numbers of one of its results 1 % off: for a gate
    part 0 is forward, 1 backward; for a function returning a tuple, the tuple's item `part`
    (a public check block stops at its first FAIL, so each part is planted alone)."""
    if isinstance(obj, type):
        class Off(obj):
            def forward(self, *args):
                out = super().forward(*args)
                return _off(out) if part == 0 else out

            def backward(self, *args):
                grads = super().backward(*args)
                return _off(grads) if part == 1 else grads
        Off.__name__ = obj.__name__
        return Off
    if obj.__name__ == "minibatches":  # the batches in reverse order: not rng.permutation's
        return lambda *a, **k: reversed(list(obj(*a, **k)))

    def off(*a, **k):
        result = obj(*a, **k)
        if isinstance(result, tuple):
            return tuple(_off(r) if i == part else r for i, r in enumerate(result))
        return _off(result)
    return off


def _parts(obj) -> int:
    return 2 if isinstance(obj, type) else 3  # tuples here have at most 2 arrays worth checking


def _is_numeric(detail: str) -> bool:
    return detail.startswith(("relative error", "shape"))


def _functions_of(assignment: str, cell: str) -> list[str]:
    import nbformat
    from fixtures.release_cells import REPO

    nb = nbformat.read(REPO / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    return [c.metadata["kit"]["functions"] for c in nb.cells if c.get("id") == cell][0]


@pytest.mark.parametrize("assignment, cell", [(a, c) for a, c, _n, _code in _cells()])
def test_numeric_public_checks_fail_and_the_grader_takes_points(assignment, cell):
    ns, tests = release_namespace(assignment)
    passed, _ = _labels(dict(ns), tests[cell], cell)
    numeric = {label for label, detail in passed if _is_numeric(detail)}
    functions = _functions_of(assignment, cell)
    failed_any = set()
    grader_ns = _grader_namespace(assignment)
    for function in functions:
        for part in range(_parts(ns[function])):
            _passed, failed = _labels({**ns, function: _one_percent_off(ns[function], part)}, tests[cell], cell)
            if not failed:
                continue  # no such part (a function returning one array)
            failed_any |= failed
            plant = _one_percent_off(grader_ns[function], part)
            # a forward's cache that is off costs the backward's points, as in the public cell
            assert any(_graded_loses(f, {**grader_ns, function: plant}) for f in functions), (function, part)
    assert failed_any & numeric, (functions, sorted(numeric))


# ----------------------------------------------------------------------------- property labels
def _no_restore(f, x, h=1e-5):
    """The right gradient, but the last entry is left perturbed."""
    from backprop_lib.gradcheck import numerical_gradient
    grad = numerical_gradient(f, x, h)
    x.flat[-1] += h
    return grad


def _sum_loss(name):
    from backprop_lib import layers

    def loss(scores, y):
        value, grad = getattr(layers, name)(scores, y)
        return value * len(scores), grad
    return loss


def _shifted_init(shape, scheme, rng):
    from backprop_lib import init
    W = init.init_weights(shape, scheme, rng)
    return W + W.std()


def _unseeded_init(shape, scheme, rng):
    from backprop_lib import init
    return init.init_weights(shape, scheme, np.random.default_rng())


def _mlp_plant(kind):
    from backprop_lib import mlp

    def init_mlp(layer_sizes, init="xavier", seed=None):
        params = mlp.init_mlp(layer_sizes, init=init, seed=None if kind == "seed" else seed)
        if kind == "keys":
            params = {k.lower(): v for k, v in params.items()}
        if kind == "biases":
            params = {k: v + 0.1 if k.startswith("b") else v for k, v in params.items()}
        return params
    return init_mlp


def _batches(kind):
    def minibatches(X, y, batch_size, rng):
        N = len(X)
        order = rng.permutation(N)
        if kind == "epoch":
            order = rng.integers(0, N, N)
        for k in range(0, N, batch_size):
            idx = order[k:k + batch_size]
            yield (X[idx[::-1]] if kind == "paired" else X[idx]), y[idx]
        if kind == "count":
            yield X[:0], y[:0]
    return minibatches


def _sgd_in_place(w, dw, config=None):
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def _momentum_in_place(w, dw, config=None):
    config = dict(config or {})
    lr, mu = config.setdefault("learning_rate", 1e-2), config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    v = np.zeros_like(w) if v is None else v
    v *= mu
    v += dw
    config["velocity"] = v
    return w - lr * v, config


def _clip_in_place(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    for g in grads.values():
        g *= min(1.0, max_norm / total)
    return grads


def _clip_aliased(grads, max_norm):
    from backprop_lib import diagnostics
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    return dict(grads) if total <= max_norm else diagnostics.clip_gradients(grads, max_norm)


PROPERTY_PLANTS: dict[str, tuple[str, object]] = {
    "numerical_gradient restores x": ("numerical_gradient", _no_restore),
    "softmax_loss of tiny scores is about log(10) = 2.303": ("softmax_loss", _sum_loss("softmax_loss")),
    "svm_loss of tiny scores is about C - 1 = 9": ("svm_loss", _sum_loss("svm_loss")),
    "init_weights 'small' mean": ("init_weights", _shifted_init),
    "init_weights 'xavier' mean": ("init_weights", _shifted_init),
    "init_weights 'he' mean": ("init_weights", _shifted_init),
    "init_weights 'large' mean": ("init_weights", _shifted_init),
    "init_weights 0.3 mean": ("init_weights", _shifted_init),
    "init_weights reproducible": ("init_weights", _unseeded_init),
    "init_mlp keys": ("init_mlp", _mlp_plant("keys")),
    "init_mlp biases": ("init_mlp", _mlp_plant("biases")),
    "init_mlp seed": ("init_mlp", _mlp_plant("seed")),
    "minibatches count": ("minibatches", _batches("count")),
    "minibatches rows stay paired": ("minibatches", _batches("paired")),
    "minibatches epoch": ("minibatches", _batches("epoch")),
    "sgd leaves w alone": ("sgd", _sgd_in_place),
    "sgd_momentum leaves w, dw and the caller's velocity alone": ("sgd_momentum", _momentum_in_place),
    "clip_gradients leaves its input alone": ("clip_gradients", _clip_in_place),
    "clip_gradients returns new arrays": ("clip_gradients", _clip_aliased),
}
"""Public property label -> (graded function, a plant that fails it)."""


def _property_labels():
    for assignment, cell, ns, code in _cells():
        passed, _ = _labels(dict(ns), code, cell)
        for label, detail in passed:
            if not _is_numeric(detail):
                yield assignment, cell, label


PROPERTIES = sorted(set(_property_labels()))


def test_every_public_property_check_has_a_plant():
    assert {label for _a, _c, label in PROPERTIES} == set(PROPERTY_PLANTS)


@pytest.mark.parametrize("assignment, cell, label", PROPERTIES, ids=[p[2] for p in PROPERTIES])
def test_property_public_check_fails_and_the_grader_takes_points(assignment, cell, label):
    function, plant = PROPERTY_PLANTS[label]
    ns, tests = release_namespace(assignment)
    passed, failed = _labels({**ns, function: plant}, tests[cell], cell)
    # the public cell fails: at this label, or at a check before it in the same block
    assert failed and label not in {p[0] for p in passed}, (label, failed)
    assert _graded_loses(function, {**_grader_namespace(assignment), function: plant}), label
