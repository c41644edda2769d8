"""Redraw time of the lecture notebooks' live figures, per widget change, per notebook.

    .venv/bin/python benchmarks/lecture_redraw.py [--passes 2] [--per-control]

A redraw is what a widget's callback does in the kernel: ``LiveFigure.redraw(**change)``,
i.e. compute the new setting's numbers (cached after the first visit), update the figure's
artists in place and render one PNG. Every control of every figure steps through its whole
range, one change at a time, from its default; the first pass meets every setting for the
first time (cache misses), later passes are cached. Prints, per notebook, the number of
changes, the median, the 90th percentile and the worst redraw in wall milliseconds, and the
median and worst CPU milliseconds of the process (which other jobs on a shared machine do not
inflate as much; BLAS runs on one thread in the demos' computations). It does not
include the browser's side (sending about 100-200 kB of PNG over the local websocket and
swapping the image), which the browser test exercises but does not time.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lectures.circuits import CircuitExample, NeuronExample, SoftplusExample  # noqa: E402
from lectures.gradient_flow import GradientFlowFigure  # noqa: E402
from lectures.live import LiveFigure  # noqa: E402
from lectures.momentum_bowl import MomentumFigure  # noqa: E402

NOTEBOOKS: dict[str, tuple[type[LiveFigure], ...]] = {
    "vanishing_exploding.ipynb": (GradientFlowFigure,),
    "momentum.ipynb": (MomentumFigure,),
    "chain_rule.ipynb": (CircuitExample, NeuronExample, SoftplusExample),
}


def sweep(demo: LiveFigure) -> dict[str, list[tuple[float, float]]]:
    """``{control: [(wall, cpu) seconds per change]}``: each control from its default through
    every value and back to the default."""
    times: dict[str, list[tuple[float, float]]] = {}
    for control in demo.controls:
        start = control.values.index(control.default)
        order = control.values[start + 1:] + control.values[:start + 1]  # ends back at the default
        times[control.name] = []
        for value in order:
            demo.redraw(**{control.name: value})
            times[control.name].append((demo.last_redraw_seconds, demo.last_redraw_cpu_seconds))
    return times


def row(label: str, seconds: list[tuple[float, float]]) -> str:
    wall, cpu = (1000.0 * np.asarray(seconds)).T
    return (f"| {label} | {wall.size} | {np.median(wall):.0f} | {np.percentile(wall, 90):.0f} | "
            f"{wall.max():.0f} | {np.median(cpu):.0f} | {cpu.max():.0f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=2, help="sweeps per figure (first one uncached)")
    parser.add_argument("--per-control", action="store_true", help="also one row per control")
    args = parser.parse_args(argv)
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}, "
          f"{os.cpu_count()} cores")
    print("| notebook (pass) | changes | median ms | p90 ms | worst ms | median CPU ms | worst CPU ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    start = time.perf_counter()
    for notebook, classes in NOTEBOOKS.items():
        demos = [cls() for cls in classes]
        for demo in demos:
            demo.render_png()  # the first draw (Run All's), which caches the static background
        for p in range(1, args.passes + 1):
            per_control: dict[str, list[tuple[float, float]]] = {}
            for demo in demos:
                for name, seconds in sweep(demo).items():
                    per_control[f"{type(demo).__name__}.{name}"] = seconds
            label = f"{notebook} ({'first visit' if p == 1 else f'pass {p}, cached'})"
            print(row(label, [s for v in per_control.values() for s in v]))
            if args.per_control:
                for name, seconds in per_control.items():
                    print(row(f"&nbsp;&nbsp;{name}", seconds))
    print(f"load average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}; "
          f"{time.perf_counter() - start:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
