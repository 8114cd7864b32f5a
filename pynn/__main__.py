"""``python -m pynn``: the ``pynn`` command, whose default is the demo job.

The demo trains a small network on generated data (three interleaved
spirals, which no straight line separates), shows progress, and prints the
backend, the test accuracy and the time taken.  Needs nothing beyond pynn
itself.  The other subcommands (train, predict, bench, lr-sweep, init-demo)
are in :mod:`pynn.cli`.
"""
from __future__ import annotations

import sys
import time
from typing import List, Optional, Tuple

import pynn
from pynn._typing import Logs
from pynn.training import Callback


class _Progress(Callback):
    """Prints one line every ``every`` epochs (and the last)."""

    def __init__(self, epochs: int, every: int) -> None:
        self.epochs, self.every = epochs, every

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        assert logs is not None  # fit passes the epoch's metrics
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            print("  epoch %4d/%d  loss %.4f  accuracy %.4f  val_loss %.4f  val_accuracy %.4f"
                  % (epoch + 1, self.epochs, logs["loss"], logs["accuracy"], logs["val_loss"],
                     logs["val_accuracy"]), flush=True)


def demo(epochs: int = 150, backend: Optional[str] = None, seed: int = 0, hidden: int = 64,
         dtype: str = "float32") -> Tuple[float, float]:
    """Train on the spirals and return (test accuracy, seconds of training)."""
    if backend:
        pynn.set_backend(backend)
    X, y = pynn.datasets.spirals(n_per_class=300, n_classes=3, noise=0.2, seed=seed)
    X_train, X_test, y_train, y_test = pynn.datasets.train_test_split(X, y, test_fraction=0.25, seed=seed)
    net = pynn.Network(
        [pynn.Dense(2, hidden, "relu"), pynn.Dense(hidden, hidden, "relu"), pynn.Dense(hidden, 3, "softmax")],
        loss="cross_entropy", optimizer=pynn.Adam(lr=0.01), dtype=dtype, seed=seed)
    print("pynn %s - backend: %s (%s)" % (pynn.__version__, pynn.backend(), dtype))
    print("data: 3 spirals, %d training and %d test samples of 2 features"
          % (len(X_train), len(X_test)))
    print("network: 2-%d-%d-3 (relu, relu, softmax), %d parameters, %r"
          % (hidden, hidden, net.n_params, net.optimizer))
    start = time.perf_counter()
    net.fit(X_train, y_train, epochs=epochs, batch_size=32, validation_data=(X_test, y_test),
            verbose=0, callbacks=[_Progress(epochs, max(1, epochs // 10))])
    seconds = time.perf_counter() - start
    scores = net.evaluate(X_test, y_test)
    steps = net.optimizer.step
    print("test accuracy: %.4f  (test loss %.4f)" % (scores["accuracy"], scores["loss"]))
    print("time: %.2f s for %d epochs, %d training steps (%.1f us per step) on backend %s"
          % (seconds, epochs, steps, 1e6 * seconds / max(1, steps), pynn.backend()))
    return scores["accuracy"], seconds


def main(argv: Optional[List[str]] = None) -> int:
    """The ``pynn`` command: see :mod:`pynn.cli` (with no subcommand it runs :func:`demo`)."""
    from pynn.cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
