"""No memory growth over a long training loop (issue 5): after a warm-up, thousands more
train_step / fit / predict / evaluate / gradients calls and save/load round trips leave the
memory traced by tracemalloc (Python objects and numpy buffers) and the process's resident
set size (C allocations too) within small bounds."""
import gc
import os

import numpy as np
import pytest

import pynn


def _rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):  # pragma: no cover - not Linux
        pytest.skip("no /proc/self/statm")


def _work(net, X, y, Xv, yv, path, rounds):
    for i in range(rounds):
        net.train_step(X[:32], y[:32])
        net.predict(X[:7])
        net.evaluate(Xv, yv)
        net.gradients(X[:5], y[:5])
        net.train_step(X[i % 64:i % 64 + 16].copy(), y[i % 64:i % 64 + 16].copy())  # new arrays each time
        if i % 100 == 0:
            net.fit(X, y, epochs=1, batch_size=64, verbose=0, validation_data=(Xv, yv))
            net.save(path)
            pynn.load(path)
            try:
                net.predict(np.full((2, X.shape[1]), np.nan))
            except ValueError:
                pass


def test_long_training_does_not_grow_memory(tmp_path):
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 16))
    y = rng.integers(0, 3, size=256)
    Xv, yv = X[:50], y[:50]
    net = pynn.Network([pynn.Dense(16, 64, "relu"), pynn.Dense(64, 64, "tanh"), pynn.Dense(64, 3, "softmax")],
                       loss="cross_entropy", optimizer=pynn.Adam(lr=1e-3), seed=0)
    path = tmp_path / "m.safetensors"
    _work(net, X, y, Xv, yv, path, 200)  # warm-up: caches, workspaces, pools, imports
    tracemalloc.start()
    try:
        _work(net, X, y, Xv, yv, path, 200)
        # a Network is a reference cycle (net <-> its layers and optimizer), so loaded networks
        # are freed by the cycle collector, not at once: collect before each measurement
        gc.collect()
        traced_warm = tracemalloc.get_traced_memory()[0]
        rss_warm = _rss_bytes()
        _work(net, X, y, Xv, yv, path, 1000)
        gc.collect()
        traced_growth = tracemalloc.get_traced_memory()[0] - traced_warm
        rss_growth = _rss_bytes() - rss_warm
    finally:
        tracemalloc.stop()
    assert np.isfinite(net._plan.params).all()
    assert traced_growth < 256 * 1024, "Python/numpy memory grew by %d bytes" % traced_growth
    assert rss_growth < 8 * 1024 * 1024, "resident memory grew by %d bytes" % rss_growth
