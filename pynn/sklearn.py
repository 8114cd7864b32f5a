"""scikit-learn estimators backed by pynn: :class:`PynnClassifier` and
:class:`PynnRegressor`.

They take the parameters of scikit-learn's ``MLPClassifier`` /
``MLPRegressor`` (``hidden_layer_sizes``, ``activation``, ``solver``,
``alpha``, ``batch_size``, ``learning_rate_init``, ``max_iter``, ...), train a
:class:`pynn.Network` of Dense layers, and follow scikit-learn's conventions,
so they work in ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, ``clone``
and ``pickle``.  They pass ``sklearn.utils.estimator_checks.check_estimator``.

>>> from sklearn.datasets import load_iris
>>> from pynn.sklearn import PynnClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = PynnClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
>>> clf.fit(X, y).score(X, y) > 0.9
True

How parameters map onto pynn
----------------------------
* ``activation`` of the hidden layers: a pynn name ("relu", "tanh",
  "sigmoid", "leaky_relu", "gelu", "linear") or scikit-learn's aliases
  "identity" (= "linear") and "logistic" (= "sigmoid").
* ``solver``: "sgd" (``pynn.SGD`` with ``momentum`` and
  ``nesterovs_momentum``), "adam" (``pynn.Adam`` with ``beta_1``, ``beta_2``,
  ``epsilon``), "adamw" (``pynn.AdamW``) or "rmsprop" (``pynn.RMSprop`` with
  ``epsilon``); the learning rate is ``learning_rate_init``.
* ``alpha`` is the optimizer's ``weight_decay``: every step adds
  ``alpha * w`` to the gradient of every parameter (biases included), i.e. an
  L2 penalty ``alpha / 2 * ||w||^2`` on the mean loss (decoupled decay for
  "adamw").  scikit-learn's MLP divides its ``alpha`` by the batch size and
  spares the biases, so the same number regularises more strongly here.
* ``batch_size="auto"`` is ``min(200, n_samples)``; an int is clipped to
  ``[1, n_samples]``.  One iteration (``max_iter``, ``n_iter_``) is one epoch.
* ``dropout`` (pynn's own, not in scikit-learn's MLP): a ``pynn.Dropout`` of
  this rate after every hidden layer, in training only; 0 (default) for none.
  ``loss_curve_`` then holds the training loss with dropout, as it is trained.
* ``dtype``: "float32" (default) or "float64", the network's precision.
  ``predict``/``predict_proba`` always return float64 arrays.
* ``random_state`` seeds the initial weights, the shuffling and the
  validation split: the same int gives the same model on every backend.

Outputs and losses
------------------
* multi-class: a softmax layer with one unit per class and ``cross_entropy``;
* binary: like scikit-learn's MLP, one sigmoid unit (the probability of
  ``classes_[1]``) and ``binary_cross_entropy``; ``predict_proba`` returns the
  two columns ``[1 - p, p]``;
* multilabel (``y`` a 2-D indicator matrix of 0/1): one sigmoid unit per
  label and ``binary_cross_entropy``; ``predict`` returns the 0/1 matrix
  (p > 0.5) and ``predict_proba`` the (n_samples, n_labels) probabilities;
* regression: a linear layer with one unit per target column and ``mse``
  (multi-output when ``y`` is 2-D).

Class labels may be any sortable values (ints, strings, ...): ``classes_``
holds them sorted, as ``numpy.unique`` orders them.

Training stops when the epoch loss has not improved by at least ``tol`` for
``n_iter_no_change`` consecutive epochs, or, with ``early_stopping=True``,
when the score on a held-out ``validation_fraction`` of the data has not (the
best weights are then restored).  Reaching ``max_iter`` first raises a
``ConvergenceWarning``.  ``partial_fit`` runs one epoch on the data it is given
(its first call on a classifier needs ``classes=``); ``warm_start=True`` makes
``fit`` continue from the current network.  Both keep the optimizer's state
(momentum, Adam's moments) and use the current ``learning_rate_init``, so it
can be lowered between calls.

Fitted attributes: ``network_`` (the :class:`pynn.Network`), ``coefs_`` and
``intercepts_`` (copies of its weights: W of shape (n_in, n_out) as in
scikit-learn), ``n_iter_``, ``t_`` (samples seen), ``loss_``, ``loss_curve_``
(the mean training loss of each epoch, without the penalty), ``best_loss_``,
``validation_scores_`` and ``best_validation_score_`` (early stopping),
``n_features_in_``, ``feature_names_in_`` (for named columns),
``n_outputs_``, ``out_activation_`` ("softmax", "logistic" or "identity"), and
``classes_`` for the classifier.
"""
from __future__ import annotations

import numbers
import sys
import warnings
from typing import TYPE_CHECKING, Any, List, NoReturn, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import numpy.typing as npt

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "pynn.sklearn needs scikit-learn >= 1.6 (%s); install it with: pip install pynn[sklearn]" % exc
    ) from exc

from . import activations, optimizers
from ._typing import ArrayLike, DTypeLike, Float64Array, FloatArray
from .layers import mlp_layers
from .network import Network

_Self = TypeVar("_Self", bound="_BasePynn")

__all__ = ["PynnClassifier", "PynnRegressor"]

_ACTIVATION_ALIASES = {"identity": "linear", "logistic": "sigmoid"}
_SOLVERS = ("sgd", "adam", "adamw", "rmsprop")
_DTYPES = ("float32", "float64")


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class _BasePynn(BaseEstimator):
    """What the classifier and the regressor share: parameters, checks,
    building the network and the training loop."""

    # fitted attributes (set by fit / partial_fit)
    network_: Network
    n_outputs_: int
    out_activation_: str
    n_iter_: int
    t_: int
    loss_: float
    loss_curve_: List[float]
    best_loss_: Optional[float]
    validation_scores_: Optional[List[float]]
    best_validation_score_: Optional[float]

    def __init__(self, hidden_layer_sizes: Union[int, Sequence[int]] = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 1e-4, batch_size: Union[int, str] = "auto",
                 learning_rate_init: float = 1e-3, max_iter: int = 200, shuffle: bool = True,
                 random_state: Union[int, np.random.RandomState, None] = None, tol: float = 1e-4,
                 verbose: Union[bool, int] = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 dropout: float = 0.0, dtype: DTypeLike = "float32") -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.dtype = dtype

    # ---- parameters -------------------------------------------------------------

    def _checked_params(self) -> Tuple[Tuple[int, ...], str]:
        """The parameters, checked (scikit-learn checks in fit, not __init__)."""

        def fail(name: str, expected: str) -> NoReturn:
            raise ValueError("%s must be %s; got %r" % (name, expected, getattr(self, name)))

        sizes: Any = self.hidden_layer_sizes  # anything a user set: checked here
        if _is_int(sizes):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            fail("hidden_layer_sizes", "an int or a sequence of ints >= 1")
        if not all(_is_int(s) and s >= 1 for s in sizes):
            fail("hidden_layer_sizes", "an int or a sequence of ints >= 1")
        activation = _ACTIVATION_ALIASES.get(self.activation, self.activation)
        if not isinstance(activation, str) or activation not in activations.HIDDEN:
            fail("activation", "one of %s (or 'identity', 'logistic')" % ", ".join(map(repr, activations.HIDDEN)))
        if not isinstance(self.solver, str) or self.solver not in _SOLVERS:
            fail("solver", "one of %s" % ", ".join(map(repr, _SOLVERS)))
        batch_size: Any = self.batch_size
        if not (isinstance(batch_size, str) and batch_size == "auto") and not (
                _is_int(batch_size) and batch_size >= 1):
            fail("batch_size", "'auto' or an int >= 1")
        for name in ("max_iter", "n_iter_no_change"):
            if not (_is_int(getattr(self, name)) and getattr(self, name) >= 1):
                fail(name, "an int >= 1")
        checks = [("learning_rate_init", lambda v: v > 0, "number > 0"),
                  ("alpha", lambda v: v >= 0, "number >= 0"),
                  ("tol", lambda v: v >= 0, "number >= 0"),
                  ("momentum", lambda v: 0 <= v <= 1, "number in [0, 1]"),
                  ("validation_fraction", lambda v: 0 < v < 1, "number in (0, 1)"),
                  ("beta_1", lambda v: 0 <= v < 1, "number in [0, 1)"),
                  ("beta_2", lambda v: 0 <= v < 1, "number in [0, 1)"),
                  ("dropout", lambda v: 0 <= v < 1, "number in [0, 1)"),
                  ("epsilon", lambda v: v > 0, "number > 0")]
        for name, ok, expected in checks:
            value = getattr(self, name)
            if not (_is_real(value) and np.isfinite(value) and ok(value)):
                fail(name, "a finite " + expected)
        for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                fail(name, "True or False")
        if not (isinstance(self.verbose, (bool, np.bool_)) or _is_int(self.verbose)):
            fail("verbose", "a bool or an int")
        if not (isinstance(self.dtype, str) and self.dtype in _DTYPES) and self.dtype not in (np.float32, np.float64):
            fail("dtype", "'float32' or 'float64'")
        return sizes, activation

    def _make_optimizer(self) -> optimizers.Optimizer:
        lr = float(self.learning_rate_init)
        decay = float(self.alpha)
        if self.solver == "sgd":
            return optimizers.SGD(lr=lr, momentum=float(self.momentum),
                                  nesterov=bool(self.nesterovs_momentum) and self.momentum > 0,
                                  weight_decay=decay)
        if self.solver == "rmsprop":
            return optimizers.RMSprop(lr=lr, eps=float(self.epsilon), weight_decay=decay)
        cls = optimizers.Adam if self.solver == "adam" else optimizers.AdamW
        return cls(lr=lr, betas=(float(self.beta_1), float(self.beta_2)), eps=float(self.epsilon),
                   weight_decay=decay)

    def _build_network(self, n_features: int, n_outputs: int, out_activation: str, loss: str, sizes: Sequence[int],
                       activation: str, seed: int) -> Network:
        layers = mlp_layers([n_features, *sizes, n_outputs], activation, out_activation, float(self.dropout))
        return Network(layers, loss=loss, optimizer=self._make_optimizer(), dtype=self.dtype, seed=seed)

    # ---- fitted attributes --------------------------------------------------------

    @property
    def coefs_(self) -> List[FloatArray]:
        """Copies of the weight matrices, W[i] of shape (n_in, n_out)."""
        return self.network_.get_weights()[0::2]

    @property
    def intercepts_(self) -> List[FloatArray]:
        """Copies of the bias vectors."""
        return self.network_.get_weights()[1::2]

    # ---- training -----------------------------------------------------------------

    if TYPE_CHECKING:  # what the classifier and the regressor define
        def _is_classifier(self) -> bool: ...

        def _encode_targets(self, y: npt.NDArray[Any], reset: bool, classes: Optional[ArrayLike]
                            ) -> Tuple[npt.NDArray[Any], int, str, str]:
            """(targets for the network, number of outputs, output activation, loss)."""

        def _validation_score(self, X: npt.NDArray[Any], y: npt.NDArray[Any]) -> float: ...

    def _fit(self: _Self, X: Any, y: Any, incremental: bool, classes: Optional[ArrayLike] = None) -> _Self:
        sizes, activation = self._checked_params()
        fitted = hasattr(self, "network_")
        reset = not (fitted and (incremental or self.warm_start))
        X, y = validate_data(self, X, y, reset=reset, dtype=(np.float64, np.float32), multi_output=True,
                             y_numeric=not self._is_classifier())
        target, n_outputs, out_activation, loss_name = self._encode_targets(y, reset, classes)
        if reset:
            random_state = check_random_state(self.random_state)
            seed = int(random_state.randint(np.iinfo(np.int32).max))
            self._random_state = random_state
            self.network_ = self._build_network(X.shape[1], n_outputs, out_activation, loss_name, sizes,
                                                activation, seed)
            self.n_outputs_ = n_outputs
            self.out_activation_ = {"linear": "identity", "sigmoid": "logistic"}.get(out_activation,
                                                                                    out_activation)
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
        net = self.network_
        # the learning rate of this call: set_params(learning_rate_init=...) between
        # partial_fit calls (or warm-started fits) changes it; the optimizer state stays
        net.optimizer.lr = float(self.learning_rate_init)

        early_stopping = self.early_stopping and not incremental
        X_val: Any = None
        y_val: Any = None
        validation_scores: List[float] = []
        best_score = -np.inf
        if early_stopping:
            stratify = target if self._is_classifier() and target.ndim == 1 else None
            X, X_val, target, y_val = train_test_split(
                X, target, random_state=self._random_state, test_size=self.validation_fraction,
                stratify=stratify)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small (%d samples): increase validation_fraction "
                                 "or the size of the data set" % X_val.shape[0])
            self.validation_scores_ = validation_scores
            self.best_validation_score_ = best_score
            best_weights = net.get_weights()
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None

        n_samples = X.shape[0]
        requested: Any = self.batch_size  # "auto" or an int >= 1 (checked above)
        if requested == "auto":
            batch_size = min(200, n_samples)
        else:
            if requested > n_samples:
                warnings.warn("batch_size %d is larger than the number of samples (%d); it is clipped to %d"
                              % (requested, n_samples, n_samples))
            batch_size = min(requested, n_samples)

        X = np.ascontiguousarray(X, dtype=net.dtype)  # converted once, not every epoch
        no_improvement = 0
        converged = False
        for _ in range(1 if incremental else self.max_iter):
            history = net.fit(X, target, epochs=1, batch_size=batch_size, shuffle=bool(self.shuffle), verbose=0)
            loss = float(history.history["loss"][-1])
            self.n_iter_ += 1
            self.t_ += n_samples
            self.loss_curve_.append(loss)
            self.loss_ = loss
            message = "Iteration %d, loss = %.8f" % (self.n_iter_, loss)
            if early_stopping:
                score = self._validation_score(X_val, y_val)
                validation_scores.append(score)  # the list self.validation_scores_ is
                message += ", validation score = %.6f" % score
                no_improvement = no_improvement + 1 if score < best_score + self.tol else 0
                if score > best_score:
                    best_score = self.best_validation_score_ = score
                    best_weights = net.get_weights()
            else:
                # None after an early-stopping fit (then continued by partial_fit or warm_start)
                best_loss = np.inf if self.best_loss_ is None else self.best_loss_
                no_improvement = no_improvement + 1 if loss > best_loss - self.tol else 0
                if loss < best_loss:
                    self.best_loss_ = loss
            if self.verbose:
                print(message, file=sys.stdout)
            if not incremental and no_improvement > self.n_iter_no_change:
                converged = True
                if self.verbose:
                    what = "Validation score" if early_stopping else "Training loss"
                    print("%s did not improve more than tol=%f for %d consecutive epochs. Stopping."
                          % (what, self.tol, self.n_iter_no_change))
                break
        if early_stopping:
            net.set_weights(best_weights)
            self.best_loss_ = None
        if not incremental and not converged:
            warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the optimization hasn't "
                          "converged yet." % self.max_iter, ConvergenceWarning)
        return self

    def _outputs(self, X: ArrayLike) -> Float64Array:
        """The network's outputs for X, as float64 (checks fitted and features)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.network_.predict(X).astype(np.float64)

    def fit(self: _Self, X: ArrayLike, y: ArrayLike) -> _Self:
        """Train a new network on (X, y) (or continue the current one with
        ``warm_start=True``) for up to ``max_iter`` epochs.  Returns self."""
        return self._fit(X, y, incremental=False)


class PynnClassifier(ClassifierMixin, _BasePynn):
    """A multi-layer perceptron classifier trained by pynn, with the
    parameters of scikit-learn's ``MLPClassifier`` (plus ``dtype`` and the
    "adamw"/"rmsprop" solvers).  See :mod:`pynn.sklearn` for the details.

    Multi-class problems use a softmax output and cross-entropy; binary ones
    a single sigmoid unit (the probability of ``classes_[1]``); multilabel
    ``y`` (a 0/1 indicator matrix) one sigmoid unit per label.

    >>> from sklearn.datasets import load_iris
    >>> from pynn.sklearn import PynnClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = PynnClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.classes_, clf.predict(X[:3]), clf.predict_proba(X[:3]).shape
    (array([0, 1, 2]), array([0, 0, 0]), (3, 3))
    >>> clf.network_
    Network([Dense(4, 16, activation='relu'), Dense(16, 3, activation='softmax')], loss='cross_entropy', optimizer=Adam(lr=0.01, betas=[0.9, 0.999], eps=1e-08, weight_decay=0.0001), dtype='float32')

    Labels can be any values; ``partial_fit`` trains one epoch at a time:

    >>> names = load_iris().target_names[y]                  # 'setosa', 'versicolor', 'virginica'
    >>> clf = PynnClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, batch_size=16, random_state=0)
    >>> for epoch in range(20):
    ...     clf = clf.partial_fit(X, names, classes=['setosa', 'versicolor', 'virginica'])
    >>> clf.n_iter_, clf.predict(X[:1]), clf.score(X, names) > 0.9
    (20, array(['setosa'], dtype='<U10'), True)
    """

    def _is_classifier(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # set by fit
    classes_: npt.NDArray[Any]
    _multilabel: bool
    _label_dtype: np.dtype[Any]

    def _encode_targets(self, y: npt.NDArray[Any], reset: bool, classes: Optional[ArrayLike]
                        ) -> Tuple[npt.NDArray[Any], int, str, str]:
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError("PynnClassifier supports binary, multi-class and multilabel (0/1 indicator "
                             "matrix) targets; got %s y" % kind)
        multilabel = kind == "multilabel-indicator"
        if not reset:
            if multilabel != self._multilabel:
                raise ValueError("y is %s but the network was fitted on %s targets"
                                 % (kind, "multilabel" if self._multilabel else "single-label"))
            if multilabel:
                if y.shape[1] != len(self.classes_):
                    raise ValueError("y has %d labels; the network was fitted on %d"
                                     % (y.shape[1], len(self.classes_)))
            if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError("classes=%r is not the same as on the first call to partial_fit, was: %r"
                                 % (classes, self.classes_))
        else:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
                self._label_dtype = y.dtype
            else:
                self.classes_ = unique_labels(y) if classes is None else unique_labels(classes)
                if len(self.classes_) < 2:
                    raise ValueError("this solver needs samples of at least 2 classes in the data, but the data "
                                     "contains only one class: %r" % (self.classes_[0],))
        if multilabel:
            return y.astype(np.float64), y.shape[1], "sigmoid", "binary_cross_entropy"
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if np.any(unknown):
            raise ValueError("y contains labels that are not in classes_ %r: %r"
                             % (self.classes_, np.unique(y[unknown])))
        if len(self.classes_) == 2:
            return index.astype(np.float64), 1, "sigmoid", "binary_cross_entropy"
        return index.astype(np.int64), len(self.classes_), "softmax", "cross_entropy"

    def _validation_score(self, X: npt.NDArray[Any], y: npt.NDArray[Any]) -> float:
        P = self.network_.predict(X)
        if self._multilabel:
            return accuracy_score(y, P > 0.5)
        if P.shape[1] == 1:
            return accuracy_score(y, P[:, 0] > 0.5)
        return accuracy_score(y, P.argmax(axis=1))

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: Optional[ArrayLike] = None) -> PynnClassifier:
        """One epoch of training on (X, y), continuing from the current
        network.  The first call must give ``classes``, every class label that
        will ever appear (not needed for multilabel y).  Returns self."""
        if not hasattr(self, "network_") and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, incremental=True, classes=classes)

    def _logits(self, X: ArrayLike) -> Float64Array:
        """The output layer's values before its softmax/sigmoid, as float64,
        computed by the current backend."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.network_.predict(X, logits=True).astype(np.float64)

    def decision_function(self, X: ArrayLike) -> Float64Array:
        """The network's logits: shape (n_samples,) for a binary problem (the
        log-odds of ``classes_[1]``), else (n_samples, n_classes or n_labels)."""
        Z = self._logits(X)
        return Z[:, 0] if Z.shape[1] == 1 and not self._multilabel else Z

    def predict_proba(self, X: ArrayLike) -> Float64Array:
        """Class probabilities, shape (n_samples, n_classes) in the order of
        ``classes_`` (multilabel: the probability of each label), computed in
        float64 from the logits."""
        Z = self._logits(X)
        if self._multilabel:
            return activations.sigmoid(Z)
        if Z.shape[1] == 1:
            return np.column_stack([activations.sigmoid(-Z[:, 0]), activations.sigmoid(Z[:, 0])])
        return activations.softmax(Z)

    def predict_log_proba(self, X: ArrayLike) -> Float64Array:
        """The logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> npt.NDArray[Any]:
        """Predicted class labels (multilabel: a 0/1 matrix, one column per label)."""
        P = self.predict_proba(X)
        if self._multilabel:
            return (P > 0.5).astype(self._label_dtype)
        return self.classes_[np.argmax(P, axis=1)]


class PynnRegressor(RegressorMixin, _BasePynn):
    """A multi-layer perceptron regressor trained by pynn (mean squared
    error, linear outputs), with the parameters of scikit-learn's
    ``MLPRegressor`` (plus ``dtype`` and the "adamw"/"rmsprop" solvers).
    ``y`` may be 2-D for several targets.  See :mod:`pynn.sklearn`.

    >>> import numpy as np
    >>> from pynn.sklearn import PynnRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(200, 2))
    >>> y = X @ [1.0, -2.0] + 0.5
    >>> reg = PynnRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300, random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.95
    True
    >>> reg.predict(X[:5]).shape
    (5,)
    >>> Y = np.column_stack([y, -y])                          # two targets
    >>> reg.fit(X, Y).predict(X[:5]).shape
    (5, 2)
    """

    def _is_classifier(self) -> bool:
        return False

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y: npt.NDArray[Any], reset: bool, classes: Optional[ArrayLike]
                        ) -> Tuple[npt.NDArray[Any], int, str, str]:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if not reset and y.shape[1] != self.n_outputs_:
            raise ValueError("y has %d target columns; the network was fitted on %d" % (y.shape[1], self.n_outputs_))
        return y, y.shape[1], "linear", "mse"

    def _validation_score(self, X: npt.NDArray[Any], y: npt.NDArray[Any]) -> float:
        return r2_score(y, self.network_.predict(X).astype(np.float64))

    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> PynnRegressor:
        """One epoch of training on (X, y), continuing from the current network.  Returns self."""
        return self._fit(X, y, incremental=True)

    def predict(self, X: ArrayLike) -> Float64Array:
        """Predictions, shape (n_samples,) for one target, else (n_samples, n_targets)."""
        P = self._outputs(X)
        return P[:, 0] if P.shape[1] == 1 else P
