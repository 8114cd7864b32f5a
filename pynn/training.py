"""The training loop: epochs of shuffled mini-batches, with history, metrics,
progress output and callbacks.

``fit`` runs the Python side of training: it shuffles, splits off validation
data, reports progress and calls the callbacks between chunks of batches; the
batches themselves run in ``Network._train_rows`` (one call per chunk).
Callbacks ready to use are in :mod:`pynn.callbacks`.
"""
from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import backends, losses
from ._plan import Plan
from ._typing import ArrayLike, FloatArray, IntArray, Logs, PathLike
from ._validation import all_finite, as_float, as_int
from .errors import DivergenceError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .distributed.world import World
    from .network import Network

# Seconds of training per call into the backend during fit (see _Pace).
_CHUNK_SECONDS = 0.05
# The largest batch_size: the C core counts rows in int64.
_MAX_BATCH = 2 ** 62
# Networks with a fit running, and how many (a callback may call fit again):
# only the outermost one sets net.history.
_FITTING: "weakref.WeakKeyDictionary[Network, int]" = weakref.WeakKeyDictionary()

# verbose=1 draws its progress bar with tqdm when it is installed; set this to
# False to get pynn's own plain in-place line instead.
_USE_TQDM = True


class History:
    """What fit() recorded: ``history[metric]`` is a list with one value per
    epoch ("loss"; "accuracy" for classifiers or "mae" and "r2" for regression losses;
    "val_"-prefixed ones when there is validation data; "lr" when a learning
    rate callback reports it); ``epoch`` lists the epoch indices (from 0) and
    ``params`` the settings of the run.

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.SGD(lr=0.1), dtype="float64")
    >>> net.set_weights([[[0.0]], [0.0]])
    >>> history = net.fit([[1.0], [2.0]], [2.0, 4.0], epochs=3, batch_size=2, shuffle=False, verbose=0)
    >>> history
    History(epochs=3, metrics=['loss', 'mae', 'r2'])
    >>> [round(v, 4) for v in history.history["loss"]]       # falling: y = 2x is being learnt
    [10.0, 1.06, 0.1732]
    >>> history.params["steps"], net.history is history
    (1, True)
    """

    def __init__(self) -> None:
        self.history: Dict[str, List[float]] = {}
        self.epoch: List[int] = []
        self.params: Dict[str, Any] = {}

    def _record(self, epoch: int, logs: Logs) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def plot(self, path: Optional[PathLike] = None, metrics: Union[str, Sequence[str], None] = None) -> Figure:
        """Draw the learning curves (one panel per metric, training and
        validation together) and save them as a PNG at ``path`` when given.
        Returns the matplotlib Figure.  Needs matplotlib (``pip install
        pynn[plot]``); see :func:`pynn.plotting.plot_history`."""
        from .plotting import plot_history
        return plot_history(self, path=path, metrics=metrics)

    def __repr__(self) -> str:
        return "History(epochs=%d, metrics=%s)" % (len(self.epoch), list(self.history))


class Callback:
    """Base class for objects fit() calls back during training.

    Override any of the methods; ``self.model`` is the network being trained.
    Set ``self.model.stop_training = True`` to stop after the current epoch.
    ``logs`` is a dict of the latest metrics ("loss", "accuracy", "val_loss",
    ...).  At the end of an epoch every callback gets the same dict, in the
    order of the ``callbacks`` list, and the History records it after the
    last one: a callback may add entries (the learning rate callbacks add
    "lr").

    >>> import pynn
    >>> class StopBelow(pynn.Callback):         # stop once the training loss is below a threshold
    ...     def __init__(self, threshold):
    ...         self.threshold = threshold
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         if logs["loss"] < self.threshold:
    ...             print("epoch %d: loss %.3f" % (epoch, logs["loss"]))
    ...             self.model.stop_training = True
    >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.SGD(lr=0.1), dtype="float64")
    >>> net.set_weights([[[0.0]], [0.0]])
    >>> history = net.fit([[1.0], [2.0]], [2.0, 4.0], epochs=100, batch_size=2, verbose=0,
    ...                   callbacks=[StopBelow(0.1)])
    epoch 3: loss 0.083
    >>> len(history.epoch)
    4
    """

    # the network being trained: fit() calls set_model before any other method
    model: Network = None  # type: ignore[assignment]  # None until then

    def set_model(self, model: Network) -> None:
        self.model = model

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        pass

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: Optional[Logs] = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: Optional[Logs] = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: Optional[Logs] = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: Optional[Logs] = None) -> None:
        pass


def _number(value: float) -> str:
    """A metric for progress output: 4 decimals, or scientific notation when
    it is huge (a diverging loss) rather than 35 digits."""
    return "%.4f" % value if abs(value) < 1e5 else "%.4g" % value


def _format(logs: Logs) -> str:
    return " - ".join("%s: %.4g" % (k, v) if k == "lr" else "%s: %s" % (k, _number(v)) for k, v in logs.items())


def _check_callbacks(callbacks: Union[Callback, Iterable[Callback], None]) -> List[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    callbacks = list(callbacks)
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError("callbacks[%d] must be a pynn.Callback; got %r" % (i, cb))
    return callbacks


def _scores(net: Network, data: _Data) -> Dict[str, float]:
    """evaluate() on checked arrays (with "mae" and "r2" for the regression losses)."""
    target = data.labels if data.Y is None else data.Y
    assert target is not None  # one of them is given
    return net.evaluate(data.X, target, data.weights)


class _Snapshot:
    """The training state fit() can roll back to when a batch diverges:
    parameters, optimizer state and step count, copied into buffers made once
    per fit (and again if the optimizer's state changes size), and where in
    which data it was taken.

    Copying them costs about as much as an optimizer update, so it is not
    taken before every chunk: only when the data, the network or the
    optimizer's settings changed since (a new epoch or piece of a stream,
    set_weights, a new learning rate, ...), before every
    chunk when callbacks hear about each batch (they may change anything),
    and otherwise once the training since the last one has taken
    ``_SNAPSHOT_RATIO`` times as long as a copy.  A divergence goes back to it
    and trains the rows since again (the same arithmetic: the same result)
    up to the failing batch."""

    def __init__(self, every_chunk: bool = False) -> None:
        self.params: Optional[FloatArray] = None
        self.state: Optional[FloatArray] = None
        self.step = 0
        self.every_chunk = every_chunk
        self.data: Optional[_Data] = None  # where it was taken: rows [0, lo) of data were trained before it
        self.lo = 0
        self.changes: Any = None  # (net._changes, the optimizer, its _version) when taken
        self.copy_seconds = 0.0
        self.trained_seconds = 0.0  # since it was taken

    def take(self, plan: Plan, net: Network, data: Optional[_Data] = None, lo: int = 0) -> None:
        start = time.perf_counter()
        if self.params is None or self.state is None or self.state.shape != plan.state.shape:
            self.params, self.state = np.empty_like(plan.params), np.empty_like(plan.state)
        np.copyto(self.params, plan.params)
        np.copyto(self.state, plan.state)
        self.step = net.optimizer.step
        self.data, self.lo, self.changes = data, lo, (net._changes, net.optimizer, net.optimizer._version)
        self.copy_seconds = time.perf_counter() - start
        self.trained_seconds = 0.0

    def take_if_due(self, plan: Plan, net: Network, data: _Data, lo: int) -> bool:
        """Take it before training rows [lo, ...) of data, unless the last one
        still serves.  False, leaving the last one, when it is due by time
        but the state is not finite: an update since overflowed (the chunks
        are not checked one by one), and the caller replays from the last
        one to find which."""
        if (self.every_chunk or self.data is not data
                or self.changes != (net._changes, net.optimizer, net.optimizer._version)
                or self.state is None or self.state.shape != plan.state.shape):
            self.take(plan, net, data, lo)
        elif self.trained_seconds > _SNAPSHOT_RATIO * self.copy_seconds:
            if not _finite(plan):
                return False
            self.take(plan, net, data, lo)
        return True

    def restore(self, plan: Plan, net: Network) -> None:
        assert self.params is not None and self.state is not None  # taken before
        np.copyto(plan.params, self.params)
        np.copyto(plan.state, self.state)
        net.optimizer.step = self.step


# training time between snapshots, in copies of the state (see _Snapshot): 2% of the time at most
_SNAPSHOT_RATIO = 50.0


class _Interrupts:
    """Ctrl-C during fit lands between chunks: while fit runs in the main
    thread with Python's own SIGINT handler, a SIGINT only sets a flag, and
    fit raises KeyboardInterrupt after the chunk it interrupted (at most
    about ``_CHUNK_SECONDS`` later), when the network holds a completed
    step.  (Elsewhere, an interrupt raised mid-chunk rolls back to the
    last snapshot instead.)"""

    def __init__(self) -> None:
        self.pending = False
        self.depth = 0  # fits running in the main thread (a callback may call fit)
        self.previous: Any = None

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            if self.depth == 0 and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self.previous = signal.signal(signal.SIGINT, self._handle)
            self.depth += 1
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.pending = True

    def check(self) -> None:
        """Raise the KeyboardInterrupt of a Ctrl-C that came during the last chunk."""
        if self.pending and threading.current_thread() is threading.main_thread():
            self.pending = False
            raise KeyboardInterrupt

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self.depth -= 1
        if self.depth == 0:
            if self.previous is not None:
                signal.signal(signal.SIGINT, self.previous)
                self.previous = None
            if self.pending:
                self.pending = False
                if kind is None:
                    raise KeyboardInterrupt


_INTERRUPTS = _Interrupts()


class _Pace:
    """How many rows fit trains per call into the backend: whole batches
    lasting about ``_CHUNK_SECONDS`` at the speed measured so far (one batch
    until something is measured), so progress, callbacks and Ctrl-C are
    never far away."""

    def __init__(self) -> None:
        self.seconds_per_row: Optional[float] = None

    def rows(self, batch_size: int) -> int:
        if self.seconds_per_row is None:
            return batch_size
        batches = int(_CHUNK_SECONDS / max(self.seconds_per_row * batch_size, 1e-9))
        return batch_size * max(1, batches)

    def measure(self, seconds: float, rows: int) -> None:
        self.seconds_per_row = seconds / rows


def _finite(plan: Plan) -> bool:
    """Whether the weights and the optimizer state are all finite."""
    return all_finite(plan.params) and all_finite(plan.state)


class _Data:
    """Rows to train or validate on (X, Y or labels, and their weights or
    None), checked and converted; ``order``: None, or the epoch's order of
    the rows (a permutation), which :meth:`rows` and the backends follow
    without copying X (it may be a memory map larger than memory)."""

    def __init__(self, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
                 weights: Optional[FloatArray], order: Optional[IntArray] = None) -> None:
        self.X, self.Y, self.labels, self.weights, self.order = X, Y, labels, weights, order

    def rows(self, lo: int, hi: int
             ) -> Tuple[FloatArray, Optional[FloatArray], Optional[IntArray], Optional[FloatArray]]:
        """Rows [lo, hi) in the epoch's order (a copy of just those when it shuffles)."""
        at: Any = slice(lo, hi) if self.order is None else self.order[lo:hi]
        return (self.X[at], None if self.Y is None else self.Y[at],
                None if self.labels is None else self.labels[at],
                None if self.weights is None else self.weights[at])

    def in_order(self, order: Optional[IntArray]) -> _Data:
        """The same rows, visited in ``order`` (None: as stored)."""
        return _Data(self.X, self.Y, self.labels, self.weights, order)

    def weight_of(self, lo: int, hi: int) -> float:
        """The number of rows [lo, hi) of the epoch, or the sum of their weights."""
        if self.weights is None:
            return float(hi - lo)
        w = self.weights[lo:hi] if self.order is None else self.weights[self.order[lo:hi]]
        return float(w.sum(dtype=np.float64))

    def take(self, index: Any) -> _Data:
        """The rows at ``index`` (a slice or a permutation)."""
        return _Data(self.X[index], None if self.Y is None else self.Y[index],
                     None if self.labels is None else self.labels[index],
                     None if self.weights is None else self.weights[index])

    def total_weight(self) -> float:
        """The number of rows, or the sum of their weights."""
        return float(self.X.shape[0] if self.weights is None else self.weights.sum(dtype=np.float64))


def _train_checked(net: Network, plan: Plan, data: _Data, lo: int, hi: int, batch_size: int,
                   pace: Optional[_Pace] = None, check: bool = True) -> Optional[Tuple[float, float]]:
    """Train on rows [lo, hi) of the epoch (``data.order`` picks them when it
    shuffles) in batches of ``batch_size``, in one call into the backend;
    return (sum of loss * batch rows, number correct), or None when a batch
    diverged: a non-finite loss or gradient (the backend raised), or (when
    ``check``) an update that left non-finite weights.  (Without ``check``
    such an update shows in the next chunk, whose first loss is not finite,
    or in the checks before a snapshot and at the end of an epoch.)"""
    start = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # numpy backend: reported here instead
            optimizer, impl = net.optimizer, backends.implementation()
            if optimizer.needs_closure:  # L-BFGS: it evaluates the loss itself
                result = optimizer.run_rows(plan, impl, *data.rows(lo, hi), batch_size)
            elif data.order is None:
                result = impl.train_rows(plan, optimizer, *data.rows(lo, hi), batch_size)
            else:  # the backend gathers each batch's rows: X is never copied whole
                result = impl.train_rows(plan, optimizer, data.X, data.Y, data.labels, data.weights, batch_size,
                                         data.order[lo:hi])
    except DivergenceError:
        return None
    if pace is not None:
        pace.measure(time.perf_counter() - start, hi - lo)
    return result if not check or _finite(plan) else None


def _replay_to_divergence(net: Network, plan: Plan, snapshot: _Snapshot, data: _Data, lo: int, hi: int,
                          batch_size: int, epoch: int, epochs: int, n_batches: int) -> Tuple[float, float]:
    """A batch before row ``hi`` of the epoch diverged: go back to the
    snapshot (taken at row snapshot.lo of the same data) and train its rows
    again one batch at a time, each checked and from a snapshot, up to the
    batch that diverges; leave the network as it was before that batch and
    raise DivergenceError.  (The replay repeats the same arithmetic, so it
    finds the same batch.)  Rows from ``lo`` are the chunk the caller was
    training: their (loss sum, correct) is returned if, against all
    expectation, nothing diverges."""
    snapshot.restore(plan, net)
    total = correct = 0.0
    for start in range(snapshot.lo, hi, batch_size):
        snapshot.take(plan, net, data, start)
        result = _train_checked(net, plan, data, start, min(start + batch_size, hi), batch_size)
        if result is None:
            snapshot.restore(plan, net)
            batch = start // batch_size
            raise DivergenceError(
                "training diverged at epoch %d/%d, batch %d/%d: the loss, a gradient or the updated weights "
                "became NaN or infinite; the network keeps the weights from before that batch (try a smaller "
                "learning rate)" % (epoch + 1, epochs, batch + 1, n_batches),
                batches_done=epoch * n_batches + batch, epoch=epoch, batch=batch)
        if start >= lo:
            total += result[0]
            correct += result[1]
    return total, correct  # not reproduced (cannot happen with deterministic kernels): carry on


def _train_chunk(net: Network, snapshot: _Snapshot, pace: _Pace, data: _Data, lo: int, hi: int,
                 batch_size: int, epoch: int, epochs: int, n_batches: int) -> Tuple[float, float]:
    """Rows [lo, hi) of one epoch, holding the network alone (no other
    thread trains or predicts meanwhile); rolled back to the batch before a
    divergence, or to the last snapshot on an interrupt raised mid-chunk."""
    with net._training() as plan:
        if not snapshot.take_if_due(plan, net, data, lo):  # an earlier chunk of this data overflowed
            _replay_to_divergence(net, plan, snapshot, data, lo, lo, batch_size, epoch, epochs, n_batches)
        start = time.perf_counter()
        try:
            # the weights are checked after each chunk only when callbacks see each batch;
            # otherwise before the next snapshot and at the end of the data (_check_finished)
            result = _train_checked(net, plan, data, lo, hi, batch_size, pace, check=snapshot.every_chunk)
            if result is None:
                result = _replay_to_divergence(net, plan, snapshot, data, lo, hi, batch_size, epoch, epochs,
                                               n_batches)
        except KeyboardInterrupt:
            # an interrupt raised mid-chunk (not deferred by _Interrupts) can land between
            # the parameter update and the optimizer state or step count: go back to the
            # consistent state of the snapshot
            snapshot.restore(plan, net)
            raise
        snapshot.trained_seconds += time.perf_counter() - start
        if _INTERRUPTS.pending and not _finite(plan):  # stop on a completed step with finite weights
            _replay_to_divergence(net, plan, snapshot, data, hi, hi, batch_size, epoch, epochs, n_batches)
    _INTERRUPTS.check()  # a Ctrl-C during the chunk: now, with a completed step
    return result


def _check_finished(net: Network, snapshot: _Snapshot, data: _Data, hi: int, batch_size: int, epoch: int,
                    epochs: int, n_batches: int) -> None:
    """At the end of an epoch (or a piece of a stream), before anything
    reads the weights: if an update of its unchecked chunks overflowed, find
    the batch and raise DivergenceError (see _replay_to_divergence)."""
    if snapshot.every_chunk or snapshot.data is not data:
        return  # every chunk was checked, or none was trained
    with net._training() as plan:
        if not _finite(plan):
            _replay_to_divergence(net, plan, snapshot, data, hi, hi, batch_size, epoch, epochs, n_batches)


class _Bar:
    """verbose=1: a progress bar for one epoch, counted in batches.

    tqdm draws it when installed; otherwise a plain line redrawn in place with
    a carriage return (only on a terminal: elsewhere just the finished line is
    written, so logs stay clean).
    """

    def __init__(self, epoch: int, epochs: int, n_batches: int) -> None:
        self.title = "Epoch %d/%d" % (epoch + 1, epochs)
        self.n_batches = n_batches
        self.done = 0
        self.tqdm = None
        self.live = sys.stdout.isatty()
        self.last_draw = 0.0
        if _USE_TQDM:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.tqdm = tqdm(total=n_batches, desc=self.title, unit="batch", file=sys.stdout,
                                 leave=True, dynamic_ncols=True)

    def update(self, batches: int, loss: float) -> None:
        self.done += batches
        if self.tqdm is not None:
            self.tqdm.set_postfix_str("loss: %s" % _number(loss), refresh=False)
            self.tqdm.update(batches)
        elif self.live and time.perf_counter() - self.last_draw > 0.1:
            self.last_draw = time.perf_counter()
            sys.stdout.write("\r%s - loss: %s" % (self._line(), _number(loss)))
            sys.stdout.flush()

    def close(self, logs: Logs, seconds: float) -> None:
        if self.tqdm is not None:
            self.tqdm.set_postfix_str(_format(logs), refresh=False)
            self.tqdm.close()
            return
        sys.stdout.write("%s%s - %.2fs - %s\n" % ("\r" if self.live else "", self._line(), seconds,
                                                  _format(logs)))
        sys.stdout.flush()

    def _line(self, width: int = 30) -> str:
        filled = width * self.done // self.n_batches
        arrow = ">" if filled < width else ""
        bar = "=" * filled + arrow + "." * (width - filled - len(arrow))
        return "%s [%s] %d/%d" % (self.title, bar, self.done, self.n_batches)


def fit(net: Network, X: Any, y: Optional[ArrayLike] = None, epochs: int = 1, batch_size: int = 32, shuffle: bool = True,
        validation_data: Optional[Tuple[ArrayLike, ...]] = None, verbose: int = 1,
        callbacks: Union[Callback, Iterable[Callback], None] = None, validation_split: float = 0.0,
        sample_weight: Optional[ArrayLike] = None, class_weight: Union[Dict[Any, float], str, None] = None,
        world: Optional[World] = None) -> History:
    """Train ``net`` on (X, y) and return a History.

    Each epoch visits every sample once, in mini-batches of ``batch_size``
    (the last may be smaller), reshuffled each epoch with the network's seeded
    generator when ``shuffle``.

    Validation: ``validation_data=(X_val, y_val)``, or ``validation_split``, a
    fraction in [0, 1) of the data held out for it: as in Keras, the *last*
    rows of X and y as given (taken before any shuffling, so shuffle the data
    first if it is ordered, e.g. by class).  ``validation_data`` wins when both
    are given.

    Metrics per epoch, in ``History.history`` and in the ``logs`` callbacks
    get:

    - "loss": the mean of the batch losses (each taken before its update),
      weighted by batch size, as Keras reports it;
    - "accuracy" (classifiers): the share of correct predictions over the
      same batches, before their updates;
    - "mae" and "r2" (regression losses): the mean absolute error over all
      outputs, and R² as scikit-learn's r2_score, on the training data,
      measured with the weights at the end of the epoch (one extra forward
      pass);
    - "val_loss", "val_accuracy" / "val_mae", "val_r2": the same measured on
      the validation data at the end of the epoch.

    With ``sample_weight`` / ``class_weight`` every one of them is a
    weighted mean (an integer weight k counts a row k times).

    ``verbose``: 0 silent; 1 a progress bar per epoch (tqdm when installed,
    otherwise a plain line redrawn in place) closed by the epoch's metrics;
    2 one line per epoch.

    ``callbacks``: :class:`Callback` objects (see :mod:`pynn.callbacks`).

    Interrupting (Ctrl-C) leaves the network with the weights, optimizer
    state and step count of a completed step (the chunk of batches that was
    running is rolled back) and ``net.history`` holding the finished epochs.

    ``net.history`` is this History, set when fit starts.  A fit called while
    another runs on the same network (from a callback, or from another
    thread) trains and returns its own History, and leaves ``net.history``
    to the first.

    Divergence: if a batch's loss or gradient is NaN or infinite, or its
    update makes a weight (or the optimizer state) NaN or infinite -- e.g. a
    learning rate far too large -- fit raises :class:`pynn.DivergenceError`
    naming the epoch and batch (also as its ``epoch`` and ``batch``
    attributes, from 0), and the network keeps exactly the weights,
    optimizer state and step count it had after the last good batch.

    Memory: with ``shuffle`` the batches are gathered row by row from X in
    the epoch's order (by the C core, or batch by batch in numpy), so X is
    never copied whole: a memory map (``np.load(path, mmap_mode="r")``) of
    the network's dtype trains without being read into memory.

    Streams: ``fit(chunks)`` with ``y`` left out trains on an iterable of
    ``(X, y)`` (or ``(X, y, sample_weight)``) pieces that never sit in memory
    at once, exactly as on their concatenation without shuffling; see
    :mod:`pynn.streaming`.

    ``world`` (from :func:`pynn.distributed.init`): data-parallel training,
    X and y being this process's rows and ``batch_size`` the rows per
    process in each step; see :mod:`pynn.distributed.fit`.  A world of one
    is plain fit.
    """
    if world is not None:
        from .distributed.data_parallel import check_world
        world = check_world(world)
    epochs = as_int(epochs, "epochs", minimum=0)
    batch_size = as_int(batch_size, "batch_size", maximum=_MAX_BATCH)
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError("verbose must be 0, 1 or 2; got %r" % (verbose,))
    validation_split = as_float(validation_split, "validation_split", 0.0, 1.0, max_inclusive=False)
    callbacks = _check_callbacks(callbacks)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a pair (X_val, y_val) or a triple (X_val, y_val, w_val)")
        val = _checked_data(net, validation_data[0], validation_data[1],
                            validation_data[2] if len(validation_data) == 3 else None)
    from . import streaming
    if streaming.is_stream(X, y):
        return streaming.fit(net, X, epochs, batch_size, verbose, callbacks, val, validation_split, sample_weight,
                             class_weight, world)
    if y is None:
        raise ValueError("fit needs y (the targets) with an array X; to train on a stream, pass an iterable of "
                         "(X, y) pieces as X and leave y out")
    data = _checked_data(net, X, y, sample_weight, class_weight)
    if val is None and validation_split > 0:
        n_all = data.X.shape[0]
        split_at = int(math.floor(n_all * (1.0 - validation_split)))
        if split_at < 1 or split_at >= n_all:
            raise ValueError("validation_split=%r leaves %d training and %d validation rows of %d; "
                             "both must be at least 1" % (validation_split, split_at, n_all - split_at, n_all))
        data, val = data.take(slice(0, split_at)), data.take(slice(split_at, None))
        if data.weights is not None and not data.weights.any():
            raise ValueError("sample_weight is all zero on the %d training rows left by validation_split" % split_at)

    n = data.X.shape[0]
    n_batches = -(-n // batch_size)
    history = History()
    history.params = {"epochs": epochs, "batch_size": batch_size, "samples": n, "steps": n_batches,
                      "verbose": verbose}
    previous_world, net._world = net._world, world  # ModelCheckpoint and CSVLogger write on rank 0 only
    try:
        with _fitting(net, history):
            if world is not None and world.size > 1:
                from .distributed.fit import run_epochs
                run_epochs(net, world, history, data, val, epochs, batch_size, shuffle, verbose, callbacks)
            else:
                with _INTERRUPTS:
                    _run_epochs(net, history, data, val, epochs, batch_size, shuffle, verbose, callbacks, n_batches)
    finally:
        net._world = previous_world if world is None else world
    return history


@contextlib.contextmanager
def _fitting(net: Network, history: History) -> Iterator[None]:
    """While a fit runs: net.history is its History unless another fit of
    the same network is already running (a callback may call fit)."""
    if not _FITTING.get(net):
        net.history = history
    _FITTING[net] = _FITTING.get(net, 0) + 1
    try:
        yield
    finally:
        _FITTING[net] -= 1
        if not _FITTING[net]:
            del _FITTING[net]


def _checked_data(net: Network, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None,
                  class_weight: Union[Dict[Any, float], str, None] = None) -> _Data:
    """(X, y, weights) checked, converted, and checked by the backend's own
    value checks once (the kernels check each chunk as they train on it;
    checking all of it first leaves the network untouched by rejected data)."""
    plan = net._plan
    X, Y, labels = plan.batch(X, y)
    weights = losses.prepare_weights(sample_weight, X.shape[0], plan.dtype)
    if class_weight is not None:
        per_row = losses.class_weights(plan.loss, Y, labels, plan.n_out, class_weight)
        combined = per_row if weights is None else per_row * weights
        weights = losses.prepare_weights(combined, X.shape[0], plan.dtype)
    backends.implementation().check_inputs(plan, X, Y, labels, weights)
    return _Data(X, Y, labels, weights)


def _run_epochs(net: Network, history: History, train: _Data, val: Optional[_Data], epochs: int,
                batch_size: int, shuffle: bool, verbose: int, callbacks: List[Callback], n_batches: int) -> None:
    """fit's loop over epochs, once its arguments are checked; records into ``history``."""
    # batches run in chunks of whole batches between progress reports (about
    # 50 ms each, see _Pace); one batch per chunk when a callback wants to
    # hear about each batch
    per_batch = _begin_training(net, callbacks)
    logs: Logs = {}
    snapshot = _Snapshot(every_chunk=per_batch)  # to roll a diverged chunk back (_replay_to_divergence)
    pace = _Pace()
    n, weight = train.X.shape[0], train.total_weight()
    for epoch in range(epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, {})
        start = time.perf_counter()
        data = train.in_order(net._plan.rng.permutation(n) if shuffle else None)
        bar = _Bar(epoch, epochs, n_batches) if verbose == 1 else None
        total = correct = seen = 0.0  # loss * weight, correct, weight so far
        batch = lo = 0
        while lo < n:
            hi = min(lo + (batch_size if per_batch else pace.rows(batch_size)), n)
            for cb in callbacks:
                cb.on_batch_begin(batch, {})
            chunk_loss, right = _train_chunk(net, snapshot, pace, data, lo, hi, batch_size, epoch, epochs, n_batches)
            chunk_weight = data.weight_of(lo, hi)
            total += chunk_loss
            correct += right
            seen += chunk_weight
            for cb in callbacks:
                cb.on_batch_end(batch, {"loss": chunk_loss / chunk_weight if chunk_weight else 0.0,
                                        "size": hi - lo})
            if bar is not None:
                bar.update(-(-(hi - lo) // batch_size), total / seen if seen else 0.0)
            batch, lo = batch + 1, hi
        _check_finished(net, snapshot, data, n, batch_size, epoch, epochs, n_batches)
        logs = losses.metrics(net.loss, total / weight, correct, weight, net.n_outputs)
        if not net.is_classifier:
            assert train.Y is not None  # regression targets are never class labels
            logs.update(losses.regression_metrics(net.predict(train.X), train.Y, train.weights))
        if val is not None:
            logs.update({"val_" + k: v for k, v in _scores(net, val).items()})
        if _end_epoch(net, history, callbacks, epoch, epochs, logs, start, bar, verbose):
            break
    for cb in callbacks:
        cb.on_train_end(dict(logs))


def _begin_training(net: Network, callbacks: List[Callback]) -> bool:
    """The start of a fit: clear stop_training, give the callbacks the
    network and call their on_train_begin.  Returns whether a callback
    wants to hear about each batch (on_batch_begin / on_batch_end): then
    every batch is a chunk of its own and the state is saved before each."""
    net.stop_training = False
    for cb in callbacks:
        cb.set_model(net)
        cb.on_train_begin({})
    return any(type(cb).on_batch_begin is not Callback.on_batch_begin
               or type(cb).on_batch_end is not Callback.on_batch_end for cb in callbacks)


def _end_epoch(net: Network, history: History, callbacks: List[Callback], epoch: int, epochs: int, logs: Logs,
               start: float, bar: Optional[_Bar], verbose: int, detail: str = "") -> bool:
    """The end of an epoch, its logs complete: close its progress bar or
    write its line (verbose=2; a stream's length is unknown, so it has no
    bar and writes the line at verbose=1 too), call the callbacks, record
    it.  True when a callback asked to stop."""
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close(logs, seconds)
    elif verbose:
        sys.stdout.write("Epoch %d/%d%s - %.2fs - %s\n" % (epoch + 1, epochs, detail, seconds, _format(logs)))
        sys.stdout.flush()
    for cb in callbacks:
        cb.on_epoch_end(epoch, logs)
    history._record(epoch, logs)
    return net.stop_training
