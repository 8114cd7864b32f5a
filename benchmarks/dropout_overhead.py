"""What Dropout costs a training step: ``python benchmarks/dropout_overhead.py [--help]``.

For each workload of the speed suite, the suite's network (pynn/benchmark.py) is timed without and
with ``Dropout(p)`` after every hidden layer.  The two are measured in
alternating rounds (A, B, A, B, ...) so that the noise of a shared machine
falls on both alike; the medians are compared.
"""
import argparse
import sys

import numpy as np

import pynn
from pynn.benchmark import WORKLOADS, make_data, output_activation, seconds_per_step
from pynn.layers import mlp_layers


def make(sizes, hidden, loss, p):
    return pynn.Network(mlp_layers(sizes, hidden, output_activation(loss), p), loss=loss, optimizer=pynn.SGD(lr=0.01), seed=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["c", "numpy"], default=pynn.backend())
    parser.add_argument("--p", type=float, default=0.5, help="dropout rate (default 0.5)")
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds per workload (default 9)")
    parser.add_argument("--budget", type=float, default=0.2,
                        help="seconds per measurement, 5x for the large workloads (default 0.2)")
    parser.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS),
                        help="comma-separated subset of: " + ", ".join(w[0] for w in WORKLOADS))
    args = parser.parse_args(argv)
    chosen = args.workloads.split(",")
    pynn.set_backend(args.backend)
    print("backend %s, %d threads, Dropout(%g) after every hidden layer, float32, SGD"
          % (pynn.backend(), pynn.get_num_threads(), args.p))
    print("| workload | batch | without | with dropout | overhead |")
    print("|---|---:|---:|---:|---:|")
    for name, sizes, batch, hidden, loss in WORKLOADS:
        if name not in chosen or len(sizes) < 3:  # without a hidden layer: nowhere to put dropout
            continue
        X, y = make_data(sizes, batch, loss)
        nets = [make(sizes, hidden, loss, 0.0), make(sizes, hidden, loss, args.p)]
        for net in nets:  # warm up: workspace, threads, caches
            seconds_per_step(net, X, y, 0.05)
        budget = args.budget * (1 if sizes[1] < 1000 else 5)
        times = [[], []]
        for _ in range(args.rounds):
            for i, net in enumerate(nets):
                times[i].append(seconds_per_step(net, X, y, budget))
        plain, dropped = (float(np.median(t)) for t in times)
        print("| %s | %d | %.1f us | %.1f us | %+.0f%% |"
              % (name, batch, plain * 1e6, dropped * 1e6, 100 * (dropped / plain - 1)))


if __name__ == "__main__":
    sys.exit(main())
