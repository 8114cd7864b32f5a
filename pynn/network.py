"""The Network: layers, a loss, an optimizer, and one buffer of parameters.

All weights and biases of a network live in one flat array (layer by layer:
W1, b1, W2, b2, ...); each layer's ``W`` and ``b`` are views into it.  Its
gradients and the optimizer's state are flat arrays of the same layout, so an
optimizer update is one loop over one buffer.  Both backends work on these
same buffers; :func:`pynn.set_backend` can switch between them at any time.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np

from . import activations, backends, losses, optimizers
from . import init as init_module
from ._typing import ArrayLike, DTypeLike, FloatArray, IntArray, PathLike
from ._validation import as_array, as_dtype, as_matrix
from .layers import Dense, Dropout, dense_positions

if TYPE_CHECKING:
    from .explain import Explanation
    from .training import Callback, History

# Rows per call of predict/evaluate: bounds the workspace on big inputs.
_CHUNK_ELEMENTS = 1 << 22
# Seconds of training per call into the backend during fit (see _chunk_rows).
_CHUNK_SECONDS = 0.05

Layer = Union[Dense, Dropout]


class Network:
    """A feed-forward network of Dense layers (and Dropout between them).

    Parameters
    ----------
    layers : list of Dense and Dropout
        Consecutive Dense layers must fit: each one's ``n_in`` is the
        previous one's ``n_out``.  A :class:`pynn.Dropout` may stand before
        any Dense layer (not last, not two in a row); it acts in training only.
    loss : str
        "mse", "mae", "huber", "binary_cross_entropy" (sigmoid last layer) or
        "cross_entropy" (softmax last layer).  See :mod:`pynn.losses`.
    optimizer : Optimizer or str, optional
        An optimizer instance or its name; default ``SGD(lr=0.01)``.
    dtype : "float32" or "float64"
        Precision of parameters and computation.
    seed : int, optional
        Seeds the initial weights, the shuffling in :meth:`fit` and the
        dropout masks; the same seed gives the same network and the same
        training on every backend.

    Attributes: ``layers``, ``loss``, ``optimizer``, ``dtype`` (a numpy
    dtype), ``seed``, ``history`` (the :class:`pynn.History` of the last
    :meth:`fit`), ``n_inputs``, ``n_outputs``, ``n_params``.

    Example
    -------
    XOR, which needs a hidden layer:

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(2, 8, "tanh"), pynn.Dense(8, 1, "sigmoid")],
    ...                    loss="binary_cross_entropy", optimizer=pynn.Adam(lr=0.05), seed=0)
    >>> net.n_inputs, net.n_outputs, net.n_params
    (2, 1, 33)
    >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]; y = [0, 1, 1, 0]
    >>> history = net.fit(X, y, epochs=300, batch_size=4, verbose=0)
    >>> net.predict(X).round().ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    >>> print(net.summary())
    #    layer                        activation       params
    0    Dense(2 -> 8)                tanh                 24
    1    Dense(8 -> 1)                sigmoid               9
    total parameters: 33 (float32), loss: binary_cross_entropy, optimizer: Adam(lr=0.05, betas=[0.9, 0.999], eps=1e-08, weight_decay=0.0)
    """

    def __init__(self, layers: Union[Layer, Iterable[Layer]], loss: str = "mse",
                 optimizer: Union[optimizers.Optimizer, str, None] = None, dtype: DTypeLike = "float32",
                 seed: Optional[int] = None) -> None:
        self.layers = self._check_layers(layers)
        self._dense = [l for l in self.layers if isinstance(l, Dense)]
        # dropout rate on each Dense layer's input (0: none), as the C core takes it
        before = [self.layers[i - 1] if i else None for i in dense_positions(self.layers)]
        self._drop_rates = np.array([l.p if isinstance(l, Dropout) else 0.0 for l in before], dtype=np.float64)
        self._has_dropout = bool(self._drop_rates.any())
        losses.check_pairing(loss, self._dense[-1].activation)
        self.loss = loss
        self.dtype = as_dtype(dtype)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.optimizer = optimizers.get(optimizer)
        if getattr(self.optimizer, "_network", None) is not None:
            raise ValueError("optimizer is already used by another Network; give each network its own")
        self.optimizer._network = self
        self.stop_training = False
        self.history: Optional[History] = None

        self._sizes = np.array([self._dense[0].n_in] + [l.n_out for l in self._dense], dtype=np.int64)
        self._act_codes = np.array([activations.CODES[l.activation] for l in self._dense], dtype=np.int32)
        self._loss_code = losses.CODES[loss]
        n_params = sum(l.n_in * l.n_out + l.n_out for l in self._dense)
        self._params = np.zeros(n_params, dtype=self.dtype)
        self._grads = np.zeros(n_params, dtype=self.dtype)
        self._state = np.zeros(self.optimizer.slots() * n_params, dtype=self.dtype)
        self._param_views = self._views(self._params)
        self._grad_views = self._views(self._grads)
        self._c: Any = None  # the C backend's struct for this network, made on first use
        self._seconds_per_row: Optional[float] = None  # training speed measured by _train_rows
        self._n_in, self._n_out = self._dense[0].n_in, self._dense[-1].n_out  # for the per-step path
        # workspace per row: Z and A of each layer, backward scratch, dropped-out inputs and their masks
        widths = (2 * int(self._sizes[1:].sum()) + 2 * int(self._sizes[1:].max())
                  + 2 * int(self._sizes[:-1][self._drop_rates > 0].sum()))
        self._rows_per_call = max(1, _CHUNK_ELEMENTS // widths)  # predict/evaluate
        for layer, (W, b) in zip(self._dense, self._param_views):
            W[...] = init_module.run(layer.init, W.shape, self._rng, "init")
            b[...] = init_module.run(layer.bias_init, b.shape, self._rng, "bias_init")
            layer._attach(self, W, b)
        # with the update count, picks the dropout masks (pynn.dropout); drawn
        # only when needed, so networks without dropout shuffle as before
        self._dropout_seed = int(self._rng.integers(0, 2 ** 63)) if self._has_dropout else 0

    @staticmethod
    def _check_layers(layers: Union[Layer, Iterable[Layer]]) -> List[Layer]:
        if isinstance(layers, (Dense, Dropout)):
            layers = [layers]
        try:
            layers = list(layers)
        except TypeError:
            raise TypeError("layers must be a list of Dense (and Dropout) layers; got %r" % (layers,)) from None
        if not any(isinstance(layer, Dense) for layer in layers):
            raise ValueError("layers must hold at least one Dense layer")
        if isinstance(layers[-1], Dropout):
            raise ValueError("layers[%d] is a Dropout: the last layer must be Dense (dropout acts on "
                             "the input of the layer after it)" % (len(layers) - 1))
        previous: Optional[Tuple[int, Dense]] = None  # the last Dense layer seen, and its index
        for i, layer in enumerate(layers):
            if isinstance(layer, Dropout):
                if i and isinstance(layers[i - 1], Dropout):
                    raise ValueError("layers[%d] and layers[%d] are both Dropout; use one" % (i - 1, i))
                continue
            if not isinstance(layer, Dense):
                raise TypeError("layers[%d] must be a pynn.Dense or pynn.Dropout; got %r" % (i, layer))
            if layer._network is not None:
                raise ValueError("layers[%d] already belongs to another Network; make a new layer" % i)
            if layer.activation == "softmax" and i != len(layers) - 1:
                raise ValueError("activation 'softmax' is only allowed in the last layer (layers[%d] has it)" % i)
            if previous is not None and previous[1].n_out != layer.n_in:
                raise ValueError("layers[%d] has n_in=%d but layers[%d] has n_out=%d; they must match"
                                 % (i, layer.n_in, previous[0], previous[1].n_out))
            previous = (i, layer)
        dense = [layer for layer in layers if isinstance(layer, Dense)]
        if len(set(map(id, dense))) != len(dense):
            raise ValueError("the same Dense layer appears twice in layers")
        return layers

    def _views(self, flat: FloatArray) -> List[Tuple[FloatArray, FloatArray]]:
        views, start = [], 0
        for layer in self._dense:
            n_w = layer.n_in * layer.n_out
            W = flat[start:start + n_w].reshape(layer.n_in, layer.n_out)
            b = flat[start + n_w:start + n_w + layer.n_out]
            views.append((W, b))
            start += n_w + layer.n_out
        return views

    # ---- shapes and properties ------------------------------------------------

    @property
    def n_inputs(self) -> int:
        return self._dense[0].n_in

    @property
    def n_outputs(self) -> int:
        return self._dense[-1].n_out

    @property
    def n_params(self) -> int:
        """Number of trainable parameters (weights and biases)."""
        return self._params.size

    @property
    def is_classifier(self) -> bool:
        return self.loss in losses.CLASSIFIERS

    def __repr__(self) -> str:
        layers = ", ".join(map(repr, self.layers))
        return "Network([%s], loss=%r, optimizer=%r, dtype=%r)" % (layers, self.loss, self.optimizer, self.dtype.name)

    def summary(self) -> str:
        """A table of the layers and their parameter counts, as a string."""
        lines = ["%-4s %-28s %-12s %10s" % ("#", "layer", "activation", "params")]
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Dropout):
                lines.append("%-4d %-28s %-12s %10d" % (i, "Dropout(p=%g)" % layer.p, "", 0))
                continue
            lines.append("%-4d %-28s %-12s %10d" % (i, "Dense(%d -> %d)" % (layer.n_in, layer.n_out),
                                                     layer.activation, layer.n_in * layer.n_out + layer.n_out))
        lines.append("total parameters: %d (%s), loss: %s, optimizer: %r"
                     % (self.n_params, self.dtype.name, self.loss, self.optimizer))
        return "\n".join(lines)

    # ---- data -----------------------------------------------------------------

    def _inputs(self, X: ArrayLike) -> FloatArray:
        return as_matrix(X, "X", self._n_in, self.dtype)

    def _batch(self, X: ArrayLike, y: ArrayLike) -> Tuple[FloatArray, Optional[FloatArray], Optional[IntArray]]:
        """Checked, converted (X, Y, labels) for one batch."""
        X = self._inputs(X)
        Y, labels = losses.prepare_targets(self.loss, y, X.shape[0], self._n_out, self.dtype)
        return X, Y, labels

    def _chunks(self, n_rows: int) -> List[Tuple[int, int]]:
        step = self._rows_per_call
        return [(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]

    # ---- using the network ----------------------------------------------------

    def predict(self, X: ArrayLike) -> FloatArray:
        """Outputs for X (N, n_inputs) as an (N, n_outputs) array of the
        network's dtype: probabilities for softmax and sigmoid outputs.

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(2, 1)], dtype="float64")
        >>> net.set_weights([[[1.0], [2.0]], [0.5]])       # y = 1·x0 + 2·x1 + 0.5
        >>> net.predict([[1, 1], [0, 1], [3, 0]])
        array([[3.5],
               [2.5],
               [3.5]])
        >>> clf = pynn.Network([pynn.Dense(4, 3, "softmax")], loss="cross_entropy", seed=0)
        >>> P = clf.predict([[0.1, 0.2, 0.3, 0.4]])        # class probabilities
        >>> P.shape, P.dtype, round(float(P.sum()), 5)
        ((1, 3), dtype('float32'), 1.0)
        """
        X = self._inputs(X)
        impl = backends._implementation
        if X.shape[0] <= self._rows_per_call:
            return impl.predict(self, X)
        return np.concatenate([impl.predict(self, X[a:b]) for a, b in self._chunks(X.shape[0])])

    def evaluate(self, X: ArrayLike, y: ArrayLike) -> Dict[str, float]:
        """{"loss": mean loss} plus "accuracy" for classifiers (argmax for
        softmax outputs; p > 0.5 per output for sigmoid outputs).

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(2, 1)], loss="mse", dtype="float64")
        >>> net.set_weights([[[1.0], [2.0]], [0.5]])       # predicts 3.5 and 2.5 below
        >>> net.evaluate([[1, 1], [0, 1]], [4.0, 2.0])      # mean of 0.5² and 0.5²
        {'loss': 0.25}
        >>> clf = pynn.Network([pynn.Dense(2, 2, "softmax")], loss="cross_entropy", dtype="float64")
        >>> clf.set_weights([[[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]])   # class = the larger input
        >>> scores = clf.evaluate([[1, 0], [0, 1], [1, 0]], [0, 1, 1])
        >>> round(scores["loss"], 4), scores["accuracy"]
        (0.6466, 0.6666666666666666)
        """
        X, Y, labels = self._batch(X, y)
        impl = backends.implementation()
        total = correct = 0.0
        for a, b in self._chunks(X.shape[0]):
            loss, right = impl.evaluate(self, X[a:b], None if Y is None else Y[a:b],
                                        None if labels is None else labels[a:b])
            total += loss * (b - a)
            correct += right
        return self._metrics(total / X.shape[0], correct, X.shape[0])

    def _metrics(self, loss: float, correct: float, n_rows: int) -> Dict[str, float]:
        result = {"loss": float(loss)}
        if self.loss == "cross_entropy":
            result["accuracy"] = float(correct) / n_rows
        elif self.loss == "binary_cross_entropy":
            result["accuracy"] = float(correct) / (n_rows * self.n_outputs)
        return result

    def gradients(self, X: ArrayLike, y: ArrayLike) -> List[FloatArray]:
        """Gradients of the mean loss on (X, y) with respect to every parameter,
        as a list in the order and shapes of :meth:`get_weights`.  The weights
        do not change.  With Dropout layers it is the training gradient, with
        the dropout masks of the next :meth:`train_step` (the gradient that
        step would apply).

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(2, 1)], loss="mse", dtype="float64")
        >>> net.set_weights([[[1.0], [2.0]], [0.5]])
        >>> dW, db = net.gradients([[1.0, 3.0]], [[6.0]])  # out = 7.5, dE/dout = 2·(7.5 − 6)
        >>> dW.tolist(), db.tolist()                       # dE/dW = dE/dout · x, dE/db = dE/dout
        ([[3.0], [9.0]], [3.0])
        """
        X, Y, labels = self._batch(X, y)
        backends.implementation().gradients(self, X, Y, labels, self.optimizer.step + 1)
        return [g.copy() for pair in self._grad_views for g in pair]

    def train_step(self, X: ArrayLike, y: ArrayLike) -> float:
        """One optimizer update on the batch (X, y); returns the loss before it.

        Raises :class:`pynn.DivergenceError`, making no update, if the loss or
        a gradient is NaN or infinite.  An update that itself overflows the
        weights to infinity (finite gradients, a huge learning rate) is
        caught by the next step, whose loss is then not finite; ``fit``
        checks the weights after its updates and rolls such a step back.

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.SGD(lr=0.1), dtype="float64")
        >>> net.set_weights([[[0.0]], [0.0]])
        >>> net.train_step([[1.0]], [[2.0]])           # the loss before the step: (0 − 2)²
        4.0
        >>> [w.tolist() for w in net.get_weights()]    # w − lr·dE/dw = 0 − 0.1·2·(0 − 2)
        [[[0.4]], [0.4]]
        """
        X, Y, labels = self._batch(X, y)
        n = X.shape[0]
        return backends._implementation.train_rows(self, X, Y, labels, n)[0] / n

    def _train_rows(self, X: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray], lo: int, hi: int,
                    batch_size: int) -> Tuple[float, float]:
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

    def _chunk_rows(self, batch_size: int, seconds: float = _CHUNK_SECONDS) -> int:
        """Rows for fit's next chunk: whole batches lasting about ``seconds``
        at the speed measured so far (one batch until something is measured),
        so progress, callbacks and Ctrl-C are never far away."""
        if self._seconds_per_row is None:
            return batch_size
        batches = int(seconds / max(self._seconds_per_row * batch_size, 1e-9))
        return batch_size * max(1, batches)

    def fit(self, X: ArrayLike, y: ArrayLike, epochs: int = 1, batch_size: int = 32, shuffle: bool = True,
            validation_data: Optional[Tuple[ArrayLike, ArrayLike]] = None, verbose: int = 1,
            callbacks: Union[Callback, Iterable[Callback], None] = None, validation_split: float = 0.0) -> History:
        """Train for ``epochs`` passes over (X, y) in mini-batches (reshuffled
        every epoch when ``shuffle``) and return a :class:`pynn.History` of
        the metrics of each epoch.

        ``validation_data=(X_val, y_val)``, or ``validation_split``: the last
        fraction of the rows, as given; ``verbose``: 0 silent, 1 a progress
        bar per epoch, 2 a line per epoch; ``callbacks``: see
        :mod:`pynn.callbacks`.  The details: :func:`pynn.training.fit`.

        >>> import pynn
        >>> X, y = pynn.datasets.spirals(n_per_class=50, seed=0)
        >>> net = pynn.Network([pynn.Dense(2, 16, "relu"), pynn.Dense(16, 3, "softmax")],
        ...                    loss="cross_entropy", optimizer="adam", seed=0)
        >>> history = net.fit(X, y, epochs=3, batch_size=16, validation_data=(X, y), verbose=0)
        >>> history.epoch, list(history.history)
        ([0, 1, 2], ['loss', 'accuracy', 'val_loss', 'val_accuracy'])
        """
        from .training import fit
        return fit(self, X, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                   validation_data=validation_data, verbose=verbose, callbacks=callbacks,
                   validation_split=validation_split)

    # ---- weights --------------------------------------------------------------

    def get_weights(self) -> List[FloatArray]:
        """Copies of the parameters: [W1, b1, W2, b2, ...], W of shape
        (n_in, n_out) and b of shape (n_out,) for each layer.

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(4, 3, "relu"), pynn.Dense(3, 2)], seed=0)
        >>> [w.shape for w in net.get_weights()]
        [(4, 3), (3,), (3, 2), (2,)]
        >>> net.get_weights()[1]                        # biases start at zero
        array([0., 0., 0.], dtype=float32)
        """
        return [p.copy() for pair in self._param_views for p in pair]

    def set_weights(self, weights: Iterable[ArrayLike]) -> None:
        """Set all parameters from a list like the one :meth:`get_weights`
        returns (nested lists or arrays of any real dtype); ValueError, with
        nothing changed, if a shape differs.

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(2, 1)], dtype="float64")
        >>> net.set_weights([[[0.5], [-1.0]], [2.0]])
        >>> net.layers[0].W.tolist(), net.layers[0].b.tolist()
        ([[0.5], [-1.0]], [2.0])
        >>> net.set_weights([[0.5, -1.0], [2.0]])
        Traceback (most recent call last):
            ...
        ValueError: weights[0] must have shape (2, 1); got (2,)
        """
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

    def save(self, path: PathLike) -> None:
        """Save to a safetensors file: the weights, the architecture, the loss,
        the dtype and the optimizer with its state; :func:`pynn.load` reads
        it back.  The file is replaced atomically.

        >>> import os, tempfile
        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(3, 2, "softmax")], loss="cross_entropy", seed=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
        >>> net.save(path)
        >>> same = pynn.load(path)
        >>> same
        Network([Dense(3, 2, activation='softmax')], loss='cross_entropy', optimizer=SGD(lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0), dtype='float32')
        >>> bool((same.predict([[1, 2, 3]]) == net.predict([[1, 2, 3]])).all())
        True
        """
        from .serialization import save
        save(self, path)

    def explain_step(self, X: ArrayLike, y: ArrayLike) -> Explanation:
        """Perform one training step, as :meth:`train_step`, and return it
        recomputed with the chain rule, neuron by neuron and weight by weight,
        as a :class:`pynn.explain.Explanation` (``print`` it for the table).
        See :mod:`pynn.explain`.

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(1, 1, "sigmoid")], loss="mse", optimizer=pynn.SGD(lr=1.0),
        ...                    dtype="float64")
        >>> net.set_weights([[[0.0]], [0.0]])
        >>> step = net.explain_step([[2.0]], [[1.0]])    # out = sigmoid(0) = 0.5
        >>> w = step.weight("W1[0,0]")                    # ∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w
        >>> w.dE_dout, w.dout_dnet, w.dnet_dw, w.grad, w.new
        (-1.0, 0.25, 2.0, -0.5, 0.5)
        >>> net.layers[0].W.tolist()                      # the step was made
        [[0.5]]
        """
        from .explain import explain_step
        return explain_step(self, X, y)

    def __getstate__(self) -> Dict[str, Any]:
        # pickling (copy.deepcopy, scikit-learn's clone): the C struct points
        # into this process's memory, and the layer views must be rebuilt
        state = self.__dict__.copy()
        state["_c"] = None
        state["_param_views"] = state["_grad_views"] = None
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_params", "_grads", "_state"):  # e.g. joblib.load(..., mmap_mode="r")
            buffer = getattr(self, name)
            if not buffer.flags.writeable or not buffer.flags.c_contiguous:
                setattr(self, name, np.array(buffer, order="C"))
        self._param_views = self._views(self._params)
        self._grad_views = self._views(self._grads)
        for layer, (W, b) in zip(self._dense, self._param_views):
            layer.W, layer.b = W, b

    def _copy(self, dtype: Optional[DTypeLike] = None) -> Network:
        """A new network with the same layers, loss, optimizer settings, weights
        and dropout masks."""
        layers: List[Layer] = [Dense(l.n_in, l.n_out, l.activation, init="zeros") if isinstance(l, Dense)
                               else Dropout(l.p) for l in self.layers]
        opt = optimizers.from_config(self.optimizer.name, self.optimizer.get_config())
        twin = Network(layers, loss=self.loss, optimizer=opt, dtype=dtype or self.dtype)
        twin.set_weights(self.get_weights())
        twin._dropout_seed = self._dropout_seed
        twin.optimizer.step = self.optimizer.step  # the masks of the next step are the same
        return twin
