"""Data sets: shapes, dtypes, seeding, class balance, the digits split and standardization."""
from __future__ import annotations

import numpy as np
import pytest

from backprop_lib.data import load_digits, moons, spirals, standardize, stratified_split, xor


@pytest.mark.parametrize("make, n, classes", [
    (lambda seed: spirals(50, 3, seed=seed), 150, 3),
    (lambda seed: xor(80, seed=seed), 80, 2),
    (lambda seed: moons(81, seed=seed), 81, 2),
])
def test_synthetic_sets_shapes_dtypes_and_seeding(make, n, classes):
    X, y = make(0)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(classes))
    assert np.bincount(y).max() - np.bincount(y).min() <= 1     # balanced classes
    X_again, y_again = make(0)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(y, y_again)
    assert not np.allclose(X, make(1)[0])


def test_xor_labels_are_the_xor_of_the_quadrant_signs():
    X, y = xor(400, noise=0.1, seed=0)
    np.testing.assert_array_equal(y, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64))


def test_spiral_radius_runs_from_zero_to_one():
    X, y = spirals(100, 2, noise=0.0, seed=0)
    radius = np.linalg.norm(X, axis=1)
    assert radius.min() == pytest.approx(0.0) and radius.max() == pytest.approx(1.0)


@pytest.mark.parametrize("call, match", [
    (lambda: spirals(0), "n_per_class"),
    (lambda: spirals(10, 1), "n_classes"),
    (lambda: xor(10, noise=-1.0), "noise"),
    (lambda: moons(2.5), "n must be"),
    (lambda: load_digits(test_fraction=1.5), "test_fraction"),
])
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_stratified_split_keeps_class_ratios_and_partitions():
    y = np.repeat(np.arange(3), [40, 20, 60])
    train, test = stratified_split(y, 0.25, seed=0)
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(120))
    np.testing.assert_array_equal(np.bincount(y[test]), [10, 5, 15])


def test_standardize_uses_training_statistics_and_keeps_constant_columns_finite():
    X_train = np.array([[1.0, 5.0], [3.0, 5.0]])
    X_test = np.array([[2.0, 6.0]])
    A, B = standardize(X_train, X_test)
    np.testing.assert_allclose(A, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(B, [[0.0, 1.0]])


def test_load_digits_split_and_standardized():
    X_train, y_train, X_test, y_test = load_digits(seed=0)
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert X_train.dtype == X_test.dtype == np.float64
    assert y_train.dtype == y_test.dtype == np.int64
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-12)
    stds = X_train.std(axis=0)
    assert np.all((np.abs(stds - 1.0) < 1e-12) | (stds == 0.0))   # constant border pixels stay 0
    assert np.bincount(y_test).min() >= 44 and np.bincount(y_test).max() <= 46
    again = load_digits(seed=0)
    np.testing.assert_array_equal(again[3], y_test)
    assert not np.array_equal(load_digits(seed=1)[3], y_test)


@pytest.mark.slow
def test_digits_file_matches_scikit_learns_loader():
    from sklearn.datasets import load_digits as sklearn_load_digits

    from backprop_lib.data import _digits_arrays

    X, y = _digits_arrays()
    bunch = sklearn_load_digits()
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
