"""Seconds per training step of backprop_lib's MLP against PyTorch CPU autograd.

One step = forward + softmax loss + backward + SGD update of a 784-256-128-10 ReLU MLP on a
batch of 128, in float64 and in float32, both libraries on the same shapes, the same number of
BLAS threads, timed in one run with the two interleaved (so a busy machine slows both alike).

    .venv/bin/python benchmarks/mlp_speed.py [--steps 20] [--repeats 15] [--threads 1]

Prints seconds per step (the median over repeats of the mean over ``--steps`` steps) and the
ratio ours / torch (below 1: ours is faster). Needs torch (benchmarks/requirements.txt);
without it only our timings are printed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backprop_lib.layers import softmax_loss  # noqa: E402
from backprop_lib.mlp import init_mlp, mlp_backward, mlp_forward  # noqa: E402
from backprop_lib.optim import sgd  # noqa: E402

SIZES = [784, 256, 128, 10]
BATCH = 128
LEARNING_RATE = 1e-2


def make_ours(dtype):
    """A closure running one training step with backprop_lib, parameters of ``dtype``."""
    rng = np.random.default_rng(0)
    params = {k: v.astype(dtype) for k, v in init_mlp(SIZES, init="he", seed=0).items()}
    X = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[-1], size=BATCH)
    config = {"learning_rate": LEARNING_RATE}

    def step():
        scores, cache = mlp_forward(params, X, activation="relu")
        loss, dscores = softmax_loss(scores, y)
        grads = mlp_backward(dscores, cache)
        for name in params:
            params[name], _ = sgd(params[name], grads[name], config)
        return loss

    step.dtype_check = lambda: {str(v.dtype) for v in params.values()}
    return step


def make_torch(torch, dtype):
    """The same step with torch.nn.Linear layers and autograd (manual SGD, like ours)."""
    torch.manual_seed(0)
    layers = []
    for i in range(len(SIZES) - 1):
        layers.append(torch.nn.Linear(SIZES[i], SIZES[i + 1]))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(dtype)
    X = torch.randn(BATCH, SIZES[0], dtype=dtype)
    y = torch.randint(0, SIZES[-1], (BATCH,))

    def step():
        for p in model.parameters():
            p.grad = None
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.sub_(p.grad, alpha=LEARNING_RATE)
        return loss.item()

    return step


def seconds_per_step(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per timing (default 20)")
    parser.add_argument("--repeats", type=int, default=15,
                        help="timings per library, alternating ours / torch; the median is shown")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS / torch threads for both libraries (default 1; try 2)")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("torch is not installed (pip install -r benchmarks/requirements.txt): ours only")

    print(f"MLP {'-'.join(map(str, SIZES))} (ReLU, softmax), batch {BATCH}, one step = "
          f"forward + backward + SGD; {args.threads} thread(s), numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch else ""))
    results = {}
    for dtype_name in ("float64", "float32"):
        ours = make_ours(np.dtype(dtype_name))
        theirs = make_torch(torch, getattr(torch, dtype_name)) if torch else None
        for _ in range(10):  # warm-up: BLAS thread pools, allocator, torch's dispatch caches
            ours()
            if theirs:
                theirs()
        t_ours, t_torch = [], []
        for _ in range(args.repeats):
            t_ours.append(seconds_per_step(ours, args.steps))
            if theirs:
                t_torch.append(seconds_per_step(theirs, args.steps))
        assert ours.dtype_check() == {dtype_name}, f"{dtype_name} path changed dtype: {ours.dtype_check()}"
        row = {"ours": float(np.median(t_ours))}
        line = f"{dtype_name}: ours {row['ours'] * 1e3:7.3f} ms/step"
        if theirs:
            row["torch"] = float(np.median(t_torch))
            row["ratio"] = row["ours"] / row["torch"]
            line += f"   torch {row['torch'] * 1e3:7.3f} ms/step   ratio ours/torch {row['ratio']:.2f}"
        print(line)
        results[dtype_name] = row
    return results


if __name__ == "__main__":
    main()
