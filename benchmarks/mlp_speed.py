"""Seconds per training step of backprop_lib's MLP against PyTorch CPU autograd.

One step = forward + softmax loss + backward + SGD-with-momentum update of a 784-256-128-10
ReLU MLP on a batch of 128. Ours is what ``optim.train`` runs per batch: ``mlp_loss`` (reg 0)
and ``sgd_momentum`` for every parameter. PyTorch's is ``nn.Linear`` / ``nn.ReLU``,
``F.cross_entropy``, ``loss.backward()`` and ``torch.optim.SGD(momentum=0.9)`` (the same rule:
``v <- dw + momentum * v``, ``w <- w - lr * v``). For each thread count and dtype, both run in
one process on the same shapes and the same number of BLAS / intra-op threads, their timings
interleaved (ours, torch, torch, ours, ...) so a busy machine slows both alike.

    .venv/bin/python benchmarks/mlp_speed.py [--threads 1 2] [--steps 20] [--repeats 15]
                                             [--pause 0.25] [--json FILE]

Prints, per (threads, dtype): milliseconds per step of both (median over repeats of the mean
over ``--steps`` steps, and the range over repeats), the ratio ours / torch (below 1: ours is
faster; also the ratio of the two fastest repetitions), the share of the machine's GEMM peak
each step reaches (the peak is measured in the same run with one large product, the better of
numpy's and torch's BLAS), and a breakdown of each step into forward, loss, backward and update
(medians of per-step phase times) with the minor page faults per step and the time of the
step's matrix products alone in that library's BLAS (the floor of forward + backward), each of
the eight products alone, and what limits ours: the ratio it would reach if everything but its
products were free (and if everything but its products and its update were), the ratio if its
products were as fast as torch's, each step's time outside its products, and where the rest of
the gap to torch lies, phase by phase and product by product. Also the load average, the BLAS
and allocator environment variables and threadpoolctl's report (which OpenBLAS kernel runs), so
two runs can be compared. Needs torch (benchmarks/requirements.txt); without it only our
timings are printed. The steps and products it times are in ``mlp_steps.py``.

Idle threads: after a call, OpenBLAS's worker threads spin (sched_yield) for about 2^28
cycles, ~0.1 s, before they sleep, and torch's OpenMP threads spin too. Timed back to back,
the second library of a pair runs against the first's spinning threads on a 2-core machine
(torch's 2-thread float64 step measured 2.1-7.7 ms that way, against 2.1-3.1 ms after a
pause). So every timed block (steps, phases, products, peaks) starts after ``--pause``
seconds idle; a real program runs one of the two, not both.

Page faults: importing backprop_lib fixes glibc's malloc thresholds
(``backprop_lib.keep_freed_arrays``), so each step reuses the memory the step before freed;
before, a fresh process gave the freed top of its heap back to the kernel and faulted in
100-570 pages a float64 step (~1 ms; W1, dW1 and the velocity are 1.6 MB each). Both libraries
share the process, so torch runs under the same thresholds. The faults per step are still
printed; ``GLIBC_TUNABLES=glibc.malloc.perturb=0`` in the environment (a malloc tunable at its
default value: glibc behaves as it always does, and the package leaves the allocator to a user
who set one) shows what they cost. The peaks are measured after every step is timed (where the
thresholds are left to glibc, freeing their 19 MB arrays would raise them).

Where OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set machine-wide, benchmark the kernel numpy
picks itself by unsetting both for this command alone: ``env -u OPENBLAS_CORETYPE -u
OPENBLAS_L2_SIZE .venv/bin/python benchmarks/mlp_speed.py`` (threadpoolctl's line then names it).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import backprop_lib  # noqa: E402
from mlp_steps import BATCH, PHASES, SIZES, OursStep, Products, TorchStep, step_flops  # noqa: E402

ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")
"""Environment variables that change the result: BLAS kernels and threads, glibc's allocator."""


def settle(pause: float) -> None:
    """Sleep ``pause`` s so the other library's idle BLAS / OpenMP threads stop spinning."""
    if pause > 0:
        time.sleep(pause)


def seconds_per_step(step, steps: int) -> tuple[float, int]:
    """Mean seconds per step over ``steps`` steps, and the minor page faults they caused."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - start) / steps
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def gemm_peak(dtype_name: str, torch=None, n: int = 1536, pause: float = 0.0) -> dict[str, float]:
    """GFLOP/s of one n x n by n x n product (best of 3) in numpy's BLAS and torch's."""
    def best(run) -> float:
        settle(pause)
        run()
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
        return 2 * n**3 / min(seconds) / 1e9

    a = np.random.default_rng(1).standard_normal((n, n)).astype(dtype_name)
    peak = {"numpy": best(lambda: a @ a)}
    if torch is not None:
        t = torch.from_numpy(a)
        peak["torch"] = best(lambda: t @ t)
    return peak


def measure(threads: int, dtype_name: str, torch, steps: int, repeats: int,
            pause: float = 0.0) -> dict:
    """Ours and torch at one setting: step medians and ranges, page faults, phase medians."""
    ours = OursStep(np.dtype(dtype_name))
    theirs = TorchStep(torch, getattr(torch, dtype_name)) if torch else None
    runners = {"ours": ours, **({"torch": theirs} if theirs else {})}
    products = {"ours": Products(dtype_name), **({"torch": Products(dtype_name, torch)} if theirs else {})}
    for _ in range(10):  # warm-up: BLAS thread pools, the allocator, torch's dispatch caches
        for run in runners.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    product_times: dict[str, list[float]] = {name: [] for name in runners}
    each_times: dict[str, dict[str, list[float]]] = {
        name: {label: [] for label in products[name].named} for name in runners}
    faults = dict.fromkeys(runners, 0)
    phases: dict[str, list[dict]] = {name: [] for name in runners}
    for r in range(repeats):
        order = list(runners) if r % 2 == 0 else list(runners)[::-1]
        for name in order:
            settle(pause)
            seconds, n_faults = seconds_per_step(runners[name], steps)
            times[name].append(seconds)
            faults[name] += n_faults
        for name in order:
            settle(pause)
            phases[name].extend(runners[name].phases() for _ in range(steps // 4 + 1))
            product_times[name].append(seconds_per_step(products[name], steps // 4 + 1)[0])
            for label, product in products[name].named.items():
                each_times[name][label].append(seconds_per_step(product, steps // 4 + 1)[0])
    ours_dtypes = ours.dtypes()
    assert ours_dtypes == {dtype_name}, f"the {dtype_name} step changed dtype: {ours_dtypes}"
    row = {"threads": threads, "dtype": dtype_name}
    for name in runners:
        row[name] = {
            "ms": float(np.median(times[name])) * 1e3,
            "ms_range": (min(times[name]) * 1e3, max(times[name]) * 1e3),
            "page_faults_per_step": faults[name] / (steps * repeats),
            "phases_ms": {p: float(np.median([ph[p] for ph in phases[name]])) * 1e3 for p in PHASES},
            "products_ms": float(np.median(product_times[name])) * 1e3,
            "each_product_ms": {label: float(np.median(t)) * 1e3
                                for label, t in each_times[name].items()},
        }
    if theirs:
        row["ratio"] = row["ours"]["ms"] / row["torch"]["ms"]
        row["ratio_of_best"] = row["ours"]["ms_range"][0] / row["torch"]["ms_range"][0]
        row["limits"] = limits(row)
    return row


def limits(row: dict) -> dict:
    """What keeps ours / torch where it is, from the row's medians.

    ``products_floor``: ours / torch if everything of ours but its products cost nothing
    (ours' products alone over torch's whole step). ``products_and_update_floor``: the same with
    the momentum update counted too (its phase median): what no change outside the BLAS and the
    update rule can beat, since ``sgd_momentum`` must return new arrays and numpy runs its
    elementwise passes on one core. ``on_torch_products``: ours / torch if our products cost
    what torch's do and all the rest stayed (the share of the gap that is the BLAS's).
    ``outside_products_ms``: each step minus its products alone (ours: the validators, the
    elementwise passes, the update; torch's: the same plus autograd). ``gap_ms``: ours minus
    torch per phase (torch's loss runs inside its backward, so loss and backward are compared
    together) and for the products alone; ``product_gap_ms``: the same for each product.
    """
    ours, torch = row["ours"], row["torch"]
    gap = {"forward": ours["phases_ms"]["forward"] - torch["phases_ms"]["forward"],
           "loss + backward": (ours["phases_ms"]["loss"] + ours["phases_ms"]["backward"])
           - (torch["phases_ms"]["loss"] + torch["phases_ms"]["backward"]),
           "update": ours["phases_ms"]["update"] - torch["phases_ms"]["update"],
           "products alone": ours["products_ms"] - torch["products_ms"]}
    return {"products_floor": ours["products_ms"] / torch["ms"],
            "products_and_update_floor": (ours["products_ms"] + ours["phases_ms"]["update"]) / torch["ms"],
            "on_torch_products": (ours["ms"] - ours["products_ms"] + torch["products_ms"]) / torch["ms"],
            "outside_products_ms": {name: r["ms"] - r["products_ms"] for name, r in
                                    (("ours", ours), ("torch", torch))},
            "gap_ms": gap,
            "product_gap_ms": {label: ours["each_product_ms"][label] - torch["each_product_ms"][label]
                               for label in ours["each_product_ms"]}}


def add_peak(row: dict, torch, pause: float = 0.0) -> None:
    """Measure the GEMM peak at the row's setting and the share of it each step reaches.

    Run after every step is timed: where glibc's mmap / trim thresholds are left dynamic (the
    user set a malloc variable, see ``backprop_lib.keep_freed_arrays``), freeing the peak's
    19 MB arrays would raise them and hide the page faults a fresh process pays.
    """
    row["peak_gflops"] = gemm_peak(row["dtype"], torch, pause=pause)
    machine_peak = max(row["peak_gflops"].values())
    for name in ("ours", "torch"):
        if name in row:
            row[name]["share_of_peak"] = step_flops() / (row[name]["ms"] / 1e3) / 1e9 / machine_peak


def print_row(row: dict) -> None:
    names = [n for n in ("ours", "torch") if n in row]
    line = f"{row['threads']} thread(s) {row['dtype']}: " + "   ".join(
        f"{n} {row[n]['ms']:6.3f} ms ({row[n]['ms_range'][0]:.2f}-{row[n]['ms_range'][1]:.2f}), "
        f"{100 * row[n]['share_of_peak']:3.0f} % of peak" for n in names)
    if "ratio" in row:
        line += f"   ours/torch {row['ratio']:.2f} (fastest repetitions: {row['ratio_of_best']:.2f})"
    print(line)
    peak = ", ".join(f"{k} {v:.0f}" for k, v in row["peak_gflops"].items())
    print(f"    GEMM peak (GFLOP/s, one 1536^2 product): {peak}")
    for n in names:
        print(f"    {n:5s} breakdown (ms): "
              + "  ".join(f"{p} {row[n]['phases_ms'][p]:.3f}" for p in PHASES)
              + f"   page faults/step {row[n]['page_faults_per_step']:.0f}"
              + f"   (its products alone {row[n]['products_ms']:.3f})")
    print("    products one by one (ms" + (", ours / torch" if "torch" in row else "") + "): "
          + ", ".join(f"{label} " + " / ".join(f"{row[n]['each_product_ms'][label]:.3f}" for n in names)
                      for label in row["ours"]["each_product_ms"]))
    if "limits" in row:
        lim = row["limits"]
        outside = lim["outside_products_ms"]
        print(f"    limits: with only its products ours / torch would be {lim['products_floor']:.2f}, "
              f"with only its products and its update {lim['products_and_update_floor']:.2f}, "
              f"with products as fast as torch's {lim['on_torch_products']:.2f}; "
              f"outside the products ours {outside['ours']:.3f} ms, torch {outside['torch']:.3f} ms; "
              "ours - torch (ms): " + ", ".join(f"{k} {v:+.3f}" for k, v in lim["gap_ms"].items()))


def environment(torch) -> dict:
    """What decides the speed: versions, BLAS libraries and their kernels, env vars, load."""
    from threadpoolctl import threadpool_info

    return {
        "numpy": np.__version__,
        "torch": torch.__version__ if torch else None,
        "env": {k: os.environ.get(k) for k in ENV_VARS},
        "allocator_tuned": backprop_lib.ALLOCATOR_TUNED,
        "threadpools": [{k: info.get(k) for k in ("internal_api", "version", "architecture",
                                                  "threading_layer", "num_threads", "filepath")}
                        for info in threadpool_info()],
        "loadavg": os.getloadavg(),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="BLAS / torch thread counts to measure (default: 1 2)")
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"],
                        choices=["float64", "float32"])
    parser.add_argument("--steps", type=int, default=20, help="steps per timing (default 20)")
    parser.add_argument("--repeats", type=int, default=15,
                        help="timings per library, interleaved; the median is shown (default 15)")
    parser.add_argument("--pause", type=float, default=0.25,
                        help="seconds idle before each timed block, so the other library's "
                             "threads stop spinning (default 0.25; see the module docstring)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed (pip install -r benchmarks/requirements.txt): ours only")
    env = environment(torch)
    print(f"MLP {'-'.join(map(str, SIZES))} (ReLU, softmax), batch {BATCH}, one step = forward + "
          f"loss + backward + momentum update ({step_flops() / 1e6:.0f} MFLOP in products); "
          f"numpy {env['numpy']}, torch {env['torch']}")
    print("environment:", ", ".join(f"{k}={v}" for k, v in env["env"].items()))
    print("glibc malloc thresholds fixed by backprop_lib (keep_freed_arrays): "
          + ("yes" if env["allocator_tuned"] else "no (not glibc, or set by the environment)"))
    if env["env"]["OPENBLAS_CORETYPE"] or env["env"]["OPENBLAS_L2_SIZE"]:
        print("note: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE choose the kernel below; unset both for "
              "this command alone (env -u ... -u ...) to measure the kernel numpy would pick")
    for pool in env["threadpools"]:
        print(f"threadpoolctl: {pool['internal_api']} {pool['version']} "
              f"architecture={pool['architecture']} threading={pool['threading_layer']} "
              f"({Path(pool['filepath']).name})")
    print(f"load average at start: {env['loadavg'][0]:.2f} (1 min), {env['loadavg'][1]:.2f} (5 min)")
    rows = []
    for threads in args.threads:
        with threadpool_limits(threads):
            if torch:
                torch.set_num_threads(threads)
            for dtype_name in args.dtypes:
                rows.append(measure(threads, dtype_name, torch, args.steps, args.repeats,
                                    args.pause))
    for row in rows:  # the peaks last (see add_peak), each at its row's thread count
        with threadpool_limits(row["threads"]):
            if torch:
                torch.set_num_threads(row["threads"])
            add_peak(row, torch, args.pause)
        print_row(row)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} (1 min), {load[1]:.2f} (5 min)")
    results = {"environment": env, "rows": rows, "loadavg_end": load}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
