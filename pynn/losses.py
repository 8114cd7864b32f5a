"""Loss functions: how far the predictions are from the targets.

Each is the mean over the batch, defined as PyTorch defines it:

==========================  ====================================================
``mse``                     mean of (p - y)^2 over all elements (MSELoss)
``mae``                     mean of |p - y| (L1Loss)
``huber``                   mean of 0.5 d^2 if |d| <= 1 else |d| - 0.5 (HuberLoss)
``binary_cross_entropy``    sigmoid output; BCEWithLogitsLoss on the logits z
``cross_entropy``           softmax output; CrossEntropyLoss on the logits z
==========================  ====================================================

The two cross-entropies are computed from the logits (the last layer's values
before its activation): the loss is then stable for any z, and its gradient
with respect to z is simply ``(p - y) / n``.

>>> import numpy as np
>>> import pynn
>>> X, y = np.eye(3), np.array([0, 1, 1])
>>> net = pynn.Network([pynn.Dense(3, 2, "softmax")], loss="cross_entropy", dtype="float64", seed=0)
>>> p = net.predict(X)
>>> loss = -np.mean(np.log(p[np.arange(3), y]))         # cross-entropy by its definition
>>> bool(abs(net.evaluate(X, y)["loss"] - loss) < 1e-12)
True
>>> pynn.Network([pynn.Dense(3, 2, "sigmoid")], loss="cross_entropy")
Traceback (most recent call last):
    ...
ValueError: loss 'cross_entropy' needs a softmax last layer; the last layer's activation is 'sigmoid'
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np
import numpy.typing as npt

from ._typing import ArrayLike, Float64Array, FloatArray, IntArray
from ._validation import aligned_and_contiguous, as_array, kernel_array, nonfinite_error

#: name -> code in the C core (enum pynn_loss in csrc/pynn.h)
CODES: Dict[str, int] = {"mse": 0, "mae": 1, "huber": 2, "binary_cross_entropy": 3, "cross_entropy": 4}
NAMES: Tuple[str, ...] = tuple(CODES)
_INT64 = np.dtype(np.int64)
FUSED = ("binary_cross_entropy", "cross_entropy")  # computed on the logits
CLASSIFIERS = FUSED


def check_pairing(loss: object, last_activation: str) -> None:
    """Raise ValueError unless ``loss`` can follow a last layer with ``last_activation``."""
    if not isinstance(loss, str) or loss not in CODES:
        raise ValueError("loss must be one of %s; got %r" % (", ".join(NAMES), loss))
    if loss == "cross_entropy" and last_activation != "softmax":
        raise ValueError("loss 'cross_entropy' needs a softmax last layer; the last layer's activation is %r"
                         % last_activation)
    if loss == "binary_cross_entropy" and last_activation != "sigmoid":
        raise ValueError("loss 'binary_cross_entropy' needs a sigmoid last layer; the last layer's "
                         "activation is %r" % last_activation)
    if last_activation == "softmax" and loss != "cross_entropy":
        raise ValueError("a softmax last layer needs loss 'cross_entropy'; got loss %r" % loss)


def prepare_targets(loss: str, y: ArrayLike, n_rows: int, n_out: int, dtype: np.dtype[Any]
                    ) -> Tuple[Optional[FloatArray], Optional[IntArray]]:
    """Convert targets for ``loss`` (shapes and types are checked here; values
    by the backends, see ``check_values``).

    Returns ``(Y, labels)``: for cross-entropy with integer class labels,
    ``Y`` is None and ``labels`` an int64 array (N,); otherwise ``Y`` is a
    C-contiguous array of ``dtype`` with shape (N, n_out) and ``labels`` None.
    """
    if type(y) is np.ndarray and y.shape[:1] == (n_rows,) and aligned_and_contiguous(y):
        # fast paths: already what the kernels read
        if y.ndim == 1 and y.dtype is _INT64 and loss == "cross_entropy":
            return None, y
        if y.ndim == 2 and y.dtype is dtype and y.shape[1] == n_out:
            return y, None
    if isinstance(y, np.ndarray) and y.dtype.kind in "USO" or isinstance(y, (list, tuple)) and y \
            and isinstance(y[0], str):
        raise TypeError("y holds strings (e.g. %r): encode the classes as integers 0 .. K-1 first (labels, classes "
                        "= np.unique(y, return_inverse=True) gives them), or use pynn.sklearn.PynnClassifier, "
                        "which takes any labels" % (str(np.asarray(y).ravel()[0]),))
    arr = as_array(y, "y")
    if arr.shape[:1] != (n_rows,):
        raise ValueError("y must have %d rows, one per row of X; got shape %s" % (n_rows, arr.shape))
    if loss == "cross_entropy" and arr.ndim == 1:
        return None, _class_labels(arr)
    if arr.ndim == 1 and n_out == 1:
        arr = arr.reshape(n_rows, 1)
    if arr.ndim != 2 or arr.shape[1] != n_out:
        expected = "(N,) class labels or (N, %d)" % n_out if loss == "cross_entropy" else (
            "(N,) or (N, 1)" if n_out == 1 else "(N, %d)" % n_out)
        raise ValueError("y must have shape %s for loss %r; got shape %s" % (expected, loss, arr.shape))
    return kernel_array(arr, dtype), None


def _class_labels(arr: npt.NDArray[Any]) -> IntArray:
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or (arr != np.round(arr)).any():
            raise ValueError("y must hold integer class labels for loss 'cross_entropy'")
    elif arr.dtype.kind not in "iub":
        raise TypeError("y must hold integer class labels; got dtype %s" % arr.dtype)
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError("class labels in y are too large")
    return kernel_array(arr, np.int64)


def prepare_weights(sample_weight: Optional[ArrayLike], n_rows: int, dtype: np.dtype[Any]) -> Optional[FloatArray]:
    """``sample_weight`` checked (one real, finite, non-negative value per row,
    not all zero) and converted to what the kernels read; None stays None."""
    if sample_weight is None:
        return None
    arr = as_array(sample_weight, "sample_weight")
    if arr.shape != (n_rows,):
        raise ValueError("sample_weight must have shape (%d,), one weight per row of X; got shape %s"
                         % (n_rows, arr.shape))
    values = arr.astype(np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        raise weights_error()
    if n_rows and not values.any():
        raise ValueError("sample_weight must not be all zero (the weighted mean would be 0/0)")
    with np.errstate(over="ignore"):
        weights = kernel_array(arr, dtype)
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight has values too large for %s" % dtype)
    return weights


def class_weights(loss: str, Y: Optional[FloatArray], labels: Optional[IntArray], n_out: int,
                  class_weight: Any) -> Float64Array:
    """Per-row weights from ``class_weight``: a dict {label: weight} (labels
    missing from it weigh 1) or "balanced" (n_rows / (n_classes * count of
    the row's class), as scikit-learn).  Class labels: the int labels of
    cross-entropy, or the 0/1 targets of a one-output binary_cross_entropy."""
    if labels is None:
        if loss == "binary_cross_entropy" and n_out == 1 and Y is not None and np.isin(Y, (0, 1)).all():
            labels = Y[:, 0].astype(np.int64)
        else:
            raise ValueError("class_weight needs class labels: integer labels with loss 'cross_entropy', or 0/1 "
                             "targets with a one-output 'binary_cross_entropy' (use sample_weight otherwise)")
    n_classes = max(n_out, 2)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError("class_weight must be a dict {label: weight} or 'balanced'; got %r" % (class_weight,))
        counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
        present = counts > 0
        table = np.ones(n_classes)
        table[present] = labels.size / (present.sum() * counts[present])
    elif isinstance(class_weight, dict):
        table = np.ones(n_classes)
        for label, weight in class_weight.items():
            if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < n_classes:
                raise ValueError("class_weight has label %r; the labels are 0 .. %d" % (label, n_classes - 1))
            if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)) \
                    or not np.isfinite(weight) or weight < 0:
                raise ValueError("class_weight[%r] must be a finite number >= 0; got %r" % (label, weight))
            table[label] = float(weight)
    else:
        raise TypeError("class_weight must be a dict {label: weight} or 'balanced'; got %r" % (class_weight,))
    return table[labels]


def weights_error() -> ValueError:
    return ValueError("sample_weight must hold finite numbers >= 0")


def check_values(loss: str, Y: Optional[FloatArray], labels: Optional[IntArray], n_classes: int,
                 weights: Optional[FloatArray] = None) -> None:
    """The value checks the C core makes while it reads targets, for the
    numpy backend: finite, probabilities in [0, 1], labels in range,
    weights finite and >= 0."""
    if Y is not None:
        if not np.isfinite(Y).all():
            raise nonfinite_error("y")
        if loss in FUSED and ((Y < 0).any() or (Y > 1).any()):
            raise range_error(loss, Y)
    if labels is not None and labels.size:
        # int64 labels in one pass: a negative one read as unsigned is beyond any class count
        if (labels.view(np.uint64).max() >= n_classes if labels.dtype == np.int64
                else labels.min() < 0 or labels.max() >= n_classes):
            raise label_error(labels, n_classes)
    if weights is not None and not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise weights_error()


def metrics(loss: str, mean_loss: float, correct: float, n_rows: float, n_out: int) -> Dict[str, float]:
    """{"loss"} plus "accuracy" for the classifiers: ``correct`` counts rows
    (cross-entropy) or elements (binary cross-entropy, n_out per row), each
    by its weight when there are sample weights (``n_rows`` is then their sum)."""
    result = {"loss": float(mean_loss)}
    if loss == "cross_entropy":
        result["accuracy"] = float(correct) / n_rows
    elif loss == "binary_cross_entropy":
        result["accuracy"] = float(correct) / (n_rows * n_out)
    return result


def regression_metrics(P: npt.NDArray[Any], Y: npt.NDArray[Any], weights: Optional[npt.NDArray[Any]] = None
                       ) -> Dict[str, float]:
    """{"mae", "r2"} of predictions P against targets Y, both (N, K), in
    float64: the mean absolute error over all elements, and R² as
    scikit-learn's r2_score (each output's, averaged; 1 for a constant
    target predicted exactly, else 0 there), rows weighted by ``weights``."""
    P, Y = P.astype(np.float64), Y.astype(np.float64)
    w = None if weights is None else weights.astype(np.float64)
    mae = float(np.average(np.abs(P - Y).mean(axis=1), weights=w))
    residual = np.average((P - Y) ** 2, axis=0, weights=w)
    spread = np.average((Y - np.average(Y, axis=0, weights=w)) ** 2, axis=0, weights=w)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(spread > 0, 1 - residual / np.where(spread > 0, spread, 1), np.where(residual == 0, 1.0, 0.0))
    return {"mae": mae, "r2": float(r2.mean())}


def range_error(loss: str, Y: Optional[FloatArray] = None) -> ValueError:
    """y outside [0, 1] for a cross-entropy; says what it holds, and what to
    use instead when it looks like class labels."""
    message = "y must hold probabilities in [0, 1] for loss %r" % loss
    if Y is not None and Y.size and np.isfinite(Y).all():
        message += "; it holds values from %g to %g" % (Y.min(), Y.max())
        values = np.unique(Y)
        if values.size <= 1000 and (values == np.round(values)).all() and values.min() >= 0:
            message += (" (%d distinct integers: class labels?). For more than two classes use a softmax last "
                        "layer with loss 'cross_entropy' and integer labels 0 .. K-1" % values.size)
    return ValueError(message)


def label_error(labels: IntArray, n_classes: int) -> ValueError:
    return ValueError("class labels in y must be in [0, %d); got values from %s to %s"
                      % (n_classes, labels.min(), labels.max()))


def numpy_loss(loss: str, out: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
               weights: Optional[FloatArray] = None, want_grad: bool = True
               ) -> Tuple[float, Optional[FloatArray], float]:
    """The numpy twin of pynn_loss_* in csrc/losses.inc.

    ``out`` is (N, K): logits for the fused losses, outputs otherwise.
    ``weights`` (N,) or None: the weighted mean of the rows' losses, as in C.
    Returns ``(mean_loss, grad or None, n_correct)`` with the loss as a Python
    float accumulated in float64 and the gradient in out's dtype.
    """
    n_rows, k = out.shape
    if weights is None and loss == "cross_entropy":
        return _cross_entropy(out, Y, labels, None, float(n_rows), want_grad)
    dt = out.dtype.type
    # the weighted mean's denominator: unit * (sum of weights, or rows)
    unit = 1 if loss == "cross_entropy" else k
    w: Optional[Float64Array] = None
    if weights is None:
        denom = float(unit * n_rows)
        if loss == "mse":  # Σ d² in float64 in one pass (a dot product)
            assert Y is not None
            d = out - Y
            flat = (d if d.dtype == np.float64 else d.astype(np.float64)).reshape(-1)  # (read before d changes)
            value = float(flat.dot(flat)) / denom
            if want_grad:
                d *= _scale(dt, 2.0, denom)
                return value, d, 0.0
            return value, None, 0.0
    else:
        w = weights.astype(np.float64)
        denom = float(unit * w.sum())

    def mean(per_row: Float64Array) -> float:
        total = per_row.sum() if w is None else (w * per_row).sum()
        return float(total) / denom if denom > 0 else 0.0

    def scale(c: float) -> Any:
        """Each row's gradient factor c w_i / denom, rounded once to the dtype (a column)."""
        return _scale(dt, c, denom, w)

    if loss in ("mse", "mae", "huber"):
        assert Y is not None  # only cross-entropy takes class labels
        d = out - Y
        dd = d.astype(np.float64)
        g: FloatArray
        if loss == "mse":
            e, g = dd * dd, d
        elif loss == "mae":  # the gradient's sign is 0 at a NaN difference, as in PyTorch
            e, g = np.abs(dd), (d > 0).astype(out.dtype) - (d < 0)
        else:
            e = np.where(np.abs(dd) <= 1.0, 0.5 * dd * dd, np.abs(dd) - 0.5)
            g = np.clip(d, dt(-1), dt(1))
        value = float(e.sum()) / denom if w is None else mean(e.sum(axis=1))
        return value, (scale(2.0 if loss == "mse" else 1.0) * g if want_grad else None), 0.0
    if loss == "binary_cross_entropy":
        assert Y is not None
        z, y = out.astype(np.float64), Y.astype(np.float64)
        e = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        right = ((out > 0) == (Y > dt(0.5))).sum(axis=1)
        correct = float(right.sum() if w is None else (w * right).sum())
        value = float(e.sum()) / denom if w is None else mean(e.sum(axis=1))
        grad = None
        if want_grad:
            from .activations import sigmoid
            grad = (sigmoid(out) - Y) * scale(1.0)
        return value, grad, correct
    return _cross_entropy(out, Y, labels, w, denom, want_grad)


def _scale(dt: Any, c: float, denom: float, w: Optional[Float64Array] = None) -> Any:
    """Each row's gradient factor c w_i / denom, rounded once to the dtype
    (a column), or c / denom without weights (a scalar)."""
    if not denom > 0:
        return dt(0)
    if w is None:
        return dt(c / denom)
    return ((c * w) / denom).astype(dt)[:, None]


def _cross_entropy(out: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
                   w: Optional[Float64Array], denom: float, want_grad: bool) -> Tuple[float, Optional[FloatArray], float]:
    """numpy_loss for cross-entropy, from the logits via log-sum-exp (the
    sums in float64).  The rows' elements are picked through out's flat view
    (row starts plus column), cheaper at small sizes than a fancy index or a
    reduction over the rows' few columns; each row's maximum is the element
    argmax picks (a NaN where the row has one, as max gives)."""
    n_rows, k = out.shape
    predicted = out.argmax(axis=1)
    starts = np.arange(0, n_rows * k, k)
    flat = out.reshape(-1)
    m = flat[starts + predicted]  # (N,): the rows' sums and log-sum-exps are vectors, cheaper than columns
    e = out - m[:, None]
    np.exp(e, out=e)
    s = np.add.reduce(e, 1)
    lse = np.log(s if s.dtype == np.float64 else s.astype(np.float64))
    lse += m  # float32 logits widen exactly
    if labels is not None:
        picked = starts
        picked += labels  # each row's label's element
        per_row = lse - flat[picked]
        hits = predicted == labels
    else:
        assert Y is not None  # probability rows
        per_row = (Y.astype(np.float64) * (lse[:, None] - out)).sum(axis=1)
        hits = predicted == Y.argmax(axis=1)
    correct = float(np.count_nonzero(hits) if w is None else (w * hits).sum())
    grad = None
    if want_grad:
        p = np.divide(e, s[:, None], out=e)
        if labels is not None:
            p.reshape(-1)[picked] -= 1
            p *= _scale(out.dtype.type, 1.0, denom, w)
            grad = p
        else:
            assert Y is not None
            grad = (p * Y.sum(axis=1, keepdims=True, dtype=out.dtype) - Y) * _scale(out.dtype.type, 1.0, denom, w)
    total = np.add.reduce(per_row) if w is None else (w * per_row).sum()
    return (float(total) / denom if denom > 0 else 0.0), grad, correct
