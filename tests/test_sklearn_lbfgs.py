"""solver="lbfgs" in PynnClassifier / PynnRegressor (issue 14): pynn.LBFGS, full batch, minimising
scikit-learn's objective (its loss scale plus alpha/2 ||W||^2 / n on the weights only), with
max_iter as iterations and max_fun as evaluations, as scikit-learn means them.

Checked: loss_ is that objective recomputed by hand from the final weights; accuracy and R²
comparable to scikit-learn's own lbfgs MLP on the same data; the iteration and evaluation bounds
and the ConvergenceWarning; integer sample weights as repeated rows; partial_fit refused as
scikit-learn refuses it."""
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits, make_friedman1  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from pynn.sklearn import PynnClassifier, PynnRegressor  # noqa: E402


def _digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _quiet(estimator, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **kw)


def test_classifier_objective_and_accuracy():
    X, y = _digits()
    clf = _quiet(PynnClassifier(hidden_layer_sizes=(32,), solver="lbfgs", alpha=1e-2, max_iter=60,
                                random_state=0, dtype="float64"), X[:1200], y[:1200])
    W1, b1, W2, b2 = clf.network_.get_weights()
    z = np.maximum(X[:1200] @ W1 + b1, 0) @ W2 + b2
    z -= z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    objective = -log_p[np.arange(1200), y[:1200]].mean() + 0.5 * 1e-2 * ((W1 ** 2).sum() + (W2 ** 2).sum()) / 1200
    assert clf.loss_ == pytest.approx(objective, rel=1e-10)
    assert 1 <= clf.n_iter_ <= 60
    reference = _quiet(MLPClassifier(hidden_layer_sizes=(32,), solver="lbfgs", alpha=1e-2, max_iter=60,
                                     random_state=0), X[:1200], y[:1200])
    assert clf.score(X[1200:], y[1200:]) > reference.score(X[1200:], y[1200:]) - 0.05


def test_regressor_objective_and_r2():
    X, y = make_friedman1(n_samples=400, noise=0.5, random_state=0)
    y = (y - y.mean()) / y.std()
    reg = _quiet(PynnRegressor(hidden_layer_sizes=(16,), solver="lbfgs", alpha=1e-3, max_iter=200, random_state=0,
                               dtype="float64"), X[:300], y[:300])
    W1, b1, W2, b2 = reg.network_.get_weights()
    pred = (np.maximum(X[:300] @ W1 + b1, 0) @ W2 + b2)[:, 0]
    objective = 0.5 * np.mean((pred - y[:300]) ** 2) + 0.5 * 1e-3 * ((W1 ** 2).sum() + (W2 ** 2).sum()) / 300
    assert reg.loss_ == pytest.approx(objective, rel=1e-10)
    reference = _quiet(MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", alpha=1e-3, max_iter=200,
                                    random_state=0), X[:300], y[:300])
    assert reg.score(X[300:], y[300:]) > reference.score(X[300:], y[300:]) - 0.1


def test_iteration_and_evaluation_bounds():
    X, y = _digits()
    clf = PynnClassifier(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge after 3 iterations"):
        clf.fit(X[:300], y[:300])
    assert clf.n_iter_ == 3
    few = _quiet(PynnClassifier(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=100, max_fun=7, random_state=0),
                 X[:300], y[:300])
    assert few.network_.optimizer.history.func_evals <= 7


def test_integer_weights_are_repeated_rows():
    X, y = _digits()
    X, y = X[:200], y[:200]
    w = np.random.default_rng(0).integers(1, 4, size=200)
    a = _quiet(PynnClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5, random_state=0, dtype="float64"),
               X, y, sample_weight=w)
    b = _quiet(PynnClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5, random_state=0, dtype="float64"),
               np.repeat(X, w, axis=0), np.repeat(y, w))
    for wa, wb in zip(a.network_.get_weights(), b.network_.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-7, atol=1e-9)


def test_partial_fit_is_refused_as_scikit_learn_does():
    X, y = _digits()
    for estimator in (PynnClassifier(solver="lbfgs"), MLPClassifier(solver="lbfgs")):
        with pytest.raises(AttributeError, match="partial_fit"):  # scikit-learn hides the method
            estimator.partial_fit(X[:50], y[:50], classes=np.arange(10))
    with pytest.raises(AttributeError, match="only available for stochastic optimizers"):
        PynnClassifier(solver="lbfgs").partial_fit(X[:50], y[:50], classes=np.arange(10))


def test_the_small_data_benchmark_runs(capsys):
    import os
    import runpy

    path = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "lbfgs_small.py")
    module = runpy.run_path(path)
    assert module["main"](["--seeds", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["data", "set", "pynn"] and len(lines) == 5
    assert all(line.count(" ms") == 4 for line in lines[1:])
