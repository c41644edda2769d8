"""The student release's public checks name the mistake before the student submits
(CURRICULUM.md, "What grading promises"): each plant below puts one named mistake into the
function a public check cell of `notebooks/<a>/<a>.ipynb` calls, runs that cell (after the
release's imports and given cells, with the reference library's functions standing in for
the student's other answers), and sees the FAIL line print the mistake's name. The wrong
answers come from the check's own fixed expected numbers (`backprop_lib.checks`), never
from reference code: the release holds none.

Also: a FAIL line of `check_true` never repeats the passing sentence, and an input that an
earlier call changed in place is reported by the check right after that call.
"""
from __future__ import annotations

import contextlib
import io
import numpy as np
import pytest

from backprop_lib import layers, optim, diagnostics, mlp
from backprop_lib.validate import check_grad_shape
from fixtures.release_cells import MODULES, release_namespace

def _run(assignment: str, cell: str, **plant) -> str:
    ns, tests = release_namespace(assignment)
    ns.update(plant)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        with pytest.raises(AssertionError):
            exec(compile(tests[cell], cell, "exec"), ns)  # noqa: S102
    return out.getvalue()


def _affine_backward(dx=lambda dout, W: dout @ W, dW=lambda dout, x: dout.T @ x, db=lambda dout: dout.sum(axis=0)):
    def affine_backward(dout, cache):
        x, W = cache
        return dx(dout, W), dW(dout, x), db(dout)
    return affine_backward


PLANTS = [
    ("missing_transpose", "a2_vectorized", "test_affine",
     {"affine_backward": _affine_backward(dW=lambda dout, x: x.T @ dout)}),
    ("wrong_sign", "a2_vectorized", "test_affine",
     {"affine_backward": _affine_backward(dx=lambda dout, W: -(dout @ W))}),
    ("bias_not_summed", "a2_vectorized", "test_affine",
     {"affine_backward": _affine_backward(db=lambda dout: dout)}),
    ("missing_mean", "a2_vectorized", "test_softmax_loss",
     {"softmax_loss": lambda s, y: (layers.softmax_loss(s, y)[0], layers.softmax_loss(s, y)[1] * len(s))}),
    ("extra_mean", "a2_vectorized", "test_mse_loss",
     {"mse_loss": lambda p, t: (layers.mse_loss(p, t)[0], layers.mse_loss(p, t)[1] / len(p))}),
    ("missing_transpose", "a3_mlp", "test_mlp_backward",
     {"mlp_backward": lambda dY, cache: {k: (g.T if k.startswith("W") else g)
                                          for k, g in mlp.mlp_backward(dY, cache).items()}}),
]


@pytest.mark.parametrize("mistake, assignment, cell, plant", PLANTS,
                         ids=[f"{p[1]}-{p[0]}" for p in PLANTS])
def test_public_check_prints_the_mistake_name(mistake, assignment, cell, plant):
    printed = _run(assignment, cell, **plant)
    fail = [line for line in printed.splitlines() if line.startswith("FAIL")]
    assert fail and f"({mistake})" in fail[-1], printed


def test_a_shape_error_raised_by_the_library_is_named_too():
    def affine_backward(dout, cache):
        x, W = cache
        return dout @ W, check_grad_shape(x.T @ dout, W, "dW"), dout.sum(axis=0)
    printed = _run("a2_vectorized", "test_affine", affine_backward=affine_backward)
    assert "FAIL affine_backward" in printed and "(missing_transpose)" in printed, printed


def test_the_correct_release_functions_pass_every_public_check():
    for assignment in MODULES:
        ns, tests = release_namespace(assignment)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for cell, code in tests.items():
                exec(compile(code, cell, "exec"), dict(ns))  # noqa: S102
        assert "FAIL" not in out.getvalue(), out.getvalue()


def test_in_place_inputs_fail_where_they_happen_and_say_what_changed():
    def sgd(w, dw, config=None):
        config = dict(config or {})
        config.setdefault("learning_rate", 1e-2)
        w -= config["learning_rate"] * dw
        return w, config
    printed = _run("a4_momentum", "test_sgd", sgd=sgd)
    assert "FAIL sgd leaves w alone: sgd changed the w it was given" in printed, printed

    def sgd_momentum(w, dw, config=None):
        config = dict(config or {})
        lr, mu = config.setdefault("learning_rate", 1e-2), config.setdefault("momentum", 0.9)
        v = config.get("velocity")
        v = np.zeros_like(w) if v is None else v
        v *= mu
        v += dw
        config["velocity"] = v
        return w - lr * v, config
    printed = _run("a4_momentum", "test_sgd_momentum", sgd_momentum=sgd_momentum)
    fail = [line for line in printed.splitlines() if line.startswith("FAIL")]
    assert fail == [fail[0]] and "the caller's velocity" in fail[0] and "leaves w, dw" in fail[0], printed

    def clip_gradients(grads, max_norm):
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
        for g in grads.values():
            g *= min(1.0, max_norm / total)
        return grads
    printed = _run("a5_vanishing", "test_clip_gradients", clip_gradients=clip_gradients)
    fail = [line for line in printed.splitlines() if line.startswith("FAIL")]
    assert len(fail) == 1 and "leaves its input alone" in fail[0] and "changed its input in place" in fail[0], printed


def test_check_true_fail_line_does_not_read_like_a_pass():
    from backprop_lib.checks import check_true

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(AssertionError):
        check_true("x restored", False, "x is unchanged after the call")
    assert out.getvalue().strip() == "FAIL x restored: expected: x is unchanged after the call; that does not hold"


def test_optim_and_diagnostics_are_the_reference_here():
    assert optim.sgd and diagnostics.clip_gradients  # the modules the plants stand beside
