# Generated for a3_mlp from backprop_lib/data.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""Small data sets for the course: three synthetic 2-D sets and one real set that ships offline.

Every function is seeded (the same seed gives the same arrays) and returns float64 inputs
``X`` of shape (N, D) and int64 labels ``y`` of shape (N,) with classes ``0 .. C-1``.

- ``spirals``: C interleaved spiral arms (not linearly separable; a hidden layer is needed).
- ``xor``: four Gaussian blobs, label = (x0 > 0) XOR (x1 > 0) (the classic two-layer example).
- ``moons``: two interleaving half circles.
- ``load_digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, 64 pixels,
  values 0..16, 10 classes; no download), split into train / test with a seeded stratified split and
  standardized with the *training* set's per-pixel mean and std.

This is a helper module: it imports no graded module of ``backprop_lib``.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from .validate import check_labels, check_nonnegative


def _check_count(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
            seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms in the plane, one arm per class (the CS231n spiral).

    Arm ``c`` goes out from the origin with radius ``r`` in [0, 1] and angle
    ``4 r + 2 pi c / C`` (plus Gaussian noise of std ``noise`` on the angle).

    Args:
        n_per_class: points per arm.
        n_classes: number of arms C (>= 2).
        noise: std of the angle noise, in radians.
        seed: seed of ``np.random.default_rng``.

    Returns:
        X of shape (n_per_class * C, 2), float64; y of shape (n_per_class * C,), int64.
    """
    n_per_class = _check_count("n_per_class", n_per_class)
    n_classes = _check_count("n_classes", n_classes, minimum=2)
    noise = check_nonnegative(noise, "noise")
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    angle = 4.0 * radius + 2.0 * np.pi * y / n_classes
    angle = angle + noise * rng.standard_normal(angle.shape)
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return X.astype(np.float64), y


def xor(n: int = 200, noise: float = 0.25, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: four blobs at (+-1, +-1), label 1 where exactly one coordinate is positive.

    Args:
        n: number of points (split as evenly as possible over the four corners).
        noise: std of the Gaussian around each corner.
        seed: seed of ``np.random.default_rng``.

    Returns:
        X of shape (n, 2), float64; y of shape (n,), int64 in {0, 1}.
    """
    n = _check_count("n", n, minimum=4)
    noise = check_nonnegative(noise, "noise")
    rng = np.random.default_rng(seed)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    corner_of = np.arange(n) % 4
    X = corners[corner_of] + noise * rng.standard_normal((n, 2))
    y = (corner_of >= 2).astype(np.int64)
    return X, y


def moons(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 shifted below and right).

    Args:
        n: number of points (class 0 gets ceil(n / 2)).
        noise: std of the Gaussian added to every coordinate.
        seed: seed of ``np.random.default_rng``.

    Returns:
        X of shape (n, 2), float64; y of shape (n,), int64 in {0, 1}.
    """
    n = _check_count("n", n, minimum=2)
    noise = check_nonnegative(noise, "noise")
    rng = np.random.default_rng(seed)
    n0 = (n + 1) // 2
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n - n0)
    top = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    bottom = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([top, bottom]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n - n0, np.int64)])
    return X, y


def stratified_split(y: np.ndarray, test_fraction: float, seed: int | None = 0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded stratified train / test split (each class split in the same ratio).

    Args:
        y: integer labels of shape (N,).
        test_fraction: share of every class that goes to the test set, in (0, 1).
        seed: seed of ``np.random.default_rng``.

    Returns:
        (train_idx, test_idx), int64 index arrays, each sorted ascending.
    """
    if not 0.0 < check_nonnegative(test_fraction, "test_fraction") < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    y = np.asarray(y)
    y = check_labels(y, int(y.max()) + 1 if y.size else 1, "y")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(test_fraction * members.size))
        n_test = min(max(n_test, 1), members.size - 1) if members.size > 1 else 0
        test.append(members[:n_test])
        train.append(members[n_test:])
    return (np.sort(np.concatenate(train)).astype(np.int64),
            np.sort(np.concatenate(test)).astype(np.int64))


def standardize(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Subtract the training set's per-feature mean and divide by its std.

    Features that are constant in the training set (std 0, e.g. the digits' border pixels)
    are only centred. The same statistics are applied to ``others`` (validation / test).

    Args:
        X_train: of shape (N, D).
        others: arrays of shape (M, D).

    Returns:
        The standardized ``X_train`` followed by the standardized ``others``, all float64.
    """
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    return tuple((A - mean) / std for A in (X_train, *others))


DIGITS_CSV = "digits.csv.gz"
"""The digits' file: scikit-learn's ``sklearn/datasets/data/digits.csv.gz`` (64 pixels and the
label per row), which a student's release ships beside this module (``courseware build``)."""


def digits_csv() -> Path | None:
    """The digits CSV beside this module (a student's release), else scikit-learn's; or None."""
    beside = Path(__file__).with_name(DIGITS_CSV)
    if beside.is_file():
        return beside
    spec = importlib.util.find_spec("sklearn")
    bundled = Path(spec.origin).parent / "datasets" / "data" / DIGITS_CSV if spec and spec.origin else None
    return bundled if bundled is not None and bundled.is_file() else None


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 digits as (X of shape (1797, 64), y of shape (1797,)), read once per process.

    Reads `digits_csv()` (the file ``sklearn.datasets.load_digits`` parses) with numpy alone,
    so a student's release needs no scikit-learn and the kit does not import it (seconds);
    falls back to ``sklearn.datasets.load_digits`` if neither file is there.
    """
    csv = digits_csv()
    if csv is not None:
        table = np.loadtxt(csv, delimiter=",")
        X, y = table[:, :-1], table[:, -1]
    else:  # pragma: no cover - depends on scikit-learn's layout
        from sklearn.datasets import load_digits as sklearn_load_digits

        bunch = sklearn_load_digits()
        X, y = bunch.data, bunch.target
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def load_digits(test_fraction: float = 0.25, seed: int | None = 0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (offline), stratified split, standardized by the training set.

    Args:
        test_fraction: share of each digit class held out for testing (default a quarter).
        seed: seed of the split.

    Returns:
        X_train of shape (N_train, 64), y_train of shape (N_train,), X_test of shape
        (N_test, 64), y_test of shape (N_test,); X float64 with per-pixel mean 0 and std 1 on
        the training set, y int64 in 0..9. With the defaults N_train = 1347, N_test = 450.
    """
    if not 0.0 < check_nonnegative(test_fraction, "test_fraction") < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    X, y = _digits_arrays()
    train_idx, test_idx = stratified_split(y, test_fraction, seed)
    X_train, X_test = standardize(X[train_idx], X[test_idx])
    return X_train, y[train_idx], X_test, y[test_idx]
