"""Vanishing and exploding gradients, live: depth, activation, initialization and clipping.

Three panels, one figure:

1. The chain product ``dx_n/dx = prod_i dx_i/dx_{i-1}`` for the lecture's factors: 0.25 (the
   sigmoid at its steepest), 0.01 (a saturated sigmoid) and 1.1 (``1.1^100 = 13780.6``), with
   the current depth n marked on each curve.
2. ``||dW^l||`` per layer on a log scale for a freshly initialized net (one softmax-loss
   backward on a fixed random batch), raw and after ``clip_gradients`` with the clip level.
3. Histograms of the activations of up to five hidden layers, stacked, with each layer's std
   and the fraction of saturated (sigmoid / tanh) or inactive (ReLU) units.

Every number comes from ``backprop_lib`` (``init_mlp``, ``mlp_loss``, ``layer_gradient_norms``,
``clip_gradients``, ``activation_statistics``, ``chain_product_curves``); a setting's numbers
are computed once (a few ms) and cached, so a redraw is mostly rendering.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from backprop_lib.diagnostics import (
    activation_statistics,
    chain_product,
    chain_product_curves,
    clip_gradients,
    global_norm,
    layer_gradient_norms,
)
from backprop_lib.mlp import init_mlp, mlp_loss

from .live import Control, LiveFigure, one_blas_thread, plain_linear_axis, plain_log_axis, sup

WIDTH = 64          # units per hidden layer (and input size of the probe batch)
N_CLASSES = 10
N_PROBE = 128       # examples in the probe batch
SEED = 0
MAX_CHAIN = 100     # the chain-product panel runs to n = 100 (the lecture's 1.1^100)
CHAIN_FACTORS = (0.25, 0.01, 1.1)
HIST_LAYERS = 5     # histograms of at most this many hidden layers, first to last
HIST_BINS = 40
OFF = "off"

CONTROLS = (
    Control("depth", "depth L (layers)", tuple(range(2, 51)), 20),
    Control("activation", "activation", ("sigmoid", "tanh", "relu"), "sigmoid", widget="buttons"),
    Control("init", "initialization", ("small", "xavier", "he", "large"), "xavier", widget="buttons"),
    Control("clip", "clip global norm at", (OFF, 100.0, 10.0, 1.0, 0.1, 0.01), OFF),
)


@dataclass(frozen=True)
class FlowNumbers:
    """What the figure shows for one setting.

    Attributes:
        norms: ``||dW^l||`` for l = 1..L, shape (L,), raw gradients.
        clipped: the same after ``clip_gradients(grads, clip)``, shape (L,) (= norms when off).
        total: the global norm of all raw gradients (what clipping compares with the level).
        layers: the hidden layers whose histograms are drawn (1-based), shape (k,), k <= 5.
        counts: their histograms, shape (k, HIST_BINS), each scaled to a peak of 1.
        edges: the common bin edges, shape (HIST_BINS + 1,).
        std: std of each drawn layer's activations, shape (k,).
        saturated: fraction of saturated (ReLU: inactive) units per drawn layer, shape (k,).
    """

    norms: np.ndarray
    clipped: np.ndarray
    total: float
    layers: np.ndarray
    counts: np.ndarray
    edges: np.ndarray
    std: np.ndarray
    saturated: np.ndarray


@lru_cache(maxsize=1)
def probe_batch() -> tuple[np.ndarray, np.ndarray]:
    """The fixed batch every setting is measured on: X (N_PROBE, WIDTH), labels (N_PROBE,)."""
    rng = np.random.default_rng(SEED)
    return rng.standard_normal((N_PROBE, WIDTH)), rng.integers(0, N_CLASSES, size=N_PROBE)


def _histograms(activations: list[np.ndarray], activation: str) -> tuple[np.ndarray, np.ndarray]:
    """Peak-normalized counts (k, HIST_BINS) and common edges; ReLU: active units, log bins."""
    if activation == "sigmoid":
        edges = np.linspace(0.0, 1.0, HIST_BINS + 1)
        values = [A.ravel() for A in activations]
    elif activation == "tanh":
        edges = np.linspace(-1.0, 1.0, HIST_BINS + 1)
        values = [A.ravel() for A in activations]
    else:  # ReLU: the zeros are the inactive units (counted in the text); bin the rest in log
        values = [A[A > 0] for A in activations]
        pooled = [v for v in values if v.size]
        lo = min((np.quantile(v, 0.005) for v in pooled), default=1e-3)
        hi = max((np.quantile(v, 0.995) for v in pooled), default=1.0)
        edges = np.geomspace(lo, max(hi, 10.0 * lo), HIST_BINS + 1)
    counts = np.array([np.histogram(v, bins=edges)[0] for v in values], dtype=np.float64)
    peaks = counts.max(axis=1, keepdims=True)
    return counts / np.where(peaks > 0, peaks, 1.0), edges


@lru_cache(maxsize=1024)
def flow_numbers(depth: int, activation: str, init: str, clip: float | str) -> FlowNumbers:
    """The numbers of one setting (cached): a net of ``depth`` layers, WIDTH units each."""
    X, y = probe_batch()
    with one_blas_thread():
        params = init_mlp([WIDTH] * depth + [N_CLASSES], init=init, seed=SEED)
        _, grads = mlp_loss(params, X, y, activation=activation, loss="softmax")
        norms = layer_gradient_norms(grads)
        clipped = norms if clip == OFF else layer_gradient_norms(clip_gradients(grads, float(clip)))
        stats = activation_statistics(params, X, activation=activation)
    n_hidden = depth - 1
    layers = np.unique(np.linspace(1, n_hidden, min(n_hidden, HIST_LAYERS)).round().astype(int))
    counts, edges = _histograms([stats["activations"][l - 1] for l in layers], activation)
    return FlowNumbers(norms=norms, clipped=clipped, total=global_norm(grads), layers=layers,
                       counts=counts, edges=edges, std=stats["std"][layers - 1],
                       saturated=stats["saturated"][layers - 1])


def _sci(v: float) -> str:
    """``3.1e-05`` style, short for a slide."""
    return f"{v:.2g}" if 1e-2 <= abs(v) < 1e4 else f"{v:.1e}"


class GradientFlowFigure(LiveFigure):
    """The vanishing / exploding figure; knobs ``depth``, ``activation``, ``init``, ``clip``."""

    controls = CONTROLS

    def _build(self) -> Figure:
        fig = Figure(figsize=(18, 7.2), dpi=72)
        fig.subplots_adjust(left=0.05, right=0.91, bottom=0.12, top=0.82, wspace=0.32)
        self.ax_chain, self.ax_norm, self.ax_hist = fig.subplots(1, 3)
        self.title = fig.suptitle("")
        # 1. the chain product, fixed curves; the depth marker moves
        ax = self.ax_chain
        curves = chain_product_curves(CHAIN_FACTORS, MAX_CHAIN)
        self.chain_markers = {}
        for factor, curve in curves.items():
            line, = ax.semilogy(np.arange(MAX_CHAIN + 1), curve, label=f"{factor:g}" + "\u207f")
            self.chain_markers[factor], = ax.plot([], [], "o", ms=12, color=line.get_color())
        big = chain_product(1.1, MAX_CHAIN)
        ax.annotate(f"1.1{sup(MAX_CHAIN)} = {big:.1f}", (MAX_CHAIN, big), xytext=(42, 1e-6),
                    arrowprops={"arrowstyle": "->"}, fontsize=16)
        self.chain_cursor = ax.axvline(0, color="0.4", ls=":", lw=2)
        self.chain_text = ax.text(0.03, 0.03, "", transform=ax.transAxes, va="bottom", fontsize=15,
                                  bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
        ax.set(title="chain product dx\u2099/dx", xlabel="n (layers)", ylabel="product of n factors",
               xlim=(0, MAX_CHAIN), ylim=(1e-105, 1e12))
        ax.legend(loc="center right")
        plain_log_axis(ax.yaxis)
        # 2. gradient norm per layer
        ax = self.ax_norm
        self.raw_line, = ax.semilogy([], [], "o:", color="0.55", lw=2, label="raw")
        self.norm_line, = ax.semilogy([], [], "o-", color="C3", label="\u2016dW\u02e1\u2016")
        self.clip_line = ax.axhline(1.0, color="C2", ls="--", lw=2.5, label="clip level")
        ax.set(title="gradient norm per layer", xlabel="layer l (1 = next to the input)",
               ylabel="\u2016dW\u02e1\u2016 (Frobenius, log scale)")
        plain_log_axis(ax.yaxis)
        # 3. stacked activation histograms, one baseline per drawn layer
        ax = self.ax_hist
        self.stairs, self.hist_texts = [], []
        for k in range(HIST_LAYERS):
            step = ax.stairs(np.full(HIST_BINS, float(k)), np.linspace(0, 1, HIST_BINS + 1), baseline=k,
                             fill=True, alpha=0.75, color=f"C{k}")
            self.stairs.append(step)
            self.hist_texts.append(ax.text(1.02, k + 0.45, "", transform=ax.get_yaxis_transform(),
                                           fontsize=14, va="center", ha="left", clip_on=False))
        ax.set(title="activations per layer", ylim=(-0.1, HIST_LAYERS))
        plain_linear_axis(ax.xaxis)
        plain_linear_axis(self.ax_norm.xaxis)
        ax.grid(False)
        return fig

    def _dynamic_artists(self) -> list[Any]:
        """The title, the norm and histogram panels, the chain panel's cursor; the rest once."""
        return [self.title, self.ax_norm, self.ax_hist, self.chain_cursor, self.chain_text,
                *self.chain_markers.values()]

    def _draw(self, s: dict[str, Any]) -> None:
        depth, activation, init, clip = s["depth"], s["activation"], s["init"], s["clip"]
        nums = flow_numbers(depth, activation, init, clip)
        # 1. chain product at n = depth
        for factor, marker in self.chain_markers.items():
            marker.set_data([depth], [chain_product(factor, depth)])
        self.chain_cursor.set_xdata([depth, depth])
        self.chain_text.set_text(f"n = {depth}\n" + "\n".join(
            f"{f:g}{sup(depth)} = {_sci(chain_product(f, depth))}" for f in CHAIN_FACTORS))
        # 2. per-layer gradient norms, raw (dotted, only when clipping changes them) and clipped
        layers = np.arange(1, depth + 1)
        self.norm_line.set_data(layers, nums.clipped)
        clipping = clip != OFF and nums.total > float(clip)
        self.raw_line.set_data(layers, nums.norms)
        self.raw_line.set_visible(clipping)
        self.clip_line.set_visible(clip != OFF)
        # hidden artists still steer the legend's "best" spot: give them this setting's data too
        self.clip_line.set_ydata([float(clip) if clip != OFF else nums.norms.max()] * 2)
        shown = np.concatenate([nums.norms, nums.clipped] + ([[float(clip)]] if clip != OFF else []))
        lo, hi = np.log10(shown.min()), np.log10(shown.max())
        pad = max(0.5, 0.08 * (hi - lo))
        self.ax_norm.set_ylim(10 ** (lo - pad), 10 ** (hi + pad))
        self.ax_norm.set_xlim(0.5, depth + 0.5)
        ratio = nums.norms[0] / nums.norms[-1]
        verdict = (f"clipped: x{float(clip) / nums.total:.1e}" if clipping else
                   "under the clip level" if clip != OFF else "no clipping")
        self.ax_norm.set_title(f"gradient norm per layer ({verdict})")
        self.ax_norm.legend(handles=[a for a in (self.raw_line, self.norm_line, self.clip_line)
                                     if a.get_visible()], loc="best")
        # 3. histograms
        log_x = activation == "relu"
        if log_x != (self.ax_hist.get_xscale() == "log"):
            self.ax_hist.set_xscale("log" if log_x else "linear")
            if log_x:
                plain_log_axis(self.ax_hist.xaxis, numticks=5)
            else:
                plain_linear_axis(self.ax_hist.xaxis)
        self.ax_hist.set_xlim(nums.edges[0], nums.edges[-1])
        self.ax_hist.set_xlabel("activation a (active units, log scale)" if log_x else "activation a")
        what = "inactive" if activation == "relu" else "saturated"
        for k, (step, text) in enumerate(zip(self.stairs, self.hist_texts)):
            if k < nums.layers.size:
                step.set_data(k + 0.9 * nums.counts[k], nums.edges, baseline=k)
                text.set_text(f"std {_sci(nums.std[k])}\n{nums.saturated[k]:.0%} {what}")
            step.set_visible(k < nums.layers.size)
            text.set_visible(k < nums.layers.size)
        self.ax_hist.set_yticks(np.arange(nums.layers.size) + 0.4, [f"layer {l}" for l in nums.layers])
        self.title.set_text(f"{activation}, {init} init, L = {depth}:  "
                            f"\u2016dW\u00b9\u2016 = {_sci(nums.norms[0])},  \u2016dW\u1d38\u2016 = {_sci(nums.norms[-1])},  "
                            f"ratio = {_sci(ratio)}")
