"""benchmarks/mlp_steps.py: what the MLP benchmark times is the step it names. The FLOP count,
the eight products with their labels, and our step keeping its dtype.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import mlp_steps  # noqa: E402


def test_step_flops_count_every_product_of_the_step():
    # forward A @ W.T and backward Delta.T @ A per layer, Delta @ W for layers 2..3
    macs = [784 * 256, 256 * 128, 128 * 10]
    assert mlp_steps.step_flops() == 2 * 128 * (2 * sum(macs) + macs[1] + macs[2]) == 128_909_312


def test_each_product_is_labelled_with_its_own_shapes_and_they_make_the_step():
    products = mlp_steps.Products("float64")
    assert list(products.named) == [
        "A0 @ W1.T (128x784 by 784x256)", "Delta1.T @ A0 (256x128 by 128x784)",
        "A1 @ W2.T (128x256 by 256x128)", "Delta2.T @ A1 (128x128 by 128x256)",
        "Delta2 @ W2 (128x128 by 128x256)", "A2 @ W3.T (128x128 by 128x10)",
        "Delta3.T @ A2 (10x128 by 128x128)", "Delta3 @ W3 (128x10 by 10x128)"]
    flops = 0
    for label, product in products.named.items():
        (m, k), (k2, n) = [tuple(map(int, side.split("x")))
                           for side in label[label.index("(") + 1:-1].split(" by ")]
        assert k == k2 and product().shape == (m, n), label
        flops += 2 * m * k * n
    assert flops == mlp_steps.step_flops()  # the eight are the step's products, no more


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_our_step_trains_and_keeps_its_dtype(dtype):
    step = mlp_steps.OursStep(np.dtype(dtype))
    W1 = step.params["W1"].copy()
    phases = step.phases()
    assert list(phases) == list(mlp_steps.PHASES) and all(t > 0 for t in phases.values())
    step()
    assert not np.array_equal(step.params["W1"], W1)  # two momentum steps moved the weights
    assert step.dtypes() == {dtype}
