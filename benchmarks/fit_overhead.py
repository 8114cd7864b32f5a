"""What fit adds around the training steps, on the large network.

    python benchmarks/fit_overhead.py [--batches 24] [--optimizer adam]

Times one epoch of ``fit`` (1024-2048-2048-10, batch 256, float32, so about
one batch per chunk) against the same batches by ``train_step`` in a loop,
with fit's checks taken before every chunk (what fit did before: a
finiteness check of the weights and optimizer state and a copy of them,
``_SNAPSHOT_RATIO = 0``) and as it is now (only when due: a check and a copy
per ~50 times the copy's cost in training, and a check at the epoch's end;
an overflow in between is found by replaying from the last copy).
Medians of --repeats runs, one process.
"""
import argparse
import statistics
import time

import numpy as np

import pynn
from pynn import training


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--optimizer", default="adam", choices=["sgd", "adam"])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = 256 * args.batches
    X = rng.normal(size=(n, 1024)).astype(np.float32)
    y = rng.integers(0, 10, n)
    net = pynn.Network([pynn.Dense(1024, 2048, "relu"), pynn.Dense(2048, 2048, "relu"), pynn.Dense(2048, 10, "softmax")],
                       loss="cross_entropy", optimizer=args.optimizer, seed=0)
    net.optimizer.lr = 1e-5
    net.fit(X[:512], y[:512], epochs=1, batch_size=256, verbose=0)  # warm up

    def steps():
        for lo in range(0, n, 256):
            net.train_step(X[lo:lo + 256], y[lo:lo + 256])

    def fit():
        net.fit(X, y, epochs=1, batch_size=256, shuffle=False, verbose=0)

    def median(fn):
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    base = median(steps)
    default_ratio = training._SNAPSHOT_RATIO
    training._SNAPSHOT_RATIO = 0.0
    every = median(fit)
    training._SNAPSHOT_RATIO = default_ratio
    due = median(fit)
    print("large network, %s, %d batches of 256, %d threads; medians of %d" % (
        args.optimizer, args.batches, pynn.get_num_threads(), args.repeats))
    print("train_step loop            %8.1f ms per batch" % (1e3 * base / args.batches))
    print("fit, check+copy per chunk  %8.1f ms per batch (%+.1f%%)" % (1e3 * every / args.batches,
                                                                      100 * (every / base - 1)))
    print("fit, check+copy when due   %8.1f ms per batch (%+.1f%%)" % (1e3 * due / args.batches,
                                                                      100 * (due / base - 1)))


if __name__ == "__main__":
    main()
