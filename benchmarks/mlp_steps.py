"""What ``mlp_speed.py`` times: one training step of ours and of PyTorch, and its products alone.

The network is the benchmark's 784-256-128-10 ReLU MLP on a batch of 128 with softmax loss and
SGD with momentum (0.9, learning rate 0.01). ``OursStep`` is what ``optim.train`` runs per
batch; ``TorchStep`` is ``nn.Linear`` / ``nn.ReLU``, ``F.cross_entropy``, ``loss.backward()`` and
``torch.optim.SGD(momentum=0.9)``; ``Products`` is the step's eight matrix products alone, the
floor the BLAS sets. Each ``phases()`` times a step's forward, loss, backward and update.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backprop_lib.layers import softmax_loss  # noqa: E402
from backprop_lib.mlp import init_mlp, mlp_backward, mlp_forward, mlp_loss  # noqa: E402
from backprop_lib.optim import sgd_momentum  # noqa: E402

SIZES = [784, 256, 128, 10]
BATCH = 128
LEARNING_RATE = 1e-2
MOMENTUM = 0.9
PHASES = ("forward", "loss", "backward", "update")
"""The parts of a step that ``phases()`` times, in order."""


def step_flops(sizes: list[int] = SIZES, batch: int = BATCH) -> int:
    """Floating-point operations of the step's matrix products (2 per multiply-add).

    Forward ``A @ W.T`` and backward ``Delta.T @ A`` for every layer, ``Delta @ W`` for layers
    2..L (neither library computes the gradient with respect to the input X).
    """
    macs = [sizes[l] * sizes[l - 1] for l in range(1, len(sizes))]
    return 2 * batch * (2 * sum(macs) + sum(macs[1:]))


class OursStep:
    """One training step of backprop_lib at ``dtype``; ``phases()`` times its four parts."""

    def __init__(self, dtype: np.dtype):
        rng = np.random.default_rng(0)
        self.dtype = dtype
        self.params = {k: v.astype(dtype) for k, v in init_mlp(SIZES, init="he", seed=0).items()}
        self.configs = {k: {"learning_rate": LEARNING_RATE, "momentum": MOMENTUM} for k in self.params}
        self.X = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
        self.y = rng.integers(0, SIZES[-1], size=BATCH)

    def _update(self, grads: dict[str, np.ndarray]) -> None:
        for name in self.params:
            self.params[name], self.configs[name] = sgd_momentum(self.params[name], grads[name],
                                                                 self.configs[name])

    def __call__(self) -> None:
        _, grads = mlp_loss(self.params, self.X, self.y, activation="relu", reg=0.0)
        self._update(grads)

    def phases(self) -> dict[str, float]:
        """One step, run as mlp_loss's parts, with the seconds of each."""
        t0 = time.perf_counter()
        scores, cache = mlp_forward(self.params, self.X, activation="relu")
        t1 = time.perf_counter()
        _, dscores = softmax_loss(scores, self.y)
        t2 = time.perf_counter()
        grads = mlp_backward(dscores, cache)
        t3 = time.perf_counter()
        self._update(grads)
        t4 = time.perf_counter()
        return dict(zip(PHASES, np.diff([t0, t1, t2, t3, t4])))

    def dtypes(self) -> set[str]:
        """Dtypes of every parameter, gradient and velocity (float32 must stay float32)."""
        _, grads = mlp_loss(self.params, self.X, self.y, activation="relu", reg=0.0)
        arrays = [*self.params.values(), *grads.values(),
                  *(c["velocity"] for c in self.configs.values() if "velocity" in c)]
        return {str(a.dtype) for a in arrays}


class TorchStep:
    """The same step with torch.nn.Linear layers, autograd and torch.optim.SGD(momentum)."""

    def __init__(self, torch, dtype):
        torch.manual_seed(0)
        layers = []
        for i in range(len(SIZES) - 1):
            layers.append(torch.nn.Linear(SIZES[i], SIZES[i + 1]))
            if i < len(SIZES) - 2:
                layers.append(torch.nn.ReLU())
        self.torch = torch
        self.model = torch.nn.Sequential(*layers).to(dtype)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
        self.X = torch.randn(BATCH, SIZES[0], dtype=dtype)
        self.y = torch.randint(0, SIZES[-1], (BATCH,))

    def __call__(self) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss = self.torch.nn.functional.cross_entropy(self.model(self.X), self.y)
        loss.backward()
        self.opt.step()

    def phases(self) -> dict[str, float]:
        """One step with the seconds of forward, loss, backward (loss's included), update."""
        t0 = time.perf_counter()
        self.opt.zero_grad(set_to_none=True)
        scores = self.model(self.X)
        t1 = time.perf_counter()
        loss = self.torch.nn.functional.cross_entropy(scores, self.y)
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        self.opt.step()
        t4 = time.perf_counter()
        return dict(zip(PHASES, np.diff([t0, t1, t2, t3, t4])))


class Products:
    """The step's matrix products alone, on operands of its shapes: the floor BLAS sets.

    ``A @ W.T`` and ``Delta.T @ A`` for every layer, ``Delta @ W`` for layers 2..L, in numpy
    (numpy's OpenBLAS) or, given ``torch``, on torch tensors (torch's BLAS, MKL in the CPU build).
    ``named`` holds them one by one, labelled in the lecture's notation (``A0`` is X) with their
    shapes, so a gap can be traced to one product.
    """

    def __init__(self, dtype_name: str, torch=None):
        rng = np.random.default_rng(2)

        def operand(*shape):
            a = rng.standard_normal(shape).astype(dtype_name)
            return torch.from_numpy(a) if torch is not None else a

        # {"A0 @ W1.T (128x784 by 784x256)": product, ...}, each layer's in the step's order
        self.named: dict[str, Callable[[], object]] = {}
        for l in range(1, len(SIZES)):
            n_out, n_in = SIZES[l], SIZES[l - 1]
            A, W, delta = operand(BATCH, n_in), operand(n_out, n_in), operand(BATCH, n_out)
            self.named[f"A{l - 1} @ W{l}.T ({BATCH}x{n_in} by {n_in}x{n_out})"] = lambda A=A, W=W: A @ W.T
            self.named[f"Delta{l}.T @ A{l - 1} ({n_out}x{BATCH} by {BATCH}x{n_in})"] = (
                lambda A=A, delta=delta: delta.T @ A)
            if l > 1:
                self.named[f"Delta{l} @ W{l} ({BATCH}x{n_out} by {n_out}x{n_in})"] = (
                    lambda W=W, delta=delta: delta @ W)

    def __call__(self) -> None:
        for product in self.named.values():
            product()
