"""Learning-rate schedules: the rate to use at each epoch.

Each schedule is a callable ``schedule(epoch) -> lr`` with epochs counted
from 0.  Use one with :class:`pynn.callbacks.LearningRateScheduler`, which
sets ``net.optimizer.lr`` at the start of every epoch::

    sched = pynn.schedules.CosineDecay(0.1, decay_epochs=90, warmup_epochs=5)
    net.fit(X, y, epochs=95, callbacks=[pynn.callbacks.LearningRateScheduler(sched)])

``schedule.values(n)`` lists the first ``n`` rates, e.g. to print or plot them.

Formulas (e = epoch, from 0):

=======================  ==================================================================
``StepDecay``            lr · drop ^ floor(e / step_size)
``ExponentialDecay``     lr · decay_rate ^ (e / decay_epochs)   (floor of the exponent with
                         ``staircase=True``)
``CosineDecay``          warm-up, e < W:  lr · (e + 1) / (W + 1)
                         then  min_lr + (lr − min_lr) · (1 + cos(π · t / D)) / 2
                         with t = min(e − W, D), D = decay_epochs
=======================  ==================================================================
"""
from __future__ import annotations

import math
from typing import List

from ._validation import as_float, as_int

__all__ = ["CosineDecay", "ExponentialDecay", "Schedule", "StepDecay"]


class Schedule:
    """Base class: a callable ``schedule(epoch) -> lr`` (epoch from 0)."""

    def __call__(self, epoch: int) -> float:
        epoch = as_int(epoch, "epoch", minimum=0)
        try:
            lr = float(self.lr_at(epoch))
        except OverflowError:  # a growing schedule (drop > 1) far enough out
            lr = math.inf
        if not math.isfinite(lr):
            raise ValueError("%r gives no finite learning rate at epoch %d: the rate grows past the largest "
                             "float; use a factor <= 1 or fewer epochs" % (self, epoch))
        return lr

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def values(self, n_epochs: int) -> List[float]:
        """The rates of epochs 0 .. n_epochs - 1, as a list."""
        return [self(e) for e in range(as_int(n_epochs, "n_epochs", minimum=0))]

    def __repr__(self) -> str:
        args = ", ".join("%s=%r" % kv for kv in vars(self).items())
        return "%s(%s)" % (type(self).__name__, args)


class StepDecay(Schedule):
    """Multiply the rate by ``drop`` every ``step_size`` epochs:

        lr(e) = initial_lr · drop ^ floor(e / step_size)

    e.g. ``StepDecay(0.1, drop=0.5, step_size=10)``: 0.1 for epochs 0-9,
    0.05 for 10-19, 0.025 for 20-29, ...

    >>> from pynn.schedules import StepDecay
    >>> schedule = StepDecay(0.1, drop=0.5, step_size=2)
    >>> schedule(0), schedule(5)
    (0.1, 0.025)
    >>> schedule.values(6)
    [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    """

    def __init__(self, initial_lr: float, drop: float = 0.5, step_size: int = 10) -> None:
        self.initial_lr = as_float(initial_lr, "initial_lr", minimum=0.0)
        self.drop = as_float(drop, "drop", minimum=0.0)
        self.step_size = as_int(step_size, "step_size")

    def lr_at(self, epoch: int) -> float:
        return self.initial_lr * self.drop ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """Shrink the rate by a factor ``decay_rate`` every ``decay_epochs`` epochs, smoothly:

        lr(e) = initial_lr · decay_rate ^ (e / decay_epochs)

    or, with ``staircase=True``, ``decay_rate ^ floor(e / decay_epochs)``
    (as Keras' ExponentialDecay, counted in epochs).

    >>> from pynn.schedules import ExponentialDecay
    >>> [round(lr, 4) for lr in ExponentialDecay(1.0, decay_rate=0.5, decay_epochs=2).values(5)]
    [1.0, 0.7071, 0.5, 0.3536, 0.25]
    >>> ExponentialDecay(1.0, decay_rate=0.5, decay_epochs=2, staircase=True).values(5)
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, initial_lr: float, decay_rate: float = 0.96, decay_epochs: int = 1,
                 staircase: bool = False) -> None:
        self.initial_lr = as_float(initial_lr, "initial_lr", minimum=0.0)
        self.decay_rate = as_float(decay_rate, "decay_rate", minimum=0.0)
        self.decay_epochs = as_int(decay_epochs, "decay_epochs")
        self.staircase = bool(staircase)

    def lr_at(self, epoch: int) -> float:
        exponent = epoch / self.decay_epochs
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_lr * self.decay_rate ** exponent


class CosineDecay(Schedule):
    """Linear warm-up, then a half cosine from ``initial_lr`` down to ``min_lr``.

    With W = ``warmup_epochs`` and D = ``decay_epochs``:

    - warm-up, e < W:  lr(e) = initial_lr · (e + 1) / (W + 1)
      (the rate climbs in equal steps and reaches initial_lr at epoch W);
    - then, t = min(e − W, D):
      lr(e) = min_lr + (initial_lr − min_lr) · (1 + cos(π · t / D)) / 2,
      which is initial_lr at e = W, and min_lr from e = W + D on.

    >>> from pynn.schedules import CosineDecay
    >>> schedule = CosineDecay(1.0, decay_epochs=4, warmup_epochs=3, min_lr=0.1)
    >>> schedule
    CosineDecay(initial_lr=1.0, decay_epochs=4, warmup_epochs=3, min_lr=0.1)
    >>> [round(lr, 4) for lr in schedule.values(9)]
    [0.25, 0.5, 0.75, 1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    """

    def __init__(self, initial_lr: float, decay_epochs: int, warmup_epochs: int = 0, min_lr: float = 0.0) -> None:
        self.initial_lr = as_float(initial_lr, "initial_lr", minimum=0.0)
        self.decay_epochs = as_int(decay_epochs, "decay_epochs")
        self.warmup_epochs = as_int(warmup_epochs, "warmup_epochs", minimum=0)
        self.min_lr = as_float(min_lr, "min_lr", minimum=0.0)
        if self.min_lr > self.initial_lr:
            raise ValueError("min_lr must be <= initial_lr; got min_lr=%r, initial_lr=%r"
                             % (self.min_lr, self.initial_lr))

    def lr_at(self, epoch: int) -> float:
        W, D = self.warmup_epochs, self.decay_epochs
        if epoch < W:
            return self.initial_lr * (epoch + 1) / (W + 1)
        t = min(epoch - W, D)
        return self.min_lr + (self.initial_lr - self.min_lr) * (1 + math.cos(math.pi * t / D)) / 2
