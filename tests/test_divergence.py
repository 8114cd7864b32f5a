"""Divergence during fit (issue 5): an update that overflows the weights, or a batch whose
loss or gradient is not finite, stops fit with a DivergenceError naming the epoch and batch;
the network keeps exactly the weights, optimizer state and step count after the last good
batch.  The expected weights are computed independently, by train_step on a copy fed the same
batches in the same order."""
import copy

import numpy as np
import pytest

import pynn


def _problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1


def _net(lr, dtype="float32", opt=pynn.SGD):
    return pynn.Network([pynn.Dense(3, 16, "relu"), pynn.Dense(16, 1)], optimizer=opt(lr=lr),
                        dtype=dtype, seed=3)


def _reference(net, X, Y, epochs, batch_size, shuffle=True):
    """Batches in fit's order (shuffled with a copy of the net's generator), by train_step,
    stopping before the first batch whose update is not finite.  Returns (weights, state,
    step, epoch, batch) of that moment."""
    ref = copy.deepcopy(net)
    rng = copy.deepcopy(net._plan.rng)
    n_batches = -(-len(X) // batch_size)
    for epoch in range(epochs):
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        for b in range(n_batches):
            rows = order[b * batch_size:(b + 1) * batch_size]
            before = (ref.get_weights(), ref._plan.state.copy(), ref.optimizer.step)
            try:
                with np.errstate(all="ignore"):
                    ref.train_step(X[rows], Y[rows])
                ok = np.isfinite(ref._plan.params).all() and np.isfinite(ref._plan.state).all()
            except pynn.DivergenceError:
                ok = False
            if not ok:
                return before + (epoch, b)
    raise AssertionError("the reference run did not diverge")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("per_batch", [False, True])
def test_overflowing_update_stops_fit_with_last_finite_weights(dtype, per_batch):
    X, Y = _problem()
    lr = 1e4 if dtype == "float32" else 1e40
    net = _net(lr, dtype)
    want_w, want_state, want_step, want_epoch, want_batch = _reference(net, X, Y, epochs=20, batch_size=8)
    seen = []

    class Count(pynn.Callback):  # a batch callback: fit then runs one batch per chunk
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    with pytest.raises(pynn.DivergenceError) as info:
        net.fit(X, Y, epochs=20, batch_size=8, verbose=0, callbacks=[Count()] if per_batch else None)
    err = info.value
    assert (err.epoch, err.batch) == (want_epoch, want_batch)
    assert "epoch %d/20, batch %d/8" % (want_epoch + 1, want_batch + 1) in str(err)
    assert err.batches_done == want_epoch * 8 + want_batch
    assert net.optimizer.step == want_step == err.batches_done
    for got, want in zip(net.get_weights(), want_w):
        assert np.isfinite(got).all()
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(net._plan.state, want_state)
    # the network can go on: back to sane weights and a sane rate, fit trains again
    net.set_weights(_net(0.01, dtype).get_weights())
    net.optimizer.lr = 1e-3
    net.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(net._plan.params).all()


def test_adam_state_overflow_is_divergence_too():
    """Adam's second moment overflowing float32 (huge gradients) counts as divergence."""
    X, Y = _problem()
    net = _net(1e3, "float32", opt=pynn.Adam)
    with pytest.raises(pynn.DivergenceError) as info:
        net.fit(X * 1e15, Y * 1e15, epochs=3, batch_size=16, verbose=0)
    assert info.value.epoch is not None
    assert np.isfinite(net._plan.params).all() and np.isfinite(net._plan.state).all()


def test_huge_target_names_epoch_and_batch():
    """Finite data with one target near float32's limit: the batch holding it, or the one after
    its huge update, diverges; fit names the same batch as a train_step reference."""
    X, Y = _problem(32)
    Y = Y.astype(np.float32)
    Y[20] = 3e38
    net = _net(1e-3)
    want_w, _, _, want_epoch, want_batch = _reference(net, X, Y, epochs=1, batch_size=8, shuffle=False)
    assert want_batch in (2, 3)  # row 20 is in batch 2 (from 0)
    with pytest.raises(pynn.DivergenceError) as info:
        net.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert (info.value.epoch, info.value.batch, info.value.batches_done) == (0, want_batch, want_batch)
    assert "epoch 1/1, batch %d/4" % (want_batch + 1) in str(info.value)
    for a, b in zip(net.get_weights(), want_w):
        np.testing.assert_array_equal(a, b)


def test_train_step_reports_an_overflow_at_the_next_step():
    """train_step: the overflowing update happens; the next step raises and changes nothing."""
    X, Y = _problem(8)
    X, Y = X * 100, Y * 100  # gradients of hundreds: lr * gradient overflows float32
    net = _net(1e38, "float32")
    with np.errstate(all="ignore"):
        loss = net.train_step(X, Y)  # finite loss and gradients: the update is made
    assert np.isfinite(loss) and net.optimizer.step == 1
    assert not np.isfinite(net._plan.params).all()
    broken = net.get_weights()
    step = net.optimizer.step
    with pytest.raises(pynn.DivergenceError) as info, np.errstate(all="ignore"):
        net.train_step(X, Y)
    assert info.value.batches_done == 0 and info.value.epoch is None
    assert net.optimizer.step == step
    for a, b in zip(net.get_weights(), broken):
        np.testing.assert_array_equal(a, b)


def test_no_divergence_no_difference():
    """With a sane rate, fit with its checks equals train_step on the same batches."""
    X, Y = _problem()
    net = _net(0.01, "float64")
    ref = copy.deepcopy(net)
    rng = copy.deepcopy(net._plan.rng)
    net.fit(X, Y, epochs=3, batch_size=16, verbose=0)
    for _ in range(3):
        order = rng.permutation(len(X))
        for b in range(4):
            rows = order[b * 16:(b + 1) * 16]
            ref.train_step(X[rows], Y[rows])
    for a, b in zip(net.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ratio", [0.0, float("inf")])
def test_divergence_replays_from_an_older_snapshot(monkeypatch, ratio):
    """fit copies the state for rollback only now and then (pynn.training._Snapshot): with one
    batch per chunk and a snapshot only at each epoch's start (ratio inf) or before every chunk
    (ratio 0), a divergence mid-epoch still leaves exactly the state after the last good batch."""
    from pynn import training
    monkeypatch.setattr(training, "_CHUNK_SECONDS", 1e-12)  # one batch per chunk
    monkeypatch.setattr(training, "_SNAPSHOT_RATIO", ratio)
    X, Y = _problem()
    net = _net(300.0, "float32")  # overflows in the fourth batch of the first epoch
    want_w, want_state, want_step, want_epoch, want_batch = _reference(net, X, Y, epochs=40, batch_size=8)
    assert want_batch > 1  # mid-epoch: rows since the snapshot are replayed
    with pytest.raises(pynn.DivergenceError) as info:
        net.fit(X, Y, epochs=40, batch_size=8, verbose=0)
    assert (info.value.epoch, info.value.batch) == (want_epoch, want_batch)
    assert net.optimizer.step == want_step
    for got, want in zip(net.get_weights(), want_w):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(net._plan.state, want_state)
