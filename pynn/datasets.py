"""Small data sets generated on the spot (no download), for demos and tests."""
import numpy as np


def spirals(n_per_class=200, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms in 2-D, one per class: a classic problem that a
    straight line cannot separate but a small hidden layer can.

    Returns ``X`` (n_classes * n_per_class, 2) float64 and ``y`` int64 labels.
    """
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0.0, noise, n_per_class)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, k))
    return np.concatenate(X), np.concatenate(y).astype(np.int64)


def train_test_split(X, y, test_fraction=0.25, seed=0):
    """Shuffle and split (X, y) into (X_train, X_test, y_train, y_test)."""
    X, y = np.asarray(X), np.asarray(y)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
