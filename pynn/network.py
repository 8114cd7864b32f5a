"""The Network: layers, a loss, an optimizer, and one buffer of parameters.

All weights and biases of a network live in one flat array (layer by layer:
W1, b1, W2, b2, ...); each layer's ``W`` and ``b`` are views into it.  Its
gradients and the optimizer's state are flat arrays of the same layout, so an
optimizer update is one loop over one buffer.  Both backends work on these
same buffers; :func:`pynn.set_backend` can switch between them at any time.
"""
import time

import numpy as np

from . import activations, backends, losses, optimizers
from . import init as init_module
from ._validation import as_array, as_dtype, as_int, as_matrix
from .layers import Dense

# Rows per call of predict/evaluate: bounds the workspace on big inputs.
_CHUNK_ELEMENTS = 1 << 22
# Seconds of training per call into the backend during fit (see _chunk_rows).
_CHUNK_SECONDS = 0.05


class Network:
    """A feed-forward network of Dense layers.

    Parameters
    ----------
    layers : list of Dense
        Consecutive layers must fit: ``layers[i].n_out == layers[i + 1].n_in``.
    loss : str
        "mse", "mae", "huber", "binary_cross_entropy" (sigmoid last layer) or
        "cross_entropy" (softmax last layer).  See :mod:`pynn.losses`.
    optimizer : Optimizer or str, optional
        An optimizer instance or its name; default ``SGD(lr=0.01)``.
    dtype : "float32" or "float64"
        Precision of parameters and computation.
    seed : int, optional
        Seeds the initial weights and the shuffling in :meth:`fit`; the same
        seed gives the same network and the same training on every backend.

    Example
    -------
    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(2, 8, "tanh"), pynn.Dense(8, 1, "sigmoid")],
    ...                    loss="binary_cross_entropy", optimizer=pynn.Adam(lr=0.05), seed=0)
    >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]; y = [0, 1, 1, 0]
    >>> history = net.fit(X, y, epochs=300, batch_size=4, verbose=0)
    >>> net.predict(X).round().ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """

    def __init__(self, layers, loss="mse", optimizer=None, dtype="float32", seed=None):
        self.layers = self._check_layers(layers)
        losses.check_pairing(loss, self.layers[-1].activation)
        self.loss = loss
        self.dtype = as_dtype(dtype)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.optimizer = optimizers.get(optimizer)
        if getattr(self.optimizer, "_network", None) is not None:
            raise ValueError("optimizer is already used by another Network; give each network its own")
        self.optimizer._network = self
        self.stop_training = False
        self.history = None

        self._sizes = np.array([self.layers[0].n_in] + [l.n_out for l in self.layers], dtype=np.int64)
        self._act_codes = np.array([activations.CODES[l.activation] for l in self.layers], dtype=np.int32)
        self._loss_code = losses.CODES[loss]
        n_params = sum(l.n_in * l.n_out + l.n_out for l in self.layers)
        self._params = np.zeros(n_params, dtype=self.dtype)
        self._grads = np.zeros(n_params, dtype=self.dtype)
        self._state = np.zeros(self.optimizer.slots() * n_params, dtype=self.dtype)
        self._param_views = self._views(self._params)
        self._grad_views = self._views(self._grads)
        self._c = None  # the C backend's struct for this network, made on first use
        self._seconds_per_row = None  # training speed measured by _train_rows
        self._n_in, self._n_out = self.layers[0].n_in, self.layers[-1].n_out  # for the per-step path
        widths = 2 * int(self._sizes[1:].sum()) + 2 * int(self._sizes[1:].max())  # workspace per row
        self._rows_per_call = max(1, _CHUNK_ELEMENTS // widths)  # predict/evaluate
        for layer, (W, b) in zip(self.layers, self._param_views):
            W[...] = init_module.run(layer.init, W.shape, self._rng, "init")
            b[...] = init_module.run(layer.bias_init, b.shape, self._rng, "bias_init")
            layer._attach(self, W, b)

    @staticmethod
    def _check_layers(layers):
        if isinstance(layers, Dense):
            layers = [layers]
        try:
            layers = list(layers)
        except TypeError:
            raise TypeError("layers must be a list of Dense layers; got %r" % (layers,)) from None
        if not layers:
            raise ValueError("layers must hold at least one Dense layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise TypeError("layers[%d] must be a pynn.Dense; got %r" % (i, layer))
            if layer._network is not None:
                raise ValueError("layers[%d] already belongs to another Network; make a new layer" % i)
            if layer.activation == "softmax" and i != len(layers) - 1:
                raise ValueError("activation 'softmax' is only allowed in the last layer (layers[%d] has it)" % i)
            if i and layers[i - 1].n_out != layer.n_in:
                raise ValueError("layers[%d] has n_in=%d but layers[%d] has n_out=%d; they must match"
                                 % (i, layer.n_in, i - 1, layers[i - 1].n_out))
        if len(set(map(id, layers))) != len(layers):
            raise ValueError("the same Dense layer appears twice in layers")
        return layers

    def _views(self, flat):
        views, start = [], 0
        for layer in self.layers:
            n_w = layer.n_in * layer.n_out
            W = flat[start:start + n_w].reshape(layer.n_in, layer.n_out)
            b = flat[start + n_w:start + n_w + layer.n_out]
            views.append((W, b))
            start += n_w + layer.n_out
        return views

    # ---- shapes and properties ------------------------------------------------

    @property
    def n_inputs(self):
        return self.layers[0].n_in

    @property
    def n_outputs(self):
        return self.layers[-1].n_out

    @property
    def n_params(self):
        """Number of trainable parameters (weights and biases)."""
        return self._params.size

    @property
    def is_classifier(self):
        return self.loss in losses.CLASSIFIERS

    def __repr__(self):
        layers = ", ".join(map(repr, self.layers))
        return "Network([%s], loss=%r, optimizer=%r, dtype=%r)" % (layers, self.loss, self.optimizer, self.dtype.name)

    def summary(self):
        """A table of the layers and their parameter counts, as a string."""
        lines = ["%-4s %-28s %-12s %10s" % ("#", "layer", "activation", "params")]
        for i, layer in enumerate(self.layers):
            lines.append("%-4d %-28s %-12s %10d" % (i, "Dense(%d -> %d)" % (layer.n_in, layer.n_out),
                                                     layer.activation, layer.n_in * layer.n_out + layer.n_out))
        lines.append("total parameters: %d (%s), loss: %s, optimizer: %r"
                     % (self.n_params, self.dtype.name, self.loss, self.optimizer))
        return "\n".join(lines)

    # ---- data -----------------------------------------------------------------

    def _inputs(self, X):
        return as_matrix(X, "X", self._n_in, self.dtype)

    def _batch(self, X, y):
        """Checked, converted (X, Y, labels) for one batch."""
        X = self._inputs(X)
        Y, labels = losses.prepare_targets(self.loss, y, X.shape[0], self._n_out, self.dtype)
        return X, Y, labels

    def _chunks(self, n_rows):
        step = self._rows_per_call
        return [(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]

    # ---- using the network ----------------------------------------------------

    def predict(self, X):
        """Outputs for X (N, n_inputs) as an (N, n_outputs) array of the
        network's dtype: probabilities for softmax and sigmoid outputs."""
        X = self._inputs(X)
        impl = backends._implementation
        if X.shape[0] <= self._rows_per_call:
            return impl.predict(self, X)
        return np.concatenate([impl.predict(self, X[a:b]) for a, b in self._chunks(X.shape[0])])

    def evaluate(self, X, y):
        """{"loss": mean loss} plus "accuracy" for classifiers (argmax for
        softmax outputs; p > 0.5 per output for sigmoid outputs)."""
        X, Y, labels = self._batch(X, y)
        impl = backends.implementation()
        total = correct = 0.0
        for a, b in self._chunks(X.shape[0]):
            loss, right = impl.evaluate(self, X[a:b], None if Y is None else Y[a:b],
                                        None if labels is None else labels[a:b])
            total += loss * (b - a)
            correct += right
        return self._metrics(total / X.shape[0], correct, X.shape[0])

    def _metrics(self, loss, correct, n_rows):
        result = {"loss": float(loss)}
        if self.loss == "cross_entropy":
            result["accuracy"] = float(correct) / n_rows
        elif self.loss == "binary_cross_entropy":
            result["accuracy"] = float(correct) / (n_rows * self.n_outputs)
        return result

    def gradients(self, X, y):
        """Gradients of the mean loss on (X, y) with respect to every parameter,
        as a list in the order and shapes of :meth:`get_weights`."""
        X, Y, labels = self._batch(X, y)
        backends.implementation().gradients(self, X, Y, labels)
        return [g.copy() for pair in self._grad_views for g in pair]

    def train_step(self, X, y):
        """One optimizer update on the batch (X, y); returns the loss before it.

        Raises :class:`pynn.DivergenceError`, making no update, if the loss or
        a gradient is NaN or infinite.  An update that itself overflows the
        weights to infinity (finite gradients, a huge learning rate) is
        caught by the next step, whose loss is then not finite; ``fit``
        checks the weights after its updates and rolls such a step back."""
        X, Y, labels = self._batch(X, y)
        n = X.shape[0]
        return backends._implementation.train_rows(self, X, Y, labels, n)[0] / n

    def _train_batch(self, X, Y, labels):
        """train_step on converted arrays; returns (loss, number correct)."""
        total, correct = backends.implementation().train_rows(self, X, Y, labels, X.shape[0])
        return total / X.shape[0], correct

    def _train_rows(self, X, Y, labels, lo, hi, batch_size):
        """Train on rows [lo, hi) of converted arrays in consecutive batches of
        ``batch_size`` (the last may be smaller), in one call into the
        backend.  Returns (sum over batches of loss * batch rows, number
        correct); fit() calls this for chunks of batches between its progress
        reports and callbacks."""
        start = time.perf_counter()
        result = backends.implementation().train_rows(
            self, X[lo:hi], None if Y is None else Y[lo:hi], None if labels is None else labels[lo:hi], batch_size)
        self._seconds_per_row = (time.perf_counter() - start) / (hi - lo)
        return result

    def _chunk_rows(self, batch_size, seconds=_CHUNK_SECONDS):
        """Rows for fit's next chunk: whole batches lasting about ``seconds``
        at the speed measured so far (one batch until something is measured),
        so progress, callbacks and Ctrl-C are never far away."""
        if self._seconds_per_row is None:
            return batch_size
        batches = int(seconds / max(self._seconds_per_row * batch_size, 1e-9))
        return batch_size * max(1, batches)

    def fit(self, X, y, epochs=1, batch_size=32, shuffle=True, validation_data=None, verbose=1,
            callbacks=None, validation_split=0.0):
        """Train for ``epochs`` passes over (X, y) in mini-batches; returns a
        :class:`pynn.History`.  See :func:`pynn.training.fit`."""
        from .training import fit
        return fit(self, X, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                   validation_data=validation_data, verbose=verbose, callbacks=callbacks,
                   validation_split=validation_split)

    # ---- weights --------------------------------------------------------------

    def get_weights(self):
        """Copies of the parameters: [W1, b1, W2, b2, ...]."""
        return [p.copy() for pair in self._param_views for p in pair]

    def set_weights(self, weights):
        """Set all parameters from a list like the one get_weights returns."""
        weights = list(weights)
        targets = [p for pair in self._param_views for p in pair]
        if len(weights) != len(targets):
            raise ValueError("weights must be a list of %d arrays (W and b of each layer); got %d"
                             % (len(targets), len(weights)))
        converted = []
        for i, (w, target) in enumerate(zip(weights, targets)):
            arr = as_array(w, "weights[%d]" % i)
            if arr.shape != target.shape:
                raise ValueError("weights[%d] must have shape %s; got %s" % (i, target.shape, arr.shape))
            if not np.isfinite(arr).all():
                raise ValueError("weights[%d] contains NaN or infinity" % i)
            converted.append(arr)
        for arr, target in zip(converted, targets):  # all checked first: nothing half-set
            target[...] = arr

    def save(self, path):
        """Save to a safetensors file (weights, architecture, optimizer); see :func:`pynn.load`."""
        from .serialization import save
        save(self, path)

    def explain_step(self, X, y):
        """One training step shown so it can be checked by hand: see :mod:`pynn.explain`."""
        from .explain import explain_step
        return explain_step(self, X, y)

    def __getstate__(self):
        # pickling (copy.deepcopy, scikit-learn's clone): the C struct points
        # into this process's memory, and the layer views must be rebuilt
        state = self.__dict__.copy()
        state["_c"] = None
        state["_param_views"] = state["_grad_views"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_params", "_grads", "_state"):  # e.g. joblib.load(..., mmap_mode="r")
            buffer = getattr(self, name)
            if not buffer.flags.writeable or not buffer.flags.c_contiguous:
                setattr(self, name, np.array(buffer, order="C"))
        self._param_views = self._views(self._params)
        self._grad_views = self._views(self._grads)
        for layer, (W, b) in zip(self.layers, self._param_views):
            layer.W, layer.b = W, b

    def _copy(self, dtype=None):
        """A new network with the same layers, loss, optimizer settings and weights."""
        layers = [Dense(l.n_in, l.n_out, l.activation, init="zeros") for l in self.layers]
        opt = optimizers.from_config(self.optimizer.name, self.optimizer.get_config())
        twin = Network(layers, loss=self.loss, optimizer=opt, dtype=dtype or self.dtype)
        twin.set_weights(self.get_weights())
        return twin
