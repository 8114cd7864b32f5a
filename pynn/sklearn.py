"""scikit-learn estimators backed by pynn: :class:`PynnClassifier` and
:class:`PynnRegressor`.

They take the parameters of scikit-learn's ``MLPClassifier`` /
``MLPRegressor`` with scikit-learn's meanings (``hidden_layer_sizes``,
``activation``, ``solver``, ``alpha``, ``batch_size``, ``learning_rate``,
``learning_rate_init``, ``power_t``, ``max_iter``, ``momentum``, ...), accept
``sample_weight`` and sparse ``X``, train a :class:`pynn.Network` of Dense
layers, and follow scikit-learn's conventions, so they work in ``Pipeline``,
``GridSearchCV``, ``cross_val_score``, ``clone`` and ``pickle``.  They pass
``sklearn.utils.estimator_checks.check_estimator``.

>>> from sklearn.datasets import load_iris
>>> from pynn.sklearn import PynnClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = PynnClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
>>> clf.fit(X, y).score(X, y) > 0.9
True

scikit-learn's meanings, translated onto pynn
---------------------------------------------
pynn's :class:`~pynn.Network` keeps PyTorch's definitions (``torch.nn``'s mean
losses, ``torch.optim``'s update rules); the estimators translate, so that a
learning rate or an ``alpha`` copied from scikit-learn does what it does there.
From the same initial weights, an estimator and scikit-learn's MLP reach the
same coefficients (to rounding) with ``solver="sgd"`` (every ``learning_rate``
schedule, with or without momentum and Nesterov's) and ``solver="adam"``
(tests/test_sklearn_mlp_equivalence.py).  With ``c`` the loss scale below,
``sw`` the sum of the batch's sample weights (its number of rows without
weights) and ``t`` the optimizer's step number:

* loss scale ``c``: scikit-learn's MLP follows the gradient of, per sample, the
  cross-entropy (multi-class; binary: of the one sigmoid unit), the binary
  cross-entropy *summed* over the K labels (multilabel), or half the squared
  error summed over the K targets (regression); pynn's losses average over the
  outputs and its MSE has no 1/2.  So scikit-learn's gradient is ``c`` times
  pynn's: c = 1 (multi-class, binary), K (multilabel), K / 2 (regression).
* ``alpha``: scikit-learn's L2 penalty ``alpha / 2 * ||W||^2 / sw`` on the
  weights only (never the biases), added to each batch's loss: its gradient
  ``alpha * W / sw`` is added to the weights' gradient.
* ``solver="sgd"``: ``pynn.SGD(lr=c * rate, momentum=momentum,
  nesterov=nesterovs_momentum, weight_decay=alpha / (c * sw))``, ``rate`` the
  current learning rate.  scikit-learn's velocity is ``-lr`` times torch's
  momentum buffer, so when the rate changes the buffer is rescaled by
  ``old / new`` to keep the velocity.
* ``solver="adam"``: ``pynn.Adam(lr=learning_rate_init, betas=(beta_1,
  beta_2), eps=epsilon / (c * sqrt(1 - beta_2 ** t)), weight_decay=alpha /
  (c * sw))``: Adam ignores the gradient's scale except through ``eps``, and
  scikit-learn adds ``epsilon`` to ``sqrt(v)`` before the bias correction
  where torch adds it after.
* the biases: pynn's ``weight_decay`` acts on every parameter, so after each
  step the biases' update is made again without it (by the optimizer's own
  rule, from the same gradient and state).
* ``learning_rate`` (``solver="sgd"`` only, as in scikit-learn):
  "constant" keeps ``learning_rate_init``; "invscaling" sets the rate to
  ``learning_rate_init / (t_ + 1) ** power_t`` after every epoch, ``t_`` the
  samples seen so far; "adaptive" divides it by 5 whenever the stopping rule
  below fires (instead of stopping) until it is at most 1e-6.
* ``loss_curve_``, ``loss_`` and ``best_loss_`` are scikit-learn's loss:
  each batch's loss before its update, in scikit-learn's scale (pynn's loss
  times 1, K or 1/2), plus the penalty, averaged over the batches weighted by
  their number of rows.
* every ``fit`` (also a warm-started one) starts a fresh optimizer (momentum,
  Adam's moments and step count at zero, the rate at ``learning_rate_init``);
  ``partial_fit`` continues the one it finds.  A ``learning_rate_init``
  changed between ``partial_fit`` calls takes effect (a pynn addition:
  scikit-learn keeps the old one); the schedule restarts from it.
* ``n_iter_`` counts the epochs of the last ``fit`` / ``partial_fit`` call;
  ``t_``, ``loss_curve_``, ``best_loss_`` and the count of epochs without
  improvement carry on over warm starts and ``partial_fit`` calls, as in
  scikit-learn.

pynn's additions and the rest of the mapping
--------------------------------------------
* ``activation`` of the hidden layers: a pynn name ("relu", "tanh",
  "sigmoid", "leaky_relu", "gelu", "linear") or scikit-learn's aliases
  "identity" (= "linear") and "logistic" (= "sigmoid").
* ``solver``: "sgd" and "adam" as above; pynn's additions "adamw"
  (``pynn.AdamW``: ``alpha`` is its decoupled decay, ``W *= 1 - lr * alpha``
  every step, weights only; ``eps`` as for "adam") and "rmsprop"
  (``pynn.RMSprop(eps=epsilon / c)``, ``alpha`` as for "sgd").
  "lbfgs": ``pynn.LBFGS`` on the whole data at once (no batches, no early
  stopping, no partial_fit, as in scikit-learn), minimising scikit-learn's
  objective -- its loss scale plus ``alpha / 2 * ||W||^2 / n`` on the
  weights only -- with ``max_iter`` iterations, ``max_fun`` loss
  evaluations, ``tol`` on the largest gradient and 10 update pairs (scipy's
  L-BFGS-B defaults as scikit-learn calls it).  Its line search is PyTorch's
  strong-Wolfe one, not scipy's, so the iterates differ from scikit-learn's
  while the objective is the same.
* ``batch_size="auto"`` is ``min(200, n_samples)``; an int is clipped to
  ``[1, n_samples]`` (with a warning when larger).  One iteration
  (``max_iter``, ``n_iter_``) is one epoch.
* ``sample_weight`` (fit, partial_fit, score): each batch's loss is the
  weighted mean ``sum(w_i l_i) / sum(w_i)``, as in scikit-learn (a batch whose
  weights are all zero makes no update).  Weights must be >= 0.  With
  scikit-learn's metadata routing, ``set_fit_request(sample_weight=True)``
  makes meta-estimators such as ``GridSearchCV`` pass them on.
* sparse ``X`` (scipy CSR/CSC, or any format scipy converts to CSR): it is
  made dense one batch at a time in training and in row chunks for
  predictions, never all at once.
* ``dropout`` (pynn's own): a ``pynn.Dropout`` of this rate after every
  hidden layer, in training only; 0 (default) for none.
* ``dtype``: None (default) follows the training data, as scikit-learn's MLP
  does: float32 ``X`` trains float32 weights, anything else float64;
  "float32" or "float64" fixes the network's precision.  Outputs
  (``predict``, ``predict_proba``, ...) have the dtype of the weights and of
  ``X`` combined (float32 only when both are).
* ``random_state`` seeds the initial weights (pynn's initialisation, not
  scikit-learn's), the shuffling and the validation split: the same int gives
  the same model on every backend.
* ``PynnRegressor(loss="squared_error")`` is the only loss (scikit-learn's
  "poisson" needs an exponential output, which pynn does not have).

Outputs and losses
------------------
* multi-class: a softmax layer with one unit per class and ``cross_entropy``;
* binary: like scikit-learn's MLP, one sigmoid unit (the probability of
  ``classes_[1]``) and ``binary_cross_entropy``; ``predict_proba`` returns the
  two columns ``[1 - p, p]``;
* one class only (accepted, as scikit-learn accepts it): one sigmoid unit
  trained towards 0, ``predict`` always returns that class, and
  ``predict_proba`` has scikit-learn's two columns ``[1 - p, p]`` (the first
  is the class's probability);
* multilabel (``y`` a 2-D indicator matrix of 0/1): one sigmoid unit per
  label and ``binary_cross_entropy``; ``predict`` returns the 0/1 matrix
  (p > 0.5) and ``predict_proba`` the (n_samples, n_labels) probabilities;
* regression: a linear layer with one unit per target column and ``mse``
  (multi-output when ``y`` is 2-D).

Class labels may be any sortable values (ints, strings, ...): ``classes_``
holds them sorted, as ``numpy.unique`` orders them.

Stopping, as scikit-learn: after each epoch, the epoch's loss (or, with
``early_stopping=True``, the score on a held-out ``validation_fraction`` of the
data, weighted by its sample weights) counts as no improvement when it is not
better than the best so far by ``tol``; when more than ``n_iter_no_change``
epochs in a row (``np.inf``: never) did not improve, training stops (or the
"adaptive" rate is divided).  With early stopping the weights of the best
validation score are restored at the end.  Reaching ``max_iter`` first raises
a ``ConvergenceWarning``.  ``partial_fit`` runs one epoch on the data it is
given (its first call on a classifier needs ``classes=``) and refuses
``early_stopping=True``, as scikit-learn's does; ``warm_start=True`` makes
``fit`` continue from the current weights, with ``y`` holding the same classes.

Divergence: when a batch's loss or gradient becomes NaN or infinite (a
learning rate far too large), pynn makes no update from it; the epoch's loss
(and validation score) is recorded as NaN and training stops there.  With
early stopping the best weights are restored (a ``ConvergenceWarning`` says
what happened); without it ``fit`` raises scikit-learn's ValueError
("Solver produced non-finite parameter weights ...").  A validation score
whose predictions are not finite is NaN, as in scikit-learn.

Fitted attributes: ``network_`` (the :class:`pynn.Network`), ``coefs_`` and
``intercepts_`` (copies of its weights: W of shape (n_in, n_out) as in
scikit-learn), ``n_iter_``, ``t_`` (samples seen), ``loss_``, ``loss_curve_``,
``best_loss_``, ``validation_scores_`` and ``best_validation_score_`` (early
stopping), ``n_features_in_``, ``feature_names_in_`` (for named columns),
``n_layers_``, ``n_outputs_``, ``out_activation_`` ("softmax", "logistic" or
"identity"), and ``classes_`` for the classifier.
"""
from __future__ import annotations

import math
import numbers
import sys
import warnings
from typing import TYPE_CHECKING, Any, List, NoReturn, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import numpy.typing as npt

try:
    import scipy.sparse as sp  # type: ignore[import-untyped,unused-ignore]  # (no stubs unless scipy-stubs)
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "pynn.sklearn needs scikit-learn >= 1.6 (%s); install it with: pip install pynn[sklearn]" % exc
    ) from exc

from . import activations, backends, losses, optimizers
from ._typing import ArrayLike, DTypeLike, FloatArray
from .lbfgs import LBFGS
from .errors import DivergenceError
from .layers import Dense, mlp_layers
from .network import Network

_Self = TypeVar("_Self", bound="_BasePynn")

__all__ = ["PynnClassifier", "PynnRegressor"]

_ACTIVATION_ALIASES = {"identity": "linear", "logistic": "sigmoid"}
_SOLVERS = ("lbfgs", "sgd", "adam", "adamw", "rmsprop")
_SCHEDULES = ("constant", "invscaling", "adaptive")
_DTYPES = ("float32", "float64")
_SPARSE_FORMATS = ["csr", "csc"]
# Elements of dense rows made from a sparse X at a time when predicting.
_CHUNK_ELEMENTS = 1 << 22
# scikit-learn's message when training ends with non-finite weights.
_NONFINITE = ("Solver produced non-finite parameter weights. The input data may contain large values and need "
              "to be preprocessed.")


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _dense_rows(X: Any, index: Any, dtype: np.dtype[Any]) -> FloatArray:
    """Rows ``index`` (a slice or an index array) of X, dense, C-contiguous, in ``dtype``."""
    part = X[index]
    if sp.issparse(part):
        part = part.toarray()
    return np.ascontiguousarray(part, dtype=dtype)


class _Objective:
    """scikit-learn's objective for solver="lbfgs", as a backend whose
    ``gradients`` L-BFGS evaluates: the network's loss times scikit-learn's
    loss scale plus alpha/2 ||W||^2 / n, and its gradient (times the gradient
    scale, plus alpha W / n on the weights only, not the biases)."""

    def __init__(self, backend: Any, net: Network, loss_scale: float, grad_scale: float, alpha_over_n: float) -> None:
        self.backend, self.loss_scale, self.grad_scale, self.alpha_over_n = backend, loss_scale, grad_scale, alpha_over_n
        self.weights_only = net._plan.weight_mask()

    def gradients(self, plan: Any, X: FloatArray, Y: Any, labels: Any, weights: Any, step: int) -> Tuple[float, float]:
        loss, correct = self.backend.gradients(plan, X, Y, labels, weights, step)
        grads, W = plan.grads, plan.params[self.weights_only]
        if self.grad_scale != 1:
            grads *= plan.dtype.type(self.grad_scale)
        if self.alpha_over_n:
            grads[self.weights_only] += plan.dtype.type(self.alpha_over_n) * W
        penalty = 0.5 * self.alpha_over_n * float(np.dot(W.astype(np.float64), W.astype(np.float64)))
        return self.loss_scale * loss + penalty, correct


class _Training:
    """What one fit / partial_fit call trains with: the network, its bias
    positions, the loss scale, and the twin optimizer that remakes the biases'
    update without weight decay (see the module docstring)."""

    def __init__(self, est: _BasePynn, net: Network) -> None:
        self.net = net
        self.solver: str = est.solver
        self.alpha = float(est.alpha)
        self.grad_scale = float(est._grad_scale)
        self.loss_scale = float(est._loss_scale)
        self.epsilon = float(est.epsilon)
        self.beta_2 = float(est.beta_2)
        plan = net._plan
        self.W_views = [W for W, _ in plan.param_views]
        self.bias_index = np.flatnonzero(~plan.weight_mask())  # the biases' positions in the flat buffer
        self.decays = self.alpha > 0  # weight_decay is on: the biases' update is made again
        self.twin: Optional[optimizers.Optimizer] = None

    def _state_index(self) -> npt.NDArray[np.int64]:
        plan = self.net._plan
        n = plan.n_params
        return np.concatenate([k * n + self.bias_index for k in range(len(plan.state_slots))] or
                              [np.zeros(0, dtype=np.int64)])

    def _set(self, name: str, value: Any) -> None:
        """An optimizer hyperparameter, on the network's optimizer and the twin
        (only when it changes: an assignment makes the backends re-read them)."""
        opt = self.net.optimizer
        if getattr(opt, name) != value:
            setattr(opt, name, value)
        if self.twin is not None and name != "weight_decay" and getattr(self.twin, name) != value:
            setattr(self.twin, name, value)

    def step(self, X: FloatArray, y: npt.NDArray[Any], w: Optional[FloatArray], rate: float) -> Optional[float]:
        """One update on the batch, with scikit-learn's meaning (see the module
        docstring); returns scikit-learn's loss of the batch before it, or None
        for a batch whose weights are all zero (no update).  DivergenceError
        (no update made) when its loss or a gradient is not finite."""
        net = self.net
        opt = net.optimizer
        if w is None:
            sw = float(X.shape[0])
        else:
            sw = float(w.astype(net.dtype).sum(dtype=np.float64))
            if sw == 0:
                return None
        c = self.grad_scale
        solver = self.solver
        if solver == "sgd":
            self._set("lr", rate * c)
        if solver in ("adam", "adamw"):
            self._set("eps", self.epsilon / (c * math.sqrt(1.0 - self.beta_2 ** (opt.step + 1))))
        penalty = 0.0
        saved = None
        # (always set: alpha may have changed to 0 between partial_fit calls)
        self._set("weight_decay", self.alpha if solver == "adamw" else self.alpha / (c * sw))
        if self.decays:
            if solver != "adamw":  # AdamW's decay is no penalty on the loss
                penalty = 0.5 * self.alpha * sum(float(np.dot(W.ravel(), W.ravel())) for W in self.W_views) / sw
            if self.twin is None:
                config = dict(opt.get_config(), weight_decay=0.0)
                self.twin = optimizers.from_config(opt.name, config)
            state_index = self._state_index()
            plan = net._plan
            saved = (plan.params[self.bias_index], plan.state[state_index], state_index)
        loss = net.train_step(X, y) if w is None else net.train_step(X, y, sample_weight=w)
        if saved is not None:
            self._bias_update_without_decay(*saved)
        return self.loss_scale * loss + penalty

    def _bias_update_without_decay(self, b_before: FloatArray, state_before: FloatArray,
                                   state_index: npt.NDArray[np.int64]) -> None:
        """The step just made decayed the biases too: make their update again
        from their values and optimizer state before it, without the decay."""
        net = self.net
        twin = self.twin
        assert twin is not None
        with net._changing():  # (the arrays given are copies: fancy-indexed)
            plan = net._plan
            twin.step = net.optimizer.step
            twin.numpy_update(b_before, plan.grads[self.bias_index], state_before)
            plan.params[self.bias_index] = b_before
            plan.state[state_index] = state_before

    def rescale_momentum(self, factor: float) -> None:
        """Multiply SGD's momentum buffer (scikit-learn's velocity is -lr times it)."""
        net = self.net
        if self.solver != "sgd" or getattr(net.optimizer, "momentum", 0.0) == 0 or factor == 1:
            return
        with net._changing():
            plan = net._sync_optimizer()
            plan.state *= plan.dtype.type(factor)


class _BasePynn(BaseEstimator):
    """What the classifier and the regressor share: parameters, checks,
    building the network and the training loop."""

    # fitted attributes (set by fit / partial_fit)
    network_: Network
    n_outputs_: int
    n_layers_: int
    out_activation_: str
    n_iter_: int
    t_: int
    loss_: float
    loss_curve_: List[float]
    best_loss_: Optional[float]
    validation_scores_: Optional[List[float]]
    best_validation_score_: Optional[float]
    _grad_scale: float
    _loss_scale: float

    def __init__(self, hidden_layer_sizes: Union[int, Sequence[int]] = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 1e-4, batch_size: Union[int, str] = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 1e-3, power_t: float = 0.5,
                 max_iter: int = 200, shuffle: bool = True,
                 random_state: Union[int, np.random.RandomState, None] = None, tol: float = 1e-4,
                 verbose: Union[bool, int] = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
                 n_iter_no_change: Union[int, float] = 10, max_fun: int = 15000, dropout: float = 0.0,
                 dtype: Optional[DTypeLike] = None) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
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
        self.max_fun = max_fun
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
        if not isinstance(self.learning_rate, str) or self.learning_rate not in _SCHEDULES:
            fail("learning_rate", "one of %s" % ", ".join(map(repr, _SCHEDULES)))
        batch_size: Any = self.batch_size
        if not (isinstance(batch_size, str) and batch_size == "auto") and not (
                _is_int(batch_size) and batch_size >= 1):
            fail("batch_size", "'auto' or an int >= 1")
        for name in ("max_iter", "max_fun"):
            if not (_is_int(getattr(self, name)) and getattr(self, name) >= 1):
                fail(name, "an int >= 1")
        patience: Any = self.n_iter_no_change
        if not ((_is_int(patience) and patience >= 1) or (_is_real(patience) and patience == np.inf)):
            fail("n_iter_no_change", "an int >= 1 or np.inf")
        checks = [("learning_rate_init", lambda v: v > 0, "number > 0"),
                  ("power_t", lambda v: v >= 0, "number >= 0"),
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
        if self.dtype is not None and not (isinstance(self.dtype, str) and self.dtype in _DTYPES) and \
                self.dtype not in (np.float32, np.float64):
            fail("dtype", "None (follow X), 'float32' or 'float64'")
        return sizes, activation

    def _make_optimizer(self, rate: float) -> optimizers.Optimizer:
        """A fresh optimizer for this solver; the per-step settings (learning
        rate, eps, weight decay) are set by _Training.step."""
        c = float(self._grad_scale)
        if self.solver == "lbfgs":  # scipy's L-BFGS-B defaults as scikit-learn calls it: 10 pairs
            return LBFGS(lr=1, max_iter=int(self.max_iter), max_eval=int(self.max_fun), tolerance_grad=float(self.tol),
                         tolerance_change=float(np.finfo(np.float64).eps * 1e7), history_size=10)
        if self.solver == "sgd":
            momentum = float(self.momentum)
            return optimizers.SGD(lr=rate * c, momentum=momentum,
                                  nesterov=bool(self.nesterovs_momentum) and momentum > 0)
        if self.solver == "rmsprop":
            return optimizers.RMSprop(lr=float(self.learning_rate_init), eps=float(self.epsilon) / c)
        cls = optimizers.Adam if self.solver == "adam" else optimizers.AdamW
        return cls(lr=float(self.learning_rate_init), betas=(float(self.beta_1), float(self.beta_2)),
                   eps=float(self.epsilon) / c, weight_decay=0.0)

    def _build_network(self, n_features: int, n_outputs: int, out_activation: str, loss: str, sizes: Sequence[int],
                       activation: str, seed: int, dtype: Any, optimizer: optimizers.Optimizer) -> Network:
        layers = mlp_layers([n_features, *sizes, n_outputs], activation, out_activation, float(self.dropout))
        return Network(layers, loss=loss, optimizer=optimizer, dtype=dtype, seed=seed)

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

        def _encode_targets(self, y: npt.NDArray[Any], reset: bool, incremental: bool,
                            classes: Optional[ArrayLike]) -> Tuple[npt.NDArray[Any], int, str, str]:
            """(targets for the network, number of outputs, output activation, loss)."""

        def _validation_score(self, X: Any, y: npt.NDArray[Any], sample_weight: Optional[FloatArray]) -> float: ...

    def _fit(self: _Self, X: Any, y: Any, sample_weight: Any, incremental: bool,
             classes: Optional[ArrayLike] = None) -> _Self:
        sizes, activation = self._checked_params()
        if incremental and self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic optimizers. lbfgs is not stochastic.")
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        fitted = hasattr(self, "network_")
        reset = not (fitted and (incremental or self.warm_start))
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=_SPARSE_FORMATS, dtype=(np.float64, np.float32),
                             multi_output=True, y_numeric=not self._is_classifier())
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        target, n_outputs, out_activation, loss_name = self._encode_targets(y, reset, incremental, classes)
        # as scikit-learn, the random state is made again on every call: an int
        # gives every call the same validation split and shuffling
        random_state = check_random_state(self.random_state)
        self._random_state = random_state
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        shuffle_rng = np.random.default_rng(int(random_state.randint(np.iinfo(np.int32).max)))
        if reset:
            dtype = X.dtype if self.dtype is None else np.dtype(self.dtype)
            self._lr_base = float(self.learning_rate_init)
            self._learning_rate = float(self.learning_rate_init)
            self.network_ = self._build_network(X.shape[1], n_outputs, out_activation, loss_name, sizes, activation,
                                                seed, dtype, self._make_optimizer(self._learning_rate))
            self.n_outputs_ = n_outputs
            self.n_layers_ = len(sizes) + 2
            self.out_activation_ = {"linear": "identity", "sigmoid": "logistic"}.get(out_activation,
                                                                                    out_activation)
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self._best_weights = self.network_.get_weights()
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None
        net = self.network_
        training = _Training(self, net)
        if reset:
            pass  # the network was just built with a fresh optimizer
        elif not incremental or type(net.optimizer) is not optimizers.OPTIMIZERS[self.solver]:
            # scikit-learn makes a new optimizer on every fit, and on partial_fit when there is none
            self._lr_base = float(self.learning_rate_init)
            self._learning_rate = float(self.learning_rate_init)
            net.optimizer = self._make_optimizer(self._learning_rate)
        elif float(self.learning_rate_init) != self._lr_base:
            # set_params(learning_rate_init=...) between partial_fit calls: the schedule restarts from it
            self._set_rate(training, float(self.learning_rate_init))
            self._lr_base = float(self.learning_rate_init)
        if self.solver in ("adam", "adamw", "rmsprop"):
            net.optimizer.lr = float(self.learning_rate_init)

        early_stopping = bool(self.early_stopping) and self.solver != "lbfgs"  # as scikit-learn: stochastic only
        X_val: Any = None
        y_val: Any = None
        w_val: Optional[FloatArray] = None
        if early_stopping:
            stratify = target if self._is_classifier() and target.ndim == 1 else None
            arrays = [X, target] + ([] if sample_weight is None else [sample_weight])
            parts = train_test_split(*arrays, random_state=random_state, test_size=self.validation_fraction,
                                     stratify=stratify)
            X, X_val, target, y_val = parts[:4]
            if sample_weight is not None:
                sample_weight, w_val = parts[4], parts[5]
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small (%d samples). Increase 'validation_fraction' "
                                 "or the size of your dataset." % X_val.shape[0])
            if self.validation_scores_ is None:  # a warm start after fits without early stopping
                self.validation_scores_ = []
            if self.best_validation_score_ is None:
                self.best_validation_score_ = -np.inf
            self.best_loss_ = None
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

        sparse = sp.issparse(X)
        if self.solver == "lbfgs":  # full batch: a sparse X is densified once
            return self._fit_lbfgs(X.toarray() if sparse else X, target, sample_weight)
        # converted once, not every batch: dense X to the network's dtype, sparse X to CSR rows
        X = X.tocsr().astype(net.dtype) if sparse else np.ascontiguousarray(X, dtype=net.dtype)
        diverged = False
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            order = shuffle_rng.permutation(n_samples) if self.shuffle else None
            accumulated = 0.0
            for start in range(0, n_samples, batch_size):
                stop = min(start + batch_size, n_samples)
                index: Any = slice(start, stop) if order is None else order[start:stop]
                X_batch = _dense_rows(X, index, net.dtype) if (sparse or order is not None) else X[index]
                w_batch = None if sample_weight is None else sample_weight[index]
                try:
                    batch_loss = training.step(X_batch, target[index], w_batch, self._learning_rate)
                except DivergenceError:
                    diverged = True
                    break
                if batch_loss is not None:
                    accumulated += batch_loss * (stop - start)
            self.n_iter_ += 1
            self.loss_ = np.nan if diverged else accumulated / n_samples
            self.t_ += n_samples
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_), file=sys.stdout)
            self._update_no_improvement_count(early_stopping, X_val, y_val, w_val, diverged)
            if diverged:
                break
            if self.solver == "sgd" and self.learning_rate == "invscaling":
                self._set_rate(training, float(self.learning_rate_init) / (self.t_ + 1) ** float(self.power_t))
            if self._no_improvement_count > self.n_iter_no_change:
                what = "Validation score" if early_stopping else "Training loss"
                message = ("%s did not improve more than tol=%f for %s consecutive epochs."
                           % (what, self.tol, self.n_iter_no_change))
                if self.solver == "sgd" and self.learning_rate == "adaptive" and self._learning_rate > 1e-6:
                    self._set_rate(training, self._learning_rate / 5.0)
                    self._no_improvement_count = 0
                    if self.verbose:
                        print(message + " Setting learning rate to %f" % self._learning_rate)
                else:
                    if self.verbose:
                        print(message + (" Learning rate too small." if self.learning_rate == "adaptive"
                                         and self.solver == "sgd" else "") + " Stopping.")
                    break
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the optimization hasn't "
                              "converged yet." % self.max_iter, ConvergenceWarning)
        if early_stopping:
            net.set_weights(self._best_weights)
            if diverged:
                warnings.warn("training diverged at iteration %d (a loss or gradient became NaN or infinite: try "
                              "a smaller learning_rate_init); the weights of the best validation score are kept"
                              % self.n_iter_, ConvergenceWarning)
        elif diverged:
            raise ValueError(_NONFINITE + " (pynn: training diverged at iteration %d, the loss or a gradient "
                             "became NaN or infinite; try a smaller learning_rate_init.)" % self.n_iter_)
        if not all(np.isfinite(w).all() for w in net.get_weights()):
            raise ValueError(_NONFINITE)
        return self

    def _fit_lbfgs(self: _Self, X: Any, target: Any, sample_weight: Optional[FloatArray]) -> _Self:
        """solver="lbfgs": one L-BFGS step of up to max_iter iterations and
        max_fun evaluations on the whole data, minimising scikit-learn's
        objective (its loss scale plus alpha/2 ||W||^2 / n, weights only)."""
        net = self.network_
        opt = net.optimizer
        assert isinstance(opt, LBFGS)
        n = X.shape[0]
        objective = _Objective(backends.implementation(), net, float(self._loss_scale), float(self._grad_scale),
                               float(self.alpha) / (n if sample_weight is None else float(sample_weight.sum())))
        with net._training() as plan:
            Xk, Y, labels = plan.batch(X, target)
            weights = losses.prepare_weights(sample_weight, n, plan.dtype)
            iterations_before = opt.history.n_iter if opt.history is not None else 0
            try:
                opt.run_rows(plan, objective, Xk, Y, labels, weights, n)
            except DivergenceError:
                raise ValueError(_NONFINITE + " (pynn: the loss or a gradient became NaN or infinite)") from None
            assert opt.history is not None  # made by the step
            self.n_iter_ = opt.history.n_iter - iterations_before
            self.loss_ = objective.gradients(plan, Xk, Y, labels, weights, opt.step)[0]
        self.t_ += n
        if self.n_iter_ >= self.max_iter:
            warnings.warn("lbfgs failed to converge after %d iterations: increase max_iter or scale the data"
                          % self.max_iter, ConvergenceWarning)
        if not all(np.isfinite(w).all() for w in net.get_weights()):
            raise ValueError(_NONFINITE)
        return self

    def _set_rate(self, training: _Training, rate: float) -> None:
        """The current SGD learning rate becomes ``rate``; momentum's velocity is kept."""
        old = self._learning_rate
        self._learning_rate = rate
        if self.solver == "sgd":
            training._set("lr", rate * training.grad_scale)
        if rate > 0 and old != rate:
            training.rescale_momentum(old / rate)

    def _update_no_improvement_count(self, early_stopping: bool, X_val: Any, y_val: Any,
                                     w_val: Optional[FloatArray], diverged: bool) -> None:
        """scikit-learn's rule (NaN counts as an improvement there, and here)."""
        if early_stopping:
            score = np.nan if diverged else self._validation_score(X_val, y_val, w_val)
            assert self.validation_scores_ is not None and self.best_validation_score_ is not None
            self.validation_scores_.append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_weights = self.network_.get_weights()
        else:
            # None after an early-stopping fit (then continued by partial_fit or warm_start)
            best_loss = np.inf if self.best_loss_ is None else self.best_loss_
            if self.loss_curve_[-1] > best_loss - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < best_loss:
                best_loss = self.loss_curve_[-1]
            self.best_loss_ = best_loss

    def _network_outputs(self, X: Any, logits: bool = False) -> FloatArray:
        """The network's outputs for checked X (dense, or sparse made dense a
        chunk of rows at a time), in the network's dtype."""
        net = self.network_
        if not sp.issparse(X):
            return net.predict(X, logits=logits)
        X = X.tocsr()
        rows = max(1, _CHUNK_ELEMENTS // max(1, X.shape[1]))
        out = np.empty((X.shape[0], net.n_outputs), dtype=net.dtype)
        for start in range(0, X.shape[0], rows):
            part = slice(start, start + rows)
            out[part] = net.predict(_dense_rows(X, part, net.dtype), logits=logits)
        return out

    def _outputs(self, X: ArrayLike, logits: bool = False) -> FloatArray:
        """The network's outputs (logits: before the last activation) for X,
        checked, in the dtype of the weights and X combined."""
        check_is_fitted(self)
        checked = validate_data(self, X, reset=False, accept_sparse=_SPARSE_FORMATS, dtype=(np.float64, np.float32))
        out = self._network_outputs(checked, logits)
        return out.astype(np.result_type(self.network_.dtype, checked.dtype), copy=False)

    def fit(self: _Self, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> _Self:
        """Train a new network on (X, y) (or continue the current one with
        ``warm_start=True``) for up to ``max_iter`` epochs.  ``sample_weight``:
        one weight >= 0 per row.  Returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class PynnClassifier(ClassifierMixin, _BasePynn):
    """A multi-layer perceptron classifier trained by pynn, with the
    parameters of scikit-learn's ``MLPClassifier`` and their meanings (plus
    ``dropout``, ``dtype`` and the "adamw"/"rmsprop" solvers).  See
    :mod:`pynn.sklearn` for the details.

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
    >>> clf.network_.layers, clf.network_.loss, clf.network_.dtype       # float64 X: float64 weights
    ((Dense(4, 16, activation='relu'), Dense(16, 3, activation='softmax')), 'cross_entropy', dtype('float64'))

    Labels can be any values; ``partial_fit`` trains one epoch at a time:

    >>> names = load_iris().target_names[y]                  # 'setosa', 'versicolor', 'virginica'
    >>> clf = PynnClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, batch_size=16, random_state=0)
    >>> for epoch in range(20):
    ...     clf = clf.partial_fit(X, names, classes=['setosa', 'versicolor', 'virginica'])
    >>> clf.n_iter_, clf.t_, clf.predict(X[:1]), clf.score(X, names) > 0.9
    (1, 3000, array(['setosa'], dtype='<U10'), True)
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

    def _encode_targets(self, y: npt.NDArray[Any], reset: bool, incremental: bool, classes: Optional[ArrayLike]
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
            if multilabel and y.shape[1] != len(self.classes_):
                raise ValueError("y has %d labels; the network was fitted on %d" % (y.shape[1], len(self.classes_)))
            if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError("`classes=%r` is not the same as on last call to partial_fit, was: %r"
                                 % (classes, self.classes_))
            present = unique_labels(y)
            if self.warm_start:  # scikit-learn's checks and messages
                if set(present) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same classes as in the "
                                     f"previous call to fit. Previously got {self.classes_}, `y` has {present}")
            elif len(np.setdiff1d(present, self.classes_)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {present}.")
        else:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
                self._label_dtype = y.dtype
            else:
                self.classes_ = unique_labels(y) if classes is None else unique_labels(classes)
        n_classes = len(self.classes_)
        if multilabel:
            self._grad_scale = self._loss_scale = float(n_classes)  # scikit-learn sums over the labels
            return y.astype(np.float64), n_classes, "sigmoid", "binary_cross_entropy"
        self._grad_scale = self._loss_scale = 1.0
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, n_classes - 1)
        unknown = self.classes_[index] != y
        if np.any(unknown):
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                             f"'y' has {np.unique(y)}.")
        if n_classes == 1:  # as scikit-learn: one sigmoid unit trained towards 0
            return np.zeros(len(y)), 1, "sigmoid", "binary_cross_entropy"
        if n_classes == 2:
            return index.astype(np.float64), 1, "sigmoid", "binary_cross_entropy"
        return index.astype(np.int64), n_classes, "softmax", "cross_entropy"

    def _encoded_predictions(self, P: FloatArray) -> npt.NDArray[Any]:
        """Predictions from probabilities, encoded as the training targets are."""
        if self._multilabel:
            return (P > 0.5).astype(np.float64)
        if P.shape[1] == 1:
            return (P[:, 0] > 0.5).astype(np.float64)
        return P.argmax(axis=1)

    def _validation_score(self, X: Any, y: npt.NDArray[Any], sample_weight: Optional[FloatArray]) -> float:
        predicted = self._encoded_predictions(self._network_outputs(X))
        return float(accuracy_score(y, predicted, sample_weight=sample_weight))

    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None,
                    classes: Optional[ArrayLike] = None) -> PynnClassifier:
        """One epoch of training on (X, y), continuing from the current
        network.  The first call must give ``classes``, every class label that
        will ever appear (not needed for multilabel y).  ``sample_weight``: one
        weight >= 0 per row.  Returns self."""
        self._checked_params()  # a bad parameter (solver='lbfgs', ...) first
        if not hasattr(self, "network_") and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def decision_function(self, X: ArrayLike) -> FloatArray:
        """The network's logits: shape (n_samples,) for a binary problem (the
        log-odds of ``classes_[1]``), else (n_samples, n_classes or n_labels)."""
        Z = self._outputs(X, logits=True)
        return Z[:, 0] if Z.shape[1] == 1 and not self._multilabel else Z

    def predict_proba(self, X: ArrayLike) -> FloatArray:
        """Class probabilities, shape (n_samples, n_classes) in the order of
        ``classes_`` (multilabel: the probability of each label; one class:
        scikit-learn's two columns), computed from the logits."""
        Z = self._outputs(X, logits=True)
        if self._multilabel:
            return activations.sigmoid(Z)
        if Z.shape[1] == 1:
            return np.column_stack([activations.sigmoid(-Z[:, 0]), activations.sigmoid(Z[:, 0])])
        return activations.softmax(Z)

    def predict_log_proba(self, X: ArrayLike) -> FloatArray:
        """The logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> npt.NDArray[Any]:
        """Predicted class labels (multilabel: a 0/1 matrix, one column per label)."""
        P = self.predict_proba(X)
        if self._multilabel:
            return (P > 0.5).astype(self._label_dtype)
        if len(self.classes_) == 1:
            return np.repeat(self.classes_, P.shape[0])
        return self.classes_[np.argmax(P, axis=1)]


class PynnRegressor(RegressorMixin, _BasePynn):
    """A multi-layer perceptron regressor trained by pynn (squared error,
    linear outputs), with the parameters of scikit-learn's ``MLPRegressor``
    and their meanings (plus ``dropout``, ``dtype`` and the "adamw"/"rmsprop"
    solvers).  ``y`` may be 2-D for several targets.  See :mod:`pynn.sklearn`.

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

    def __init__(self, hidden_layer_sizes: Union[int, Sequence[int]] = (100,), activation: str = "relu", *,
                 loss: str = "squared_error", solver: str = "adam", alpha: float = 1e-4,
                 batch_size: Union[int, str] = "auto", learning_rate: str = "constant",
                 learning_rate_init: float = 1e-3, power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: Union[int, np.random.RandomState, None] = None, tol: float = 1e-4,
                 verbose: Union[bool, int] = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
                 n_iter_no_change: Union[int, float] = 10, max_fun: int = 15000, dropout: float = 0.0,
                 dtype: Optional[DTypeLike] = None) -> None:
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
                         warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
                         early_stopping=early_stopping, validation_fraction=validation_fraction, beta_1=beta_1,
                         beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
                         dropout=dropout, dtype=dtype)
        self.loss = loss

    def _is_classifier(self) -> bool:
        return False

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _checked_params(self) -> Tuple[Tuple[int, ...], str]:
        if self.loss != "squared_error":
            raise ValueError("loss must be 'squared_error' (scikit-learn's 'poisson' needs an exponential output, "
                             "which pynn does not have); got %r" % (self.loss,))
        return super()._checked_params()

    def _encode_targets(self, y: npt.NDArray[Any], reset: bool, incremental: bool, classes: Optional[ArrayLike]
                        ) -> Tuple[npt.NDArray[Any], int, str, str]:
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if not reset and y.shape[1] != self.n_outputs_:
            raise ValueError("y has %d target columns; the network was fitted on %d" % (y.shape[1], self.n_outputs_))
        # scikit-learn's gradient is that of half the squared error summed over the
        # targets; its reported loss averages them
        self._grad_scale = y.shape[1] / 2.0
        self._loss_scale = 0.5
        return y, y.shape[1], "linear", "mse"

    def _validation_score(self, X: Any, y: npt.NDArray[Any], sample_weight: Optional[FloatArray]) -> float:
        predicted = self._network_outputs(X)
        if not np.isfinite(predicted).all():  # as scikit-learn: NaN, not an error
            return np.nan
        return float(r2_score(y, predicted.astype(np.float64), sample_weight=sample_weight))

    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> PynnRegressor:
        """One epoch of training on (X, y), continuing from the current
        network.  ``sample_weight``: one weight >= 0 per row.  Returns self."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: ArrayLike) -> FloatArray:
        """Predictions, shape (n_samples,) for one target, else (n_samples, n_targets)."""
        P = self._outputs(X)
        return P[:, 0] if P.shape[1] == 1 else P
