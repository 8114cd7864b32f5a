"""The training loop: epochs of shuffled mini-batches, with history, progress
output and callbacks."""
import sys
import time


from ._validation import as_int


class History:
    """What fit() recorded: ``history[metric]`` is a list with one value per
    epoch ("loss", "accuracy" for classifiers, and "val_"-prefixed ones when
    validation data is given); ``epoch`` lists the epoch indices."""

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.params = {}

    def _record(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return "History(epochs=%d, metrics=%s)" % (len(self.epoch), list(self.history))


class Callback:
    """Base class for objects fit() calls back during training.

    Override any of the methods; ``self.model`` is the network being trained.
    Set ``self.model.stop_training = True`` to stop after the current epoch.
    ``logs`` is a dict of the latest metrics ("loss", "accuracy", "val_loss", ...).
    """

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


def _format(logs):
    return " - ".join("%s: %.4f" % kv for kv in logs.items())


def _check_callbacks(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    callbacks = list(callbacks)
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError("callbacks[%d] must be a pynn.Callback; got %r" % (i, cb))
    return callbacks


def fit(net, X, y, epochs=1, batch_size=32, shuffle=True, validation_data=None, verbose=1, callbacks=None):
    """Train ``net`` on (X, y) and return a History.

    Each epoch visits every sample once, in mini-batches of ``batch_size``
    (the last may be smaller), reshuffled each epoch with the network's seeded
    generator when ``shuffle``.  The epoch's "loss" is the mean of the batch
    losses (each taken before its update), weighted by batch size, as Keras
    reports it; ``validation_data=(X_val, y_val)`` is evaluated after each
    epoch.  ``verbose``: 0 silent, 1 a progress line per epoch (updated in
    place during long epochs on a terminal), 2 one line per epoch.

    Interrupting (Ctrl-C) leaves the network with the weights of the last
    completed step and ``net.history`` holding the finished epochs.
    """
    epochs = as_int(epochs, "epochs", minimum=0)
    batch_size = as_int(batch_size, "batch_size")
    if verbose not in (0, 1, 2):
        raise ValueError("verbose must be 0, 1 or 2; got %r" % (verbose,))
    callbacks = _check_callbacks(callbacks)
    X, Y, labels = net._batch(X, y)
    val = None
    if validation_data is not None:
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError("validation_data must be a pair (X_val, y_val)") from None
        val = net._batch(X_val, y_val)

    n = X.shape[0]
    history = History()
    history.params = {"epochs": epochs, "batch_size": batch_size, "samples": n}
    net.history = history
    net.stop_training = False
    for cb in callbacks:
        cb.set_model(net)
        cb.on_train_begin({})
    live = verbose == 1 and sys.stdout.isatty()
    logs = {}
    for epoch in range(epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, {})
        start = time.perf_counter()
        Xe, Ye, Le = X, Y, labels
        if shuffle:
            order = net._rng.permutation(n)
            Xe = X[order]
            Ye = None if Y is None else Y[order]
            Le = None if labels is None else labels[order]
        total = correct = 0.0
        last_print = start
        # batches run in chunks between progress reports; one batch per chunk
        # when a callback wants to hear about each batch
        per_batch = any(type(cb).on_batch_begin is not Callback.on_batch_begin
                        or type(cb).on_batch_end is not Callback.on_batch_end for cb in callbacks)
        chunk_rows = batch_size if per_batch else batch_size * max(1, 4096 // batch_size)
        for batch, lo in enumerate(range(0, n, chunk_rows)):
            hi = min(lo + chunk_rows, n)
            for cb in callbacks:
                cb.on_batch_begin(batch, {})
            chunk_loss, right = net._train_rows(Xe, Ye, Le, lo, hi, batch_size)
            total += chunk_loss
            correct += right
            for cb in callbacks:
                cb.on_batch_end(batch, {"loss": chunk_loss / (hi - lo), "size": hi - lo})
            if live and time.perf_counter() - last_print > 0.5:
                last_print = time.perf_counter()
                sys.stdout.write("\rEpoch %d/%d  %d/%d  loss: %.4f" % (epoch + 1, epochs, hi, n, total / hi))
                sys.stdout.flush()
        logs = net._metrics(total / n, correct, n)
        if val is not None:
            vX, vY, vlabels = val
            scores = net.evaluate(vX, vlabels if vY is None else vY)
            logs.update({"val_" + k: v for k, v in scores.items()})
        history._record(epoch, logs)
        if verbose:
            line = "Epoch %d/%d - %.2fs - %s" % (epoch + 1, epochs, time.perf_counter() - start, _format(logs))
            sys.stdout.write(("\r" if live else "") + line + "\n")
            sys.stdout.flush()
        for cb in callbacks:
            cb.on_epoch_end(epoch, dict(logs))
        if net.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end(dict(logs))
    return history
