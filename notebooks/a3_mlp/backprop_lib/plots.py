# Generated for a3_mlp from backprop_lib/plots.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""Figures of assignments 4 and 5 and training curves, drawn from arrays the caller passes in.

Every function takes plain arrays (the numbers come from ``optim`` / ``diagnostics`` or from a
student's own code), draws them and returns the ``matplotlib.figure.Figure``; nothing here
computes a gradient. A helper module: it imports no graded module of ``backprop_lib``.

Without a display (and outside Jupyter) the non-interactive Agg backend is selected, so
scripts and tests can save PNGs with ``fig.savefig(path)``.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

import matplotlib

if not os.environ.get("DISPLAY") and "ipykernel" not in sys.modules:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

__all__ = [
    "plot_loss_curves",
    "plot_momentum_paths",
    "plot_gradient_norms",
    "plot_activation_histograms",
    "plot_chain_products",
    "plot_training_comparison",
    "plot_clipping_comparison",
]


def _curves(curves: Mapping, name: str) -> dict[str, np.ndarray]:
    """``{label: 1-D float array}``, or ValueError naming ``name``."""
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(f"{name} must be a non-empty dict {{label: array}}, got {type(curves).__name__}")
    out = {}
    for label, values in curves.items():
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name}[{label!r}] must be a non-empty 1-D array, got shape {arr.shape}")
        out[str(label)] = arr
    return out


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average over ``window`` steps (same length; the start averages fewer points)."""
    if window <= 1:
        return values
    kernel_sums = np.convolve(np.nan_to_num(values, nan=0.0), np.ones(window), mode="full")[:values.size]
    counts = np.convolve(np.ones(values.size), np.ones(window), mode="full")[:values.size]
    smoothed = kernel_sums / counts
    smoothed[~np.isfinite(values)] = np.nan
    return smoothed


def plot_loss_curves(curves: Mapping[str, Sequence[float]], *, title: str = "Training loss",
                     xlabel: str = "step (minibatch update)", ylabel: str = "loss (cross-entropy, nats)",
                     log: bool = False, smooth: int = 1) -> Figure:
    """One line per run: loss against step (e.g. momentum 0 / 0.9 / 0.99 on the digits).

    Args:
        curves: ``{label: losses of shape (steps,)}``.
        title, xlabel, ylabel: texts (with units).
        log: log-scale the loss axis.
        smooth: moving-average window in steps (1 = raw).
    """
    curves = _curves(curves, "curves")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, values in curves.items():
        ax.plot(np.arange(values.size), _smooth(values, int(smooth)), label=label, lw=1.2)
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_momentum_paths(paths: Mapping[str, np.ndarray], grid: tuple[np.ndarray, np.ndarray, np.ndarray],
                        *, title: str = "Paths on an ill-conditioned quadratic") -> Figure:
    """Optimizer paths drawn over the loss surface's contours.

    Args:
        paths: ``{label: points of shape (T + 1, 2)}``, row 0 the start.
        grid: ``(W0, W1, F)``, each of shape (H, W): the mesh (``np.meshgrid``) and the loss on it.
        title: the figure's title.
    """
    if not isinstance(paths, Mapping) or not paths:
        raise ValueError("paths must be a non-empty dict {label: array of shape (T + 1, 2)}")
    W0, W1, F = (np.asarray(a, dtype=np.float64) for a in grid)
    if not (W0.shape == W1.shape == F.shape and W0.ndim == 2):
        raise ValueError(f"grid must be three 2-D arrays of one shape, got {W0.shape}, {W1.shape}, {F.shape}")
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    positive = F[F > 0]
    levels = np.geomspace(positive.min(), F.max(), 15) if positive.size else 15
    ax.contour(W0, W1, F, levels=levels, colors="0.7", linewidths=0.8)
    for label, path in paths.items():
        path = np.asarray(path, dtype=np.float64)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"paths[{label!r}] must have shape (T + 1, 2), got {path.shape}")
        ax.plot(path[:, 0], path[:, 1], "-o", ms=2.0, lw=1.0, label=str(label))
    ax.plot(0.0, 0.0, "k*", ms=10, label="minimum")
    ax.set(title=title, xlabel="w_0 (shallow direction)", ylabel="w_1 (steep direction)",
           xlim=(W0.min(), W0.max()), ylim=(W1.min(), W1.max()))
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms: Mapping[str, Sequence[float]], *,
                        title: str = "Gradient norm per layer at initialization") -> Figure:
    """``||dW^l||`` against layer l on a log scale, one line per activation or init.

    Args:
        norms: ``{label: norms of shape (L,)}``, entry l - 1 for layer l (layer 1 = input side).
        title: the figure's title.
    """
    norms = _curves(norms, "norms")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, values in norms.items():
        ax.plot(np.arange(1, values.size + 1), np.where(values > 0, values, np.nan), "-o", ms=3, label=label)
    ax.set_yscale("log")
    ax.set(title=title, xlabel="layer l (1 = next to the input)",
           ylabel="||dW^l||_F (log scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_activation_histograms(activations: Sequence[np.ndarray], *, title: str = "Activations per layer",
                               bins: int = 40, value_range: tuple[float, float] | None = None,
                               max_layers: int = 10) -> Figure:
    """One histogram per hidden layer of its activation values (saturation shows as piles at
    the ends of the range, dying signals as a spike at 0).

    Args:
        activations: ``[A^1, ..., A^{L-1}]``, each of shape (N, n_l).
        title: the figure's title.
        bins: histogram bins.
        value_range: common x-range, e.g. (0, 1) for the sigmoid; None = each layer's own.
        max_layers: draw at most this many layers, evenly spread from first to last.
    """
    if not isinstance(activations, Sequence) or len(activations) == 0:
        raise ValueError("activations must be a non-empty list of arrays, one per hidden layer")
    n = len(activations)
    chosen = sorted(set(np.linspace(0, n - 1, min(n, max_layers)).round().astype(int)))
    ncols = min(5, len(chosen))
    nrows = -(-len(chosen) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.3 * ncols + 0.6, 2.5 * nrows + 0.5),
                             sharey=True, squeeze=False)
    for ax in axes.flat[len(chosen):]:
        ax.set_visible(False)
    for ax, idx in zip(axes.flat, chosen):
        values = np.asarray(activations[idx], dtype=np.float64).ravel()
        ax.hist(values, bins=bins, range=value_range, color="C0")
        ax.set_title(f"layer {idx + 1}\nmean {values.mean():.2f}, std {values.std():.2f}", fontsize=8)
        ax.set_xlabel("activation a", fontsize=8)
        ax.tick_params(labelsize=7)
    for row in axes:
        row[0].set_ylabel("count (units x examples)", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_chain_products(curves: Mapping[float, Sequence[float]], *,
                        title: str = "The chain product dx_n/dx = factor^n") -> Figure:
    """``factor^k`` against the number of layers k, log scale, one line per factor.

    Args:
        curves: ``{factor: products of shape (n + 1,)}`` (entry k is the product of k factors).
        title: the figure's title.
    """
    curves = _curves(curves, "curves")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, values in curves.items():
        k = np.arange(values.size)
        ax.plot(k, values, label=f"factor {label}")
        ax.annotate(f"{float(label):g}^{k[-1]} = {values[-1]:.3g}", (k[-1], values[-1]),
                    textcoords="offset points", xytext=(-90, 6), fontsize=8)
    ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set(title=title, xlabel="number of layers n",
           ylabel="product of local gradients (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


DISPLAY_CEILING = 1e30
"""Values above this (or inf / nan) are not drawn: a log axis spanning 300 decades is unreadable."""


def _drawable(values: np.ndarray) -> np.ndarray:
    """``values`` with inf, nan and anything above ``DISPLAY_CEILING`` replaced by nan."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values) & (values <= DISPLAY_CEILING), values, np.nan)


def _histories(histories: Mapping[str, Mapping]) -> dict[str, Mapping]:
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories must be a non-empty dict {label: history}")
    for label, h in histories.items():
        if not isinstance(h, Mapping) or "loss" not in h:
            raise ValueError(f"histories[{label!r}] must be a dict with at least a 'loss' array")
    return {str(k): v for k, v in histories.items()}


def plot_training_comparison(histories: Mapping[str, Mapping], *,
                             title: str = "Deep networks: training curves", smooth: int = 10) -> Figure:
    """Two panels: loss per step and training accuracy per epoch, one line per run.

    Args:
        histories: ``{label: {"loss": (steps,), "train_acc": (epochs,)}}`` (``optim.train``'s).
        title: the figure's title.
        smooth: moving-average window of the loss, in steps.
    """
    histories = _histories(histories)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    for label, h in histories.items():
        loss = np.asarray(h["loss"], dtype=np.float64)
        ax_loss.plot(np.arange(loss.size), _smooth(loss, smooth), label=label)
        acc = np.asarray(h.get("train_acc", []), dtype=np.float64)
        if acc.size:
            ax_acc.plot(np.arange(1, acc.size + 1), 100.0 * acc, "-o", label=label)
    ax_loss.set(title="loss", xlabel="step (minibatch update)", ylabel="loss (cross-entropy, nats)")
    ax_acc.set(title="training accuracy", xlabel="epoch", ylabel="accuracy (%)", ylim=(0, 100))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_clipping_comparison(histories: Mapping[str, Mapping], *, max_norm: float | None = None,
                             title: str = "Gradient clipping on an exploding setup") -> Figure:
    """Two panels: loss per step (log scale; a run that blew up stops, values above
    ``DISPLAY_CEILING`` are not drawn) and the raw gradient norm
    ``sqrt(sum_l ||dW^l||^2)`` per step (log scale), one line per run.

    Args:
        histories: ``{label: {"loss": (steps,), "grad_norms": (steps, L)}}`` (``optim.train``'s).
        max_norm: the clipping threshold, drawn as a dashed line when given.
        title: the figure's title.
    """
    histories = _histories(histories)
    fig, (ax_loss, ax_norm) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    for label, h in histories.items():
        loss = _drawable(np.asarray(h["loss"], dtype=np.float64))
        line, = ax_loss.plot(np.arange(loss.size), loss, label=label)
        if h.get("diverged") and np.isfinite(loss).any():
            last = int(np.flatnonzero(np.isfinite(loss))[-1])
            ax_loss.plot(last, loss[last], "x", color=line.get_color(), ms=10, mew=2,
                         label=f"{label}: blew up after step {last}")
        norms = np.asarray(h.get("grad_norms", np.empty((0, 1))), dtype=np.float64)
        if norms.size:
            with np.errstate(over="ignore", invalid="ignore"):
                total = np.sqrt(np.sum(norms ** 2, axis=1))
            ax_norm.plot(np.arange(total.size), _drawable(total), label=label)
    if max_norm is not None:
        ax_norm.axhline(max_norm, color="k", ls="--", lw=1, label=f"max_norm = {max_norm:g}")
    ax_loss.set_yscale("log")
    ax_norm.set_yscale("log")
    ax_loss.set(title="loss", xlabel="step (minibatch update)", ylabel="loss (cross-entropy, nats, log scale)")
    ax_norm.set(title="gradient norm before clipping", xlabel="step (minibatch update)",
                ylabel="sqrt(sum_l ||dW^l||^2) (log scale)")
    for ax in (ax_loss, ax_norm):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
