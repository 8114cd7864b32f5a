"""Small data sets generated on the spot (no download), for demos and tests."""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np
import numpy.typing as npt

from ._typing import ArrayLike, Float64Array, IntArray


def spirals(n_per_class: int = 200, n_classes: int = 3, noise: float = 0.2,
            seed: Optional[int] = 0) -> Tuple[Float64Array, IntArray]:
    """Interleaved spiral arms in 2-D, one per class: a classic problem that a
    straight line cannot separate but a small hidden layer can.

    Returns ``X`` (n_classes * n_per_class, 2) float64 and ``y`` int64 labels
    (class by class: shuffle before taking a ``validation_split``).

    >>> import numpy as np
    >>> import pynn
    >>> X, y = pynn.datasets.spirals(n_per_class=100, n_classes=3, seed=0)
    >>> X.shape, y.shape, np.bincount(y).tolist()
    ((300, 2), (300,), [100, 100, 100])
    """
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0.0, noise, n_per_class)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, k))
    return np.concatenate(X), np.concatenate(y).astype(np.int64)


def train_test_split(X: ArrayLike, y: ArrayLike, test_fraction: float = 0.25, seed: Optional[int] = 0
                     ) -> Tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    """Shuffle and split (X, y) into (X_train, X_test, y_train, y_test),
    ``test_fraction`` of the rows (rounded) held out for testing.

    >>> import pynn
    >>> X, y = pynn.datasets.spirals(n_per_class=100, seed=0)
    >>> X_train, X_test, y_train, y_test = pynn.datasets.train_test_split(X, y, test_fraction=0.25, seed=0)
    >>> len(X_train), len(X_test)
    (225, 75)
    """
    X, y = np.asarray(X), np.asarray(y)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
