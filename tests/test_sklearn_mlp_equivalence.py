"""PynnClassifier / PynnRegressor against scikit-learn's MLPClassifier /
MLPRegressor, number for number.

Both estimators start from the same weights (a warm start: one fit sets
everything up, then the weights and the history are replaced on both), train
with shuffle=False, and must reach the same coefficients, losses and counters:
the parameters mean what they mean in scikit-learn (loss scale, alpha on the
weights only, the learning rate schedules, momentum, Adam's epsilon,
sample_weight), although pynn's Network keeps PyTorch's definitions.
"""
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import scipy.sparse as sp  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from pynn.sklearn import PynnClassifier, PynnRegressor  # noqa: E402

TASKS = ["multiclass", "binary", "multilabel", "regression", "multi-output regression"]

SOLVERS = {
    "sgd": dict(solver="sgd", momentum=0.0, learning_rate_init=0.1),
    "sgd-momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.05),
    "sgd-nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate_init=0.05),
    "sgd-invscaling": dict(solver="sgd", momentum=0.9, learning_rate="invscaling", power_t=0.3,
                           learning_rate_init=0.2),
    # tol=1e9: no epoch improves, so every second epoch divides the rate by 5
    "sgd-adaptive": dict(solver="sgd", momentum=0.5, learning_rate="adaptive", tol=1e9, n_iter_no_change=1,
                         learning_rate_init=0.1),
    "adam": dict(solver="adam", learning_rate_init=0.01),
    # a large epsilon shows where it is added (scikit-learn: to sqrt(v) before the bias correction)
    "adam-epsilon": dict(solver="adam", learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-3),
}


def data(task, n=53, seed=0):
    """(X, y, scikit-learn's class, pynn's class) for a task."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    if task == "multiclass":
        return X, np.array(["a", "b", "c"])[rng.randint(0, 3, n)], MLPClassifier, PynnClassifier
    if task == "binary":
        return X, rng.randint(0, 2, n), MLPClassifier, PynnClassifier
    if task == "multilabel":
        return X, (rng.uniform(size=(n, 3)) > 0.5).astype(int), MLPClassifier, PynnClassifier
    if task == "regression":
        return X, X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=n), MLPRegressor, PynnRegressor
    return X, rng.normal(size=(n, 3)), MLPRegressor, PynnRegressor


def start_from(est, X, y, weights, **fit_params):
    """Fit est once (to set up what a warm start continues), then give it
    ``weights`` ([W1, b1, W2, b2, ...]) and a fresh history."""
    est.set_params(max_iter=1, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, **fit_params)
    if hasattr(est, "network_"):
        est.network_.set_weights(weights)
    else:
        est.coefs_ = [np.array(w, dtype=X.dtype) for w in weights[0::2]]
        est.intercepts_ = [np.array(b, dtype=X.dtype) for b in weights[1::2]]
    est.t_ = 0
    est.loss_curve_ = []
    est.best_loss_ = np.inf
    est._no_improvement_count = 0


def initial_weights(sizes, seed=1):
    rng = np.random.RandomState(seed)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights += [rng.normal(scale=0.5, size=(n_in, n_out)), rng.normal(scale=0.5, size=n_out)]
    return weights


def pair(task, epochs, sample_weight=None, X=None, **params):
    """scikit-learn's and pynn's estimators after the same training from the same weights."""
    X_, y, sk_class, pynn_class = data(task)
    X = X_ if X is None else X
    settings = dict(hidden_layer_sizes=(5,), activation="tanh", batch_size=10, shuffle=False, random_state=0,
                    alpha=0.1, tol=0.0, n_iter_no_change=1000)
    settings.update(params)
    theirs, ours = sk_class(**settings), pynn_class(**settings)
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    n_out = {"multiclass": 3, "binary": 1, "regression": 1}.get(task) or y.shape[1]
    weights = initial_weights([X.shape[1], 5, n_out])
    for est in (theirs, ours):
        start_from(est, X, y, weights, **fit_params)
        est.set_params(max_iter=epochs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y, **fit_params)
    return theirs, ours, X, y


def assert_same(theirs, ours, X, atol=1e-9):
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(b, a, rtol=0, atol=atol)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-9)
    assert (ours.n_iter_, ours.t_, ours._no_improvement_count) == (theirs.n_iter_, theirs.t_,
                                                                  theirs._no_improvement_count)
    if hasattr(theirs, "classes_"):
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=0, atol=1e-9)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    else:
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=0, atol=1e-9)


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("task", TASKS)
def test_same_training_as_scikit_learn(task, solver):
    """alpha=0.1 on batches of 10 of 53 rows (the last one smaller): the penalty,
    its batch size and its absence on the biases all show in the numbers."""
    theirs, ours, X, _ = pair(task, epochs=8 if solver == "sgd-adaptive" else 6, **SOLVERS[solver])
    assert_same(theirs, ours, X)


@pytest.mark.parametrize("activation", ["relu", "logistic", "identity"])
def test_same_training_with_each_of_scikit_learns_activations(activation):
    theirs, ours, X, _ = pair("multiclass", epochs=4, activation=activation, **SOLVERS["sgd-nesterov"])
    assert_same(theirs, ours, X)


@pytest.mark.parametrize("solver", ["sgd-nesterov", "sgd-invscaling", "adam"])
@pytest.mark.parametrize("task", TASKS)
def test_same_training_with_sample_weight(task, solver):
    """Weights 0..3 (some batches weigh more than others, rows of weight 0 count for nothing):
    each batch's loss is the weighted mean and the penalty is divided by the batch's total weight."""
    weights = np.random.RandomState(2).randint(0, 4, size=53).astype(float)
    theirs, ours, X, _ = pair(task, epochs=5, sample_weight=weights, **SOLVERS[solver])
    assert_same(theirs, ours, X)


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.csr_array])
def test_same_training_on_sparse_X(container):
    X, _, _, _ = data("multiclass")
    X = np.where(np.abs(X) > 1, X, 0.0)  # mostly zeros
    theirs, ours, X_sparse, _ = pair("multiclass", epochs=4, X=container(X), **SOLVERS["adam"])
    assert_same(theirs, ours, X_sparse)
    dense_theirs, dense_ours, _, _ = pair("multiclass", epochs=4, X=X, **SOLVERS["adam"])
    for a, b in zip(dense_ours.coefs_, ours.coefs_):
        np.testing.assert_array_equal(a, b)  # the same batches, made dense one at a time


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_partial_fit_continues_like_scikit_learn(task):
    """fit, then partial_fit calls: the optimizer (momentum, the invscaling rate at
    t_ samples seen) carries on from call to call, as in scikit-learn."""
    theirs, ours, X, y = pair(task, epochs=2, **SOLVERS["sgd-invscaling"])
    for est in (theirs, ours):
        est.set_params(warm_start=False)
        for _ in range(3):
            est.partial_fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 1
    assert_same(theirs, ours, X)


def test_float32_like_scikit_learn():
    X, y, _, _ = data("multiclass")
    theirs, ours, X32, _ = pair("multiclass", epochs=4, X=X.astype(np.float32), **SOLVERS["adam"])
    assert ours.network_.dtype == np.float32
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=0, atol=2e-5)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    proba = ours.predict_proba(X32)
    assert proba.dtype == theirs.predict_proba(X32).dtype == np.float32
    np.testing.assert_allclose(proba, theirs.predict_proba(X32), atol=1e-5)
