"""``net.fit(..., world=world)`` over a world of several ranks: the epoch
loop of :mod:`pynn.training`, one data-parallel step per batch.

- At the start, every replica becomes rank 0's (:func:`data_parallel.sync`)
  and rank 0 draws the shuffling seed for all.
- Every epoch has as many steps on every rank: that of the rank with the
  most rows; a rank whose rows are used up contributes an empty batch.
- The collectives are the step's allreduce, and at the end of an epoch the
  training metrics of regression and the validation scores; nothing that
  depends on timing decides where they happen.
- Divergence: a non-finite summed loss or gradient stops every rank before
  the update.  An update that overflows the weights sends every rank back
  to fit's last snapshot of the parameters and optimizer state, taken every
  ``snapshot_interval`` steps (from the sizes alone, so at the same steps
  on every rank), and replays the steps since (their collectives too).
- The logs are computed from the reduced values, so every rank records the
  same History and the callbacks (EarlyStopping, ReduceLROnPlateau) decide
  the same; only rank 0 prints, and ModelCheckpoint / CSVLogger write on
  rank 0 only, then wait at a barrier.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

import numpy as np

from .. import losses
from .._typing import FloatArray, IntArray
from ..errors import DIVERGED_MESSAGE, DivergenceError
from ..training import Callback, History, _Bar, _begin_training, _Data, _end_epoch, _Snapshot
from . import data_parallel
from .world import World

if TYPE_CHECKING:
    from ..network import Network


def run_epochs(net: Network, world: World, history: History, train: _Data, val: Optional[_Data], epochs: int,
               batch_size: int, shuffle: bool, verbose: int, callbacks: List[Callback]) -> None:
    """fit's loop over epochs with ``world``; records into ``history``."""
    if net.optimizer.needs_closure:
        raise ValueError("%s cannot train data-parallel (it evaluates the loss many times per step); use SGD, "
                         "Adam, AdamW or RMSprop with world=" % type(net.optimizer).__name__)
    data_parallel.sync(net, world)
    mine = (epochs, batch_size, bool(shuffle), val is not None, len(callbacks))
    everyone = world.allgather(mine)
    if any(other != mine for other in everyone):
        raise ValueError("fit was called with different arguments on different ranks (epochs, batch_size, shuffle, "
                         "validation data given, number of callbacks): %s; every rank must make the same steps"
                         % ", ".join("rank %d: %r" % (r, o) for r, o in enumerate(everyone)))
    n = train.X.shape[0]
    counts = [int(c) for c in world.allgather(n)]
    steps = max(-(-c // batch_size) for c in counts)
    seed = np.array([int(net._plan.rng.integers(0, 2 ** 63)) if world.is_root else 0], dtype=np.int64)
    world.broadcast(seed)
    history.params.update({"steps": steps, "world_size": world.size, "samples": sum(counts)})
    if not world.is_root:
        verbose = 0
    step = data_parallel.Step(net._plan)
    snapshot, interval = _Snapshot(), data_parallel.snapshot_interval(net._plan, batch_size)
    # callbacks that hear about each batch may change anything between steps: a snapshot before each
    per_batch = _begin_training(net, callbacks)
    logs: Any = {}
    for epoch in range(epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, {})
        start = time.perf_counter()
        order = data_parallel.permutation(int(seed[0]), epoch, world.rank, n) if shuffle else None

        def batch(k: int) -> Tuple[FloatArray, Optional[FloatArray], Optional[IntArray], Optional[FloatArray], int]:
            """This rank's part of step k of the epoch, and its first row's place in the step's batch."""
            lo, hi = min(k * batch_size, n), min((k + 1) * batch_size, n)
            rows: Any = slice(lo, hi) if order is None else order[lo:hi]
            first = data_parallel.first_rows(data_parallel.rows_at_step(counts, k, batch_size), world.rank)
            return (train.X[rows], None if train.Y is None else train.Y[rows],
                    None if train.labels is None else train.labels[rows],
                    None if train.weights is None else train.weights[rows], first)

        bar = _Bar(epoch, epochs, steps) if verbose == 1 else None
        total = correct = seen = 0.0
        taken_at = -1
        for k in range(steps):
            if taken_at < 0 or k - taken_at >= interval or per_batch:
                with net._training() as plan:
                    snapshot.take(plan, net)  # the same steps on every rank: see snapshot_interval
                taken_at = k
            for cb in callbacks:
                cb.on_batch_begin(k, {})
            try:
                loss, right, weight, finite = step.run(net, world, *batch(k))
                if not finite:  # back to the snapshot, then the steps since again: the state before step k
                    with net._training() as plan:
                        snapshot.restore(plan, net)
                    for j in range(taken_at, k):
                        step.run(net, world, *batch(j), check_update=False)
                    raise DivergenceError(DIVERGED_MESSAGE)
            except DivergenceError:
                raise DivergenceError(
                    "training diverged at epoch %d/%d, batch %d/%d: the loss, a gradient or the updated weights "
                    "became NaN or infinite; the network keeps the weights from before that batch (try a smaller "
                    "learning rate)" % (epoch + 1, epochs, k + 1, steps),
                    batches_done=epoch * steps + k, epoch=epoch, batch=k) from None
            total += loss
            correct += right
            seen += weight
            for cb in callbacks:
                cb.on_batch_end(k, {"loss": loss / weight, "size": sum(data_parallel.rows_at_step(counts, k,
                                                                                                 batch_size))})
            if bar is not None:
                bar.update(1, total / seen)
        logs = losses.metrics(net.loss, total / seen, correct, seen, net.n_outputs)
        if not net.is_classifier:
            assert train.Y is not None
            logs.update(data_parallel.regression_metrics(net.predict(train.X), train.Y, train.weights, world))
        if val is not None:
            logs.update({"val_" + key: value for key, value in data_parallel.scores(net, val, world).items()})
        if _end_epoch(net, history, callbacks, epoch, epochs, logs, start, bar, verbose):
            break
    for cb in callbacks:
        cb.on_train_end(dict(logs))
