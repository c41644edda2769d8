"""`not_backprop`: a backward computed by numerical differences earns no gradient points.

A backward pass costs a few forward passes whatever the number of inputs P; a centred
difference of the forward costs 2 P forward passes. For the functions where P is large and a
forward pass touches every input (CURRICULUM.md, "What grading promises": ``affine``,
``maxout``, the three losses, ``squared_norm``, ``mlp_backward``, ``mlp_loss``), the checks
add a *cost run* to the run of the gradient checks: the same forward and backward calls on
inputs with P of about 4.5 * 10^3 to 3.6 * 10^4 (`layer_args`, `loss_args`, `net_args`).
The value checks of a loss run without it (`without_cost_run`), so a numerical gradient that
runs out of time loses only the gradient checks. The grader reads the sandbox's CPU time
from /proc around that task's frame (`sandbox/cpu_time.py`; in-process tests use
`time.process_time`, `checks.run_in_process`): nothing the student's code can count or fake.

Measured here (2 shared cores, other work running; `tests/autograder/checks/test_not_backprop.py`
asserts both sides): a correct backward's whole run, small and large inputs and the encoding
of the results, takes 1-6 ms of CPU time (worst of 200 seeds x 8 functions with a busy
process beside it: < 0.03 s); a backward made of centred differences of the student's own
forward (`tests/fixtures/numerical_backward.py`, the kit's loop) takes 0.65-1.1 s. The bound
`MAX_CPU_SECONDS` = 0.15 s sits 25 x above the first and 4 x below the second, and the sizes
keep the numerical run's wall time under the 5 s floor of a check's limit on a busy machine
(a run past it times out, which also fails, unnamed). The two costs differ by 2 P / 3.

A run over the bound fails every gradient check of that run with mistake ``not_backprop``
(the forward value checks keep their points). A cost run's gradients are also compared with
the reference's analytic gradient (exact, so to `TOL_GRAD`): code that recognizes the large
inputs and returns something cheap instead fails too.

Limit (written down, not hidden): for elementwise functions (the gates, the activations:
``relu``, ``sigmoid``, ``tanh``, ``leaky_relu``, ``elu``), a vectorized centred difference,
``(f(x + h) - f(x - h)) / (2 h)`` on the whole array at once, costs two forward calls, exactly
what backpropagation costs; no cost measure can tell the two apart, so those functions get no
cost run. Their gradient checks still require the exact slope to 1e-6, which a centred
difference with h = 1e-5 meets, so such a submission keeps its points there.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import inputs
from .core import FLOOR_GRAD, TOL_GRAD, Outcome, Verdict, compare
from .mistakes import describe

MAX_CPU_SECONDS = 0.15
"""A run of a cost-checked function over this much CPU time is `not_backprop`."""

BIG_AFFINE = (16, 400, 24)            # N, D, M: P = N D + M D + M = 16 024
BIG_MAXOUT = (16, 300, 16)            # N, D, M: P = 14 432
BIG_SQUARED_NORM = (600, 40)          # D, M: P = 24 600
BIG_LOSS = {"softmax_loss": (110, 50), "svm_loss": (130, 50), "mse_loss": (200, 50)}  # N, C
BIG_NET = {"mlp_backward": ((100, 60, 10), 20), "mlp_loss": ((60, 40, 10), 20)}  # sizes, N


def without_cost_run(args: dict) -> dict:
    """A copy of `args` without the cost run, for the value checks that share a gradient
    check's inputs (a loss): a numerical gradient that runs out of time costs them nothing."""
    return {k: v for k, v in args.items() if not k.startswith("big") and k != "cpu_timed"}


def _rng(rng: np.random.Generator) -> np.random.Generator:
    """A child generator, so that the cost run's draws do not shift the other checks' inputs."""
    return np.random.default_rng(int(rng.integers(0, 2**63 - 1)))


def layer_args(forward: str, rng: np.random.Generator) -> dict:
    """The cost-run args (``big_in0``.., ``big_dout``, ``cpu_timed``) of a layer pair, or {}."""
    rng = _rng(rng)
    if forward == "affine_forward":
        N, D, M = BIG_AFFINE
        xs = [inputs.normal(rng, (N, D)), inputs.xavier(rng, M, D), inputs.normal(rng, (M,), 0.1)]
        dout = inputs.normal(rng, (N, M))
    elif forward == "maxout_forward":
        N, D, M = BIG_MAXOUT
        xs = [inputs.normal(rng, (N, D)), inputs.xavier(rng, M, D), inputs.normal(rng, (M,), 0.1),
              inputs.xavier(rng, M, D), inputs.normal(rng, (M,), 0.1)]
        dout = inputs.normal(rng, (N, M))
    elif forward == "squared_norm_forward":
        D, M = BIG_SQUARED_NORM
        xs = [inputs.normal(rng, (D,)), inputs.xavier(rng, M, D)]
        dout = float(inputs.normal(rng, ()))
    else:
        return {}
    return {**{f"big_in{i}": x for i, x in enumerate(xs)}, "big_n_in": len(xs), "big_dout": dout,
            "cpu_timed": True}


def loss_args(function: str, rng: np.random.Generator) -> dict:
    """The cost-run args (``big_in0``, ``big_in1``, ``cpu_timed``) of a loss."""
    rng = _rng(rng)
    N, C = BIG_LOSS[function]
    if function in ("softmax_loss", "svm_loss"):  # analytic against analytic: kinks do not matter
        scores, y = inputs.normal(rng, (N, C), 1.5), inputs.labels(rng, N, C)
    else:
        scores, y = inputs.normal(rng, (N, C)), inputs.normal(rng, (N, C))
    return {"big_in0": scores, "big_in1": y, "cpu_timed": True}


def net_args(rng: np.random.Generator, targets: str | None = None) -> dict:
    """The cost-run args of an MLP (``bigparam_<key>``, ``big_X``, ``big_dY`` or ``big_y``).

    targets: None for mlp_backward (an upstream dY), else the loss name of mlp_loss."""
    rng = _rng(rng)
    sizes, N = BIG_NET["mlp_backward" if targets is None else "mlp_loss"]
    args: dict = {"cpu_timed": True, "big_X": inputs.normal(rng, (N, sizes[0]))}
    for l in range(1, len(sizes)):
        args[f"bigparam_W{l}"] = inputs.xavier(rng, sizes[l], sizes[l - 1])
        args[f"bigparam_b{l}"] = inputs.normal(rng, (sizes[l],), 0.1)
    if targets is None:
        args["big_dY"] = inputs.normal(rng, (N, sizes[-1]))
    elif targets == "mse":
        args["big_y"] = inputs.normal(rng, (N, sizes[-1]))
    else:
        args["big_y"] = inputs.labels(rng, N, sizes[-1])
    return args


def big_params(args: dict) -> dict[str, np.ndarray]:
    return {k[9:]: v for k, v in args.items() if k.startswith("bigparam_")}


def too_slow(outcome: Outcome, function: str, name: str = "gradient") -> Verdict | None:
    """The failing verdict of a run whose CPU time says it did not backpropagate, else None.

    Args:
        outcome: the run's outcome (``cpu_seconds`` measured outside the student's code).
        function: the graded function, for the message.
        name: the checked output ("dW", "dscores"), for the mistake's sentence.
    """
    seconds = getattr(outcome, "cpu_seconds", None)
    if seconds is None or seconds <= MAX_CPU_SECONDS:
        return None
    return Verdict(0.0, False, f"{function} took {seconds:.2f} s of CPU time on a larger input "
                               f"(backpropagation needs a few milliseconds there; the bound is "
                               f"{MAX_CPU_SECONDS:g} s); {describe('not_backprop', name)}: its cost "
                               f"grows with the number of inputs; write the backward pass with the "
                               f"chain rule", "not_backprop")


def big_verdict(values: dict, pairs: list[tuple[str, np.ndarray, str]],
                combine: Callable[[list[Verdict]], Verdict]) -> Verdict | None:
    """Compare the cost run's gradients with the reference's (`pairs`: value key, right
    gradient, name); None when every one matches, else the failing verdict."""
    parts = [compare(values, key, right, name=f"{name} (larger input)", tol=TOL_GRAD, floor=FLOOR_GRAD)
             for key, right, name in pairs]
    verdict = combine(parts)
    if verdict.passed:
        return None
    verdict.fraction = 0.0
    return verdict
