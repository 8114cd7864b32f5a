"""The Network: layers, a loss, an optimizer, and one buffer of parameters.

All weights and biases of a network live in one flat array (layer by layer:
W1, b1, W2, b2, ...); each layer's ``W`` and ``b`` are views into it.  Its
gradients and the optimizer's state are flat arrays of the same layout, so an
optimizer update is one loop over one buffer.  Both backends work on these
same buffers; :func:`pynn.set_backend` can switch between them at any time.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import backends, losses, optimizers
from . import init as init_module
from ._locks import SharedLock
from ._plan import Plan
from ._typing import ArrayLike, DTypeLike, FloatArray, PathLike
from ._validation import as_array, as_dtype
from .layers import Dense, Dropout, Layer, dense_positions, fresh_copy

if TYPE_CHECKING:
    from .distributed.world import World
    from .explain import Explanation
    from .training import Callback, History


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

    Attributes: ``layers`` (a tuple), ``loss``, ``optimizer``, ``dtype`` (a
    numpy dtype), ``seed``, ``history`` (the :class:`pynn.History` of the
    last :meth:`fit`), ``n_inputs``, ``n_outputs``, ``n_params``.

    What may change after the network is built, each taking effect on the
    next call on either backend and in :meth:`save`: ``loss`` (if it fits
    the last activation), ``optimizer`` (a new one starts with fresh state),
    the optimizer's hyperparameters, a Dense layer's ``activation``, ``W``
    and ``b``, and a Dropout's ``p``.  ``dtype``, ``seed``, the list of
    layers and their sizes are fixed: assigning them raises.  A bad value
    raises ValueError and changes nothing.

    Threads: one network may be used from several threads at once.
    ``predict`` and ``evaluate`` run in parallel; training calls and changes
    run one at a time, never during a prediction, so every prediction sees
    the weights of one completed step.

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
    >>> net.summary()
    #    layer                        activation       params
    0    Dense(2 -> 8)                tanh                 24
    1    Dense(8 -> 1)                sigmoid               9
    total parameters: 33 (float32), loss: binary_cross_entropy, optimizer: Adam(lr=0.05, betas=[0.9, 0.999], eps=1e-08, weight_decay=0.0)
    """

    def __init__(self, layers: Union[Layer, Iterable[Layer]], loss: str = "mse",
                 optimizer: Union[optimizers.Optimizer, str, None] = None, dtype: DTypeLike = "float32",
                 seed: Optional[int] = None) -> None:
        # everything is checked and computed before any layer or the
        # optimizer is marked as used: a failed Network() leaves them reusable
        layer_list = check_architecture(layers, loss)
        dense = [l for l in layer_list if isinstance(l, Dense)]
        activations_ = [l.activation for l in dense]
        dt = as_dtype(dtype)
        opt = optimizers.get(optimizer)
        if opt._network is not None:
            raise ValueError("optimizer is already used by another Network; give each network its own")
        rng = np.random.default_rng(seed)
        sizes = [dense[0].n_in] + [l.n_out for l in dense]
        plan = Plan.new(sizes, activations_, loss, dt, _drop_rates(layer_list), rng, opt.slot_names())
        for layer, (W, b) in zip(dense, plan.param_views):
            W[...] = init_module.run(layer.init, W.shape, rng, "init", dt)
            b[...] = init_module.run(layer.bias_init, b.shape, rng, "bias_init", dt)
        if plan.has_dropout:  # drawn only when needed, so networks without dropout shuffle as before
            plan = plan.replace(dropout_seed=int(rng.integers(0, 2 ** 63)))

        self._layers: Tuple[Layer, ...] = tuple(layer_list)
        self._dtype = dt
        self._seed = seed
        self._plan = plan
        self._optimizer = opt
        self._opt_version = opt._version  # the optimizer settings the plan's state layout follows
        self._lock = SharedLock()
        self.stop_training = False
        self.history: Optional[History] = None
        self._world: Optional[World] = None  # the data-parallel world of the last fit / train_step
        self._changes = 0  # changes made through _changing()
        opt._network = self
        for i, member in zip(_dense_index_of(layer_list), layer_list):
            member._attach(self, i)

    # ---- what may and may not change ------------------------------------------

    @property
    def layers(self) -> Tuple[Layer, ...]:
        """The layers, Dense and Dropout, as given (a tuple: the list is fixed)."""
        return self._layers

    @property
    def dtype(self) -> np.dtype[Any]:
        """float32 or float64, fixed when the network is built (copy it into a
        new network to change it)."""
        return self._dtype

    @property
    def seed(self) -> Optional[int]:
        """The seed the network was built with."""
        return self._seed

    @property
    def loss(self) -> str:
        """The loss name; may be changed to any loss that fits the last layer."""
        return self._plan.loss

    @loss.setter
    def loss(self, name: str) -> None:
        with self._changing():
            _check_activations(self._layers, self._plan.activations, name)
            self._plan = self._plan.replace(loss=name)

    @property
    def optimizer(self) -> optimizers.Optimizer:
        """The optimizer.  Assigning another (an instance not used by another
        network, or a name) continues training with it, from fresh state."""
        return self._optimizer

    @optimizer.setter
    def optimizer(self, value: Union[optimizers.Optimizer, str]) -> None:
        opt = optimizers.get(value)
        if opt is self._optimizer:
            return
        if opt._network is not None:
            raise ValueError("optimizer is already used by another Network; give each network its own")
        with self._changing():
            plan = self._plan
            self._plan = plan.replace(state=np.zeros(plan.n_params * opt.slots(), dtype=plan.dtype),
                                      state_slots=opt.slot_names())
            self._optimizer._network = None
            self._optimizer, self._opt_version = opt, opt._version
            opt._network = self

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the network alone while a change is made (no call runs on it);
        counts the changes (fit's rollback snapshots are valid only until one)."""
        self._lock.acquire_exclusive()
        try:
            self._changes += 1
            yield
        finally:
            self._lock.release_exclusive()

    def _update_layer(self, layer: Layer, **change: Any) -> None:
        """A layer's activation or dropout rate changes (called by the layer):
        check it against the network, then make it take effect."""
        with self._changing():
            plan = self._plan
            i = layer._index
            if isinstance(layer, Dense):
                acts = list(plan.activations)
                acts[i] = change["activation"]
                _check_activations(self._layers, acts, plan.loss)
                new = plan.replace(activations_=acts)
            else:
                rates = plan.drop_rates.copy()
                rates[i] = change["p"]
                seed = plan.dropout_seed
                if rates.any() and not plan.has_dropout and seed == 0:
                    seed = int(plan.rng.integers(0, 2 ** 63))  # as the constructor draws it
                new = plan.replace(drop_rates=rates, dropout_seed=seed)
            layer._set(**change)
            self._plan = new

    def _layer_views(self, index: int) -> Tuple[FloatArray, FloatArray]:
        return self._plan.param_views[index]

    def _set_layer_param(self, layer: Dense, which: int, value: ArrayLike) -> None:
        """layer.W = value or layer.b = value: a checked copy into the buffer."""
        name = "layers[%d].%s" % (self._layers.index(layer), "Wb"[which])
        target = self._plan.param_views[layer._index][which]
        arr = _checked_weights(value, name, target.shape, self._dtype)
        with self._changing():
            target[...] = arr

    def _sync_optimizer(self) -> Plan:
        """The plan, its optimizer state re-laid if the optimizer's settings
        changed the buffers it keeps (call with the lock held)."""
        opt = self._optimizer
        if opt._version != self._opt_version:
            slots = opt.slot_names()
            if slots != self._plan.state_slots:
                self._plan = self._plan.with_state_slots(slots)
            self._opt_version = opt._version
        return self._plan

    @contextmanager
    def _training(self) -> Iterator[Plan]:
        """Hold the network alone to train it; gives the plan to train on.
        (fit takes it for each chunk of batches, so predictions from other
        threads can run between chunks.)"""
        self._lock.acquire_exclusive()
        try:
            yield self._sync_optimizer()
        finally:
            self._lock.release_exclusive()

    # ---- shapes and properties ------------------------------------------------

    @property
    def n_inputs(self) -> int:
        return self._plan.n_in

    @property
    def n_outputs(self) -> int:
        return self._plan.n_out

    @property
    def n_params(self) -> int:
        """Number of trainable parameters (weights and biases)."""
        return self._plan.n_params

    @property
    def is_classifier(self) -> bool:
        return self._plan.loss in losses.CLASSIFIERS

    def __repr__(self) -> str:
        layers = ", ".join(map(repr, self._layers))
        return "Network([%s], loss=%r, optimizer=%r, dtype=%r)" % (layers, self.loss, self.optimizer, self.dtype.name)

    def summary(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print a table of the layers and their parameter counts (as Keras
        does); ``str(net)`` is the same table as a string."""
        print_fn(str(self))

    def __str__(self) -> str:
        lines = ["%-4s %-28s %-12s %10s" % ("#", "layer", "activation", "params")]
        for i, layer in enumerate(self._layers):
            if isinstance(layer, Dropout):
                lines.append("%-4d %-28s %-12s %10d" % (i, "Dropout(p=%g)" % layer.p, "", 0))
                continue
            lines.append("%-4d %-28s %-12s %10d" % (i, "Dense(%d -> %d)" % (layer.n_in, layer.n_out),
                                                     layer.activation, layer.n_params))
        lines.append("total parameters: %d (%s), loss: %s, optimizer: %r"
                     % (self.n_params, self.dtype.name, self.loss, self.optimizer))
        return "\n".join(lines)

    # ---- using the network ----------------------------------------------------

    def predict(self, X: ArrayLike, logits: bool = False) -> FloatArray:
        """Outputs for X (N, n_inputs) as an (N, n_outputs) array of the
        network's dtype: probabilities for softmax and sigmoid outputs.  With
        ``logits=True``, the last layer's values before its activation
        (the same for a linear output).

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
        plan = self._plan
        X = plan.inputs(X)
        impl = backends.implementation()
        lock = self._lock
        lock.acquire_shared()
        try:
            plan = self._plan  # a change may have replaced it before we got the lock
            if X.shape[0] <= plan.rows_per_call:
                return impl.predict(plan, X, logits)
            return np.concatenate([impl.predict(plan, X[a:b], logits) for a, b in plan.chunks(X.shape[0])])
        finally:
            lock.release_shared()

    def evaluate(self, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> Dict[str, float]:
        """{"loss": mean loss} plus "accuracy" for classifiers (argmax for
        softmax outputs; p > 0.5 per output for sigmoid outputs), or "mae"
        and "r2" (as scikit-learn's r2_score) for the regression losses.  With
        ``sample_weight`` (one weight >= 0 per row) both are weighted means:
        sum(w_i l_i) / sum(w_i), so an integer weight k counts a row k times.

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(2, 1)], loss="mse", dtype="float64")
        >>> net.set_weights([[[1.0], [2.0]], [0.5]])       # predicts 3.5 and 2.5 below
        >>> net.evaluate([[1, 1], [0, 1]], [4.0, 2.0])      # mean of 0.5², 0.5²; R² = 1 - 0.5 / 2
        {'loss': 0.25, 'mae': 0.5, 'r2': 0.75}
        >>> clf = pynn.Network([pynn.Dense(2, 2, "softmax")], loss="cross_entropy", dtype="float64")
        >>> clf.set_weights([[[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]])   # class = the larger input
        >>> scores = clf.evaluate([[1, 0], [0, 1], [1, 0]], [0, 1, 1])
        >>> round(scores["loss"], 4), scores["accuracy"]
        (0.6466, 0.6666666666666666)
        """
        X, Y, labels = self._plan.batch(X, y)
        weights = losses.prepare_weights(sample_weight, X.shape[0], self._dtype)
        impl = backends.implementation()
        total = correct = weight = 0.0
        outputs = []  # regression: the predictions, for mae and r2
        self._lock.acquire_shared()
        try:  # one lock for the loss and the predictions: both of the same weights
            plan = self._plan
            regression = plan.loss not in losses.CLASSIFIERS
            for a, b in plan.chunks(X.shape[0]):
                w = None if weights is None else weights[a:b]
                loss, right = impl.evaluate(plan, X[a:b], None if Y is None else Y[a:b],
                                            None if labels is None else labels[a:b], w)
                rows = b - a if w is None else float(w.sum(dtype=np.float64))
                total += loss * rows
                correct += right
                weight += rows
                if regression:
                    outputs.append(impl.predict(plan, X[a:b]))
        finally:
            self._lock.release_shared()
        scores = losses.metrics(plan.loss, total / weight, correct, weight, plan.n_out)
        if regression:
            assert Y is not None  # regression targets are never class labels
            scores.update(losses.regression_metrics(np.concatenate(outputs), Y, weights))
        return scores

    def gradients(self, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> List[FloatArray]:
        """Gradients of the mean loss on (X, y) (weighted by ``sample_weight``,
        see :meth:`evaluate`) with respect to every parameter, as a list in
        the order and shapes of :meth:`get_weights`.  The weights do not
        change.  With Dropout layers it is the training gradient, with the
        dropout masks of the next :meth:`train_step` (the gradient that step
        would apply).

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(2, 1)], loss="mse", dtype="float64")
        >>> net.set_weights([[[1.0], [2.0]], [0.5]])
        >>> dW, db = net.gradients([[1.0, 3.0]], [[6.0]])  # out = 7.5, dE/dout = 2·(7.5 − 6)
        >>> dW.tolist(), db.tolist()                       # dE/dW = dE/dout · x, dE/db = dE/dout
        ([[3.0], [9.0]], [3.0])
        """
        X, Y, labels = self._plan.batch(X, y)
        weights = losses.prepare_weights(sample_weight, X.shape[0], self._dtype)
        with self._training() as plan:
            backends.implementation().gradients(plan, X, Y, labels, weights, self._optimizer.step + 1)
            return [g.copy() for pair in plan.grad_views for g in pair]

    def apply_gradients(self, grads: Iterable[ArrayLike]) -> None:
        """One optimizer update from ``grads``, a list like :meth:`gradients`
        returns (same shapes; any real dtype), as :meth:`train_step` would make
        it with those gradients: the step count advances and the optimizer's
        state moves.  ValueError, nothing changed, on a shape mismatch or a
        NaN/infinite gradient.  With :meth:`gradients` it splits a step in
        two, e.g. to average gradients over processes first.

        >>> import pynn
        >>> net = pynn.Network([pynn.Dense(1, 1)], loss="mse", optimizer=pynn.SGD(lr=0.1), dtype="float64")
        >>> net.set_weights([[[1.0]], [0.0]])
        >>> net.apply_gradients([[[2.0]], [-1.0]])      # w - lr·g: 1 - 0.1·2 and 0 + 0.1·1
        >>> [w.tolist() for w in net.get_weights()], net.optimizer.step
        ([[[0.8]], [0.1]], 1)
        """
        if self._optimizer.needs_closure:
            raise TypeError("%s evaluates the loss itself; train it with train_step or fit, not apply_gradients"
                            % type(self._optimizer).__name__)
        converted = _checked_list(grads, [g for pair in self._plan.grad_views for g in pair], "grads",
                                  "dW and db", self._dtype)
        with self._training() as plan:
            for value, target in zip(converted, (g for pair in plan.grad_views for g in pair)):
                target[...] = value
            backends.implementation().apply_gradients(plan, self._optimizer)

    def train_step(self, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None,
                   world: Optional[World] = None) -> float:
        """One optimizer update on the batch (X, y); returns the loss before it
        (weighted by ``sample_weight``, see :meth:`evaluate`).

        ``world`` (from :func:`pynn.distributed.init`): one synchronous
        data-parallel update, (X, y) being this process's part of the batch;
        every rank calls it and gets the loss of the whole batch.  The first
        such call for a world makes every replica rank 0's.

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
        X, Y, labels = self._plan.batch(X, y)
        n = X.shape[0]
        weights = None if sample_weight is None else losses.prepare_weights(sample_weight, n, self._dtype)
        if world is not None:
            from .distributed import data_parallel
            if data_parallel.check_world(world).size > 1:
                backends._implementation.check_inputs(self._plan, X, Y, labels, weights)
                return data_parallel.train_step(self, world, X, Y, labels, weights)
        lock = self._lock
        lock.acquire_exclusive()  # _training(), inlined: this is the per-step path
        try:
            opt = self._optimizer
            plan = self._plan if opt._version == self._opt_version else self._sync_optimizer()
            if opt.needs_closure:  # L-BFGS: it evaluates the loss itself
                total = opt.run_rows(plan, backends._implementation, X, Y, labels, weights, n)[0]
            else:
                total = backends._implementation.train_rows(plan, opt, X, Y, labels, weights, n)[0]
        finally:
            lock.release_exclusive()
        return total / (n if weights is None else float(weights.sum(dtype=np.float64)))

    def fit(self, X: Any, y: Optional[ArrayLike] = None, epochs: int = 1, batch_size: int = 32, shuffle: bool = True,
            validation_data: Optional[Tuple[ArrayLike, ...]] = None, verbose: int = 1,
            callbacks: Union[Callback, Iterable[Callback], None] = None, validation_split: float = 0.0,
            sample_weight: Optional[ArrayLike] = None, class_weight: Union[Dict[Any, float], str, None] = None,
            world: Optional[World] = None) -> History:
        """Train for ``epochs`` passes over (X, y) in mini-batches (reshuffled
        every epoch when ``shuffle``) and return a :class:`pynn.History` of
        the metrics of each epoch.

        ``validation_data=(X_val, y_val)`` (or ``(X_val, y_val, w_val)``), or
        ``validation_split``: the last fraction of the rows, as given;
        ``verbose``: 0 silent, 1 a progress bar per epoch, 2 a line per
        epoch; ``callbacks``: see :mod:`pynn.callbacks`; ``sample_weight``
        (one weight >= 0 per row) and ``class_weight`` ({label: weight} or
        "balanced") weigh each row's loss (see :meth:`evaluate`); ``world``
        (from :func:`pynn.distributed.init`): data-parallel training on this
        process's rows, ``batch_size`` rows per process.  The details:
        :func:`pynn.training.fit`.

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
                   validation_split=validation_split, sample_weight=sample_weight, class_weight=class_weight,
                   world=world)

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
        self._lock.acquire_shared()
        try:
            return [p.copy() for pair in self._plan.param_views for p in pair]
        finally:
            self._lock.release_shared()

    def set_weights(self, weights: Iterable[ArrayLike]) -> None:
        """Set all parameters from a list like the one :meth:`get_weights`
        returns (nested lists or arrays of any real dtype); ValueError, with
        nothing changed, if a shape differs or a value is not finite in the
        network's dtype.

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
        targets = [p for pair in self._plan.param_views for p in pair]
        converted = _checked_list(weights, targets, "weights", "W and b", self._dtype)
        with self._changing():  # all checked first: nothing half-set
            for arr, target in zip(converted, targets):
                target[...] = arr

    def save(self, path: PathLike, world: Optional[World] = None) -> None:
        """Save to a safetensors file: the weights, the architecture, the loss,
        the dtype and the optimizer with its state; :func:`pynn.load` reads
        it back.  The file is replaced atomically.

        ``world``: call it on every rank; rank 0 writes the file and the
        others wait until it is written (without ``world``, every process
        that calls save writes).

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
        if world is None or world.size == 1:
            save(self, path)
            return
        try:
            if world.is_root:
                save(self, path)
        finally:
            world.barrier()

    def explain_step(self, X: ArrayLike, y: ArrayLike, max_terms: Optional[int] = None) -> Explanation:
        """Perform one training step, as :meth:`train_step`, and return it
        recomputed with the chain rule, neuron by neuron and weight by weight,
        as a :class:`pynn.explain.Explanation` (``print`` it for the table).
        It keeps a term per sample and parameter: above ``max_terms`` of them
        (default :data:`pynn.explain.MAX_TERMS`) it raises ValueError, saying
        what to pass.  See :mod:`pynn.explain`.

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
        from .explain import MAX_TERMS, explain_step
        return explain_step(self, X, y, MAX_TERMS if max_terms is None else max_terms)

    def __getstate__(self) -> Dict[str, Any]:
        # pickling (copy.deepcopy, scikit-learn's clone): the plan pickles its
        # buffers (not its C cache); a lock cannot be pickled
        state = self.__dict__.copy()
        del state["_lock"]
        state["_world"] = None  # a world (an MPI communicator, threads) belongs to this process
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        state.setdefault("_world", None)
        state.setdefault("_changes", 0)
        self.__dict__.update(state)
        self._lock = SharedLock()

    def _copy(self, dtype: Optional[DTypeLike] = None) -> Network:
        """A new network with the same layers, loss, optimizer settings, weights
        and dropout masks (not the optimizer state)."""
        opt = optimizers.from_config(self.optimizer.name, self.optimizer.get_config())
        twin = Network([fresh_copy(l) for l in self._layers], loss=self.loss, optimizer=opt,
                       dtype=dtype or self.dtype)
        twin._restore(self.get_weights(), None, self.optimizer.step, self._plan.dropout_seed)
        return twin

    def _restore(self, weights: Sequence[FloatArray], state: Optional[FloatArray], step: int,
                 dropout_seed: int) -> None:
        """Set the weights (of get_weights' shapes, already checked), the
        optimizer state (None: leave it) and step count, and the dropout seed
        (with the step, it fixes the next masks): a copy, a loaded file."""
        with self._changing():
            plan = self._plan
            for target, value in zip([p for pair in plan.param_views for p in pair], weights):
                target[...] = value
            if state is not None:
                plan.state[...] = state
            self._plan = plan.replace(dropout_seed=dropout_seed)
            self._optimizer.step = step


def check_architecture(layers: Union[Layer, Iterable[Layer]], loss: object) -> List[Layer]:
    """``layers`` as a list, checked with ``loss`` as Network() checks them
    (ValueError or TypeError), marking nothing as used."""
    layer_list = _check_layers(layers)
    _check_activations(layer_list, [l.activation for l in layer_list if isinstance(l, Dense)], loss)
    return layer_list


def _check_layers(layers: Union[Layer, Iterable[Layer]]) -> List[Layer]:
    """``layers`` as a list, checked: Dense and Dropout layers not in another
    network, consecutive Dense sizes that fit, Dropout not last nor doubled."""
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
        if not isinstance(layer, (Dense, Dropout)):
            raise TypeError("layers[%d] must be a pynn.Dense or pynn.Dropout; got %r" % (i, layer))
        layer._check_free(i)
        if isinstance(layer, Dropout):
            if i and isinstance(layers[i - 1], Dropout):
                raise ValueError("layers[%d] and layers[%d] are both Dropout; use one" % (i - 1, i))
            continue
        if previous is not None and previous[1].n_out != layer.n_in:
            raise ValueError("layers[%d] has n_in=%d but layers[%d] has n_out=%d; they must match"
                             % (i, layer.n_in, previous[0], previous[1].n_out))
        previous = (i, layer)
    if len(set(map(id, layers))) != len(layers):
        raise ValueError("the same layer appears twice in layers")
    return layers


def _check_activations(layers: Sequence[Layer], activations_: Sequence[str], loss: object) -> None:
    """Softmax only on the last layer, and the loss fits the last activation."""
    for i, act in zip(dense_positions(layers), activations_[:-1]):
        if act == "softmax":
            raise ValueError("activation 'softmax' is only allowed in the last layer (layers[%d] has it)" % i)
    losses.check_pairing(loss, activations_[-1])


def _drop_rates(layers: Sequence[Layer]) -> List[float]:
    """The dropout rate on each Dense layer's input (0: none), as the C core takes it."""
    before = [layers[i - 1] if i else None for i in dense_positions(layers)]
    return [layer.p if isinstance(layer, Dropout) else 0.0 for layer in before]


def _dense_index_of(layers: Sequence[Layer]) -> List[int]:
    """For each layer, its Dense layer's number: a Dense layer's own, a
    Dropout's the one after it."""
    index, count = [], 0
    for layer in layers:
        index.append(count)
        count += isinstance(layer, Dense)
    return index


def _checked_list(values: Iterable[ArrayLike], targets: Sequence[FloatArray], name: str, what: str,
                  dtype: np.dtype[Any]) -> List[FloatArray]:
    """``values``, a list like get_weights' (``what`` of each layer), checked
    one by one against ``targets``' shapes with _checked_weights."""
    values = list(values)
    if len(values) != len(targets):
        raise ValueError("%s must be a list of %d arrays (%s of each layer); got %d"
                         % (name, len(targets), what, len(values)))
    return [_checked_weights(v, "%s[%d]" % (name, i), t.shape, dtype) for i, (v, t) in enumerate(zip(values, targets))]


def _checked_weights(value: ArrayLike, name: str, shape: Tuple[int, ...], dtype: np.dtype[Any]) -> FloatArray:
    """``value`` as an array of ``shape`` and ``dtype`` with finite values
    (checked after the conversion: 1e300 is not a float32)."""
    arr = as_array(value, name)
    if arr.shape != shape:
        raise ValueError("%s must have shape %s; got %s" % (name, shape, arr.shape))
    with np.errstate(over="ignore", invalid="ignore"):
        arr = arr.astype(dtype)
    if not np.isfinite(arr).all():
        raise ValueError("%s contains NaN or infinity (in %s)" % (name, dtype))
    return arr
