"""Drivers: turn a grading task into calls on the student's namespace (runs IN the sandbox).

`run(ns, driver, args)` calls the student's functions named in `args` with the inputs in
`args` and returns the outputs as plain float64 arrays, ``{name: ndarray}``. Everything else
(references, numerical gradients, scores) happens in the grader's process, in
`autograder/checks/`. This file is copied next to the sandbox worker and imports only numpy,
the standard library and its sibling `calls.py` (how a call's inputs and outputs are handled),
never `backprop_lib` and nothing of the grader.

Conventions of `args` (built by `autograder/checks/`; only str/int/float/bool/None and
float64 / int64 arrays): ``fn`` names the graded function or class; positional inputs are
``in0, in1, ...`` with their count ``n_in``; keyword arguments are ``kw_<name>``; the arrays
of a params / grads dict are ``param_<key>`` / ``grad_<key>``. Input arrays are copied before
every call, so a student who writes into an input changes nothing for the next call.

A driver raises when the student's code raises or returns something that is not what the
signature promises (wrong count of outputs, not numbers): the message says what was
expected. A name missing from the namespace raises `NotDefined` (a NameError).
Arrays of the wrong shape, NaN or inf are returned as they are: the checks judge them.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

if __package__:  # imported by the grader (tests): the package's own calls module
    from . import calls
else:  # in the sandbox: calls.py lies next to this file (the stage copies sandbox/inside/ whole)
    import calls  # noqa: E402

NotDefined = calls.NotDefined

# ----------------------------------------------------------------------------- drivers
def gate(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """Construct gate class ``fn`` (with ``ctor`` when not None), forward(in0, ...), then
    backward(dout0, ...). Returns ``out0`` (``out1`` when the gate has ``n_out`` = 2 outputs)
    and ``d0, d1, ...``, one gradient per input."""
    cls = calls.get(ns, args["fn"])
    ctor = args.get("ctor")
    gate_obj = cls(ctor) if ctor is not None else cls()
    n_in, n_out = int(args["n_in"]), int(args.get("n_out", 1))
    out = gate_obj.forward(*calls.inputs(args))
    values: dict[str, np.ndarray] = {}
    if n_out == 1:
        values["out0"] = calls.as_array(out, f"{args['fn']}.forward's output")
    else:
        for i, item in enumerate(calls.unpack(out, n_out, f"{args['fn']}.forward")):
            values[f"out{i}"] = calls.as_array(item, f"{args['fn']}.forward's output {i + 1}")
    grads = gate_obj.backward(*[calls.fresh(args[f"dout{i}"]) for i in range(n_out)])
    if n_in == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)  # a bare gradient for a one-input gate: accepted
    for i, grad in enumerate(calls.unpack(grads, n_in, f"{args['fn']}.backward")):
        values[f"d{i}"] = calls.as_array(grad, f"{args['fn']}.backward's gradient {i + 1}")
    return values


def forward(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``out, cache = fn(in0, ..., **kw)``. Returns ``out``."""
    result = calls.get(ns, args["fn"])(*calls.inputs(args), **calls.kwargs(args))
    out, _cache = calls.unpack(result, 2, args["fn"])
    return {"out": calls.as_array(out, f"{args['fn']}'s out")}


def forward_backward(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``out, cache = fwd(in0, ..., **kw)`` then ``bwd(dout, cache)`` with ``n_grads`` results.

    Returns ``out`` and ``g0, g1, ...`` (a single gradient may come back bare)."""
    fwd, bwd = calls.get(ns, args["fwd"]), calls.get(ns, args["fn"])
    out, cache = calls.unpack(fwd(*calls.inputs(args), **calls.kwargs(args)), 2, args["fwd"])
    values = {"out": calls.as_array(out, f"{args['fwd']}'s out")}
    n_grads = int(args["n_grads"])
    dout = calls.fresh(args["dout"])
    grads = bwd(dout, cache)
    if n_grads == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    for i, grad in enumerate(calls.unpack(grads, n_grads, args["fn"])):
        values[f"g{i}"] = calls.as_array(grad, f"{args['fn']}'s gradient {i + 1}")
    if "big_n_in" in args:  # the cost run: large inputs, the same calls (see checks/cost.py)
        big = [calls.fresh(args[f"big_in{i}"]) for i in range(int(args["big_n_in"]))]
        _out, big_cache = calls.unpack(fwd(*big, **calls.kwargs(args)), 2, args["fwd"])
        big_grads = bwd(calls.fresh(args["big_dout"]), big_cache)
        if n_grads == 1 and not isinstance(big_grads, (tuple, list)):
            big_grads = (big_grads,)
        for i, grad in enumerate(calls.unpack(big_grads, n_grads, args["fn"])):
            values[f"big_g{i}"] = calls.as_array(grad, f"{args['fn']}'s gradient {i + 1}")
    return values


def loss(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``loss, dscores = fn(in0, in1)``. Returns ``loss`` and ``dscores``."""
    fn = calls.get(ns, args["fn"])
    passed = calls.inputs(args)
    value, grad = calls.unpack(fn(*passed), 2, args["fn"])
    values = {"loss": calls.as_array(value, f"{args['fn']}'s loss"),
              "dscores": calls.as_array(grad, f"{args['fn']}'s gradient"),
              "inputs_changed": np.array(max(calls.changed(passed[i], args[f"in{i}"]) for i in range(2)))}
    if "big_in0" in args:  # the cost run: a large batch (see checks/cost.py)
        _value, big_grad = calls.unpack(fn(calls.fresh(args["big_in0"]), calls.fresh(args["big_in1"])), 2, args["fn"])
        values["big_dscores"] = calls.as_array(big_grad, f"{args['fn']}'s gradient")
    return values


def l2(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``loss, dweights = fn([in0, in1, ...], reg)``. Returns ``loss`` and ``g0, g1, ...``."""
    weights = calls.inputs(args)
    value, grads = calls.unpack(calls.get(ns, args["fn"])(weights, args["reg"]), 2, args["fn"])
    grads = calls.unpack(grads, len(weights), f"{args['fn']}'s dweights")
    values = {"loss": calls.as_array(value, f"{args['fn']}'s loss")}
    for i, grad in enumerate(grads):
        values[f"g{i}"] = calls.as_array(grad, f"{args['fn']}'s dweights[{i}]")
    return values


def _known_scalar_function(args: dict) -> Callable[[np.ndarray], float]:
    """f(x) = sum(c * tanh(x)) + 0.5 * ||A x||^2, for x of shape (m, n) (reads x when called)."""
    A, c = args["A"].copy(), args["c"].copy()

    def f(x: np.ndarray) -> float:
        return float(np.sum(c * np.tanh(x)) + 0.5 * np.sum((A @ x) ** 2))
    return f


def _known_array_function(args: dict) -> Callable[[np.ndarray], np.ndarray]:
    """f(x) = tanh(x @ B) + x ** 2 @ C, an array of shape (m, p) for x of shape (m, n)."""
    B, C = args["B"].copy(), args["C"].copy()

    def f(x: np.ndarray) -> np.ndarray:
        return np.tanh(x @ B) + (x ** 2) @ C
    return f


def numerical_gradient(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``fn(f, x)`` (or ``fn(f, x, h=h)`` when ``h`` is given) for a known smooth scalar f.

    Returns ``grad`` and ``x_after`` (x after the call: it must be restored)."""
    x = args["x"].copy()
    kwargs = {} if args.get("h") is None else {"h": args["h"]}
    f = _known_scalar_function(args)
    if args.get("raise_after") is not None:
        return _restored_after_raise(ns, args, f, x, kwargs)
    grad = calls.get(ns, args["fn"])(f, x, **kwargs)
    return {"grad": calls.as_array(grad, f"{args['fn']}'s gradient"), "x_after": calls.as_array(x, "x")}


class _Planned(Exception):
    """The known function's own error, raised on purpose after ``raise_after`` calls."""


def _restored_after_raise(ns: dict, args: dict, f: Callable, x: np.ndarray, kwargs: dict) -> dict:
    """``fn(g, x)`` where g raises on its ``raise_after + 1``-th call: x must be restored anyway.

    Returns ``raised`` (1.0 when the error reached the caller) and ``x_after``."""
    made = [0]  # calls of f so far

    def g(v: np.ndarray) -> Any:
        made[0] += 1
        if made[0] > int(args["raise_after"]):
            raise _Planned("f failed on purpose")
        return f(v)
    try:
        if "dout" in kwargs:
            calls.get(ns, args["fn"])(g, x, kwargs["dout"])
        else:
            calls.get(ns, args["fn"])(g, x, **kwargs)
        raised = 0.0
    except _Planned:
        raised = 1.0
    return {"raised": np.array(raised), "x_after": calls.as_array(x, "x")}


def numerical_gradient_array(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``fn(f, x, dout)`` for a known smooth array-valued f. Returns ``grad`` and ``x_after``."""
    x = args["x"].copy()
    if args.get("raise_after") is not None:
        array_f = _known_array_function(args)
        return _restored_after_raise(ns, args, array_f, x, {"dout": args["dout"].copy()})
    grad = calls.get(ns, args["fn"])(_known_array_function(args), x, args["dout"].copy())
    return {"grad": calls.as_array(grad, f"{args['fn']}'s gradient"), "x_after": calls.as_array(x, "x")}


def init_weights(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``fn((fan_out, fan_in), scheme, default_rng(seed))`` twice with the same seed.

    Returns ``W`` and ``W_again`` (a seeded initializer gives the same W twice)."""
    fn = calls.get(ns, args["fn"])
    shape = (int(args["fan_out"]), int(args["fan_in"]))
    values = {}
    for key in ("W", "W_again"):
        W = fn(shape, args["scheme"], np.random.default_rng(int(args["seed"])))
        values[key] = calls.as_array(W, f"{args['fn']}'s W")
    return values


def init_mlp(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``fn(sizes, init, seed)`` twice with ``seed``, once with ``seed + 1``.

    Returns ``param_<key>``, ``again_<key>`` and ``other_<key>`` for every key returned."""
    fn = calls.get(ns, args["fn"])
    sizes = [int(n) for n in args["sizes"]]
    seed = int(args["seed"])
    values = {}
    for prefix, s in (("param_", seed), ("again_", seed), ("other_", seed + 1)):
        values.update(calls.dict_out(fn(list(sizes), args["init"], s), prefix, f"{args['fn']}'s params"))
    return values


def mlp_forward(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``Y, cache = fn(params, X, activation=..., output_activation=...)``. Returns ``Y``."""
    result = calls.get(ns, args["fn"])(calls.prefixed(args, "param_"), args["X"].copy(),
                                   activation=args["activation"],
                                   output_activation=args["output_activation"])
    Y, _cache = calls.unpack(result, 2, args["fn"])
    return {"Y": calls.as_array(Y, f"{args['fn']}'s Y")}


def mlp_backward(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """The student's ``mlp_forward`` for the cache, then ``fn(dY, cache)``. Returns ``grad_<key>``."""
    forward_fn = calls.get(ns, "mlp_forward")
    result = forward_fn(calls.prefixed(args, "param_"), args["X"].copy(), activation=args["activation"],
                        output_activation=args["output_activation"])
    _Y, cache = calls.unpack(result, 2, "mlp_forward")
    dY = args["dY"].copy()
    grads = calls.get(ns, args["fn"])(dY, cache)
    values = calls.dict_out(grads, "grad_", f"{args['fn']}'s grads")
    if "big_X" in args:  # the cost run: a wide net (see checks/cost.py)
        big = forward_fn(calls.prefixed(args, "bigparam_"), args["big_X"].copy(), activation=args["activation"],
                         output_activation=args["output_activation"])
        _Y, big_cache = calls.unpack(big, 2, "mlp_forward")
        big_grads = calls.get(ns, args["fn"])(args["big_dY"].copy(), big_cache)
        values.update(calls.dict_out(big_grads, "big_grad_", f"{args['fn']}'s grads"))
    return values


def mlp_loss(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``loss, grads = fn(params, X, y, activation=..., loss=..., reg=...)``.

    Returns ``loss`` and ``grad_<key>``."""
    result = calls.get(ns, args["fn"])(calls.prefixed(args, "param_"), args["X"].copy(), args["y"].copy(),
                                   activation=args["activation"], loss=args["loss"], reg=args["reg"])
    value, grads = calls.unpack(result, 2, args["fn"])
    values = {"loss": calls.as_array(value, f"{args['fn']}'s loss"),
              **calls.dict_out(grads, "grad_", f"{args['fn']}'s grads")}
    if "big_X" in args:  # the cost run: a wide net (see checks/cost.py)
        big = calls.get(ns, args["fn"])(calls.prefixed(args, "bigparam_"), args["big_X"].copy(), args["big_y"].copy(),
                                    activation=args["activation"], loss=args["loss"], reg=args["reg"])
        _value, big_grads = calls.unpack(big, 2, args["fn"])
        values.update(calls.dict_out(big_grads, "big_grad_", f"{args['fn']}'s grads"))
    return values


def update_steps(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """Steps ``w, config = fn(w, dws[t], config)`` for t = 0 .. T-1, carrying config along.

    config starts with ``learning_rate`` / ``momentum`` when given (not None) and the initial
    ``velocity`` when given (else none). Returns ``ws`` of shape (T, *w.shape) (w after each
    step), ``velocity`` when the last config holds one, ``inputs_changed`` (shape (3,): the
    number of steps that wrote into the w, the dw and the velocity handed in) and ``aliased``
    (the number of steps that returned a next_w sharing memory with w)."""
    fn = calls.get(ns, args["fn"])
    w = args["w"].copy()
    config: Any = {key: args[key] for key in ("learning_rate", "momentum") if args.get(key) is not None}
    if args.get("velocity") is not None:
        config["velocity"] = args["velocity"].copy()
    steps, changed, aliased = [], np.zeros(3), 0.0
    for t in range(args["dws"].shape[0]):
        dw, velocity = args["dws"][t].copy(), config.get("velocity")
        originals = [calls.fresh(w), calls.fresh(dw), calls.fresh(velocity)]
        passed_w = w
        w, config = calls.unpack(fn(w, dw, config), 2, args["fn"])
        changed += [calls.changed(a, b) for a, b in zip((passed_w, dw, velocity), originals)]
        aliased += calls.aliased(w, [passed_w])
        if not isinstance(config, dict):
            raise ValueError(f"{args['fn']} must return (next_w, config) with config a dict, "
                             f"got {type(config).__name__}")
        steps.append(calls.as_array(w, f"{args['fn']}'s next_w"))
    values = {"ws": calls.as_array(steps, f"{args['fn']}'s next_w"), "inputs_changed": changed,
              "aliased": np.array(aliased)}
    if config.get("velocity") is not None:
        values["velocity"] = calls.as_array(config["velocity"], "config['velocity']")
    return values


def minibatches(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """One epoch of ``fn(X, y, batch_size, default_rng(seed))``.

    Returns ``X_order`` and ``y_order`` (the batches concatenated) and ``sizes``."""
    X, y = args["X"].copy(), args["y"].copy()
    batches = calls.get(ns, args["fn"])(X, y, int(args["batch_size"]), np.random.default_rng(int(args["seed"])))
    xs, ys, sizes = [], [], []
    for i, batch in enumerate(batches):
        if i >= 4 * X.shape[0]:
            raise ValueError(f"{args['fn']} yielded more than {4 * X.shape[0]} batches for "
                             f"{X.shape[0]} examples")
        X_batch, y_batch = calls.unpack(batch, 2, f"each batch of {args['fn']}")
        X_batch = calls.as_array(X_batch, "X_batch")
        y_batch = calls.as_array(y_batch, "y_batch")
        if X_batch.ndim != 2 or X_batch.shape[1] != X.shape[1] or y_batch.shape != X_batch.shape[:1]:
            raise ValueError(f"a batch must be (X_batch of shape (B, {X.shape[1]}), y_batch of "
                             f"shape (B,)), got shapes {X_batch.shape} and {y_batch.shape}")
        xs.append(X_batch)
        ys.append(y_batch)
        sizes.append(X_batch.shape[0])
    if not xs:
        raise ValueError(f"{args['fn']} yielded no batches")
    return {"X_order": np.concatenate(xs), "y_order": np.concatenate(ys),
            "sizes": np.array(sizes, dtype=np.float64)}


def grad_norms(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``fn(grads)``. Returns ``norms``."""
    return {"norms": calls.as_array(calls.get(ns, args["fn"])(calls.prefixed(args, "grad_")), f"{args['fn']}'s result")}


def clip(ns: dict, args: dict) -> dict[str, np.ndarray]:
    """``fn(grads, max_norm)``. Returns ``grad_<key>`` of the clipped grads, ``inputs_changed``
    (how many input arrays were written in place) and ``aliased`` (how many returned arrays
    share memory with an input array: the result must be new arrays)."""
    grads = calls.prefixed(args, "grad_")
    originals = {key: value.copy() for key, value in grads.items()}
    inputs = list(grads.values())
    result = calls.get(ns, args["fn"])(grads, args["max_norm"])
    values = calls.dict_out(result, "grad_", f"{args['fn']}'s result")
    values["inputs_changed"] = np.array(sum(calls.changed(grads.get(k), originals[k]) for k in originals)
                                        + float(set(grads) != set(originals)))
    values["aliased"] = np.array(sum(calls.aliased(v, inputs) for v in result.values()))
    return values


DRIVERS: dict[str, Callable[[dict, dict], dict[str, np.ndarray]]] = {
    "gate": gate,
    "forward": forward,
    "forward_backward": forward_backward,
    "loss": loss,
    "l2": l2,
    "numerical_gradient": numerical_gradient,
    "numerical_gradient_array": numerical_gradient_array,
    "init_weights": init_weights,
    "init_mlp": init_mlp,
    "mlp_forward": mlp_forward,
    "mlp_backward": mlp_backward,
    "mlp_loss": mlp_loss,
    "update_steps": update_steps,
    "minibatches": minibatches,
    "grad_norms": grad_norms,
    "clip": clip,
}


def run(ns: dict, driver: str, args: dict) -> dict[str, np.ndarray]:
    """Run driver `driver` on the student's namespace `ns` with `args`.

    Returns:
        {output name: float64 ndarray}.

    Raises:
        KeyError: for an unknown driver (a grader bug, not the student's).
        NotDefined: when a function the task needs is missing from `ns`.
        Exception: whatever the student's code raised, or ValueError for outputs that are not
            what the signature promises.
    """
    if driver not in DRIVERS:
        raise KeyError(f"unknown driver {driver!r}")
    return DRIVERS[driver](ns, args)
