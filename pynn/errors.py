"""Exceptions of pynn beyond the built-in ValueError and TypeError."""
from __future__ import annotations

from typing import Optional

DIVERGED_MESSAGE = ("training diverged: the loss or a gradient is NaN or infinite (no update was made; "
                    "try a smaller learning rate)")


class DivergenceError(ArithmeticError):
    """Training produced a NaN or infinite loss or gradient.

    The step that found it made no update, so the network keeps the weights
    of the last finite step.  ``batches_done`` is how many batches of the
    failing call were applied before it (0 for train_step).

    From ``fit`` (which also catches an update that overflowed the weights
    to infinity, and rolls back to the weights before it), ``epoch`` and
    ``batch`` are the 0-based indices of the failing batch and
    ``batches_done`` counts the batches of the whole fit call applied before
    it; they are None for the other calls.

    A learning rate far too large makes the weights overflow:

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.SGD(lr=1e300), dtype="float64")
    >>> net.set_weights([[[1.0]], [0.0]])
    >>> try:
    ...     net.fit([[1.0], [2.0]], [0.0, 0.0], epochs=10, batch_size=1, shuffle=False, verbose=0)
    ... except pynn.DivergenceError as exc:
    ...     print("epoch %d, batch %d, %d batches applied" % (exc.epoch, exc.batch, exc.batches_done))
    epoch 0, batch 1, 1 batches applied
    >>> net.get_weights()[0]                       # the weights after the last good batch
    array([[-2.e+300]])
    """

    def __init__(self, message: str, batches_done: int = 0, epoch: Optional[int] = None,
                 batch: Optional[int] = None) -> None:
        super().__init__(message)
        self.batches_done = batches_done
        self.epoch = epoch
        self.batch = batch
