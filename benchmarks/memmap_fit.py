"""Memory and time of one shuffled fit epoch on a memory-mapped X.

    python benchmarks/memmap_fit.py [--rows 1000000] [--features 100] [--backend c]

Writes X (float32, rows x features, 381 MiB by default) and y to a temporary
folder, then runs each way of training in a fresh process:

- ``gather`` -- today's fit on ``np.load(path, mmap_mode="r")``: each batch's
  rows are gathered by index (in C; batch by batch in numpy);
- ``copy``  -- what fit did before: the epoch's shuffled copy ``X[order]``,
  then the batches in order (one extra full pass over the data and a copy
  as big as X).

It prints, for each, the seconds of the epoch and the growth of memory
during it: anonymous memory (what the process allocates: the number that
matters; sampled every 2 ms from /proc/self/status RssAnon) and the
resident set (VmHWM, which also counts the file's pages the kernel keeps
mapped while X is read -- reclaimable, and the same for both ways).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no %s in /proc/self/status" % field)


def child(folder, mode, backend):
    os.environ["PYNN_BACKEND"] = backend
    import pynn
    X = np.load(os.path.join(folder, "X.npy"), mmap_mode="r")
    y = np.load(os.path.join(folder, "y.npy"))
    net = pynn.Network([pynn.Dense(X.shape[1], 64, "relu"), pynn.Dense(64, 1)], loss="mse",
                       optimizer=pynn.Adam(lr=1e-3), seed=0)
    net.fit(np.asarray(X[:2048]), y[:2048], epochs=1, batch_size=256, verbose=0)  # warm up pools, workspaces
    peak = [_status("RssAnon")]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _status("RssAnon"))
            time.sleep(0.002)

    base_anon, base_rss = _status("RssAnon"), _status("VmRSS")
    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    start = time.perf_counter()
    if mode == "gather":
        net.fit(X, y, epochs=1, batch_size=256, verbose=0)
    else:
        order = np.random.default_rng(0).permutation(X.shape[0])
        net.fit(X[order], y[order], epochs=1, batch_size=256, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    peak[0] = max(peak[0], _status("RssAnon"))
    print("%.3f %d %d" % (seconds, peak[0] - base_anon, _status("VmHWM") - base_rss))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--backend", default="c", choices=["c", "numpy"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.backend)
        return
    with tempfile.TemporaryDirectory() as folder:
        rng = np.random.default_rng(0)
        X = np.lib.format.open_memmap(os.path.join(folder, "X.npy"), mode="w+", dtype=np.float32,
                                      shape=(args.rows, args.features))
        for lo in range(0, args.rows, 100_000):
            X[lo:lo + 100_000] = rng.normal(size=X[lo:lo + 100_000].shape)
        X.flush()
        size = X.nbytes
        del X
        np.save(os.path.join(folder, "y.npy"), rng.normal(size=args.rows).astype(np.float32))
        print("X: %d x %d float32 = %.0f MiB (memory-mapped), backend %s, batch 256, one shuffled epoch"
              % (args.rows, args.features, size / 2 ** 20, args.backend))
        print("%-7s %9s %18s %18s" % ("way", "seconds", "anon growth", "RSS growth"))
        for mode in ("gather", "copy"):
            out = subprocess.run([sys.executable, __file__, "--backend", args.backend, "--child", folder, mode],
                                 capture_output=True, text=True, timeout=3600, check=True).stdout.split()
            seconds, anon, rss = float(out[0]), int(out[1]), int(out[2])
            print("%-7s %9.2f %9.0f MiB %4.0f%% %9.0f MiB %4.0f%%" % (
                mode, seconds, anon / 2 ** 20, 100 * anon / size, rss / 2 ** 20, 100 * rss / size))


if __name__ == "__main__":
    main()
