"""Plots return Figures with the expected axes, scales and lines, drawn from given arrays."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from backprop_lib import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_backend_is_non_interactive_without_display():
    assert matplotlib.get_backend().lower() == "agg"


def test_loss_curves_one_line_per_run_with_labels():
    fig = plots.plot_loss_curves({"momentum 0": np.linspace(2, 1, 50), "momentum 0.9": np.linspace(2, 0.1, 50)},
                                 log=True, smooth=5)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2 and ax.get_yscale() == "log"
    assert "step" in ax.get_xlabel() and "loss" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["momentum 0", "momentum 0.9"]


def test_smoothing_is_a_trailing_moving_average():
    fig = plots.plot_loss_curves({"a": np.array([0.0, 2.0, 4.0, 6.0])}, smooth=2)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.0, 1.0, 3.0, 5.0])


def test_momentum_paths_on_contours():
    w0, w1 = np.meshgrid(np.linspace(-4, 4, 30), np.linspace(-2, 2, 20))
    grid = (w0, w1, 0.5 * (w0 ** 2 + 25 * w1 ** 2))
    path = np.array([[-4.0, 1.5], [-3.0, -1.0], [0.0, 0.0]])
    fig = plots.plot_momentum_paths({"momentum 0.9": path}, grid)
    (ax,) = fig.axes
    np.testing.assert_allclose(ax.get_lines()[0].get_xydata(), path)
    assert ax.collections, "no contour drawn"
    with pytest.raises(ValueError, match=r"\(T \+ 1, 2\)"):
        plots.plot_momentum_paths({"bad": np.zeros((3, 3))}, grid)


def test_gradient_norms_log_scale_layers_from_one():
    norms = {"sigmoid": np.geomspace(1e-12, 1, 20), "relu": np.ones(20)}
    fig = plots.plot_gradient_norms(norms)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(1, 21))
    assert "layer" in ax.get_xlabel() and "dW" in ax.get_ylabel()


def test_activation_histograms_one_panel_per_layer_up_to_max():
    acts = [np.random.default_rng(i).random((50, 8)) for i in range(12)]
    fig = plots.plot_activation_histograms(acts, value_range=(0, 1), max_layers=10)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 10
    assert visible[0].get_title().startswith("layer 1") and visible[-1].get_title().startswith("layer 12")
    assert len(visible[0].patches) == 40


def test_chain_products_log_scale_and_annotation():
    curves = {0.25: 0.25 ** np.arange(101), 1.1: 1.1 ** np.arange(101)}
    fig = plots.plot_chain_products(curves)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 3   # two curves + the line at 1
    assert any("1.38e+04" in t.get_text() for t in ax.texts)


def test_training_comparison_two_panels_accuracy_in_percent():
    h = {"loss": np.linspace(2.3, 0.5, 40), "train_acc": np.array([0.3, 0.6, 0.9])}
    fig = plots.plot_training_comparison({"relu": h, "sigmoid": {"loss": np.full(40, 2.3), "train_acc": [0.1] * 3}})
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.get_lines()) == 2 and "%" in ax_acc.get_ylabel()
    np.testing.assert_allclose(ax_acc.get_lines()[0].get_ydata(), [30.0, 60.0, 90.0])


def test_clipping_comparison_survives_inf_and_nan_and_marks_the_blow_up():
    blown = {"loss": np.array([2.0, 5.0, 1e284, np.nan, np.nan]),
             "grad_norms": np.array([[1.0, 2.0], [10.0, 20.0], [1e200, np.inf], [np.nan] * 2, [np.nan] * 2]),
             "diverged": True}
    fine = {"loss": np.array([2.0, 1.5, 1.0, 0.8, 0.7]), "grad_norms": np.ones((5, 2)), "diverged": False}
    fig = plots.plot_clipping_comparison({"no clipping": blown, "clipping": fine}, max_norm=1.0)
    fig.canvas.draw()                           # must not overflow on the huge values
    ax_loss, ax_norm = fig.axes
    assert ax_loss.get_yscale() == ax_norm.get_yscale() == "log"
    assert any("blew up after step 1" in t.get_text() for t in ax_loss.get_legend().get_texts())
    np.testing.assert_allclose(ax_norm.get_lines()[1].get_ydata(), np.sqrt(2.0))


@pytest.mark.parametrize("call", [
    lambda: plots.plot_loss_curves({}),
    lambda: plots.plot_loss_curves({"a": np.zeros((2, 2))}),
    lambda: plots.plot_gradient_norms([1.0, 2.0]),
    lambda: plots.plot_activation_histograms([]),
    lambda: plots.plot_training_comparison({"a": {"acc": [1.0]}}),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_plots_imports_no_graded_module():
    import ast
    from pathlib import Path

    import backprop_lib

    tree = ast.parse(Path(backprop_lib.__file__).with_name("plots.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"__future__", "os", "sys", "collections.abc", "matplotlib", "matplotlib.pyplot",
                        "numpy", "matplotlib.figure", "matplotlib.ticker"}
