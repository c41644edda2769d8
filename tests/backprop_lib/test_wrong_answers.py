"""backprop_lib.checks' common wrong answers: built once from the right answer, named by one
matching rule (the grader's mistake diagnosis and the notebooks' checks share them)."""
from __future__ import annotations

import numpy as np

from backprop_lib.checks import name_mistake, shape_mistake, wrong_answer_variants


def test_variants_are_built_from_the_right_answer():
    dW = np.arange(6.0).reshape(2, 3) + 1.0
    v = wrong_answer_variants(dW, batch_size=2)
    assert list(v) == ["wrong_sign", "missing_transpose", "missing_mean", "extra_mean",
                       "summed_over_batch"]
    np.testing.assert_array_equal(v["wrong_sign"], -dW)
    assert v["missing_transpose"].shape == (3, 2)
    np.testing.assert_array_equal(v["missing_mean"], 2 * dW)
    np.testing.assert_array_equal(v["extra_mean"], dW / 2)
    np.testing.assert_array_equal(v["summed_over_batch"], [5.0, 7.0, 9.0])
    assert list(wrong_answer_variants(np.ones(3))) == ["wrong_sign"]  # no N: sign only


def test_name_mistake_names_the_variant_a_wrong_answer_is():
    rng = np.random.default_rng(0)
    right = rng.normal(size=(4, 4))
    variants = wrong_answer_variants(right, batch_size=4)
    for name, wrong in variants.items():
        assert name_mistake(wrong, right, variants) == name
    assert name_mistake(right, right, variants) is None
    assert name_mistake(right + 1e-3 * rng.normal(size=(4, 4)), right, variants) is None
    assert name_mistake(np.full((4, 4), np.nan), right, variants) is None
    # a variant that equals the right answer (a zero gradient negated) is never named
    zero = np.zeros((2, 2))
    assert name_mistake(zero, zero, wrong_answer_variants(zero)) is None
    # lists of candidates, tried in order
    assert name_mistake(3 * right, right, {"a": [2 * right, 3 * right], "b": 3 * right}) == "a"


def test_shape_mistake():
    assert shape_mistake((4, 3), (3, 4)) == "missing_transpose"
    assert shape_mistake((5, 3), (3,), bias=True, batch_size=5) == "bias_not_summed"
    assert shape_mistake((5, 3), (3,), bias=False) == "wrong_shape"
    assert shape_mistake((3, 4), (3, 4)) is None
