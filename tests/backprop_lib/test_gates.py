"""backprop_lib.gates: the lecture's numbers through the gate API, every backward against
centered differences on floats and elementwise on arrays, and the nicknames' behaviour."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_lib import gates
from backprop_lib.checks import norm_rel_error
from backprop_lib.gates import (
    AddGate,
    CopyGate,
    ExpGate,
    LogGate,
    MaxGate,
    MultiplyGate,
    OffsetGate,
    ReciprocalGate,
    ScaleGate,
    SigmoidGate,
)

FAST = settings(max_examples=15, deadline=None)
H = 1e-5

# (factory, number of inputs, domain of the inputs)
ONE_INPUT = {
    "exp": (ExpGate, (-3.0, 3.0)),
    "reciprocal": (ReciprocalGate, (0.2, 4.0)),
    "scale": (lambda: ScaleGate(-1.7), (-3.0, 3.0)),
    "offset": (lambda: OffsetGate(2.5), (-3.0, 3.0)),
    "sigmoid": (SigmoidGate, (-5.0, 5.0)),
    "log": (LogGate, (0.2, 4.0)),
}
TWO_INPUTS = {"add": AddGate, "multiply": MultiplyGate, "max": MaxGate}


def _numerical(f, inputs, i):
    """d f / d inputs[i] by centered differences (elementwise gates: the Jacobian is diagonal)."""
    plus, minus = list(inputs), list(inputs)
    plus[i], minus[i] = inputs[i] + H, inputs[i] - H
    return (f(*plus) - f(*minus)) / (2 * H)


# ----------------------------------------------------------------------------- lecture numbers
def test_circuit_through_gates_matches_lecture():
    add, mul = AddGate(), MultiplyGate()
    q = add.forward(-2.0, 5.0)
    f = mul.forward(q, -4.0)
    assert (q, f) == (3.0, -12.0)
    dq, dz = mul.backward(1.0)
    dx, dy = add.backward(dq)
    assert (dx, dy, dz) == (-4.0, -4.0, 3.0)


@pytest.mark.parametrize("use_sigmoid_gate", [False, True])
def test_neuron_through_gates_matches_lecture(use_sigmoid_gate):
    w, x = (2.0, -3.0, -3.0), (-1.0, -2.0)
    m0, m1, a0, a1 = MultiplyGate(), MultiplyGate(), AddGate(), AddGate()
    z = a1.forward(a0.forward(m0.forward(w[0], x[0]), m1.forward(w[1], x[1])), w[2])
    assert z == 1.0
    chain = [SigmoidGate()] if use_sigmoid_gate else [ScaleGate(-1), ExpGate(), OffsetGate(1), ReciprocalGate()]
    out = z
    for gate in chain:
        out = gate.forward(out)
    assert round(float(out), 2) == 0.73
    dz = 1.0
    for gate in reversed(chain):
        (dz,) = gate.backward(dz)
    assert round(float(dz), 2) == 0.20  # (1 - 0.73) * 0.73
    d_dot, dw2 = a1.backward(dz)
    dm0, dm1 = a0.backward(d_dot)
    dw0, dx0 = m0.backward(dm0)
    dw1, dx1 = m1.backward(dm1)
    np.testing.assert_allclose(np.round([dw0, dw1, dw2], 2), [-0.20, -0.39, 0.20])
    np.testing.assert_allclose(np.round([dx0, dx1], 2), [0.39, -0.59])


def test_sigmoid_gate_equals_the_chain_of_primitive_gates():
    for z in (-3.0, 0.0, 1.0, 4.5):
        chain = [ScaleGate(-1), ExpGate(), OffsetGate(1), ReciprocalGate()]
        s = z
        for gate in chain:
            s = gate.forward(s)
        d = 1.0
        for gate in reversed(chain):
            (d,) = gate.backward(d)
        sig = SigmoidGate()
        assert sig.forward(z) == pytest.approx(s, rel=1e-14)
        assert sig.backward(1.0)[0] == pytest.approx(d, rel=1e-12)


# ----------------------------------------------------------------------------- nicknames
def test_add_distributes_mul_swaps_max_routes_copy_adds():
    add = AddGate()
    add.forward(1.0, 2.0)
    assert add.backward(3.0) == (3.0, 3.0)
    mul = MultiplyGate()
    mul.forward(3.0, -4.0)
    assert mul.backward(2.0) == (-8.0, 6.0)
    mx = MaxGate()
    assert mx.forward(4.0, 2.0) == 4.0
    assert tuple(map(float, mx.backward(2.0))) == (2.0, 0.0)
    mx.forward(-1.0, 5.0)
    assert tuple(map(float, mx.backward(2.0))) == (0.0, 2.0)
    cp = CopyGate()
    assert cp.forward(7.0) == (7.0, 7.0)
    assert cp.backward(2.0, -0.5) == (1.5,)


def test_max_gate_tie_sends_gradient_to_first_input():
    mx = MaxGate()
    mx.forward(2.0, 2.0)
    assert tuple(map(float, mx.backward(1.0))) == (1.0, 0.0)
    mx.forward(np.array([1.0, 3.0, 2.0]), np.array([1.0, 1.0, 5.0]))
    dx, dy = mx.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(dx, [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(dy, [0.0, 0.0, 3.0])


@pytest.mark.parametrize("gate", [g() for g in TWO_INPUTS.values()] + [f() for f, _ in ONE_INPUT.values()]
                         + [CopyGate()])
def test_backward_returns_a_tuple_with_one_gradient_per_input(gate):
    if isinstance(gate, CopyGate):
        gate.forward(1.5)
        grads = gate.backward(1.0, 1.0)
        n_inputs = 1
    elif type(gate).__name__ in {"AddGate", "MultiplyGate", "MaxGate"}:
        gate.forward(1.5, 0.5)
        grads, n_inputs = gate.backward(1.0), 2
    else:
        gate.forward(1.5)
        grads, n_inputs = gate.backward(1.0), 1
    assert isinstance(grads, tuple) and len(grads) == n_inputs


# ----------------------------------------------------------------------------- numerical gradients
@pytest.mark.parametrize("name", sorted(ONE_INPUT))
@FAST
@given(data=st.data())
def test_one_input_gates_match_numerical_on_floats_and_arrays(name, data):
    factory, (lo, hi) = ONE_INPUT[name]
    x = data.draw(st.floats(lo, hi))
    dout = data.draw(st.floats(-2.0, 2.0))
    gate = factory()
    gate.forward(x)
    (dx,) = gate.backward(dout)
    assert dx == pytest.approx(dout * _numerical(lambda v: factory().forward(v), [x], 0), rel=1e-6, abs=1e-9)
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    xs = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, hi)))
    douts = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0)))
    gate = factory()
    out = gate.forward(xs)
    assert out.shape == xs.shape
    (dxs,) = gate.backward(douts)
    assert dxs.shape == xs.shape
    expected = douts * _numerical(lambda v: factory().forward(v), [xs], 0)
    assert norm_rel_error(dxs, expected) < 1e-6


@pytest.mark.parametrize("name", sorted(TWO_INPUTS))
@FAST
@given(data=st.data())
def test_two_input_gates_match_numerical_elementwise(name, data):
    factory = TWO_INPUTS[name]
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=4))
    x, y, dout = (data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3.0, 3.0))) for _ in range(3))
    if name == "max":
        assume(np.min(np.abs(x - y)) > 1e-3)  # away from the kink
    gate = factory()
    gate.forward(x, y)
    dx, dy = gate.backward(dout)
    assert np.shape(dx) == np.shape(x) and np.shape(dy) == np.shape(y)
    f = lambda a, b: factory().forward(a, b)  # noqa: E731
    assert norm_rel_error(dx, dout * _numerical(f, [x, y], 0)) < 1e-6
    assert norm_rel_error(dy, dout * _numerical(f, [x, y], 1)) < 1e-6


def test_copy_gate_on_arrays():
    cp = CopyGate()
    a = np.array([1.0, 2.0])
    out1, out2 = cp.forward(a)
    np.testing.assert_array_equal(out1, a)
    np.testing.assert_array_equal(out2, a)
    (dx,) = cp.backward(np.array([1.0, -1.0]), np.array([0.5, 0.5]))
    np.testing.assert_array_equal(dx, [1.5, -0.5])


def test_sigmoid_gate_saturates_without_overflow_error():
    sig = SigmoidGate()
    with np.errstate(over="raise"):  # the gate silences exp's overflow itself
        s = sig.forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(sig.backward(np.ones(3))[0], [0.0, 0.25, 0.0])


def test_scale_and_offset_keep_their_constant():
    assert ScaleGate(3).forward(2.0) == 6.0 and ScaleGate(3).backward(1.0) == (3.0,)
    assert OffsetGate(-1).forward(2.0) == 1.0 and OffsetGate(-1).backward(4.0) == (4.0,)


def test_every_gate_method_has_a_solution_region():
    src = Path(gates.__file__).read_text()
    lines = src.splitlines()
    begins = [i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION"]
    assert len(begins) == 20  # forward and backward of ten gates
    assert all(lines[i - 1].strip().startswith("# TASK: ") for i in begins)
    stub = re.sub(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION",
                  lambda m: f"{m.group(1)}raise NotImplementedError('todo')", src, flags=re.S)
    compile(stub, "gates_stub.py", "exec")
