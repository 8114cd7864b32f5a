"""Data-parallel training over MPI: where the time of a step goes, and how it scales.

    python benchmarks/distributed.py [--ranks 2] [--steps 3] [--quick]

Needs mpi4py and an MPI (``pip install mpi4py mpich``).  It runs itself under
``mpiexec -n 1`` (one process using every core with pynn's own threads: the
baseline, T1) and ``mpiexec -n N`` (N processes, cores ÷ N threads each) and
prints:

1. per step, for networks of about 5k, 85k, 1.3M and 10M parameters at
   per-rank batches 64, 256 and 1024: the gradient (forward + backward on
   this rank's batch), the allreduce of the gradient buffer, and the update;
2. weak scaling (each rank keeps batch B: N times the rows per step) as
   T1 / TN of one step at batch B, and the throughput gain N·T1/TN; strong
   scaling (the global batch G split over the ranks) as T1(G) / TN(G/N);
3. the allreduce fitted to latency + bytes / bandwidth (least squares over
   messages from 8 B to 80 MB), which predicts where data parallelism pays
   on a real cluster: when the gradient time of a step exceeds the
   allreduce time of the model's 8·n_params bytes.  (The fit is on the
   relative error, so small and large messages weigh alike.)

On one machine the ranks share its cores and memory bandwidth: expect no
speed-up there (recorded, never asserted).  Numbers are medians of
``--steps`` timed steps after a warm-up.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

NETWORKS = {  # name: layer widths (parameters in the name)
    "5k": [64, 64, 10],
    "85k": [784, 100, 64, 10],
    "1.3M": [784, 1024, 512, 10],
    "10M": [1024, 2048, 2048, 2048, 10],
}
BATCHES = [64, 256, 1024]
MESSAGE_BYTES = [8, 1 << 10, 1 << 14, 1 << 17, 1 << 20, 1 << 23, 80 << 20]


def _median_seconds(fn, steps):
    fn()  # warm-up
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def worker(out, steps, quick, batches):
    import pynn
    from pynn import backends
    world = pynn.distributed.init()
    impl = backends.implementation()
    results = {"size": world.size, "threads": pynn.get_num_threads(), "steps": {}, "allreduce": {}}
    rng = np.random.default_rng(world.rank)
    for name, widths in NETWORKS.items():
        if quick and name == "10M":
            continue
        layers = [pynn.Dense(a, b, "relu") for a, b in zip(widths[:-2], widths[1:-1])]
        layers.append(pynn.Dense(widths[-2], widths[-1], "softmax"))
        net = pynn.Network(layers, loss="cross_entropy", optimizer=pynn.Adam(lr=1e-4), seed=0)
        buf = np.zeros(net.n_params + 3)
        for batch in batches:
            X = rng.normal(size=(batch, widths[0])).astype(np.float32)
            y = rng.integers(0, widths[-1], batch)
            with net._training() as plan:
                grad = _median_seconds(lambda: impl.gradients(plan, X, None, y, None, 1), steps)
                world.barrier()
                reduce = _median_seconds(lambda: world.allreduce(buf), steps)
                update = _median_seconds(lambda: impl.apply_gradients(plan, net.optimizer), steps)
            world.barrier()
            full = _median_seconds(lambda: net.train_step(X, y, world=world), steps)
            results["steps"]["%s/%d" % (name, batch)] = {"params": net.n_params, "gradient": grad,
                                                         "allreduce": reduce, "update": update, "step": full}
    for size in MESSAGE_BYTES:
        msg = np.zeros(max(1, size // 8))
        world.barrier()
        results["allreduce"][str(msg.nbytes)] = _median_seconds(lambda: world.allreduce(msg), max(steps, 5))
    if world.rank == 0:
        with open(out, "w") as f:
            json.dump(results, f)


def _run(n, steps, quick, folder, batches):
    out = os.path.join(folder, "n%d.json" % n)
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if not os.path.exists(mpiexec):
        mpiexec = "mpiexec"
    env = dict(os.environ, MPIEXEC_TIMEOUT="3000")
    for var in ("PYNN_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(var, None)  # cores ÷ ranks, as pynn.distributed sets it
    cmd = [mpiexec, "-n", str(n), sys.executable, __file__, "--worker", out, "--steps", str(steps),
           "--batches", ",".join(map(str, batches))]
    subprocess.run(cmd + (["--quick"] if quick else []), env=env, check=True, timeout=3600)
    with open(out) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=2, help="N, the processes to compare with one")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="leave out the 10M network")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--batches", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.quick, [int(b) for b in args.batches.split(",")])
        return
    n = args.ranks
    with tempfile.TemporaryDirectory() as folder:
        one = _run(1, args.steps, args.quick, folder, BATCHES)
        many = _run(n, args.steps, args.quick, folder, BATCHES + [b // n for b in BATCHES if b // n not in BATCHES])
    print("one process with %d threads (T1) vs %d processes with %d threads each (TN); float32, Adam, "
          "medians of %d steps" % (one["threads"], n, many["threads"], args.steps))
    print("\nper step with N=%d (ms): gradient on the rank's batch, allreduce of 8 B x (params + 3), update" % n)
    print("%-6s %5s %9s %9s %9s %9s %9s | %9s %7s %7s" % ("net", "B", "params", "gradient", "allreduce", "update",
                                                          "step TN", "step T1", "T1/TN", "N.T1/TN"))
    for key, m in many["steps"].items():
        if key not in one["steps"]:
            continue  # measured for strong scaling only
        o = one["steps"][key]
        name, batch = key.split("/")
        print("%-6s %5s %9d %9.3f %9.3f %9.3f %9.3f | %9.3f %7.2f %7.2f" % (
            name, batch, m["params"], 1e3 * m["gradient"], 1e3 * m["allreduce"], 1e3 * m["update"],
            1e3 * m["step"], 1e3 * o["step"], o["step"] / m["step"], n * o["step"] / m["step"]))
    print("\nstrong scaling: global batch G, one process at G vs %d processes at G/%d" % (n, n))
    for key, o in one["steps"].items():
        name, batch = key.split("/")
        small = "%s/%d" % (name, int(batch) // n)
        if small in many["steps"]:
            print("  %-6s G=%-5s T1 %9.3f ms  TN %9.3f ms  speed-up %.2f" % (
                name, batch, 1e3 * o["step"], 1e3 * many["steps"][small]["step"],
                o["step"] / many["steps"][small]["step"]))
    sizes = np.array([float(b) for b in many["allreduce"]])
    times = np.array(list(many["allreduce"].values()))
    # least squares on the relative error, so the small messages (latency) count as much as the large
    A = np.stack([np.ones_like(sizes), sizes], 1) / times[:, None]
    (latency, per_byte), *_ = np.linalg.lstsq(A, np.ones_like(times), rcond=None)
    print("\nallreduce over %d processes: %s" % (n, ", ".join("%s B %.3g ms" % (int(s), 1e3 * t)
                                                           for s, t in zip(sizes, times))))
    print("fitted: latency %.1f us + bytes / %.2f GB/s" % (1e6 * latency, 1e-9 / per_byte if per_byte > 0 else
                                                           float("inf")))


if __name__ == "__main__":
    main()
