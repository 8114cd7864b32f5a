"""The speed suite: pynn against plain numpy, PyTorch and scikit-learn.

Run it with ``python benchmarks/run.py`` (or ``pynn bench``); ``--help`` lists
the options.  In one process it times, for each workload of the ladder below,
one training step (forward, loss, backward, SGD update; float32) and one
forward pass, for every contender that is installed:

- ``pynn-c`` and ``pynn-numpy``: ``net.train_step(X, y)`` / ``net.predict(X)``;
- ``numpy``: a straightforward numpy MLP (preallocated nothing, in-place
  updates), the baseline a user would write by hand;
- ``torch``: ``torch.nn.Sequential`` + ``torch.optim.SGD``, with the same
  number of threads as pynn;
- ``sklearn``: ``MLPClassifier.partial_fit`` / ``MLPRegressor.partial_fit`` on
  one batch (its only public single-step API).

It also fits scikit-learn's digits (64-128-10, Adam, batch 32, 20 epochs)
with pynn and with ``MLPClassifier``, and measures the machine's float32 GEMM
peak as numpy's 2048x2048 matmul.  Each time is the median of several
repeats; ratios are from this one run.  Results go to a JSON file and a
markdown table (and a PNG chart when matplotlib is installed).
"""
import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

import pynn
from pynn.layers import mlp_layers

# name, layer sizes, batch, hidden activation, loss
WORKLOADS = [
    ("tiny", (2, 2, 2), 1, "sigmoid", "mse"),
    ("iris-size", (4, 16, 3), 16, "relu", "cross_entropy"),
    ("digits-size", (64, 128, 10), 32, "relu", "cross_entropy"),
    ("mnist-size", (784, 256, 128, 10), 128, "relu", "cross_entropy"),
    ("large", (1024, 2048, 2048, 10), 256, "relu", "cross_entropy"),
]
LR = 0.01


def median_time(fn, budget=0.25, repeats=7):
    """Median seconds per call of fn(): ``repeats`` timed runs of a loop
    sized so each run lasts about budget / repeats."""
    fn()  # warm up (allocations, caches, lazy initialisation)
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    loops = max(1, int(budget / repeats / once))
    times = []
    for _ in range(repeats):
        gc.disable()
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        times.append((time.perf_counter() - start) / loops)
        gc.enable()
    return statistics.median(times)


def flops(sizes, batch, training):
    """Floating-point operations of the products: 2*B*n_in*n_out for each
    forward product; training adds dW = X^T dZ for every layer and
    dX = dZ W^T for every layer but the first."""
    per_layer = [2 * batch * a * b for a, b in zip(sizes, sizes[1:])]
    total = sum(per_layer)
    if training:
        total += sum(per_layer) + sum(per_layer[1:])
    return total


def make_data(sizes, batch, loss, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    if loss == "cross_entropy":
        y = rng.integers(0, sizes[-1], size=batch)
    else:
        y = rng.uniform(size=(batch, sizes[-1])).astype(np.float32)
    return X, y


def output_activation(loss):
    return "softmax" if loss == "cross_entropy" else "sigmoid"


# ---- contenders -----------------------------------------------------------------

def pynn_runner(backend_name, dtype="float32"):
    def run(sizes, batch, hidden, loss):
        pynn.set_backend(backend_name)
        net = pynn.Network(mlp_layers(sizes, hidden, output_activation(loss)), loss=loss, optimizer=pynn.SGD(lr=LR), seed=0, dtype=dtype)
        X, y = make_data(sizes, batch, loss)
        X = X.astype(dtype)
        return (lambda: net.train_step(X, y)), (lambda: net.predict(X)), net
    return run


class PlainNumpyMLP:
    """The MLP a user would write with numpy: forward, loss gradient,
    backward, ``W -= lr * dW`` in place."""

    def __init__(self, sizes, hidden, loss, seed=0):
        rng = np.random.default_rng(seed)
        self.W = [(rng.normal(size=(a, b)) * np.sqrt(2 / a)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
        self.b = [np.zeros(b, np.float32) for b in sizes[1:]]
        self.hidden, self.loss = hidden, loss

    def _act(self, z):
        return np.maximum(z, 0) if self.hidden == "relu" else 1 / (1 + np.exp(-z))

    def _dact(self, a):
        return (a > 0).astype(a.dtype) if self.hidden == "relu" else a * (1 - a)

    def forward(self, X):
        outs = [X]
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = outs[-1] @ W + b
            if i < len(self.W) - 1:
                outs.append(self._act(z))
            elif self.loss == "cross_entropy":
                e = np.exp(z - z.max(axis=1, keepdims=True))
                outs.append(e / e.sum(axis=1, keepdims=True))
            else:
                outs.append(1 / (1 + np.exp(-z)))
        return outs

    def step(self, X, y):
        outs = self.forward(X)
        p = outs[-1]
        n = X.shape[0]
        if self.loss == "cross_entropy":
            delta = p.copy()
            delta[np.arange(n), y] -= 1
            delta /= n
        else:
            delta = 2 * (p - y) / p.size * p * (1 - p)
        for i in range(len(self.W) - 1, -1, -1):
            dW = outs[i].T @ delta
            db = delta.sum(axis=0)
            if i:
                delta = (delta @ self.W[i].T) * self._dact(outs[i])
            self.W[i] -= LR * dW
            self.b[i] -= LR * db


def numpy_runner(sizes, batch, hidden, loss):
    mlp = PlainNumpyMLP(sizes, hidden, loss)
    X, y = make_data(sizes, batch, loss)
    return (lambda: mlp.step(X, y)), (lambda: mlp.forward(X)), None


def torch_runner(sizes, batch, hidden, loss):
    import torch
    torch.set_num_threads(pynn.get_num_threads())
    torch.manual_seed(0)
    act = torch.nn.ReLU if hidden == "relu" else torch.nn.Sigmoid
    mods = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        mods += [torch.nn.Linear(a, b), act()]
    mods.append(torch.nn.Linear(sizes[-2], sizes[-1]))
    if loss != "cross_entropy":
        mods.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*mods)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    criterion = torch.nn.CrossEntropyLoss() if loss == "cross_entropy" else torch.nn.MSELoss()
    Xn, yn = make_data(sizes, batch, loss)
    X, y = torch.from_numpy(Xn), torch.from_numpy(np.asarray(yn))

    def step():
        opt.zero_grad()
        out = criterion(model(X), y)
        out.backward()
        opt.step()
        return out.item()

    def forward():
        with torch.no_grad():
            out = model(X)
            return torch.softmax(out, 1) if loss == "cross_entropy" else out

    return step, forward, None


def sklearn_runner(sizes, batch, hidden, loss):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    common = dict(hidden_layer_sizes=sizes[1:-1], activation="relu" if hidden == "relu" else "logistic",
                  solver="sgd", learning_rate_init=LR, momentum=0.0, batch_size=batch, alpha=0.0, random_state=0)
    X, y = make_data(sizes, batch, loss)
    if loss == "cross_entropy":
        model = MLPClassifier(**common)
        classes = np.arange(sizes[-1])
        step = lambda: model.partial_fit(X, y, classes=classes)  # noqa: E731
        step()
        return step, (lambda: model.predict_proba(X)), None
    model = MLPRegressor(**common)
    step = lambda: model.partial_fit(X, y)  # noqa: E731
    step()
    return step, (lambda: model.predict(X)), None


CONTENDERS = {"pynn-c": pynn_runner("c"), "pynn-numpy": pynn_runner("numpy"), "numpy": numpy_runner,
              "torch": torch_runner, "sklearn": sklearn_runner}


def available(name):
    if name == "pynn-c":
        return "c" in pynn.available_backends(), "pynn's C core is not built"
    if name in ("torch", "sklearn"):
        module = "torch" if name == "torch" else "sklearn"
        try:
            __import__(module)
            return True, ""
        except ImportError:
            return False, "%s is not installed" % module
    return True, ""


# ---- measurements ----------------------------------------------------------------

def gemm_peak(n=2048, dtype=np.float32):
    """GFLOP/s of numpy's n x n matmul (the machine's practical peak)."""
    a = np.random.default_rng(0).normal(size=(n, n)).astype(dtype)
    b = a.copy()
    out = np.empty_like(a)
    seconds = median_time(lambda: np.matmul(a, b, out=out), budget=2.0, repeats=5)
    return 2 * n ** 3 / seconds / 1e9


def memory_report(net, step):
    """Bytes pynn allocates per training step (numpy arrays and Python
    objects, via tracemalloc) and its buffers against the minimum they must
    hold: parameters + gradients + optimizer state + activations (Z and A)."""
    step()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(20):
        step()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    itemsize = net.dtype.itemsize
    plan = net._plan
    minimum = (2 * plan.params.size + plan.state.size) * itemsize
    buffers = plan.params.nbytes + plan.grads.nbytes + plan.state.nbytes
    if pynn.backend() == "c":
        from . import c_backend
        for work_bytes, batch in c_backend.workspaces(plan):  # one: the step runs on one thread
            buffers += work_bytes
            minimum += 2 * batch * int(plan.sizes[1:].sum()) * itemsize
    return {"per_step_peak_bytes": peak - base, "retained_bytes": current - base,
            "buffer_bytes": buffers, "minimum_bytes": minimum, "ratio": buffers / max(1, minimum)}


def float64_report(budget):
    """pynn-c's float64 training step on every workload, and on the large one
    against numpy's float64 GEMM peak."""
    peak = gemm_peak(dtype=np.float64)
    rows = []
    for name, sizes, batch, hidden, loss in WORKLOADS:
        step, _, _ = pynn_runner("c", "float64")(sizes, batch, hidden, loss)
        t = median_time(step, budget)
        gflops = flops(sizes, batch, True) / t / 1e9
        rows.append({"workload": name, "step_s": t, "step_gflops": gflops, "peak_pct": 100 * gflops / peak})
    return {"gemm_peak_gflops": peak, "rows": rows}


def digits_fit(epochs=20):
    """pynn vs MLPClassifier on scikit-learn's digits: time and test accuracy."""
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    results = {}
    for backend_name in pynn.available_backends():
        pynn.set_backend(backend_name)
        net = pynn.Network([pynn.Dense(64, 128, "relu"), pynn.Dense(128, 10, "softmax")],
                           loss="cross_entropy", optimizer=pynn.Adam(lr=1e-3), seed=0)
        start = time.perf_counter()
        net.fit(X_train, y_train, epochs=epochs, batch_size=32, verbose=0)
        seconds = time.perf_counter() - start
        results["pynn-" + backend_name] = {"seconds": seconds, "accuracy": net.evaluate(X_test, y_test)["accuracy"]}
    model = MLPClassifier(hidden_layer_sizes=(128,), solver="adam", learning_rate_init=1e-3, batch_size=32,
                          max_iter=epochs, alpha=0.0, tol=0.0, n_iter_no_change=epochs + 1, random_state=0)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    results["sklearn"] = {"seconds": seconds, "accuracy": float(model.score(X_test, y_test))}
    return results


def run(workloads, contenders, budget, log=print):
    peak = gemm_peak()
    log("float32 GEMM peak (numpy 2048x2048 matmul): %.1f GFLOP/s" % peak)
    rows = []
    for name, sizes, batch, hidden, loss in workloads:
        for who in contenders:
            ok, why = available(who)
            if not ok:
                rows.append({"workload": name, "contender": who, "skipped": why})
                continue
            step, forward, net = CONTENDERS[who](sizes, batch, hidden, loss)
            t_step = median_time(step, budget)
            t_fwd = median_time(forward, budget)
            row = {"workload": name, "contender": who, "sizes": list(sizes), "batch": batch,
                   "step_s": t_step, "forward_s": t_fwd,
                   "step_samples_per_s": batch / t_step, "forward_samples_per_s": batch / t_fwd,
                   "step_gflops": flops(sizes, batch, True) / t_step / 1e9,
                   "forward_gflops": flops(sizes, batch, False) / t_fwd / 1e9}
            row["step_peak_pct"] = 100 * row["step_gflops"] / peak
            row["forward_peak_pct"] = 100 * row["forward_gflops"] / peak
            if net is not None and who == "pynn-c":
                row["memory"] = memory_report(net, step)
            rows.append(row)
            log("  %-12s %-10s step %10.1f us  forward %10.1f us  (%5.1f GFLOP/s training)"
                % (name, who, t_step * 1e6, t_fwd * 1e6, row["step_gflops"]))
    return peak, rows


def ratios(rows, workload, key):
    """pynn-c's speed-up over every other contender for one workload."""
    by = {r["contender"]: r for r in rows if r["workload"] == workload and "skipped" not in r}
    if "pynn-c" not in by:
        return {}
    return {who: r[key] / by["pynn-c"][key] for who, r in by.items() if who != "pynn-c"}


def markdown(peak, rows, digits, info, f64=None):
    lines = ["# pynn benchmark", "", "Machine: %s; %s" % (info["machine"], info["threads"]),
             "float32 GEMM peak (numpy 2048x2048 matmul): **%.1f GFLOP/s**" % peak, ""]
    for kind, key in (("Training step (forward + loss + backward + SGD), float32", "step"),
                      ("Forward only (inference), float32", "forward")):
        lines += ["## " + kind, "",
                  "| workload | contender | median time | samples/s | GFLOP/s | % of peak | pynn-c speed-up |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for name, *_ in WORKLOADS:
            r_by = ratios(rows, name, key + "_s")
            for r in (r for r in rows if r["workload"] == name):
                if "skipped" in r:
                    lines.append("| %s | %s | skipped: %s | | | | |" % (name, r["contender"], r["skipped"]))
                    continue
                speedup = "" if r["contender"] == "pynn-c" else "%.1fx" % r_by.get(r["contender"], float("nan"))
                lines.append("| %s | %s | %s | %s | %.2f | %.1f%% | %s |" % (
                    name, r["contender"], fmt_time(r[key + "_s"]), fmt_rate(r[key + "_samples_per_s"]),
                    r[key + "_gflops"], r[key + "_peak_pct"], speedup))
        lines.append("")
    mem = [(r["workload"], r["memory"]) for r in rows if "memory" in r]
    if mem:
        lines += ["## Memory of pynn-c training", "",
                  "| workload | allocated per step | pynn buffers | minimum (params+grads+state+activations) | ratio |",
                  "|---|---:|---:|---:|---:|"]
        for name, m in mem:
            lines.append("| %s | %d B | %s | %s | %.2f |" % (name, m["per_step_peak_bytes"], fmt_bytes(m["buffer_bytes"]),
                                                         fmt_bytes(m["minimum_bytes"]), m["ratio"]))
        lines.append("")
    if f64:
        lines += ["## pynn-c in float64", "",
                  "float64 GEMM peak (numpy 2048x2048 matmul): **%.1f GFLOP/s**" % f64["gemm_peak_gflops"], "",
                  "| workload | training step | GFLOP/s | % of float64 peak |", "|---|---:|---:|---:|"]
        for r in f64["rows"]:
            lines.append("| %s | %s | %.2f | %.1f%% |" % (r["workload"], fmt_time(r["step_s"]), r["step_gflops"],
                                                        r["peak_pct"]))
        lines.append("")
    if digits:
        lines += ["## Fit: scikit-learn digits, 64-128-10, Adam, batch 32, 20 epochs", "",
                  "| contender | time | test accuracy | pynn-c speed-up |", "|---|---:|---:|---:|"]
        base = digits.get("pynn-c", {}).get("seconds")
        for who, r in digits.items():
            speedup = "" if who == "pynn-c" or not base else "%.1fx" % (r["seconds"] / base)
            lines.append("| %s | %s | %.4f | %s |" % (who, fmt_time(r["seconds"]), r["accuracy"], speedup))
        lines.append("")
    return "\n".join(lines)


def fmt_time(s):
    return "%.2f us" % (s * 1e6) if s < 1e-3 else ("%.2f ms" % (s * 1e3) if s < 1 else "%.2f s" % s)


def fmt_rate(r):
    return "%.3g" % r


def fmt_bytes(b):
    return "%.1f MB" % (b / 1e6) if b >= 1e5 else "%d B" % b


def chart(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [w[0] for w in WORKLOADS if any(r["workload"] == w[0] for r in rows)]
    who = sorted({r["contender"] for r in rows if "skipped" not in r})
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / max(1, len(who))
    for i, c in enumerate(who):
        vals = [next((r["step_samples_per_s"] for r in rows if r["workload"] == n and r["contender"] == c
                      and "skipped" not in r), 0) for n in names]
        ax.bar(np.arange(len(names)) + i * width, vals, width, label=c)
    ax.set_xticks(np.arange(len(names)) + width * (len(who) - 1) / 2, names)
    ax.set_yscale("log")
    ax.set_ylabel("training samples / s (log)")
    ax.set_title("pynn training throughput, float32")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pynn bench", description="pynn's speed suite (see pynn/benchmark.py)")
    parser.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS),
                        help="comma-separated subset of: " + ", ".join(w[0] for w in WORKLOADS))
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated subset of: "
                        + ", ".join(CONTENDERS))
    parser.add_argument("--budget", type=float, default=0.5, help="seconds of timing per measurement")
    parser.add_argument("--no-fit", action="store_true", help="skip the digits fit comparison")
    parser.add_argument("--no-float64", action="store_true", help="skip pynn-c's float64 measurements")
    parser.add_argument("--out", default="benchmarks/results", help="directory for JSON, markdown and PNG")
    args = parser.parse_args(argv)
    names = args.workloads.split(",")
    unknown = set(names) - {w[0] for w in WORKLOADS} | set(args.contenders.split(",")) - set(CONTENDERS)
    if unknown:
        parser.error("unknown workload or contender: %s" % ", ".join(sorted(unknown)))
    workloads = [w for w in WORKLOADS if w[0] in names]
    contenders = args.contenders.split(",")
    info = {"machine": "%s, %s, %d CPUs, Python %s, numpy %s, pynn %s" % (
        platform.machine(), platform.processor() or platform.system(), os.cpu_count() or 0,
        platform.python_version(), np.__version__, pynn.__version__),
        "threads": "pynn threads: %d" % pynn.get_num_threads()}
    print(info["machine"])
    peak, rows = run(workloads, contenders, args.budget)
    digits = None
    if not args.no_fit:
        ok, why = available("sklearn")
        if ok:
            digits = digits_fit()
        else:
            print("digits fit skipped: " + why)
    f64 = None
    if not args.no_float64 and "c" in pynn.available_backends():
        f64 = float64_report(args.budget)
    os.makedirs(args.out, exist_ok=True)
    report = markdown(peak, rows, digits, info, f64)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"info": info, "gemm_peak_gflops": peak, "rows": rows, "digits_fit": digits, "float64": f64},
                  f, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(report + "\n")
    drew = chart(rows, os.path.join(args.out, "results.png"))
    print()
    print(report)
    print("written: %s/results.json, results.md%s" % (args.out, ", results.png" if drew else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
