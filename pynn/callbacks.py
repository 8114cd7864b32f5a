"""Callbacks: code that fit() runs between epochs, as in Keras.

Pass them to ``net.fit(..., callbacks=[...])``.  Each sees the epoch's
``logs`` ("loss", "accuracy" or "mae", "val_loss", ...) in the order of the
list:

- :class:`EarlyStopping` stops when a metric stops improving;
- :class:`ModelCheckpoint` saves the network (``net.save``) every epoch or
  when a metric improves;
- :class:`LearningRateScheduler` sets ``net.optimizer.lr`` at the start of
  each epoch from a schedule (see :mod:`pynn.schedules`);
- :class:`ReduceLROnPlateau` divides the learning rate when a metric stalls;
- :class:`CSVLogger` writes one CSV row per epoch.

Write your own by subclassing :class:`Callback` (re-exported here from
:mod:`pynn.training`).  The learning rate callbacks add the rate in use to the
logs as "lr", so it appears in ``History.history["lr"]``.
"""
from __future__ import annotations

import contextlib
import csv
import inspect
import math
import os
import warnings
from typing import Any, Callable, Iterator, List, Optional, Union

from ._typing import FloatArray, Logs, PathLike
from ._validation import as_float, as_int
from .training import Callback

__all__ = ["Callback", "CSVLogger", "EarlyStopping", "LearningRateScheduler", "ModelCheckpoint",
           "ReduceLROnPlateau"]


def _mode(mode: str, monitor: str) -> str:
    """"min" or "max" for ``mode``; "auto" is "max" for accuracy metrics, else "min"."""
    if mode not in ("auto", "min", "max"):
        raise ValueError("mode must be 'auto', 'min' or 'max'; got %r" % (mode,))
    if mode == "auto":
        return "max" if ("acc" in monitor) else "min"
    return mode


def _check_monitor(monitor: object) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise TypeError("monitor must be the name of a metric, e.g. 'val_loss'; got %r" % (monitor,))
    return monitor


def _improves(mode: str, value: float, best: float, min_delta: float) -> bool:
    """Whether ``value`` beats ``best`` by more than ``min_delta`` in direction ``mode``."""
    if mode == "min":
        return value < best - min_delta
    return value > best + min_delta


def _monitored(callback: Union[EarlyStopping, ModelCheckpoint, ReduceLROnPlateau], logs: Optional[Logs]
               ) -> Optional[float]:
    """The monitored value from logs, or None (with a warning naming the metrics there are)."""
    value = (logs or {}).get(callback.monitor)
    if value is None:
        warnings.warn("%s monitors %r, which is not in the logs; available: %s (val_ metrics need "
                      "validation_data or validation_split)"
                      % (type(callback).__name__, callback.monitor, ", ".join(sorted(logs or {})) or "none"),
                      RuntimeWarning, stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving, as Keras does.

    A value improves on the best so far when it is lower by more than
    ``min_delta`` (higher, in "max" mode; "auto" picks "max" for accuracy
    metrics and "min" otherwise).  After ``patience`` epochs in a row without
    improvement, training stops (``net.stop_training = True``); with
    ``patience=0`` it stops at the first epoch that does not improve.  Only
    then, with ``restore_best_weights=True``, the weights of the best epoch
    are put back (as in Keras: a run that ends without stopping early keeps
    the last epoch's weights).

    After training, ``stopped_epoch`` is the epoch (from 0) at which it
    stopped (0 if it did not), ``best`` the best value and ``best_epoch`` its
    epoch.

    A ``min_delta`` no epoch can beat shows the counting: epoch 0 sets the
    best value, epochs 1 and 2 do not improve on it, and with ``patience=2``
    training stops after epoch 2.

    >>> import pynn
    >>> from pynn.callbacks import EarlyStopping
    >>> X, y = pynn.datasets.spirals(n_per_class=30, seed=0)
    >>> net = pynn.Network([pynn.Dense(2, 8, "tanh"), pynn.Dense(8, 3, "softmax")], loss="cross_entropy",
    ...                    seed=0)
    >>> stop = EarlyStopping(monitor="loss", min_delta=10.0, patience=2, restore_best_weights=True)
    >>> history = net.fit(X, y, epochs=50, callbacks=[stop], verbose=0)
    >>> len(history.epoch), stop.stopped_epoch, stop.best_epoch
    (3, 2, 0)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, mode: str = "auto",
                 restore_best_weights: bool = False) -> None:
        self.monitor = _check_monitor(monitor)
        self.min_delta = abs(as_float(min_delta, "min_delta"))
        self.patience = as_int(patience, "patience", minimum=0)
        self.mode = _mode(mode, self.monitor)
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights: Optional[List[FloatArray]] = None

    def _improves(self, value: float) -> bool:
        return _improves(self.mode, value, self.best, self.min_delta)

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        current = _monitored(self, logs)
        if current is None:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # never improved: the first epoch's
        self.wait += 1
        if self._improves(current):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the network with ``net.save`` at the end of each epoch.

    ``filepath`` may hold ``str.format`` fields filled from the epoch (counted
    from 1, as Keras does in file names) and the logs, e.g.
    ``"model-{epoch:02d}-{val_loss:.3f}.safetensors"``.  With
    ``save_best_only=True`` it saves only when ``monitor`` improves on the
    best value so far (lower in "min" mode, higher in "max"; "auto" is "max"
    for accuracy metrics); ``best`` holds that value.  Each save replaces the
    file atomically (see :meth:`pynn.Network.save`).

    >>> import os, tempfile
    >>> import pynn
    >>> from pynn.callbacks import ModelCheckpoint
    >>> folder = tempfile.mkdtemp()
    >>> net = pynn.Network([pynn.Dense(2, 1)], seed=0)
    >>> history = net.fit([[0, 1], [1, 0]], [1, 0], epochs=3, verbose=0,
    ...                   callbacks=[ModelCheckpoint(os.path.join(folder, "model-{epoch:02d}.safetensors"),
    ...                                              monitor="loss")])
    >>> sorted(os.listdir(folder))
    ['model-01.safetensors', 'model-02.safetensors', 'model-03.safetensors']
    """

    def __init__(self, filepath: PathLike, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto") -> None:
        self.filepath = os.fspath(filepath)
        self.monitor = _check_monitor(monitor)
        self.save_best_only = bool(save_best_only)
        self.mode = _mode(mode, self.monitor)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            current = _monitored(self, logs)
            if current is None:
                return
            better = current < self.best if self.mode == "min" else current > self.best
            if not better:
                return
            self.best = current
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError("ModelCheckpoint filepath %r cannot be filled from epoch and %s: %s"
                             % (self.filepath, sorted(logs), exc)) from None
        self.model.save(path, world=self.model._world)  # data-parallel fit: rank 0 writes, the others wait


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule``.

    ``schedule`` is either a schedule object of :mod:`pynn.schedules` (or any
    callable of one argument), called as ``schedule(epoch)``, or a function
    ``schedule(epoch, lr)`` given the epoch (from 0) and the current rate, as
    in Keras.  It must return a finite number >= 0, which becomes
    ``net.optimizer.lr``.  The rate in use is added to the logs as "lr".

    >>> import pynn
    >>> from pynn.callbacks import LearningRateScheduler
    >>> from pynn.schedules import StepDecay
    >>> net = pynn.Network([pynn.Dense(2, 1)], optimizer=pynn.SGD(lr=0.1), seed=0)
    >>> X, y = [[0, 1], [1, 0]], [1, 0]
    >>> history = net.fit(X, y, epochs=5, verbose=0,
    ...                   callbacks=[LearningRateScheduler(StepDecay(0.1, drop=0.5, step_size=2))])
    >>> history.history["lr"]
    [0.1, 0.1, 0.05, 0.05, 0.025]
    >>> halve = LearningRateScheduler(lambda epoch, lr: lr / 2)     # Keras' form: (epoch, current lr)
    >>> history = net.fit(X, y, epochs=3, verbose=0, callbacks=[halve])
    >>> history.history["lr"]
    [0.0125, 0.00625, 0.003125]
    """

    def __init__(self, schedule: Union[Callable[[int], float], Callable[[int, float], float]]) -> None:
        if not callable(schedule):
            raise TypeError("schedule must be callable as schedule(epoch) or schedule(epoch, lr); got %r"
                            % (schedule,))
        self.schedule: Callable[..., float] = schedule
        self._takes_lr = _positional_count(schedule) >= 2

    def on_epoch_begin(self, epoch: int, logs: Optional[Logs] = None) -> None:
        lr = self.schedule(epoch, self.model.optimizer.lr) if self._takes_lr else self.schedule(epoch)
        try:
            self.model.optimizer.lr = lr
        except (TypeError, ValueError) as exc:
            raise ValueError("the schedule returned an invalid learning rate for epoch %d: %s"
                             % (epoch, exc)) from None

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        if logs is not None:
            logs["lr"] = self.model.optimizer.lr


def _positional_count(fn: Callable[..., object]) -> int:
    """How many positional arguments ``fn`` takes (2 when it takes *args or cannot be inspected)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    count = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return 2
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls, as Keras does.

    A value improves when it beats the best so far by more than ``min_delta``
    (lower in "min" mode, higher in "max"; "auto" is "max" for accuracy
    metrics).  After ``patience`` epochs without improvement the rate becomes
    ``max(lr * factor, min_lr)`` (if it is above ``min_lr``).  Then comes the
    cooldown, counted as Keras counts it: its counter is decreased at the
    start of each epoch's check, so the ``cooldown - 1`` epochs after a
    reduction are not counted as stalled (``cooldown=1`` is no pause).  The
    rate in use is added to the logs as "lr" (before any reduction at this
    epoch's end).

    With a ``min_delta`` no epoch can beat, every epoch after the first stalls:

    >>> import pynn
    >>> from pynn.callbacks import ReduceLROnPlateau
    >>> net = pynn.Network([pynn.Dense(2, 1)], optimizer=pynn.SGD(lr=0.1), seed=0)
    >>> reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    >>> history = net.fit([[0, 1], [1, 0]], [1, 0], epochs=4, verbose=0, callbacks=[reduce])
    >>> history.history["lr"], net.optimizer.lr
    ([0.1, 0.1, 0.05, 0.025], 0.0125)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0, mode: str = "auto") -> None:
        self.monitor = _check_monitor(monitor)
        self.factor = as_float(factor, "factor", 0.0, 1.0, min_inclusive=False, max_inclusive=False)
        self.patience = as_int(patience, "patience", minimum=0)
        self.min_delta = abs(as_float(min_delta, "min_delta"))
        self.cooldown = as_int(cooldown, "cooldown", minimum=0)
        self.min_lr = as_float(min_lr, "min_lr", minimum=0.0)
        self.mode = _mode(mode, self.monitor)
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improves(self, value: float) -> bool:
        return _improves(self.mode, value, self.best, self.min_delta)

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        if logs is not None:
            logs["lr"] = self.model.optimizer.lr
        current = _monitored(self, logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = self.model.optimizer.lr
                if old > self.min_lr:
                    self.model.optimizer.lr = max(old * self.factor, self.min_lr)
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class CSVLogger(Callback):
    """Write the logs of each epoch as a row of a CSV file, as Keras does.

    Columns: "epoch" (from 0), then the metric names of the first epoch in
    sorted order; a metric missing in a later epoch is written as "NA".  The
    file is rewritten at the start of training, or added to with
    ``append=True`` (the header is then written only if the file is empty or
    new).  Each row is flushed at once, so the file is complete even if
    training is interrupted.

    >>> import os, tempfile
    >>> import pynn
    >>> from pynn.callbacks import CSVLogger
    >>> path = os.path.join(tempfile.mkdtemp(), "training.csv")
    >>> net = pynn.Network([pynn.Dense(2, 2, "softmax")], loss="cross_entropy", seed=0)
    >>> X, y = [[0, 1], [1, 0]], [1, 0]
    >>> history = net.fit(X, y, epochs=2, validation_data=(X, y), verbose=0, callbacks=[CSVLogger(path)])
    >>> with open(path) as f:
    ...     rows = f.read().splitlines()
    >>> rows[0], len(rows)
    ('epoch,accuracy,loss,val_accuracy,val_loss', 3)
    """

    def __init__(self, filename: PathLike, separator: str = ",", append: bool = False) -> None:
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self.keys: Optional[List[str]] = None

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        self.keys = None
        with _on_root(self.model):
            if _is_root(self.model):
                exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
                self._write_header = not (self.append and exists)
                if not self.append:
                    open(self.filename, "w").close()

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        with _on_root(self.model):
            if _is_root(self.model):
                with open(self.filename, "a", newline="", encoding="utf-8") as f:
                    writer = csv.writer(f, delimiter=self.separator)
                    if self._write_header:
                        writer.writerow(["epoch"] + self.keys)
                        self._write_header = False
                    writer.writerow([epoch, *[_cell(logs[k]) if k in logs else "NA" for k in self.keys]])


def _is_root(model: Any) -> bool:
    """Whether this process writes files: always, except on ranks other than
    0 of a data-parallel fit."""
    world = getattr(model, "_world", None)
    return world is None or world.rank == 0


@contextlib.contextmanager
def _on_root(model: Any) -> Iterator[None]:
    """In a data-parallel fit, every rank waits at the end until rank 0 has
    written (also when writing failed there)."""
    world = getattr(model, "_world", None)
    try:
        yield
    finally:
        if world is not None and world.size > 1:
            world.barrier()


def _cell(value: Any) -> str:
    """A CSV cell: numbers in full precision (repr of the float), anything else as str."""
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)
