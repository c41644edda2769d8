"""init_weights: the std of each scheme (from a large seeded sample), shapes, errors."""
from __future__ import annotations

import numpy as np
import pytest

from backprop_lib.init import SCHEMES, init_weights

SHAPE = (300, 500)  # (fan_out, fan_in): 150 000 draws, sample std within ~0.4 % of the truth


@pytest.mark.parametrize("scheme, std", [
    ("small", 0.01),
    ("xavier", np.sqrt(2.0 / (500 + 300))),
    ("he", np.sqrt(2.0 / 500)),
    ("large", 1.0),
    (0.3, 0.3),
])
def test_scheme_has_the_curriculum_std(scheme, std):
    W = init_weights(SHAPE, scheme, np.random.default_rng(0))
    assert W.shape == SHAPE and W.dtype == np.float64
    assert W.std() == pytest.approx(std, rel=0.01)
    assert abs(W.mean()) < 0.01 * std


def test_fan_in_is_the_second_dimension():
    """he uses fan_in = shape[1]: a (10, 1000) matrix has std sqrt(2/1000), not sqrt(2/10)."""
    W = init_weights((10, 1000), "he", np.random.default_rng(1))
    assert W.std() == pytest.approx(np.sqrt(2.0 / 1000), rel=0.05)


def test_draw_is_std_times_standard_normal():
    W = init_weights((3, 4), "he", np.random.default_rng(7))
    expected = np.sqrt(2.0 / 4) * np.random.default_rng(7).standard_normal((3, 4))
    np.testing.assert_allclose(W, expected, rtol=1e-15)


def test_same_seed_same_weights_and_different_seed_different_weights():
    a = init_weights((5, 6), "xavier", np.random.default_rng(3))
    b = init_weights((5, 6), "xavier", np.random.default_rng(3))
    c = init_weights((5, 6), "xavier", np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_schemes_are_the_curriculum_names():
    assert SCHEMES == ("small", "xavier", "he", "large")


@pytest.mark.parametrize("shape, scheme, rng, match", [
    ((3, 4), "glorot", np.random.default_rng(0), "unknown init scheme 'glorot'"),
    ((3, 4), -0.1, np.random.default_rng(0), "positive"),
    ((3, 4), True, np.random.default_rng(0), "init scheme"),
    ((3,), "he", np.random.default_rng(0), "shape"),
    ((3, 0), "he", np.random.default_rng(0), "shape"),
    ((3, 4), "he", 0, "Generator"),
])
def test_bad_input_raises_value_error(shape, scheme, rng, match):
    with pytest.raises(ValueError, match=match):
        init_weights(shape, scheme, rng)
