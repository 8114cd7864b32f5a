"""fit on data larger than what it should copy: a shuffled epoch gathers
each batch's rows (in C, or batch by batch in numpy) instead of copying X in
the epoch's order, so a memory-mapped X trains with the same numbers as an
in-memory one and without being copied whole."""
import tracemalloc

import numpy as np
import pytest

import pynn
from pynn import backends


def _net(dtype="float32", seed=0, n_in=16):
    return pynn.Network([pynn.Dense(n_in, 32, "relu"), pynn.Dropout(0.1), pynn.Dense(32, 4, "softmax")],
                        loss="cross_entropy", optimizer=pynn.Adam(lr=0.01), dtype=dtype, seed=seed)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_memory_mapped_x_trains_exactly_as_the_same_x_in_memory(tmp_path, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 16)).astype(dtype)
    y = rng.integers(0, 4, 300)
    w = rng.uniform(0.5, 2, 300)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    a, b = _net(dtype), _net(dtype)
    ha = a.fit(X, y, epochs=3, batch_size=32, sample_weight=w, validation_split=0.1, verbose=0)
    hb = b.fit(mapped, y, epochs=3, batch_size=32, sample_weight=w, validation_split=0.1, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))
    assert ha.history == hb.history


def test_a_shuffled_epoch_equals_training_on_the_rows_in_the_epochs_order():
    """The gathered batches are the rows of the permutation, in order: the
    same as training (without shuffling) on X[permutation]."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(70, 16)), rng.integers(0, 4, 70)
    a, b = _net("float64", 3), _net("float64", 3)
    order = np.random.default_rng(7).permutation(70)
    with a._training() as plan:
        backends.implementation().train_rows(plan, a.optimizer, X, None, y, None, 16, order)
    b.fit(X[order], y[order], epochs=1, batch_size=16, shuffle=False, verbose=0)
    assert a.optimizer.step == b.optimizer.step == 5
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))


def test_an_index_outside_x_is_refused_before_any_update():
    X, y = np.ones((10, 16), dtype=np.float32), np.zeros(10, dtype=np.int64)
    net = _net()
    before = net.get_weights()
    with net._training() as plan, pytest.raises(ValueError):
        backends.implementation().train_rows(plan, net.optimizer, X, None, y, None, 4,
                                             np.array([0, 1, 2, 3, 4, 10], dtype=np.int64))
    assert net.optimizer.step == 0 and all(np.array_equal(p, q) for p, q in zip(before, net.get_weights()))


def test_a_shuffled_fit_does_not_copy_x(tmp_path):
    """numpy allocations are traced by tracemalloc: a fit over a 51 MB X may
    allocate batches and the epoch's permutation (8 bytes a row), not another X."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200_000, 64)).astype(np.float32)
    y = rng.integers(0, 4, 200_000)
    np.save(tmp_path / "X.npy", X)
    del X
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    net = _net(n_in=64)
    net.fit(mapped[:1000], y[:1000], epochs=1, batch_size=256, verbose=0)  # warm: workspaces, pools
    tracemalloc.start()
    try:
        net.fit(mapped, y, epochs=1, batch_size=256, verbose=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * mapped.nbytes, "fit allocated %.1f MB for a %.1f MB X" % (peak / 1e6, mapped.nbytes / 1e6)
