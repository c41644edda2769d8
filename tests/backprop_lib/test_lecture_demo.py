"""`python -m backprop_lib.demo`: trains on the digits, prints the accuracy, writes the figures."""
from __future__ import annotations

import pytest

from backprop_lib import demo

EXPECTED = {
    "a4_momentum_loss_curves.png", "a4_momentum_paths.png", "a5_chain_products.png",
    "a5_grad_norms_by_activation.png", "a5_grad_norms_by_init.png",
    "a5_activation_histograms.png", "a5_deep_sigmoid_vs_relu.png", "a5_clipping.png",
}


@pytest.mark.slow
def test_quick_demo_writes_every_figure_and_learns(tmp_path, capsys):
    result = demo.main(["--out", str(tmp_path / "out"), "--quick"])
    printed = capsys.readouterr().out
    assert {p.name for p in result["figures"]} == EXPECTED
    for path in result["figures"]:
        assert path.parent == tmp_path / "out"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
        assert f"wrote {path}" in printed
    assert result["test_accuracy"] >= 0.90           # quick mode, 4 epochs: measured 93.1 %
    assert "test accuracy" in printed and "1.1^100 = 13780.6" in printed


def test_train_digits_is_reproducible():
    _, first = demo.train_digits(epochs=1)
    _, second = demo.train_digits(epochs=1)
    assert first == second and first > 0.5
