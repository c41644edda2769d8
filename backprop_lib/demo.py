"""The lecture demo: ``python -m backprop_lib.demo [--out out] [--quick]``.

1. Trains a two-layer net (64 -> 100 ReLU -> 10 scores, He init, softmax loss) on the 8x8
   digits with SGD + momentum 0.9 (seeded: the same numbers on every run) and prints its test
   accuracy (about 97 %; chance is 10 %).
2. Writes the figures of assignment 4 (momentum paths on an ill-conditioned quadratic, loss
   curves for momentum 0 / 0.9 / 0.99 on the digits) and assignment 5 (the chain product,
   gradient norm per layer by activation and by init, activation histograms, a deep sigmoid
   vs a deep ReLU net in training, clipping on an exploding setup) as PNGs into ``--out``,
   printing each path.

``--quick`` trains for fewer epochs (for the tests); the figures are the same kinds.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from . import plots
from .data import load_digits
from .diagnostics import (
    activation_statistics,
    chain_product,
    chain_product_curves,
    clipping_comparison,
    deep_training_comparison,
    gradient_norms_by_activation,
    gradient_norms_by_init,
)
from .mlp import init_mlp
from .optim import accuracy, momentum_paths, quadratic_loss, train

SEED = 0
HIDDEN = 100
LEARNING_RATE = 0.01
MOMENTA = (0.0, 0.9, 0.99)


def train_digits(epochs: int, momentum: float = 0.9, seed: int = SEED) -> tuple[dict, float]:
    """Two-layer net on the digits with SGD + momentum; returns (history, test accuracy)."""
    X_train, y_train, X_test, y_test = load_digits(seed=seed)
    params = init_mlp([X_train.shape[1], HIDDEN, 10], init="he", seed=seed)
    history = train(params, X_train, y_train, X_val=X_test, y_val=y_test, update="sgd_momentum",
                    config={"learning_rate": LEARNING_RATE, "momentum": momentum},
                    epochs=epochs, batch_size=64, activation="relu", seed=seed)
    return history, accuracy(history["params"], X_test, y_test, activation="relu")


def _save(fig, out: Path, name: str, written: list[Path]) -> None:
    import matplotlib.pyplot as plt

    path = out / name
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> dict:
    """Run the demo; returns ``{"test_accuracy": float, "figures": [Path, ...]}``."""
    parser = argparse.ArgumentParser(prog="python -m backprop_lib.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="out", help="folder for the PNG figures (default: out)")
    parser.add_argument("--quick", action="store_true", help="fewer epochs (a few seconds)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    epochs, deep_epochs = (4, 2) if args.quick else (20, 8)
    start = time.perf_counter()
    written: list[Path] = []

    # Assignment 4: the two-layer net, and momentum 0 / 0.9 / 0.99 side by side.
    runs = {m: train_digits(epochs, momentum=m) for m in MOMENTA}
    history, test_acc = runs[0.9]
    print(f"two-layer net 64-{HIDDEN}-10 (ReLU, He init), SGD + momentum 0.9, lr {LEARNING_RATE}, "
          f"{epochs} epochs on the 8x8 digits: test accuracy {100 * test_acc:.1f} % (chance 10 %)")
    for m, (_, acc) in runs.items():
        print(f"  momentum {m:<4}: test accuracy {100 * acc:.1f} %")
    _save(plots.plot_loss_curves({f"momentum {m}": h["loss"] for m, (h, _) in runs.items()},
                                 title="Digits, 64-100-10 net: loss by momentum", smooth=10),
          out, "a4_momentum_loss_curves.png", written)
    paths = momentum_paths(momenta=MOMENTA)
    w0, w1 = np.meshgrid(np.linspace(-4.5, 4.5, 200), np.linspace(-2.0, 2.0, 120))
    grid = (w0, w1, quadratic_loss(np.stack([w0, w1], axis=-1)))
    _save(plots.plot_momentum_paths({f"momentum {m}": p for m, p in paths.items()}, grid,
                                    title="f(w) = 0.5 (w_0^2 + 25 w_1^2), lr 0.02, 100 steps"),
          out, "a4_momentum_paths.png", written)

    # Assignment 5: vanishing and exploding gradients.
    print(f"chain product: 0.25^10 = {chain_product(0.25, 10):.3g}, 0.01^10 = {chain_product(0.01, 10):.3g}, "
          f"1.1^100 = {chain_product(1.1, 100):.1f}")
    _save(plots.plot_chain_products(chain_product_curves((0.25, 0.01, 1.1), 100)),
          out, "a5_chain_products.png", written)
    _save(plots.plot_gradient_norms(gradient_norms_by_activation(depth=20, init="xavier"),
                                    title="20 layers, Xavier init: ||dW^l|| by activation"),
          out, "a5_grad_norms_by_activation.png", written)
    _save(plots.plot_gradient_norms(gradient_norms_by_init(activation="relu", depth=20),
                                    title="20 ReLU layers: ||dW^l|| by init"),
          out, "a5_grad_norms_by_init.png", written)
    probe = np.random.default_rng(SEED).standard_normal((256, 64))
    stats = activation_statistics(init_mlp([64] * 10 + [10], init="large", seed=SEED), probe, "sigmoid")
    _save(plots.plot_activation_histograms(
        stats["activations"], value_range=(0.0, 1.0),
        title=f"10 sigmoid layers, init std 1.0: {100 * stats['saturated'].mean():.0f} % of units saturated"),
        out, "a5_activation_histograms.png", written)
    X_train, y_train, _, _ = load_digits(seed=SEED)
    deep = deep_training_comparison(X_train, y_train, depth=20, epochs=deep_epochs, seed=SEED)
    _save(plots.plot_training_comparison({f"{a} (20 layers)": h for a, h in deep.items()},
                                         title="20-layer nets on the digits: sigmoid vs ReLU"),
          out, "a5_deep_sigmoid_vs_relu.png", written)
    clipped = clipping_comparison(X_train, y_train, max_norm=1.0, seed=SEED)
    _save(plots.plot_clipping_comparison(clipped, max_norm=1.0,
                                         title="8 ReLU layers, lr 0.2, momentum 0.9: clipping at 1.0"),
          out, "a5_clipping.png", written)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return {"test_accuracy": test_acc, "figures": written}


if __name__ == "__main__":
    main()
