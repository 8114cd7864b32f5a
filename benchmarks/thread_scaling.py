"""What a second thread (or more) buys a training step: ``python benchmarks/thread_scaling.py [--help]``.

For each workload of the speed suite, the suite's network (pynn/benchmark.py)
is timed on one thread and on ``--threads`` threads (default: pynn's), in
alternating rounds (1, N, 1, N, ...) so that a change of the machine's state
falls on both alike.  The results are the same bits on any number of threads
(tests/test_gemm.py::test_results_do_not_depend_on_thread_count); only the time differs.

Each row gives the median over the rounds and, for N threads, the fastest and
slowest round: a wide spread with one thread steady means the threads'
communication changes, not the cores' speed.  On the 2-vCPU VM where issue 13
was measured, two threads ran tabular-100 in 132-146 us in some minutes and
in 226-262 us in others, against 181-200 us throughout on one thread, while two
single-threaded processes each kept their full speed.  So the slow minutes
are not two threads sharing one core, nor the worker waking late (a pool
that polled 10x longer, or without PAUSE, was as slow in them); most likely
they are each step's activations and weights moving between two cores the
host placed farther apart.
"""
import argparse
import sys

import numpy as np

import pynn
from pynn.benchmark import WORKLOADS, make_data, output_activation, seconds_per_step
from pynn.layers import mlp_layers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=pynn.get_num_threads(),
                        help="threads to compare with one (default: pynn's, %d here)" % pynn.get_num_threads())
    parser.add_argument("--rounds", type=int, default=9, help="alternating rounds per workload (default 9)")
    parser.add_argument("--budget", type=float, default=0.2,
                        help="seconds per measurement, 5x for the large workloads (default 0.2)")
    parser.add_argument("--workloads", default="tabular-100,tabular-20,mnist-size,large",
                        help="comma-separated subset of: " + ", ".join(w[0] for w in WORKLOADS)
                        + " (default: those big enough to be split)")
    args = parser.parse_args(argv)
    if "c" not in pynn.available_backends():
        print("thread_scaling: the C core is not built; threads only split its products")
        return 1
    chosen = args.workloads.split(",")
    unknown = sorted(set(chosen) - {w[0] for w in WORKLOADS})
    if unknown:
        parser.error("unknown workloads: %s" % ", ".join(unknown))
    previous_backend, previous_threads = pynn.backend(), pynn.get_num_threads()
    pynn.set_backend("c")
    print("backend c, float32, SGD; one thread against %d, %d alternating rounds" % (args.threads, args.rounds))
    print("| workload | batch | 1 thread | %d threads | fastest, slowest round | speed-up |" % args.threads)
    print("|---|---:|---:|---:|---:|---:|")
    try:
        for name, sizes, batch, hidden, loss in WORKLOADS:
            if name not in chosen:
                continue
            X, y = make_data(sizes, batch, loss)
            net = pynn.Network(mlp_layers(sizes, hidden, output_activation(loss)), loss=loss,
                               optimizer=pynn.SGD(lr=0.01), seed=0)
            budget = args.budget * (1 if sizes[1] < 1000 else 5)
            times = {1: [], args.threads: []}
            for threads in times:  # warm up: workspace, pool, caches
                pynn.set_num_threads(threads)
                seconds_per_step(net, X, y, 0.05)
            for _ in range(args.rounds):
                for threads in times:
                    pynn.set_num_threads(threads)
                    times[threads].append(seconds_per_step(net, X, y, budget))
            one, many = (float(np.median(times[t])) for t in (1, args.threads))
            print("| %s | %d | %.1f us | %.1f us | %.1f, %.1f us | %.2fx |"
                  % (name, batch, one * 1e6, many * 1e6, min(times[args.threads]) * 1e6,
                     max(times[args.threads]) * 1e6, one / many))
    finally:
        pynn.set_backend(previous_backend)
        pynn.set_num_threads(previous_threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
