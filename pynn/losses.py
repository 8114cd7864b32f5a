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

from ._typing import ArrayLike, FloatArray, IntArray
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


def check_values(loss: str, Y: Optional[FloatArray], labels: Optional[IntArray], n_classes: int) -> None:
    """The value checks the C core makes while it reads targets, for the
    numpy backend: finite, probabilities in [0, 1], labels in range."""
    if Y is not None:
        if not np.isfinite(Y).all():
            raise nonfinite_error("y")
        if loss in FUSED and ((Y < 0).any() or (Y > 1).any()):
            raise range_error(loss)
    if labels is not None and labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise label_error(labels, n_classes)


def metrics(loss: str, mean_loss: float, correct: float, n_rows: int, n_out: int) -> Dict[str, float]:
    """{"loss"} plus "accuracy" for the classifiers: ``correct`` counts rows
    (cross-entropy) or elements (binary cross-entropy, n_out per row)."""
    result = {"loss": float(mean_loss)}
    if loss == "cross_entropy":
        result["accuracy"] = float(correct) / n_rows
    elif loss == "binary_cross_entropy":
        result["accuracy"] = float(correct) / (n_rows * n_out)
    return result


def range_error(loss: str) -> ValueError:
    return ValueError("y must hold probabilities in [0, 1] for loss %r" % loss)


def label_error(labels: IntArray, n_classes: int) -> ValueError:
    return ValueError("class labels in y must be in [0, %d); got values from %s to %s"
                      % (n_classes, labels.min(), labels.max()))


def numpy_loss(loss: str, out: FloatArray, Y: Optional[FloatArray], labels: Optional[IntArray],
               want_grad: bool = True) -> Tuple[float, Optional[FloatArray], float]:
    """The numpy twin of pynn_loss_* in csrc/losses.inc.

    ``out`` is (N, K): logits for the fused losses, outputs otherwise.
    Returns ``(mean_loss, grad or None, n_correct)`` with the loss as a Python
    float accumulated in float64 and the gradient in out's dtype.
    """
    dt = out.dtype.type
    n_rows, k = out.shape
    if loss in ("mse", "mae", "huber"):
        assert Y is not None  # only cross-entropy takes class labels
        d = out - Y
        dd = d.astype(np.float64)
        n = d.size
        g: FloatArray
        if loss == "mse":
            total, g = (dd * dd).sum(), d
        elif loss == "mae":  # the gradient's sign is 0 at a NaN difference, as in PyTorch
            total, g = np.abs(dd).sum(), (d > 0).astype(out.dtype) - (d < 0)
        else:
            small = np.abs(dd) <= 1.0
            total = np.where(small, 0.5 * dd * dd, np.abs(dd) - 0.5).sum()
            g = np.clip(d, dt(-1), dt(1))
        scale = dt((2.0 if loss == "mse" else 1.0) / n)
        return float(total) / n, (scale * g if want_grad else None), 0.0
    if loss == "binary_cross_entropy":
        assert Y is not None
        z, y = out.astype(np.float64), Y.astype(np.float64)
        total = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).sum()
        correct = float(((out > 0) == (Y > dt(0.5))).sum())
        grad = None
        if want_grad:
            from .activations import sigmoid
            grad = (sigmoid(out) - Y) * dt(1.0 / out.size)
        return float(total) / out.size, grad, correct
    # cross_entropy, from the logits via log-sum-exp
    m = out.max(axis=1, keepdims=True)
    e = np.exp(out - m)
    s = e.sum(axis=1, keepdims=True)
    lse = m.astype(np.float64) + np.log(s.astype(np.float64))
    rows = np.arange(n_rows)
    predicted = out.argmax(axis=1)
    if labels is not None:
        total = (lse[:, 0] - out[rows, labels].astype(np.float64)).sum()
        correct = float((predicted == labels).sum())
    else:
        assert Y is not None  # probability rows
        total = (Y.astype(np.float64) * (lse - out.astype(np.float64))).sum()
        correct = float((predicted == Y.argmax(axis=1)).sum())
    grad = None
    if want_grad:
        p = e / s
        if labels is not None:
            p[rows, labels] -= 1
            grad = p * dt(1.0 / n_rows)
        else:
            assert Y is not None
            grad = (p * Y.sum(axis=1, keepdims=True, dtype=out.dtype) - Y) * dt(1.0 / n_rows)
    return float(total) / n_rows, grad, correct
