"""Data-parallel training (pynn.distributed) in one process: a ThreadWorld
of n ranks as threads.  The reference is always a separate network trained
by plain train_step on the ranks' batches concatenated in rank order -- what
one process with the whole batch computes.  (Real MPI runs:
test_distributed_mpi.py.)"""
import copy
import csv
import os

import numpy as np
import pytest

import pynn
from pynn.callbacks import CSVLogger, EarlyStopping, ModelCheckpoint
from pynn.distributed import LocalWorld, ThreadWorld, permutation

TIMEOUT = 60.0


def _classifier(seed, dtype="float64", dropout=0.0, optimizer=None):
    layers = [pynn.Dense(4, 8, "tanh")]
    if dropout:
        layers.append(pynn.Dropout(dropout))
    layers.append(pynn.Dense(8, 3, "softmax"))
    return pynn.Network(layers, loss="cross_entropy", dtype=dtype, seed=seed,
                        optimizer=optimizer or pynn.Adam(lr=0.02))


def _regressor(seed, dtype="float64"):
    return pynn.Network([pynn.Dense(3, 6, "relu"), pynn.Dense(6, 2)], loss="mse", dtype=dtype, seed=seed,
                        optimizer=pynn.SGD(lr=0.05, momentum=0.9))


def _data(n, seed=0, n_in=4, classes=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    return X, rng.integers(0, classes, n), rng.uniform(0.2, 2.0, n)


def _shares(n, counts):
    bounds = np.cumsum([0] + list(counts))
    assert bounds[-1] == n
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def _reference_steps(counts, batch_size, orders=None):
    """Each step's row numbers (into the concatenated data) when rank r holds
    rows shares[r], visited in orders[r]: the ranks' batches in rank order."""
    starts = np.cumsum([0] + list(counts))[:-1]
    steps = max(-(-c // batch_size) for c in counts)
    out = []
    for k in range(steps):
        rows = []
        for r, c in enumerate(counts):
            local = np.arange(c) if orders is None else orders[r]
            rows.extend((starts[r] + local[k * batch_size:(k + 1) * batch_size]).tolist())
        out.append(rows)
    return out


def _max_diff(a, b):
    return max(float(np.abs(x.astype(np.float64) - y.astype(np.float64)).max()) for x, y in zip(a, b))


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-12), ("float32", 1e-5)])
@pytest.mark.parametrize("counts", [(20, 17, 13), (16, 16)])
def test_n_ranks_train_as_one_process_with_the_concatenated_batches(dtype, tol, counts):
    n = sum(counts)
    X, y, w = _data(n)
    shares = _shares(n, counts)

    def job(world):
        net = _classifier(100 + world.rank, dtype, dropout=0.25)  # different seeds: fit syncs from rank 0
        s = shares[world.rank]
        net.fit(X[s], y[s], epochs=3, batch_size=4, shuffle=False, verbose=0, sample_weight=w[s], world=world)
        return net.get_weights()

    results = ThreadWorld.run(len(counts), job, TIMEOUT)
    ref = _classifier(100, dtype, dropout=0.25)
    for _ in range(3):
        for rows in _reference_steps(counts, 4):
            ref.train_step(X[rows], y[rows], sample_weight=w[rows])
    for r in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(results[0], r)), "replicas differ"
    assert _max_diff(results[0], ref.get_weights()) < tol


def test_replicas_stay_bit_identical_after_every_step_and_history_is_the_same_everywhere():
    X, y, _ = _data(45, seed=1)
    shares = _shares(45, (15, 15, 15))
    Xv, yv, _ = _data(30, seed=2)
    val_shares = _shares(30, (5, 10, 15))

    class Record(pynn.Callback):
        def __init__(self):
            self.after = []

        def on_batch_end(self, batch, logs=None):
            self.after.append(np.concatenate([p.ravel() for p in self.model.get_weights()]))

    def job(world):
        net = _classifier(world.rank, optimizer=pynn.SGD(lr=0.1, momentum=0.5))
        rec = Record()
        s, v = shares[world.rank], val_shares[world.rank]
        h = net.fit(X[s], y[s], epochs=4, batch_size=5, validation_data=(Xv[v], yv[v]), verbose=0,
                    callbacks=[rec], world=world)
        return rec.after, h.history, net

    results = ThreadWorld.run(3, job, TIMEOUT)
    steps = results[0][0]
    assert len(steps) == 4 * 3
    for after, history, _ in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(steps, after))
        assert history == results[0][1]
    # the validation scores are those of all ranks' validation rows together
    net = results[0][2]
    whole = net.evaluate(Xv, yv)
    assert results[0][1]["val_loss"][-1] == pytest.approx(whole["loss"], rel=1e-12)
    assert results[0][1]["val_accuracy"][-1] == pytest.approx(whole["accuracy"], rel=1e-12)


def test_regression_metrics_cover_every_rank():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(33, 3))
    Y = np.stack([X[:, 0] * 2 + 1, X[:, 1] - X[:, 2]], axis=1) + rng.normal(scale=0.1, size=(33, 2))
    w = rng.uniform(0.5, 1.5, 33)
    shares = _shares(33, (10, 11, 12))

    def job(world):
        net = _regressor(7)
        s = shares[world.rank]
        h = net.fit(X[s], Y[s], epochs=2, batch_size=4, sample_weight=w[s], verbose=0, world=world)
        return h.history, net

    results = ThreadWorld.run(3, job, TIMEOUT)
    history, net = results[0]
    P = net.predict(X).astype(np.float64)
    # sklearn's r2_score with uniform averaging over outputs, written out in float64
    mean = np.average(Y, axis=0, weights=w)
    r2 = 1 - np.average((P - Y) ** 2, axis=0, weights=w) / np.average((Y - mean) ** 2, axis=0, weights=w)
    assert history["r2"][-1] == pytest.approx(float(r2.mean()), rel=1e-10)
    assert history["mae"][-1] == pytest.approx(float(np.average(np.abs(P - Y).mean(axis=1), weights=w)), rel=1e-10)


def test_shuffling_uses_the_permutation_of_seed_epoch_and_rank():
    counts = (12, 9)
    X, y, _ = _data(21, seed=4)
    shares = _shares(21, counts)
    start = _classifier(5)
    seed = int(copy.deepcopy(start._plan.rng).integers(0, 2 ** 63))  # what rank 0 draws first in fit

    def job(world):
        net = copy.deepcopy(start)
        s = shares[world.rank]
        net.fit(X[s], y[s], epochs=2, batch_size=4, verbose=0, world=world)
        return net.get_weights()

    results = ThreadWorld.run(2, job, TIMEOUT)
    ref = copy.deepcopy(start)
    for epoch in range(2):
        orders = [permutation(seed, epoch, r, c) for r, c in enumerate(counts)]
        for rows in _reference_steps(counts, 4, orders):
            ref.train_step(X[rows], y[rows])
    assert _max_diff(results[0], ref.get_weights()) < 1e-12
    assert not np.array_equal(permutation(seed, 0, 0, 50), permutation(seed, 0, 1, 50))
    assert not np.array_equal(permutation(seed, 0, 0, 50), permutation(seed, 1, 0, 50))


def test_dropout_masks_differ_between_ranks_for_the_same_local_row():
    X, y, _ = _data(8, seed=5)

    def job(world):  # every rank holds the same rows
        net = _classifier(9, dropout=0.5)
        loss = net.train_step(X, y, world=world)
        return loss, net.get_weights()

    (loss, weights), _ = ThreadWorld.run(2, job, TIMEOUT)
    ref = _classifier(9, dropout=0.5)
    ref_loss = ref.train_step(np.vstack([X, X]), np.concatenate([y, y]))  # rows 8..15 get their own masks
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    assert _max_diff(weights, ref.get_weights()) < 1e-12
    same_masks = _classifier(9, dropout=0.5)
    same_masks.train_step(X, y)  # what both ranks would do if their masks were equal
    assert _max_diff(weights, same_masks.get_weights()) > 1e-6


def test_a_world_of_one_is_plain_fit_bit_for_bit():
    X, y, w = _data(30, seed=6)
    plain = _classifier(3, dropout=0.2)
    plain.fit(X, y, epochs=3, batch_size=7, sample_weight=w, verbose=0)
    for world in (LocalWorld(), ThreadWorld.group(1)[0], pynn.distributed.init()):
        net = _classifier(3, dropout=0.2)
        net.fit(X, y, epochs=3, batch_size=7, sample_weight=w, verbose=0, world=world)
        assert all(np.array_equal(a, b) for a, b in zip(plain.get_weights(), net.get_weights()))


def test_divergence_is_raised_on_every_rank_at_the_same_step():
    X, y, _ = _data(40, seed=7)
    X[30:] *= 1e200  # rank 1's second batch overflows the loss: the summed step diverges on every rank
    shares = _shares(40, (20, 20))

    def job(world):
        net = _regressor(1)
        net.optimizer.lr = 1.0
        s = shares[world.rank]
        before = None

        class Keep(pynn.Callback):
            def on_batch_begin(self, batch, logs=None):
                nonlocal before
                before = self.model.get_weights()

        try:
            net.fit(X[s, :3], np.stack([y[s], y[s]], 1).astype(float), epochs=1, batch_size=10, shuffle=False,
                    verbose=0, callbacks=[Keep()], world=world)
        except pynn.DivergenceError as exc:
            return exc.epoch, exc.batch, all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
        return None

    results = ThreadWorld.run(2, job, TIMEOUT)
    assert results[0] == results[1] == (0, 1, True)


def test_only_rank_0_writes_checkpoints_and_logs(tmp_path):
    X, y, _ = _data(24, seed=8)
    shares = _shares(24, (12, 12))
    log = tmp_path / "log.csv"

    def job(world):
        net = _classifier(world.rank)
        s = shares[world.rank]
        net.fit(X[s], y[s], epochs=3, batch_size=6, verbose=0, world=world,
                callbacks=[CSVLogger(log), ModelCheckpoint(str(tmp_path / "m-{epoch}.safetensors"), monitor="loss"),
                           EarlyStopping(monitor="loss", patience=100)])
        net.save(str(tmp_path / "final.safetensors"), world=world)
        return net.get_weights()

    results = ThreadWorld.run(2, job, TIMEOUT)
    with open(log) as f:
        rows = list(csv.reader(f))
    assert len(rows) == 1 + 3 and rows[0][0] == "epoch"  # one row per epoch: not one per rank
    assert sorted(os.listdir(tmp_path)) == ["final.safetensors", "log.csv", "m-1.safetensors", "m-2.safetensors",
                                            "m-3.safetensors"]
    loaded = pynn.load(str(tmp_path / "final.safetensors"))
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), results[0]))


def test_train_step_with_a_world_returns_the_whole_batch_loss():
    X, y, w = _data(10, seed=9)
    shares = _shares(10, (6, 4))

    def job(world):
        net = _classifier(world.rank + 1)
        s = shares[world.rank]
        losses = [net.train_step(X[s], y[s], sample_weight=w[s], world=world) for _ in range(3)]
        return losses, net.get_weights()

    results = ThreadWorld.run(2, job, TIMEOUT)
    ref = _classifier(1)
    ref_losses = [ref.train_step(X, y, sample_weight=w) for _ in range(3)]
    assert results[0][0] == results[1][0]
    assert results[0][0] == pytest.approx(ref_losses, rel=1e-12)
    assert _max_diff(results[0][1], ref.get_weights()) < 1e-12


def test_mismatched_networks_and_lbfgs_are_refused_on_every_rank():
    X, y, _ = _data(8)

    def mismatched(world):
        net = _classifier(0) if world.rank == 0 else _classifier(0, dtype="float32")
        with pytest.raises(ValueError, match="ranks' networks differ"):
            net.fit(X, y, epochs=1, verbose=0, world=world)
        lbfgs = _classifier(0, optimizer=pynn.LBFGS())
        with pytest.raises(ValueError, match="data-parallel"):
            lbfgs.fit(X, y, epochs=1, verbose=0, world=world)
        return True

    assert ThreadWorld.run(2, mismatched, TIMEOUT) == [True, True]

    def different_epochs(world):
        with pytest.raises(ValueError, match="different arguments on different ranks"):
            _classifier(0).fit(X, y, epochs=1 + world.rank, verbose=0, world=world)
        return True

    assert ThreadWorld.run(2, different_epochs, TIMEOUT) == [True, True]
    with pytest.raises(TypeError, match="world must be"):
        _classifier(0).fit(X, y, world="mpi")


def test_a_failing_rank_releases_the_others():
    def job(world):
        if world.rank == 1:
            raise RuntimeError("rank 1 broke")
        world.barrier()

    with pytest.raises(RuntimeError, match="rank 1 broke"):
        ThreadWorld.run(3, job, TIMEOUT)


def test_only_rank_0_prints_progress(capsys):
    X, y, _ = _data(20, seed=10)
    shares = _shares(20, (10, 10))

    def job(world):
        net = _classifier(0)
        net.fit(X[shares[world.rank]], y[shares[world.rank]], epochs=3, batch_size=5, verbose=2, world=world)

    ThreadWorld.run(2, job, TIMEOUT)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]


@pytest.mark.parametrize("interval", [1, 1000])
def test_an_update_that_overflows_rolls_back_on_every_rank(monkeypatch, interval):
    """SGD at a huge rate: finite gradients, but an update that overflows float32.  fit goes back
    to its last snapshot (every step, or only at the epoch's start: the steps since are replayed,
    collectives included) and every rank keeps the weights of the step before."""
    from pynn.distributed import data_parallel
    monkeypatch.setattr(data_parallel, "snapshot_interval", lambda plan, batch_size: interval)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(64, 3))
    Y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1
    shares = _shares(64, (32, 32))

    def make():
        return pynn.Network([pynn.Dense(3, 16, "relu"), pynn.Dense(16, 1)], optimizer=pynn.SGD(lr=300.0), seed=3)

    def job(world):
        net = make()
        s = shares[world.rank]
        with pytest.raises(pynn.DivergenceError) as info:
            net.fit(X[s], Y[s], epochs=5, batch_size=4, shuffle=False, verbose=0, world=world)
        return (info.value.epoch, info.value.batch), net.get_weights(), net.optimizer.step

    results = ThreadWorld.run(2, job, TIMEOUT)
    (where, weights, steps), other = results[0], results[1]
    assert other[0] == where and other[2] == steps
    assert all(np.array_equal(a, b) for a, b in zip(weights, other[1]))
    ref = make()  # the concatenated batches, by train_step, up to the first update that overflows
    done = 0
    for rows in _reference_steps((32, 32), 4) * 5:
        before = ref.get_weights()
        with np.errstate(all="ignore"):
            try:
                ref.train_step(X[rows], Y[rows])
                ok = np.isfinite(ref._plan.params).all()
            except pynn.DivergenceError:
                ok = False
        if not ok:
            break
        done += 1
    assert where == (done // 8, done % 8) and steps == done
    assert done % 8 > 1  # mid-epoch, so interval 1000 replays steps
    for a, b in zip(weights, before):  # float32 at ~1e32 by then: compare relative to the largest
        assert np.abs(a.astype(np.float64) - b).max() <= 1e-5 * np.abs(b).max()
