"""fit on a stream of chunks: data that never sits in memory at once.

``net.fit(chunks, epochs=..., batch_size=...)`` with ``y`` left out takes
``chunks``, an iterable of ``(X, y)`` or ``(X, y, sample_weight)`` pieces
(from a CSV read in pieces, a database cursor, files of a data set, ...),
and trains on their rows in the order they arrive, in batches of
``batch_size`` that run on across the pieces' boundaries: the rows left
over at the end of a piece (fewer than a batch) are joined to the next
one's.  So the parameters are exactly those of ``fit`` on the pieces
concatenated, with ``shuffle=False``.  (As in Keras, ``shuffle`` does not
apply to a stream: shuffle its rows as it produces them.)

For more than one epoch, pass something that can be iterated again (a
list, or an object whose ``__iter__`` starts over) or a function returning
a new iterator; a generator can be read only once.

The epoch's "loss" and "accuracy" are those of its batches, as in fit;
the regression metrics "mae" and "r2" of the training data would need a
second pass over the stream and are not computed (the validation ones are).
At most one piece, plus less than a batch, is held at a time.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, List, Optional, Tuple, Union

import numpy as np

from . import losses
from .errors import DivergenceError
from .training import (_INTERRUPTS, Callback, History, _begin_training, _check_finished, _checked_data, _Data,
                       _end_epoch, _fitting, _Pace, _scores, _Snapshot, _train_chunk)

if TYPE_CHECKING:
    from .network import Network

Chunks = Union[Iterable[Tuple[Any, ...]], Callable[[], Iterable[Tuple[Any, ...]]]]


def is_stream(X: Any, y: Any) -> bool:
    """Whether fit was given a stream of chunks: no y, and X not an array."""
    return y is None and not isinstance(X, np.ndarray) and (callable(X) or hasattr(X, "__iter__"))


def _pieces(chunks: Chunks, epoch: int) -> Iterator[Tuple[Any, ...]]:
    if callable(chunks):
        return iter(chunks())
    iterator = iter(chunks)
    if epoch > 0 and iterator is chunks:
        raise ValueError("the chunks can be read only once (a generator or iterator) but epochs > 1: pass a list, "
                         "or a function returning a new iterator of (X, y) pieces for each epoch")
    return iterator


def _joined(carry: Optional[_Data], data: _Data) -> _Data:
    if carry is None:
        return data

    def cat(a: Any, b: Any) -> Any:
        return None if a is None else np.concatenate([a, b])

    return _Data(cat(carry.X, data.X), cat(carry.Y, data.Y), cat(carry.labels, data.labels),
                 cat(carry.weights, data.weights))


def fit(net: Network, chunks: Any, epochs: int, batch_size: int, verbose: int, callbacks: List[Callback],
        val: Optional[_Data], validation_split: float, sample_weight: Any, class_weight: Any, world: Any) -> History:
    """training.fit on a stream of (X, y) pieces, its arguments checked."""
    for name, given in (("validation_split", validation_split > 0), ("sample_weight", sample_weight is not None),
                        ("class_weight", class_weight is not None)):
        if given:
            raise ValueError("%s does not apply to a stream of pieces: give weights as (X, y, sample_weight) "
                             "pieces and validation rows as validation_data" % name)
    if world is not None and world.size > 1:
        raise ValueError("a stream of pieces cannot be trained data-parallel yet: give each rank its rows as arrays "
                         "(a memory map works without reading them into memory)")
    history = History()
    history.params = {"epochs": epochs, "batch_size": batch_size, "verbose": verbose, "stream": True}
    with _fitting(net, history), _INTERRUPTS:
        run_epochs(net, history, chunks, val, epochs, batch_size, verbose, callbacks)
    return history


def run_epochs(net: Network, history: History, chunks: Chunks, val: Optional[_Data], epochs: int, batch_size: int,
               verbose: int, callbacks: List[Callback]) -> None:
    """fit's loop over epochs for a stream; records into ``history``."""
    per_batch = _begin_training(net, callbacks)
    snapshot, pace = _Snapshot(every_chunk=per_batch), _Pace()
    logs: Any = {}
    for epoch in range(epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, {})
        start = time.perf_counter()
        total = correct = seen = 0.0
        batch = 0
        carry: Optional[_Data] = None
        for i, piece in enumerate(_pieces(chunks, epoch)):
            if not isinstance(piece, (tuple, list)) or len(piece) not in (2, 3):
                raise ValueError("each piece of the stream must be (X, y) or (X, y, sample_weight); piece %d is %r"
                                 % (i, type(piece).__name__))
            data = _joined(carry, _checked_data(net, piece[0], piece[1], piece[2] if len(piece) == 3 else None))
            n = data.X.shape[0]
            full = n // batch_size * batch_size
            t, c, w, batch = _train(net, snapshot, pace, data, full, batch_size, epoch, epochs, batch, per_batch,
                                    callbacks)
            total, correct, seen = total + t, correct + c, seen + w
            carry = None if full == n else _Data(*data.rows(full, n))
        if carry is not None:
            t, c, w, batch = _train(net, snapshot, pace, carry, carry.X.shape[0], batch_size, epoch, epochs, batch,
                                    per_batch, callbacks)
            total, correct, seen = total + t, correct + c, seen + w
        if batch == 0:
            raise ValueError("the stream gave no rows in epoch %d" % (epoch + 1))
        logs = losses.metrics(net.loss, total / seen, correct, seen, net.n_outputs)
        if val is not None:
            logs.update({"val_" + k: v for k, v in _scores(net, val).items()})
        if _end_epoch(net, history, callbacks, epoch, epochs, logs, start, None, verbose, " - %d batches" % batch):
            break
    for cb in callbacks:
        cb.on_train_end(dict(logs))


def _train(net: Network, snapshot: _Snapshot, pace: _Pace, data: _Data, n: int, batch_size: int, epoch: int,
           epochs: int, batch: int, per_batch: bool, callbacks: List[Callback]) -> Tuple[float, float, float, int]:
    """Rows [0, n) of one piece, in whole batches (the last may be short only
    at the end of the stream); returns (loss sum, correct, weight, batches
    of the epoch so far)."""
    total = correct = seen = 0.0
    first = batch  # the epoch's batches before this piece
    lo = 0
    try:
        while lo < n:
            hi = min(lo + (batch_size if per_batch else pace.rows(batch_size)), n)
            for cb in callbacks:
                cb.on_batch_begin(batch, {})
            loss, right = _train_chunk(net, snapshot, pace, data, lo, hi, batch_size, epoch, epochs, 0)
            weight = data.weight_of(lo, hi)
            total, correct, seen = total + loss, correct + right, seen + weight
            for cb in callbacks:
                cb.on_batch_end(batch, {"loss": loss / weight if weight else 0.0, "size": hi - lo})
            batch += -(-(hi - lo) // batch_size)
            lo = hi
        _check_finished(net, snapshot, data, n, batch_size, epoch, epochs, 0)  # before the piece is let go
    except DivergenceError as exc:
        where = first + (exc.batch or 0)  # exc.batch counts from the piece's first row
        raise DivergenceError(
            "training diverged at epoch %d/%d, batch %d of the stream: the loss, a gradient or the updated "
            "weights became NaN or infinite; the network keeps the weights from before that batch (try a "
            "smaller learning rate)" % (epoch + 1, epochs, where + 1),
            batches_done=exc.batches_done, epoch=epoch, batch=where) from None
    return total, correct, seen, batch
