"""Callbacks with Keras' semantics: planted metric sequences give known epochs and rates."""
import csv
import os

import numpy as np
import pytest

import pynn
from pynn.callbacks import (Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                            ReduceLROnPlateau)

X = np.random.default_rng(0).normal(size=(16, 2))
Y = np.c_[X[:, 0] - X[:, 1]]


def small_net(lr=0.05, seed=0):
    return pynn.Network([pynn.Dense(2, 3, "tanh"), pynn.Dense(3, 1)], loss="mse",
                        optimizer=pynn.SGD(lr=lr), dtype="float64", seed=seed)


class Plant(Callback):
    """Writes logs[name] = values[epoch] (a planted metric), and keeps each epoch's weights."""

    def __init__(self, values, name="score"):
        self.values, self.name, self.weights = list(values), name, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.name] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def run(callbacks, epochs, net=None):
    net = net or small_net()
    return net, net.fit(X, Y, epochs=epochs, batch_size=4, verbose=0, callbacks=callbacks)


def test_callback_is_the_training_one():
    assert Callback is pynn.Callback is pynn.training.Callback


# ---- EarlyStopping --------------------------------------------------------------------------

def test_early_stopping_planted_plateau():
    # improves until epoch 2 (value 3), then flat: patience 2 -> stops at epoch 4
    plant = Plant([5, 4, 3, 3, 3, 3, 3, 3])
    stop = EarlyStopping(monitor="score", patience=2)
    _, hist = run([plant, stop], epochs=8)
    assert hist.epoch == [0, 1, 2, 3, 4]
    assert stop.stopped_epoch == 4 and stop.best == 3 and stop.best_epoch == 2


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    plant = Plant([5, 4, 4.5, 1, 1])
    stop = EarlyStopping(monitor="score")
    _, hist = run([plant, stop], epochs=5)
    assert hist.epoch == [0, 1, 2] and stop.stopped_epoch == 2


def test_early_stopping_min_delta_and_mode_max():
    # improvements must beat the best by more than min_delta: 0.95 is not < 1.0 - 0.05
    plant = Plant([1.0, 0.95, 0.92, 0.80, 0.79, 0.78])
    stop = EarlyStopping(monitor="score", min_delta=0.05, patience=1)
    _, hist = run([plant, stop], epochs=6)
    assert hist.epoch == [0, 1] and stop.best == 1.0
    # "auto" is max for accuracy-like names: rising values improve
    plant = Plant([0.5, 0.6, 0.7, 0.7, 0.65, 0.9], name="val_accuracy")
    stop = EarlyStopping(monitor="val_accuracy", patience=2)
    assert stop.mode == "max"
    _, hist = run([plant, stop], epochs=6)
    assert hist.epoch == [0, 1, 2, 3, 4] and stop.best == 0.7 and stop.best_epoch == 2


def test_early_stopping_restores_best_weights():
    plant = Plant([3, 1, 2, 2, 2])
    stop = EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    net, hist = run([plant, stop], epochs=5)
    assert hist.epoch == [0, 1, 2, 3]
    for got, best in zip(net.get_weights(), plant.weights[1]):
        np.testing.assert_array_equal(got, best)
    assert not np.array_equal(plant.weights[3][0], plant.weights[1][0])  # they did move after


def test_early_stopping_on_a_real_val_loss_plateau():
    """Learning rate 0 from epoch 5 on: val_loss(5) == val_loss(4) exactly, so the plateau
    starts at a known epoch; patience 2 stops at epoch 6 with the best at epoch 4."""
    net = small_net(lr=0.05)
    sched = LearningRateScheduler(lambda epoch, lr: 0.05 if epoch < 5 else 0.0)
    stop = EarlyStopping(monitor="val_loss", patience=2)
    hist = net.fit(X[:12], Y[:12], epochs=20, batch_size=4, verbose=0, validation_data=(X[12:], Y[12:]),
                   callbacks=[sched, stop])
    v = hist.history["val_loss"]
    assert all(b < a for a, b in zip(v[:5], v[1:5]))  # it was improving
    assert v[5] == v[4] and v[6] == v[4]
    assert hist.epoch == list(range(7)) and stop.stopped_epoch == 6 and stop.best_epoch == 4


def test_early_stopping_missing_metric_warns_and_never_stops():
    stop = EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(RuntimeWarning, match="val_loss.*not in the logs"):
        _, hist = run([stop], epochs=3)
    assert len(hist.epoch) == 3


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(TypeError, match="schedule"):
        LearningRateScheduler(0.1)
    with pytest.raises(TypeError, match="callbacks"):
        small_net().fit(X, Y, callbacks=[object()])


# ---- ModelCheckpoint ------------------------------------------------------------------------

def test_model_checkpoint_every_epoch(tmp_path):
    plant = Plant([0] * 3)
    path = str(tmp_path / "m-{epoch:02d}-{loss:.3f}.safetensors")
    _, hist = run([plant, ModelCheckpoint(path, monitor="loss")], epochs=3)
    files = sorted(os.listdir(tmp_path))
    assert files == ["m-%02d-%.3f.safetensors" % (e + 1, hist.history["loss"][e]) for e in range(3)]
    for e, name in enumerate(files):
        for got, want in zip(pynn.load(str(tmp_path / name)).get_weights(), plant.weights[e]):
            np.testing.assert_array_equal(got, want)


def test_model_checkpoint_best_only(tmp_path):
    plant = Plant([3, 1, 2, 0.5, 0.7])
    ckpt = ModelCheckpoint(str(tmp_path / "e{epoch}.safetensors"), monitor="score", save_best_only=True)
    run([plant, ckpt], epochs=5)
    assert sorted(os.listdir(tmp_path)) == ["e1.safetensors", "e2.safetensors", "e4.safetensors"]
    assert ckpt.best == 0.5
    best = tmp_path / "best.safetensors"  # one fixed file holds the best epoch's weights
    plant = Plant([3, 1, 2, 0.5, 0.7])
    run([plant, ModelCheckpoint(best, monitor="score", save_best_only=True)], epochs=5)
    for got, want in zip(pynn.load(str(best)).get_weights(), plant.weights[3]):
        np.testing.assert_array_equal(got, want)


def test_model_checkpoint_bad_template(tmp_path):
    with pytest.raises(ValueError, match="val_loss"):
        run([ModelCheckpoint(str(tmp_path / "{val_loss:.2f}.safetensors"), monitor="loss")], epochs=1)


# ---- LearningRateScheduler ------------------------------------------------------------------

def test_scheduler_two_argument_function_and_lr_in_history():
    seen = []

    def halve(epoch, lr):
        seen.append((epoch, lr))
        return lr / 2 if epoch else lr

    net, hist = run([LearningRateScheduler(halve)], epochs=4)
    assert seen == [(0, 0.05), (1, 0.05), (2, 0.025), (3, 0.0125)]
    assert hist.history["lr"] == [0.05, 0.025, 0.0125, 0.00625]
    assert net.optimizer.lr == 0.00625


def test_scheduler_rejects_a_bad_rate():
    with pytest.raises(ValueError, match="epoch 1"):
        run([LearningRateScheduler(lambda epoch: 0.1 if epoch == 0 else -1.0)], epochs=3)


# ---- ReduceLROnPlateau ----------------------------------------------------------------------

def test_reduce_lr_on_plateau_planted():
    # best 1.0 at epoch 0; no improvement (min_delta 0.01) at 1, 2 -> patience 2 reached at epoch 2:
    # lr 0.05 -> 0.025 and cooldown 2: the counter is decreased before the check (as in Keras), so
    # epoch 3 is not counted and epoch 4 is; epochs 4, 5 -> 0.0125 at epoch 5; epoch 6 not counted,
    # epoch 7 improves (0.5), epochs 8, 9 -> max(0.00625, min_lr) = 0.01 at epoch 9
    plant = Plant([1.0, 0.995, 1.2, 1.1, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6])
    cb = ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, min_delta=0.01, cooldown=2, min_lr=0.01)
    _, hist = run([plant, cb], epochs=11)
    # "lr" is the rate used during each epoch (logged before that epoch's reduction)
    assert hist.history["lr"] == pytest.approx([0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125,
                                                0.0125, 0.01], rel=1e-15)
    # cooldown 1 is no pause at all in Keras' arithmetic: epochs 3, 4 count -> reduced at epoch 4
    plant = Plant([1.0, 0.995, 1.2, 1.1, 1.0])
    cb = ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, min_delta=0.01, cooldown=1)
    net, hist = run([plant, cb], epochs=5)
    assert hist.history["lr"] == [0.05, 0.05, 0.05, 0.025, 0.025] and net.optimizer.lr == 0.0125


def test_reduce_lr_on_plateau_real_training_lowers_the_rate():
    net = small_net(lr=0.0)  # nothing improves: the rate falls every `patience` epochs
    net.optimizer.lr = 0.08
    sched = LearningRateScheduler(lambda epoch, lr: lr)  # keeps the rate; only to show scheduler + plateau
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e9)
    hist = net.fit(X, Y, epochs=4, batch_size=16, verbose=0, callbacks=[sched, cb])
    assert hist.history["lr"] == [0.08, 0.08, 0.04, 0.02]
    assert net.optimizer.lr == 0.01


# ---- CSVLogger ------------------------------------------------------------------------------

def read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_content(tmp_path):
    path = tmp_path / "log.csv"
    net = small_net()
    hist = net.fit(X[:12], Y[:12], epochs=3, batch_size=4, verbose=0, validation_data=(X[12:], Y[12:]),
                   callbacks=[LearningRateScheduler(lambda e: 0.05 / (e + 1)), CSVLogger(path)])
    rows = read(path)
    assert rows[0] == ["epoch", "loss", "lr", "mae", "r2", "val_loss", "val_mae", "val_r2"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for key in rows[0][1:]:
        column = [float(r[rows[0].index(key)]) for r in rows[1:]]
        assert column == hist.history[key]  # full precision


def test_csv_logger_append_and_separator(tmp_path):
    path = tmp_path / "log.csv"
    run([CSVLogger(path, separator=";")], epochs=2)
    run([CSVLogger(path, separator=";", append=True)], epochs=2)
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;loss;mae;r2" and len(lines) == 5
    assert [l.split(";")[0] for l in lines[1:]] == ["0", "1", "0", "1"]
    run([CSVLogger(path)], epochs=1)  # append=False starts over
    assert len(read(path)) == 2


def test_csv_logger_na_for_missing_keys(tmp_path):
    class Sometimes(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                logs["extra"] = 1.5

    path = tmp_path / "log.csv"
    run([Sometimes(), CSVLogger(path)], epochs=2)
    rows = read(path)
    assert rows[0] == ["epoch", "extra", "loss", "mae", "r2"]
    assert rows[1][1] == "1.5" and rows[2][1] == "NA"
