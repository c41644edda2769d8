"""SGD with momentum on the ill-conditioned bowl, live: three momenta side by side.

The bowl is assignment 4's ``f(w) = 0.5 * (w_0^2 + 25 w_1^2)`` (``optim.quadratic_loss``,
condition number 25) and the rule is the lecture's, ``v <- dw + beta * v``,
``w <- w - learning_rate * v`` (``optim.sgd_momentum``, run by ``optim.momentum_paths``).
Three path panels (default beta = 0 / 0.9 / 0.99, the lecture's comparison) over the bowl's
contours, and the loss ``f(w_t)`` of the three runs on one log-scale panel.

A run diverges when ``learning_rate * 25 > 2 (1 + beta)`` (the steep direction's step
overshoots more than momentum can absorb); the largest learning rates on the slider do so on
purpose, and the panel says so in red. Paths are cached per (beta, learning rate, steps).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from backprop_lib.optim import momentum_paths, quadratic_loss

from .live import Control, LiveFigure, plain_linear_axis, plain_log_axis, sub

CURVATURES = (1.0, 25.0)
START = (-4.0, 1.5)
VIEW = ((-5.0, 5.0), (-2.5, 2.5))   # (w_0 range, w_1 range) of the path panels
LOSS_FLOOR = 1e-300                 # a loss of exactly 0 cannot sit on a log axis
BETAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99)
LEARNING_RATES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1)
PANELS = ("beta_left", "beta_middle", "beta_right")

CONTROLS = (
    Control("beta_left", "\u03b2 left", BETAS, 0.0),
    Control("learning_rate", "learning rate \u03b7", LEARNING_RATES, 0.02),
    Control("beta_middle", "\u03b2 middle", BETAS, 0.9),
    Control("steps", "steps", (20, 50, 100, 200, 300), 100),
    Control("beta_right", "\u03b2 right", BETAS, 0.99),
)


@lru_cache(maxsize=2048)
def path_and_loss(beta: float, learning_rate: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """One momentum run from START: path of shape (steps + 1, 2) and its loss, shape (steps + 1,)."""
    path = momentum_paths(momenta=(beta,), steps=steps, learning_rate=learning_rate,
                          start=START, curvatures=CURVATURES)[beta]
    return path, quadratic_loss(path, CURVATURES)


def diverges(beta: float, learning_rate: float) -> bool:
    """True when the steep direction is unstable: ``learning_rate * 25 > 2 (1 + beta)``."""
    return learning_rate * CURVATURES[1] > 2.0 * (1.0 + beta)


class MomentumFigure(LiveFigure):
    """Paths for three momenta and their loss curves; knobs in ``CONTROLS``."""

    controls = CONTROLS

    def _build(self) -> Figure:
        fig = Figure(figsize=(18, 9.6), dpi=72)
        grid = fig.add_gridspec(2, 3, height_ratios=(1.0, 0.85), left=0.07, right=0.985,
                                bottom=0.08, top=0.86, wspace=0.18, hspace=0.42)
        self.title = fig.suptitle("")
        w0, w1 = np.meshgrid(np.linspace(*VIEW[0], 201), np.linspace(*VIEW[1], 121))
        F = quadratic_loss(np.stack([w0, w1], axis=-1), CURVATURES)
        self.path_axes, self.path_lines, self.notes = [], [], []
        for k in range(3):
            ax = fig.add_subplot(grid[0, k])
            ax.contour(w0, w1, F, levels=np.geomspace(0.05, F.max(), 12), colors="0.75", linewidths=1.2)
            ax.plot(*START, "ks", ms=10)
            ax.plot(0.0, 0.0, "k*", ms=18)
            line, = ax.plot([], [], "-o", color=f"C{k}", ms=4, lw=2.2)
            self.notes.append(ax.text(0.03, 0.04, "", transform=ax.transAxes, fontsize=16,
                                      color="#b71c1c", fontweight="bold", zorder=5,
                                      bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": "#b71c1c"}))
            ax.set(xlim=VIEW[0], ylim=VIEW[1], xlabel="w\u2080 (shallow)")
            ax.grid(False)
            self.path_axes.append(ax)
            self.path_lines.append(line)
        self.path_axes[0].set_ylabel("w\u2081 (steep)")
        self.ax_loss = fig.add_subplot(grid[1, :])
        self.loss_lines = [self.ax_loss.semilogy([], [], color=f"C{k}")[0] for k in range(3)]
        self.ax_loss.set(xlabel="step t", ylabel="loss f(w\u209c) (log scale)",
                         title="loss along each path")
        plain_log_axis(self.ax_loss.yaxis)
        plain_linear_axis(self.ax_loss.xaxis)
        return fig

    def _dynamic_artists(self) -> list[Any]:
        """Paths, notes, titles and the whole loss panel; the contours are drawn once."""
        return [self.title, self.ax_loss, *self.path_lines, *self.notes,
                *(ax.title for ax in self.path_axes)]

    def _draw(self, s: dict[str, Any]) -> None:
        lr, steps = s["learning_rate"], s["steps"]
        worst, best = 0.0, np.inf
        for k, name in enumerate(PANELS):
            beta = s[name]
            path, loss = path_and_loss(beta, lr, steps)
            self.path_lines[k].set_data(path[:, 0], path[:, 1])
            loss = np.maximum(loss, LOSS_FLOOR)
            self.loss_lines[k].set_data(np.arange(loss.size), loss)
            self.loss_lines[k].set_label(f"\u03b2 = {beta:g}")
            worst, best = max(worst, loss.max()), min(best, loss.min())
            self.path_axes[k].set_title(f"\u03b2 = {beta:g}:  f(w{sub(steps)}) = {loss[-1]:.1e}")
            self.notes[k].set_text(
                f"diverges: \u03b7\u00b725 = {lr * CURVATURES[1]:.2f} > 2(1 + \u03b2) = {2 * (1 + beta):.2f}"
                if diverges(beta, lr) else "")
        self.ax_loss.set_xlim(0, steps)
        self.ax_loss.set_ylim(best / 10.0, worst * 10.0)
        self.ax_loss.legend(loc="upper right", ncols=3)
        self.title.set_text(f"v \u2190 dw + \u03b2 v,   w \u2190 w \u2212 \u03b7 v   on   "
                            f"f(w) = \u00bd (w\u2080\u00b2 + 25 w\u2081\u00b2),   \u03b7 = {lr:g},  {steps} steps")

