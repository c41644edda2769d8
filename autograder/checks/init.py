"""Checks of `init_weights` (assignment 3, `backprop_lib.init`), by the statistics of a sample.

An initializer's numbers depend on how it draws from the rng, so it is checked by what the
scheme promises, on one large seeded sample per scheme (n >= 36 000 entries): the shape
``(fan_out, fan_in)``, the mean, the standard deviation and the normal shape (kurtosis), with
``fan_in = shape[1]``. Bounds, for a correct normal sample of n entries:

=========  ===================================  =============================  ===========
statistic  passes when                          standard error                 margin
=========  ===================================  =============================  ===========
mean       |mean| <= 0.05 * std_expected        std / sqrt(n) <= 0.0053 * std  >= 9 SE
std        |std / std_expected - 1| <= 0.05     1 / sqrt(2 n) <= 0.0037        >= 13 SE
kurtosis   |kurtosis - 3| <= 0.35               sqrt(24 / n) <= 0.026          >= 13 SE
=========  ===================================  =============================  ===========

so a correct initializer never fails (a 9-SE deviation has probability below 1e-18), while a wrong fan (fan_out
for fan_in, or their sum for He), a uniform draw or a missing sqrt fails. Checks:
``xavier``, ``he``, ``small``, ``large``, ``float_std`` (a float std), ``exact_draw`` (on the
he run: W equals ``std * rng.standard_normal(shape)`` of the seeded rng, the docstring's rule
that the public check tests with fixed numbers), and ``seeded`` (the
same rng seed gives the same W). `statistics` is shared with `mlp` (``init_mlp``).
"""
from __future__ import annotations

import numpy as np

from backprop_lib import init as ref

from .core import FLOOR_EXACT, TOL_EXACT, Outcome, Task, Verdict, compare

FUNCTIONS: tuple[str, ...] = ("init_weights",)
SCHEMES: tuple[str, ...] = ("xavier", "he", "small", "large", "float_std")
MEAN_TOL, STD_TOL, KURTOSIS_TOL = 0.05, 0.05, 0.35


def expected_std(scheme: str | float, fan_out: int, fan_in: int) -> float:
    """The std each scheme promises (CURRICULUM.md, `init`)."""
    if scheme == "small":
        return 0.01
    if scheme == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    if scheme == "he":
        return float(np.sqrt(2.0 / fan_in))
    if scheme == "large":
        return 1.0
    return float(scheme)


def _formula(scheme: str | float, fan_out: int, fan_in: int) -> str:
    return {"xavier": f"sqrt(2 / (fan_in + fan_out)) with fan_in = {fan_in}, fan_out = {fan_out}",
            "he": f"sqrt(2 / fan_in) with fan_in = shape[1] = {fan_in}",
            "small": "0.01", "large": "1.0"}.get(scheme, f"the std passed, {scheme}") \
        if isinstance(scheme, str) else f"the std passed, {scheme}"


def statistics(W: np.ndarray, scheme: str | float, name: str = "W") -> Verdict:
    """Mean, std and kurtosis of W against the scheme (W already has the right shape)."""
    fan_out, fan_in = W.shape
    want = expected_std(scheme, fan_out, fan_in)
    if not np.all(np.isfinite(W)):
        return Verdict(0.0, False, f"{name} contains NaN or inf")
    mean = float(W.mean())
    squares = (W - mean) ** 2
    variance = float(squares.mean())
    std = variance ** 0.5
    kurtosis = float(np.mean(squares * squares) / variance ** 2) if variance > 0 else 0.0
    problems = []
    if abs(mean) > MEAN_TOL * want:
        problems.append(f"{name} has mean {mean:.3g}; a zero-mean normal was due")
    if abs(std / want - 1.0) > STD_TOL:
        problems.append(f"{name} has std {std:.3g}, expected {want:.3g} "
                        f"({_formula(scheme, fan_out, fan_in)})")
    if std > 0 and abs(kurtosis - 3.0) > KURTOSIS_TOL:
        problems.append(f"{name} does not look normal (kurtosis {kurtosis:.2f}, a normal's is 3): "
                        f"draw with rng.standard_normal or rng.normal")
    fraction = 1.0 - len(problems) / 3.0
    if not problems:
        return Verdict(1.0, True, f"{name}: mean {mean:.2g}, std {std:.3g} (expected {want:.3g}), ok")
    return Verdict(fraction, False, "; ".join(problems))


def tasks_for(function: str, rng: np.random.Generator) -> list[Task]:
    """One task per scheme (each a large sample) and ``seeded`` (on the xavier run)."""
    if function != "init_weights":
        raise KeyError(function)
    tasks = []
    for check in SCHEMES:
        fan_out, fan_in = int(rng.integers(80, 101)), int(rng.integers(450, 551))
        scheme: str | float = float(rng.uniform(0.2, 0.6)) if check == "float_std" else check
        args = {"fn": function, "fan_out": fan_out, "fan_in": fan_in, "scheme": scheme,
                "seed": int(rng.integers(0, 2**31))}
        tasks.append(Task(function, check, "init_weights", args))
    tasks.append(Task(function, "seeded", "init_weights", tasks[0].args))
    tasks.append(Task(function, "exact_draw", "init_weights", tasks[1].args))
    return tasks


def evaluate(task: Task, outcome: Outcome) -> Verdict:
    """Verdict of one scheme's statistics, or of ``seeded``."""
    args, values = task.args, outcome.values
    shape = (args["fan_out"], args["fan_in"])
    W = values.get("W")
    if W is None or W.shape != shape:
        got = None if W is None else W.shape
        return Verdict(0.0, False, f"W has shape {got}, expected (fan_out, fan_in) = {shape}",
                       "wrong_shape")
    if task.check == "seeded":
        again = values.get("W_again")
        if again is not None and again.shape == shape and np.array_equal(again, W):
            return Verdict(1.0, True, "the same rng seed gives the same W, ok")
        return Verdict(0.0, False, "two calls with generators of the same seed gave different W: "
                                   "draw from the rng passed in, not from np.random")
    if task.check == "exact_draw":  # the docstring's rule, as the public check has it
        want = ref.init_weights(shape, args["scheme"], np.random.default_rng(int(args["seed"])))
        return compare(values, "W", want, name="W", tol=TOL_EXACT, floor=FLOOR_EXACT)
    return statistics(W, args["scheme"])
