"""Exceptions of pynn beyond the built-in ValueError and TypeError."""

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
    """

    def __init__(self, message, batches_done=0, epoch=None, batch=None):
        super().__init__(message)
        self.batches_done = batches_done
        self.epoch = epoch
        self.batch = batch
