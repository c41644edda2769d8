"""Every knob of every lecture figure, driven over its whole range through the same callbacks
the notebooks' widgets call: the figure's data changes at every step and stays finite, the
deliberate divergence is written on the figure, and the defaults show the lecture's numbers."""
from __future__ import annotations

import numpy as np
import pytest

from lectures import live
from lectures.circuits import CircuitExample, NeuronExample, SoftplusExample
from lectures.gradient_flow import GradientFlowFigure, flow_numbers
from lectures.momentum_bowl import PANELS, MomentumFigure, diverges

DEMOS = [GradientFlowFigure, MomentumFigure, CircuitExample, NeuronExample, SoftplusExample]


def _texts(demo: live.LiveFigure) -> str:
    return "\n".join(v for v in live.figure_data(demo.fig).values() if isinstance(v, str))


def _is_png(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.fixture(scope="module", params=DEMOS, ids=lambda c: c.__name__)
def demo(request):
    return request.param()


def test_every_control_over_its_whole_range_changes_the_figure_and_stays_finite(demo):
    for control in demo.controls:
        # start at the far end so the first step is a change too, then walk the whole range
        demo.set(**{control.name: control.values[-1]})
        before = live.figure_data(demo.fig)
        for value in control.values:
            demo.set(**{control.name: value})
            after = live.figure_data(demo.fig)
            assert live.changed(before, after), f"{control.name}={value!r} changed nothing on the figure"
            bad = live.non_finite(after)
            assert not bad, f"{control.name}={value!r}: non-finite data in {bad}"
            before = after
        for end in (control.values[0], control.values[-1]):  # both ends render
            assert _is_png(demo.redraw(**{control.name: end}))
        demo.set(**{control.name: control.default})


def test_the_figure_is_updated_in_place_not_replaced(demo):
    fig, axes, first = demo.fig, list(demo.fig.axes), demo.render_png()
    control = demo.controls[0]
    other = next(v for v in control.values if v != demo.settings[control.name])
    second = demo.redraw(**{control.name: other})
    assert demo.fig is fig and list(demo.fig.axes) == axes
    assert second != first
    assert demo.redraw(**{control.name: control.default}) == first  # back at the default
    assert demo.render_png() == first  # the very same picture, so a cached PNG is a true one


def test_unknown_control_or_value_is_refused(demo):
    with pytest.raises(live.LectureError, match="no control"):
        demo.set(volume=11)
    control = demo.controls[0]
    with pytest.raises(live.LectureError, match="not one of"):
        demo.set(**{control.name: "not a value"})


def test_widgets_call_the_callback_and_swap_the_image():
    demo = CircuitExample()
    box = live.show(demo, display=False)
    assert set(box.controls) == {"x", "y", "z"}
    before = box.image.value
    assert _is_png(before)
    box.controls["z"].value = 2.0  # what dragging the slider does
    assert demo.settings["z"] == 2.0 and box.image.value != before
    assert ("f", "6.00", "1.00") in demo.labels()  # (-2 + 5) * 2


def test_vanishing_defaults_show_the_lectures_numbers():
    demo = GradientFlowFigure()
    texts = _texts(demo)
    assert "1.1\u00b9\u2070\u2070 = 13780.6" in texts           # 1.1^100 = 13780.6
    assert "0.25\u00b2\u2070 = 9.1e-13" in texts                  # 0.25^20 at the default depth 20
    assert "0.01\u00b2\u2070 = 1.0e-40" in texts
    nums = flow_numbers(20, "sigmoid", "xavier", "off")
    # the deep sigmoid net's first layer gets ~0.25^19 of the last layer's gradient
    assert 1e-14 < nums.norms[0] / nums.norms[-1] < 1e-11
    relu = flow_numbers(20, "relu", "he", "off")
    assert 0.1 < relu.norms[0] / relu.norms[-1] < 10


def test_clipping_bounds_every_layer_and_says_by_how_much():
    demo = GradientFlowFigure()
    demo.set(activation="relu", init="large", clip=1.0)
    nums = flow_numbers(20, "relu", "large", 1.0)
    assert nums.total > 1e14 and np.all(nums.clipped <= 1.0 + 1e-9)
    assert np.allclose(nums.clipped / nums.norms, 1.0 / nums.total)  # one common factor
    assert "clipped: x" in demo.ax_norm.get_title() and demo.raw_line.get_visible()


def test_momentum_defaults_are_the_lectures_comparison():
    demo = MomentumFigure()
    assert [demo.settings[p] for p in PANELS] == [0.0, 0.9, 0.99]
    titles = [ax.get_title() for ax in demo.path_axes]
    assert titles[0].startswith("\u03b2 = 0:") and titles[2].startswith("\u03b2 = 0.99:")
    final = [float(t.rsplit("= ", 1)[1]) for t in titles]
    assert final[1] < final[0] and final[1] < final[2]  # 0.9 ends lowest after 100 steps
    assert all(note.get_text() == "" for note in demo.notes)


def test_divergence_is_shown_on_purpose_and_said_on_the_figure():
    demo = MomentumFigure()
    demo.set(learning_rate=0.1, beta_left=0.0, beta_middle=0.5, steps=300)
    assert diverges(0.0, 0.1) and not diverges(0.5, 0.1)
    assert "diverges" in demo.notes[0].get_text() and demo.notes[1].get_text() == ""
    loss = demo.loss_lines[0].get_ydata()
    assert loss[-1] > 1e40 * loss[0] and np.all(np.isfinite(loss))  # huge, still drawable
    assert not live.non_finite(live.figure_data(demo.fig))


def test_circuit_defaults_are_the_lectures_numbers():
    labels = {name: (value, grad) for name, value, grad in CircuitExample().labels()}
    assert labels["x"] == ("-2.00", "-4.00") and labels["y"] == ("5.00", "-4.00")
    assert labels["z"] == ("-4.00", "3.00") and labels["q"] == ("3.00", "-4.00")
    assert labels["f"] == ("-12.00", "1.00")


def test_neuron_defaults_are_the_lectures_numbers():
    demo = NeuronExample()
    labels = {name: (value, grad) for name, value, grad in demo.labels()}
    assert labels["f"][0] == "0.73"
    assert [labels[f"w{i}"][1] for i in range(3)] == ["-0.20", "-0.39", "0.20"]
    assert [labels[f"x{i}"][1] for i in range(2)] == ["0.39", "-0.59"]
    assert "(1 - f) f = 0.20" in demo.summary.get_text() and "the same" in demo.summary.get_text()


def test_softplus_backprop_matches_the_formula_everywhere():
    demo = SoftplusExample()
    for x in demo.control("x").values:
        demo.set(x=x)
        grad = dict((n, g) for n, _, g in demo.labels())["x"]
        assert grad == f"{-np.exp(-x) / (1 + np.exp(-x)):.2f}"
