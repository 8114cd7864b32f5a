"""Peak memory of ``pynn train`` and ``pynn predict`` against the CSV's size:
``python benchmarks/cli_memory.py [--mb 100] [--help]``.

Writes a numeric CSV of about ``--mb`` megabytes (``--columns`` input columns
of random numbers written with ``--digits`` significant digits, default 17 as
``repr`` writes a float64, and an integer class label ``y`` in 0..2; fewer
digits mean more cells per megabyte), then runs, each in its own
process, ``python -m pynn train DATA --target y --hidden 16 --epochs 1 --save
MODEL`` and ``python -m pynn predict MODEL DATA --output PRED``.

Peak memory is each child's peak resident set size (``ru_maxrss``) as the
kernel reports it to ``os.wait4`` for that one child: the Python interpreter,
numpy and pynn included.  For scale, the peak of a child that only imports
``pynn.cli`` is printed too.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

MB = 1000 * 1000


def write_csv(path, n_bytes, n_columns, digits=17, seed=0):
    """A numeric CSV of at least ``n_bytes`` bytes; returns (rows, columns)."""
    rng = np.random.default_rng(seed)
    rows, chunk = 0, 2000
    fmt = ",".join(["%%.%dg" % digits] * n_columns + ["%d"])
    with open(path, "w", newline="") as f:
        f.write(",".join(["x%d" % j for j in range(n_columns)] + ["y"]) + "\n")
        while f.tell() < n_bytes:
            X = rng.normal(size=(chunk, n_columns)) * rng.uniform(0.1, 100, size=n_columns)
            y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
            block = np.column_stack([X, y])
            f.write("\n".join(fmt % tuple(row) for row in block.tolist()) + "\n")
            rows += chunk
    return rows, n_columns + 1


def run(argv, env):
    """(exit status, peak RSS in bytes, seconds, stderr) of a child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        message = err.read().decode(errors="replace")
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return child.returncode, peak, seconds, message


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100, help="size of the CSV in MB (10^6 bytes; default 100)")
    parser.add_argument("--columns", type=int, default=10, help="input columns (default 10)")
    parser.add_argument("--digits", type=int, default=17, help="significant digits per number (default 17)")
    parser.add_argument("--backend", choices=["c", "numpy"], help="PYNN_BACKEND for the children")
    parser.add_argument("--dir", help="folder for the CSV and the model (default: a temporary one, removed)")
    args = parser.parse_args(argv)
    if args.mb <= 0 or args.columns < 1 or not 1 <= args.digits <= 17:
        parser.error("--mb must be > 0, --columns >= 1 and --digits in 1..17")

    env = dict(os.environ)
    if args.backend:
        env["PYNN_BACKEND"] = args.backend
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        data = os.path.join(tmp, "data.csv")
        model = os.path.join(tmp, "model.safetensors")
        pred = os.path.join(tmp, "pred.csv")
        rows, columns = write_csv(data, int(args.mb * MB), args.columns, args.digits)
        size = os.path.getsize(data)
        print("csv: %.1f MB (%d bytes), %d rows x %d columns, %.1f bytes per cell"
              % (size / MB, size, rows, columns, size / (rows * columns)))
        _, base, _, _ = run([sys.executable, "-c", "import pynn, pynn.cli"], env)
        print("baseline (a process that only imports pynn.cli): peak RSS %.1f MB" % (base / MB))
        pynn = [sys.executable, "-m", "pynn"]
        jobs = [("train", pynn + ["train", data, "--target", "y", "--hidden", "16", "--epochs", "1",
                                  "--verbose", "0", "--save", model]),
                ("predict", pynn + ["predict", model, data, "--output", pred])]
        for name, command in jobs:
            code, peak, seconds, message = run(command, env)
            if code != 0:
                print("%s failed (exit status %d):\n%s" % (name, code, message), file=sys.stderr)
                return 1
            print("%-8s peak RSS %7.1f MB = %.2fx the CSV's size (%.1f s)"
                  % (name + ":", peak / MB, peak / size, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
