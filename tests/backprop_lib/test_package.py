"""backprop_lib/__init__.py: importing the package fixes glibc's malloc thresholds, so a fresh
process's float64 training step stops page-faulting the memory it freed the step before; the
user's own allocator settings win; other C libraries are left alone.

Asserted by counting minor page faults in a fresh process (``ru_minflt``), never by timing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import backprop_lib

ROOT = Path(__file__).resolve().parents[2]

# The benchmark's step (784-256-128-10 ReLU MLP, batch 128, float64, momentum): W1, dW1 and the
# velocity are 1.6 MB each, the size glibc's default thresholds hand back to the kernel.
STEP = """
import json, resource, sys
import numpy as np
import backprop_lib
from backprop_lib.mlp import init_mlp, mlp_loss
from backprop_lib.optim import sgd_momentum

params = init_mlp([784, 256, 128, 10], init="he", seed=0)
configs = {k: {"learning_rate": 1e-2, "momentum": 0.9} for k in params}
rng = np.random.default_rng(0)
X, y = rng.standard_normal((128, 784)), rng.integers(0, 10, 128)

def step():
    _, grads = mlp_loss(params, X, y, activation="relu")
    for k in params:
        params[k], configs[k] = sgd_momentum(params[k], grads[k], configs[k])

for _ in range(20):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(30):
    step()
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 30
print(json.dumps({"tuned": backprop_lib.ALLOCATOR_TUNED, "faults_per_step": faults}))
"""


def fresh_process_step(**env: str) -> dict:
    """Run STEP in a new interpreter (one BLAS thread) with ``env`` added; its JSON line."""
    clean = {k: v for k, v in os.environ.items()
             if k not in backprop_lib.ALLOCATOR_VARIABLES + ("GLIBC_TUNABLES",)}
    clean.update(OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT), **env)
    out = subprocess.run([sys.executable, "-c", STEP], env=clean, capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"),
    reason="the thresholds are glibc's")


@glibc_only
def test_a_fresh_float64_step_reuses_freed_memory_instead_of_faulting_it_in():
    result = fresh_process_step()
    assert result["tuned"] is True
    # Measured: 0-1 a step with the thresholds fixed, 100-570 with glibc's defaults.
    assert result["faults_per_step"] < 30, result


@glibc_only
def test_the_users_allocator_settings_win_and_then_the_step_faults():
    # Small thresholds chosen by the user: the package leaves them, so every 1.6 MB array is
    # mmap'ed and faulted in anew (about 4 x 392 pages a step): the assertion above can fail.
    result = fresh_process_step(MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072")
    assert result["tuned"] is False
    assert result["faults_per_step"] > 300, result


@glibc_only
def test_a_glibc_malloc_tunable_counts_as_the_users_choice_and_others_do_not(monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072")
    assert backprop_lib.keep_freed_arrays() is False
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.pthread.rseq=0")
    assert backprop_lib.keep_freed_arrays() is True


@pytest.mark.parametrize("confstr", [None, "musl", ValueError("unrecognized configuration name")])
def test_another_c_library_is_left_alone(monkeypatch, confstr):
    for name in backprop_lib.ALLOCATOR_VARIABLES + ("GLIBC_TUNABLES",):
        monkeypatch.delenv(name, raising=False)

    def fake_confstr(name):
        if isinstance(confstr, Exception):
            raise confstr
        return confstr

    monkeypatch.setattr(os, "confstr", fake_confstr)
    assert backprop_lib.keep_freed_arrays() is False


def test_the_thresholds_are_the_ones_glibc_reaches_itself():
    # glibc's dynamic mmap threshold stops at 32 MiB on 64-bit, the trim threshold at twice it.
    assert backprop_lib.MMAP_THRESHOLD_BYTES == 32 * 2**20
    assert backprop_lib.TRIM_THRESHOLD_BYTES == 2 * backprop_lib.MMAP_THRESHOLD_BYTES
