"""The speed suite: pynn against plain numpy, PyTorch and scikit-learn.

Run it with ``python benchmarks/run.py`` (or ``pynn bench``); ``--help`` lists
the options.  It times, for each workload of the ladder below, one training
step (forward, loss, backward, SGD update; float32) and one forward pass, for
every contender that is installed, each contender in a fresh Python process of
its own (spawned: no other contender's library is loaded there, so no idle
OpenMP or BLAS threads of theirs spin on the cores it is timed on), asked in
turn, with a pause between turns, over several rounds (a time is the median
over the rounds, so a slow minute of a shared machine does not fall on one
contender alone):

- ``pynn-c`` and ``pynn-numpy``: ``net.train_step(X, y)`` / ``net.predict(X)``;
- ``numpy``: a straightforward numpy MLP (preallocated nothing, in-place
  updates), the baseline a user would write by hand;
- ``torch``: ``torch.nn.Sequential`` + ``torch.optim.SGD``, with the same
  number of threads as pynn;
- ``sklearn``: ``MLPClassifier.partial_fit`` / ``MLPRegressor.partial_fit`` on
  one batch (its only public single-step API).

It also fits scikit-learn's digits (64-128-10, Adam, batch 32, 20 epochs)
with pynn and with ``MLPClassifier``, and measures the machine's float32 GEMM
peak as the better of numpy's and pynn-c's own 2048x2048 matmul (each the
best of several runs, before and after the contenders; no percentage of it
exceeds 100).  It prints the CPU's SIMD
level and the micro-kernels pynn-c ran, and checks issue 13's targets.  Each
time is the median of several repeats; ratios are from this one run.  Results go to a JSON file and a
markdown table (and a PNG chart when matplotlib is installed).
"""
import argparse
import concurrent.futures
import gc
import json
import multiprocessing
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
    # the "tabular" rungs, where most real MLPs live: a regression head on
    # 100 features, and a two-class classifier on 20
    ("tabular-100", (100, 256, 256, 1), 64, "relu", "mse"),
    ("tabular-20", (20, 64, 64, 2), 128, "relu", "cross_entropy"),
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


def seconds_per_step(net, X, y, budget):
    """Mean seconds per ``net.train_step(X, y)`` over about ``budget``
    seconds (the side scripts' measurement, taken in alternating rounds)."""
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < budget:
        net.train_step(X, y)
        steps += 1
    return (time.perf_counter() - start) / steps


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
        if y.dtype.kind == "f":  # targets of the network's dtype too: no conversion timed with each step
            y = y.astype(dtype)
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
    if y.shape[1] == 1:  # one output: the 1-D targets scikit-learn expects (else a warning every step)
        y = y[:, 0]
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


# ---- isolation: each contender in a process of its own ---------------------------

def _settings_now():
    """What a child process needs to run pynn as this one does."""
    from . import settings
    return {"threads": pynn.get_num_threads(), "simd": settings.get_simd()}


def _apply_settings(conf):
    from . import settings
    pynn.set_num_threads(conf["threads"])
    settings.set_simd(conf["simd"])


def in_fresh_process(fn, *args):
    """fn(*args) run in a new Python process, spawned (not forked: none of
    this process's imported libraries or their threads), and its result.

    PyTorch's OpenMP threads and a BLAS's threads keep spinning for a while
    after their last call; in a shared process they would steal cores from
    whichever contender is timed next (on a 2-core machine pynn-c's
    mid-size steps measured up to 2x slower that way)."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args).result()


# Seconds a contender may take to answer one request (importing its library
# and building its model the first time): a hung contender fails the run.
REPLY_TIMEOUT = 600


class ContenderProcess:
    """One contender's own Python process for the whole run (spawned, so no
    other contender's library is loaded there), timing a workload when asked.

    The suite asks every contender in turn, workload by workload, for several
    rounds: a slow minute of a shared machine then hits every contender a
    little instead of one contender a lot."""

    def __init__(self, who, conf):
        context = multiprocessing.get_context("spawn")
        self.who = who
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve_contender, args=(child, who, conf), daemon=True)
        self.process.start()
        child.close()

    def time(self, workload, budget):
        """{"step_s", "forward_s"} (and "memory" for pynn-c, the first time)."""
        self.conn.send((workload, budget))
        if not self.conn.poll(REPLY_TIMEOUT):
            self.process.kill()
            raise TimeoutError("the %s contender gave no time for %s within %d s"
                               % (self.who, workload[0], REPLY_TIMEOUT))
        try:
            result = self.conn.recv()
        except EOFError:
            raise RuntimeError("the %s contender's process ended (exit code %s)"
                               % (self.who, self.process.exitcode)) from None
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self):
        try:
            self.conn.send(None)
        except OSError:
            pass  # it has ended already
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()


def _serve_contender(conn, who, conf):
    """A ContenderProcess's loop: time each workload asked for (its runner
    made on the first request and kept), until told to stop."""
    _apply_settings(conf)
    made = {}
    while True:
        request = conn.recv()
        if request is None:
            return
        (name, sizes, batch, hidden, loss), budget = request
        try:
            first = name not in made
            if first:
                made[name] = CONTENDERS[who](sizes, batch, hidden, loss)
            step, forward, net = made[name]
            result = {"step_s": median_time(step, budget), "forward_s": median_time(forward, budget)}
            if first and net is not None and who == "pynn-c":
                result["memory"] = memory_report(net, step)
            conn.send(result)
        except Exception as e:  # noqa: BLE001 -- sent back and raised in the suite's process
            conn.send(e)


# Seconds between two contenders' turns: other libraries' idle threads (a
# BLAS's, OpenMP's) spin for up to ~0.1 s after their last call before they
# sleep; meanwhile they would share the cores with the next contender.
SETTLE_SECONDS = 0.1


def time_contenders(workloads, contenders, budget, rounds, log=print):
    """Every available contender's step and forward times on every workload:
    ``rounds`` rounds, each asking every contender in turn for each workload
    with budget / rounds seconds; a time is the median over the rounds.
    Returns the rows, workload by workload, the contenders in the order asked."""
    conf = _settings_now()
    procs = {}
    try:
        for who in contenders:
            if available(who)[0]:
                procs[who] = ContenderProcess(who, conf)
        samples: dict = {}  # (workload, contender) -> the rounds' times
        for r in range(rounds):
            for workload in workloads:
                for who, proc in procs.items():
                    time.sleep(SETTLE_SECONDS)
                    t = proc.time(workload, budget / rounds)
                    samples.setdefault((workload[0], who), []).append(t)
                    log("  round %d/%d  %-12s %-10s step %10.1f us  forward %10.1f us"
                        % (r + 1, rounds, workload[0], who, t["step_s"] * 1e6, t["forward_s"] * 1e6))
    finally:
        for proc in procs.values():
            proc.close()
    rows = []
    for name, sizes, batch, _, _ in workloads:
        for who in contenders:
            if who not in procs:
                rows.append({"workload": name, "contender": who, "skipped": available(who)[1]})
                continue
            got = samples[(name, who)]
            t_step = statistics.median(t["step_s"] for t in got)
            t_fwd = statistics.median(t["forward_s"] for t in got)
            row = {"workload": name, "contender": who, "sizes": list(sizes), "batch": batch,
                   "step_s": t_step, "forward_s": t_fwd, "rounds": len(got),
                   "step_samples_per_s": batch / t_step, "forward_samples_per_s": batch / t_fwd,
                   "step_gflops": flops(sizes, batch, True) / t_step / 1e9,
                   "forward_gflops": flops(sizes, batch, False) / t_fwd / 1e9}
            if "memory" in got[0]:
                row["memory"] = got[0]["memory"]
            rows.append(row)
    return rows


# ---- measurements ----------------------------------------------------------------

def best_time(fn, budget=0.25, repeats=7):
    """Fastest seconds per call of fn() over ``repeats`` timed runs (as
    median_time): the least disturbed run, for a peak."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    loops = max(1, int(budget / repeats / once))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - start) / loops)
    return best


def gemm_peak(n=2048, dtype=np.float32, budget=2.0):
    """GFLOP/s of numpy's n x n matmul (the machine's practical peak): the
    best of several runs, so a busy moment lowers it less than a median."""
    a = np.random.default_rng(0).normal(size=(n, n)).astype(dtype)
    b = a.copy()
    out = np.empty_like(a)
    seconds = best_time(lambda: np.matmul(a, b, out=out), budget=budget, repeats=7)
    return 2 * n ** 3 / seconds / 1e9


def pynn_gemm_peak(n=2048, dtype=np.float32, budget=2.0):
    """GFLOP/s of pynn-c's own n x n matmul (pynn_matmul, the products'
    blocked path, on pynn's threads), best of several runs; None without the
    C core.  Where it beats numpy's BLAS it is the machine's better measure."""
    if "c" not in pynn.available_backends():
        return None
    from . import settings
    from ._core import ffi, lib
    suffix, ctype = ("_f32", "float") if dtype == np.float32 else ("_f64", "double")
    pool = ffi.gc(lib.pynn_pool_create(pynn.get_num_threads()), lib.pynn_pool_destroy)
    a = np.random.default_rng(0).normal(size=(n, n)).astype(dtype)
    out = np.empty_like(a)
    pack = np.empty(getattr(lib, "pynn_matmul_pack_size" + suffix)(pool, n, n, n), dtype)
    buf = lambda x: ffi.from_buffer(ctype + "[]", x)  # noqa: E731
    args = (settings.simd_code(), pool, n, n, n, buf(a), n, 1, buf(a), n, 1, buf(out), n, buf(pack), pack.size)
    fn = getattr(lib, "pynn_matmul" + suffix)
    seconds = best_time(lambda: fn(*args), budget=budget, repeats=7)
    return 2 * n ** 3 / seconds / 1e9


def machine_peak(n=2048, dtype=np.float32, budget=2.0):
    """The machine's GEMM peak now: the better of numpy's and pynn-c's own
    n x n matmul (each the best of several runs); returns (peak, numpy's,
    pynn-c's or None).  Measured in a process of its own, so numpy's BLAS
    threads do not spin on while the next contender is timed."""
    return in_fresh_process(_machine_peak_here, n, np.dtype(dtype).name, budget, _settings_now())


def _machine_peak_here(n, dtype_name, budget, conf):
    _apply_settings(conf)
    dtype = np.dtype(dtype_name).type
    ours = pynn_gemm_peak(n, dtype, budget)
    theirs = gemm_peak(n, dtype, budget)
    return max(theirs, ours or 0.0), theirs, ours


def simd_report():
    """The CPU's SIMD level and the micro-kernels pynn-c runs: {"cpu": ...,
    "kernel": ...}, from the C core's own run-time checks (the same ones
    that choose the kernels) and the PYNN_SIMD / set_simd request."""
    from . import settings
    if "c" not in pynn.available_backends() or settings._lib is None:
        return {"cpu": "unknown (C core not built)", "kernel": "none"}
    lib = settings._lib
    order = [name for name in ("avx512", "avx2", "neon") if lib.pynn_simd_available(settings.SIMD_CODES[name])]
    cpu = order[0] if order else "baseline (no AVX2/AVX-512/NEON)"
    requested = settings.get_simd()
    if requested == "auto":
        kernel = order[0] if order else "portable"
    elif requested == "avx512" or requested == "avx2":
        # a request runs that level or the best lower one this CPU has
        kernel = next((k for k in ("avx512", "avx2") if k in order and (requested == "avx512" or k == "avx2")),
                      "portable")
    else:
        kernel = requested
    return {"cpu": cpu, "kernel": kernel, "requested": requested}


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


def float64_rows(budget, conf):
    """pynn-c's float64 training step on every workload (in a process of its own)."""
    _apply_settings(conf)
    rows = []
    for name, sizes, batch, hidden, loss in WORKLOADS:
        step, _, _ = pynn_runner("c", "float64")(sizes, batch, hidden, loss)
        t = median_time(step, budget)
        rows.append({"workload": name, "step_s": t, "step_gflops": flops(sizes, batch, True) / t / 1e9})
    return rows


def float64_report(budget, peak_size=2048):
    """pynn-c's float64 training step on every workload, and on the large one
    against numpy's float64 GEMM peak (best of several runs, before and after
    the rows; raised to the fastest row if one beats it)."""
    peak_budget = min(2.0, 4 * budget)
    before = machine_peak(peak_size, dtype=np.float64, budget=peak_budget)[0]
    rows = in_fresh_process(float64_rows, budget, _settings_now())
    after = machine_peak(peak_size, dtype=np.float64, budget=peak_budget)[0]
    peak = max(before, after, max(r["step_gflops"] for r in rows))
    for r in rows:
        r["peak_pct"] = 100 * r["step_gflops"] / peak
    return {"gemm_peak_gflops": peak, "before": before, "after": after, "rows": rows}


def _digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def digits_fit_one(who, epochs, conf):
    """One contender's fit of scikit-learn's digits (run in a process of its
    own): {"seconds", "accuracy"} on the held-out quarter."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    _apply_settings(conf)
    X_train, X_test, y_train, y_test = _digits_split()
    if who == "sklearn":
        model = MLPClassifier(hidden_layer_sizes=(128,), solver="adam", learning_rate_init=1e-3, batch_size=32,
                              max_iter=epochs, alpha=0.0, tol=0.0, n_iter_no_change=epochs + 1, random_state=0)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "accuracy": float(model.score(X_test, y_test))}
    pynn.set_backend(who[len("pynn-"):])
    net = pynn.Network([pynn.Dense(64, 128, "relu"), pynn.Dense(128, 10, "softmax")],
                       loss="cross_entropy", optimizer=pynn.Adam(lr=1e-3), seed=0)
    start = time.perf_counter()
    net.fit(X_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "accuracy": net.evaluate(X_test, y_test)["accuracy"]}


def digits_fit(epochs=20):
    """pynn vs MLPClassifier on scikit-learn's digits: time and test accuracy,
    each contender's fit in a process of its own."""
    conf = _settings_now()
    return {who: in_fresh_process(digits_fit_one, who, epochs, conf)
            for who in ["pynn-" + name for name in pynn.available_backends()] + ["sklearn"]}


def run(workloads, contenders, budget, log=print, peak_size=2048, rounds=3):
    """Times every workload for every contender (time_contenders); returns
    (peak, rows, peaks).
    The float32 GEMM peak is measured before and after the contenders (the
    best of several runs each time) and the higher of the two is the peak;
    if a workload still beats it, the peak is raised to that workload's rate
    (and peaks["raised"] says so), so no percentage exceeds 100."""
    # the peak's own timing: 2 s at the default --budget 0.5, less for a quick run
    peak_budget = min(2.0, 4 * budget)
    before, np_before, ours_before = machine_peak(peak_size, budget=peak_budget)
    log("float32 GEMM peak before (%dx%d matmul, best of 7): numpy %.1f, pynn-c %s GFLOP/s"
        % (peak_size, peak_size, np_before, "%.1f" % ours_before if ours_before else "-"))
    rows = time_contenders(workloads, contenders, budget, rounds, log)
    after, np_after, ours_after = machine_peak(peak_size, budget=peak_budget)
    log("float32 GEMM peak after: numpy %.1f, pynn-c %s GFLOP/s" % (np_after, "%.1f" % ours_after if ours_after else "-"))
    peak = max(before, after)
    fastest = max([r[k] for r in rows if "skipped" not in r for k in ("step_gflops", "forward_gflops")], default=0.0)
    peaks = {"before": before, "after": after, "raised": fastest > peak, "numpy": max(np_before, np_after),
             "pynn-c": max(ours_before or 0.0, ours_after or 0.0) or None}
    peak = max(peak, fastest)
    for r in rows:
        if "skipped" not in r:
            r["step_peak_pct"] = 100 * r["step_gflops"] / peak
            r["forward_peak_pct"] = 100 * r["forward_gflops"] / peak
    return peak, rows, peaks


def ratios(rows, workload, key):
    """pynn-c's speed-up over every other contender for one workload."""
    by = {r["contender"]: r for r in rows if r["workload"] == workload and "skipped" not in r}
    if "pynn-c" not in by:
        return {}
    return {who: r[key] / by["pynn-c"][key] for who, r in by.items() if who != "pynn-c"}


# issue 13's targets: pynn-c's speed-up over (torch, plain numpy) per workload
TARGETS = {"tiny": (100, 15), "iris-size": (50, 10), "digits-size": (25, 4), "mnist-size": (1.5, 2),
           "large": (1.0, None)}


def targets(peak, rows, digits, f64=None):
    """The targets of issue 13 against this run: a list of (what, measured,
    target, holds) with holds True, False or None (not measured)."""
    out = []
    for name, (vs_torch, vs_numpy) in TARGETS.items():
        r = ratios(rows, name, "step_s")
        for who, want in (("torch", vs_torch), ("numpy", vs_numpy)):
            if want is not None and who in r:
                out.append(("%s step vs %s" % (name, who), "%.1fx" % r[who], ">= %gx" % want, r[who] >= want))
    big = next((x for x in rows if x["workload"] == "large" and x["contender"] == "pynn-c" and "skipped" not in x),
               None)
    if big is not None:
        out.append(("large step, % of sgemm peak", "%.0f%%" % big["step_peak_pct"], ">= 85%",
                    big["step_peak_pct"] >= 85))
    for name, *_ in WORKLOADS:
        by = {x["contender"]: x for x in rows if x["workload"] == name and "skipped" not in x}
        if "pynn-numpy" in by and "numpy" in by:
            q = by["pynn-numpy"]["step_s"] / by["numpy"]["step_s"]
            out.append(("%s pynn-numpy / plain numpy" % name, "%.2fx" % q, "<= 1.25x", q <= 1.25))
    if digits and "pynn-c" in digits and "sklearn" in digits:
        q = digits["sklearn"]["seconds"] / digits["pynn-c"]["seconds"]
        acc = digits["pynn-c"]["accuracy"]
        out.append(("digits fit vs sklearn (accuracy %.3f)" % acc, "%.1fx" % q, ">= 20x, accuracy >= 0.96",
                    q >= 20 and acc >= 0.96))
    if f64:
        big64 = next((x for x in f64["rows"] if x["workload"] == "large"), None)
        if big64 is not None:
            out.append(("large float64, % of dgemm peak", "%.0f%%" % big64["peak_pct"], ">= 70%",
                        big64["peak_pct"] >= 70))
    return out


def markdown(peak, rows, digits, info, f64=None, peaks=None):
    size = info.get("peak_size", 2048)
    lines = ["# pynn benchmark", "", "Machine: %s; %s" % (info["machine"], info["threads"]), ""]
    if "simd" in info:
        lines += ["SIMD: this CPU runs %s; pynn-c's products ran the %s kernels" % (info["simd"]["cpu"],
                                                                                 info["simd"]["kernel"]), ""]
    if peaks:
        lines += ["float32 GEMM peak (%sx%s matmul, the better of numpy's (%.1f) and pynn-c's own (%s), each the "
                  "best of 7 runs, before / after the contenders: %.1f / %.1f): **%.1f GFLOP/s**%s"
                  % (size, size, peaks.get("numpy", 0.0),
                     "%.1f" % peaks["pynn-c"] if peaks.get("pynn-c") else "-", peaks["before"], peaks["after"],
                     peak, " (raised to the fastest workload, which beat both)" if peaks.get("raised") else ""), ""]
    else:
        lines += ["float32 GEMM peak (numpy %sx%s matmul): **%.1f GFLOP/s**" % (size, size, peak), ""]
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
                  "float64 GEMM peak (%sx%s matmul, the better of numpy's and pynn-c's, best of 7 runs, "
                  "before / after: %.1f / %.1f): "
                  "**%.1f GFLOP/s**" % (size, size, f64.get("before", 0.0), f64.get("after", 0.0),
                                        f64["gemm_peak_gflops"]), "",
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
    checks = targets(peak, rows, digits, f64)
    if checks:
        lines += ["## Targets (issue 13), this run", "", "| what | measured | target | holds |", "|---|---:|---:|---|"]
        for what, got, want, ok in checks:
            lines.append("| %s | %s | %s | %s |" % (what, got, want, "yes" if ok else "**no**"))
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
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds over the contenders, each timing every workload with budget/rounds "
                             "seconds; a time is the median over the rounds")
    parser.add_argument("--no-fit", action="store_true", help="skip the digits fit comparison")
    parser.add_argument("--no-float64", action="store_true", help="skip pynn-c's float64 measurements")
    parser.add_argument("--out", default="benchmarks/results", help="directory for JSON, markdown and PNG")
    parser.add_argument("--peak-size", type=int, default=2048,
                        help="side of numpy's square matmul that measures the GEMM peak (a small one for a "
                             "quick smoke run)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    names = args.workloads.split(",")
    unknown = set(names) - {w[0] for w in WORKLOADS} | set(args.contenders.split(",")) - set(CONTENDERS)
    if unknown:
        parser.error("unknown workload or contender: %s" % ", ".join(sorted(unknown)))
    workloads = [w for w in WORKLOADS if w[0] in names]
    contenders = args.contenders.split(",")
    info = {"machine": "%s, %s, %d CPUs, Python %s, numpy %s, pynn %s" % (
        platform.machine(), platform.processor() or platform.system(), os.cpu_count() or 0,
        platform.python_version(), np.__version__, pynn.__version__),
        "threads": "pynn threads: %d" % pynn.get_num_threads(), "peak_size": args.peak_size}
    info["simd"] = simd_report()
    print(info["machine"])
    print("SIMD: this CPU runs %s; pynn-c's products run the %s kernels" % (info["simd"]["cpu"],
                                                                          info["simd"]["kernel"]))
    peak, rows, peaks = run(workloads, contenders, args.budget, peak_size=args.peak_size, rounds=args.rounds)
    digits = None
    if not args.no_fit:
        ok, why = available("sklearn")
        if ok:
            digits = digits_fit()
        else:
            print("digits fit skipped: " + why)
    f64 = None
    if not args.no_float64 and "c" in pynn.available_backends():
        f64 = float64_report(args.budget, args.peak_size)
    os.makedirs(args.out, exist_ok=True)
    report = markdown(peak, rows, digits, info, f64, peaks)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"info": info, "gemm_peak_gflops": peak, "gemm_peaks": peaks, "rows": rows, "digits_fit": digits,
                   "float64": f64, "targets": [list(t) for t in targets(peak, rows, digits, f64)]}, f, indent=1)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(report + "\n")
    drew = chart(rows, os.path.join(args.out, "results.png"))
    print()
    print(report)
    print("written: %s/results.json, results.md%s" % (args.out, ", results.png" if drew else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
