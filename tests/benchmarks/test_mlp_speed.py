"""benchmarks/mlp_speed.py runs (ours only: CI has no torch) and its arithmetic is right: the
share of peak, the limits it reports. It times nothing that is asserted.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import mlp_speed  # noqa: E402
import mlp_steps  # noqa: E402


def test_limits_name_both_floors_and_the_gap_of_each_phase_and_product():
    row = {"ours": {"ms": 4.0, "products_ms": 2.5,
                    "phases_ms": {"forward": 1.4, "loss": 0.1, "backward": 1.5, "update": 1.0},
                    "each_product_ms": {"A0 @ W1.T": 0.9, "Delta1.T @ A0": 0.8}},
           "torch": {"ms": 3.2, "products_ms": 2.1,
                     "phases_ms": {"forward": 1.3, "loss": 0.05, "backward": 1.45, "update": 0.7},
                     "each_product_ms": {"A0 @ W1.T": 0.7, "Delta1.T @ A0": 0.75}}}
    lim = mlp_speed.limits(row)
    assert lim["products_floor"] == pytest.approx(2.5 / 3.2)
    assert lim["products_and_update_floor"] == pytest.approx((2.5 + 1.0) / 3.2)
    assert lim["on_torch_products"] == pytest.approx((4.0 - 2.5 + 2.1) / 3.2)  # 1.125
    assert lim["outside_products_ms"] == pytest.approx({"ours": 1.5, "torch": 1.1})
    assert lim["gap_ms"] == pytest.approx({"forward": 0.1, "loss + backward": 0.1,
                                           "update": 0.3, "products alone": 0.4})
    assert lim["product_gap_ms"] == pytest.approx({"A0 @ W1.T": 0.2, "Delta1.T @ A0": 0.05})


def test_the_benchmark_runs_without_torch_and_keeps_float32(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    results = mlp_speed.main(["--threads", "1", "--dtypes", "float32", "float64", "--steps", "2",
                              "--repeats", "2", "--pause", "0"])
    out = capsys.readouterr().out
    assert "torch is not installed" in out and "threadpoolctl: openblas" in out
    assert "glibc malloc thresholds fixed by backprop_lib" in out
    assert out.count("products one by one (ms): A0 @ W1.T (128x784 by 784x256) ") == 2
    assert [(r["threads"], r["dtype"]) for r in results["rows"]] == [(1, "float32"), (1, "float64")]
    for row in results["rows"]:
        ours = row["ours"]
        assert "torch" not in row and "ratio" not in row and "limits" not in row
        assert 0 < ours["ms_range"][0] <= ours["ms"] <= ours["ms_range"][1]
        assert set(ours["phases_ms"]) == set(mlp_speed.PHASES)
        assert all(v > 0 for v in ours["phases_ms"].values()) and ours["products_ms"] > 0
        assert list(ours["each_product_ms"]) == list(mlp_steps.Products("float64").named)
        assert all(v > 0 for v in ours["each_product_ms"].values())
        assert 0 < ours["share_of_peak"] < 1.5  # a share, with room for a noisy peak
        assert row["peak_gflops"]["numpy"] > 0
