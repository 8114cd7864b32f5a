"""pynn.sklearn: scikit-learn's own estimator checks, and the estimators'
numbers checked against computations made here (by hand from the fitted
weights, with scikit-learn's metrics, or against a second fit)."""
import pickle
import warnings
from unittest import SkipTest

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from scipy.special import erf, expit, softmax  # noqa: E402  (scipy comes with scikit-learn)
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import (load_breast_cancer, load_digits, load_iris, make_blobs,  # noqa: E402
                              make_moons, make_multilabel_classification)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import pynn  # noqa: E402
from pynn.sklearn import PynnClassifier, PynnRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ---- scikit-learn's estimator checks, none skipped ----------------------------------
#
# Small networks keep the ~120 checks fast (sparse X and sample_weight checks
# included).  The checked instances keep the default dtype=None: the network
# follows X, float64 in most checks (in float32 the *numpy* backend would fail
# check_methods_subset_invariance: numpy's float32 matmul rounds a row
# differently alone than inside a batch, by ~1e-7 relative).

CHECKED = [
    PynnClassifier(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01),
    PynnRegressor(hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01),
]


@parametrize_with_checks(CHECKED)
def test_scikit_learn_estimator_checks(estimator, check, monkeypatch):
    # check_array_api_input (numpy namespace) runs only with SCIPY_ARRAY_API set
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    try:
        check(estimator)
    except SkipTest as exc:
        if "pandas is not installed" in str(exc):
            pytest.skip("pandas is needed for this scikit-learn check: pip install pandas")
        pytest.fail("scikit-learn skipped this check: %s" % exc)


# ---- helpers ------------------------------------------------------------------------

def forward(est, X):
    """The fitted network's output layer before its softmax/sigmoid, in float64,
    from coefs_ / intercepts_ (scikit-learn's layout: W of shape (n_in, n_out))."""
    hidden = {"linear": lambda z: z, "sigmoid": expit, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
              "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
              "gelu": lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2)))}
    act = {"identity": "linear", "logistic": "sigmoid"}.get(est.activation, est.activation)
    a = np.asarray(X, dtype=np.float64)
    Ws = [w.astype(np.float64) for w in est.coefs_]
    bs = [b.astype(np.float64) for b in est.intercepts_]
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = a @ W + b
        a = z if i == len(Ws) - 1 else hidden[act](z)
    return a


def r2(y, p):
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    return 1 - ((y - p) ** 2).sum(axis=0) / ((y - y.mean(axis=0)) ** 2).sum(axis=0)


def scaled_iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# ---- pipelines, grid search ---------------------------------------------------------

def test_pipeline_with_standard_scaler():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    params = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", PynnClassifier(**params))]).fit(X_train, y_train)
    # the same two steps done by hand
    scaler = StandardScaler().fit(X_train)
    clf = PynnClassifier(**params).fit(scaler.transform(X_train), y_train)
    assert np.array_equal(pipe.predict(X_test), clf.predict(scaler.transform(X_test)))
    np.testing.assert_array_equal(pipe.predict_proba(X_test), clf.predict_proba(scaler.transform(X_test)))
    accuracy = np.mean(pipe.predict(X_test) == y_test)
    assert accuracy >= 0.93
    assert pipe.score(X_test, y_test) == pytest.approx(accuracy)


def test_grid_search_over_hidden_layer_sizes():
    X, y = make_moons(300, noise=0.15, random_state=0)
    base = PynnClassifier(learning_rate_init=0.03, max_iter=150, random_state=0)
    grid = [(1,), (32,)]
    search = GridSearchCV(base, {"hidden_layer_sizes": grid}, cv=3).fit(X, y)
    # one hidden unit cannot bend the boundary around two moons; 32 can
    assert search.best_params_ == {"hidden_layer_sizes": (32,)}
    assert search.best_score_ >= 0.95
    for sizes, mean_score in zip(grid, search.cv_results_["mean_test_score"]):
        by_hand = cross_val_score(clone(base).set_params(hidden_layer_sizes=sizes), X, y, cv=3)
        assert mean_score == pytest.approx(by_hand.mean(), abs=1e-12)
    assert search.best_estimator_.network_.layers[0].n_out == 32


# ---- classification -----------------------------------------------------------------

def test_digits_accuracy():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), PynnClassifier(hidden_layer_sizes=(64,), learning_rate_init=0.01,
                                                           random_state=0))
    model.fit(X_train, y_train)
    predicted = model.predict(X_test)
    assert np.mean(predicted == y_test) >= 0.95
    clf = model[-1]
    assert list(clf.classes_) == list(range(10))
    assert clf.network_.layers[-1].activation == "softmax" and clf.network_.loss == "cross_entropy"
    assert clf.n_iter_ < clf.max_iter  # stopped on the tol rule, not max_iter


@pytest.mark.parametrize("activation, dropout", [(a, 0.0) for a in ["relu", "tanh", "logistic", "identity",
                                                                     "leaky_relu", "gelu"]] + [("relu", 0.3)])
def test_probabilities_are_the_networks_outputs(activation, dropout):
    X, y = scaled_iris()
    clf = PynnClassifier(hidden_layer_sizes=(8, 6), activation=activation, max_iter=30, random_state=0,
                         dropout=dropout).fit(X, y)  # with dropout: the outputs use none
    Z = forward(clf, X)
    np.testing.assert_allclose(clf.decision_function(X), Z, atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(Z, axis=1), atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    assert np.array_equal(clf.predict(X), clf.classes_[Z.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)))


def test_binary_uses_one_sigmoid_unit():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    labels = np.where(y == 1, "benign", "malignant")
    clf = PynnClassifier(hidden_layer_sizes=(8,), max_iter=50, learning_rate_init=0.01, random_state=0)
    clf.fit(X, labels)
    assert list(clf.classes_) == ["benign", "malignant"]
    assert clf.network_.n_outputs == 1 and clf.out_activation_ == "logistic"
    z = forward(clf, X)[:, 0]  # the log-odds of classes_[1]
    np.testing.assert_allclose(clf.decision_function(X), z, atol=1e-5)
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P, np.column_stack([expit(-z), expit(z)]), atol=1e-6)
    clear = np.abs(z) > 1e-4  # away from the boundary, where float32 rounding cannot flip a sign
    assert np.array_equal(clf.predict(X)[clear], np.where(z > 0, "malignant", "benign")[clear])
    assert clf.score(X, labels) >= 0.95


def test_string_class_labels():
    X, y = make_blobs(n_samples=150, centers=3, random_state=1)
    names = np.array(["ant", "bee", "cat"])[y]  # sorted like 0, 1, 2
    params = dict(hidden_layer_sizes=(8,), max_iter=200, learning_rate_init=0.01, random_state=3)
    by_int = PynnClassifier(**params).fit(X, y)
    by_name = PynnClassifier(**params).fit(X, names)
    by_object = PynnClassifier(**params).fit(X, names.astype(object))
    assert list(by_name.classes_) == ["ant", "bee", "cat"]
    # the same network learnt: names are only relabelled integers
    np.testing.assert_array_equal(by_name.predict_proba(X), by_int.predict_proba(X))
    assert np.array_equal(by_name.predict(X), np.array(["ant", "bee", "cat"])[by_int.predict(X)])
    assert np.array_equal(by_object.predict(X), by_name.predict(X))
    assert np.mean(by_name.predict(X) == names) >= 0.95


def test_multilabel():
    X, Y = make_multilabel_classification(n_samples=300, n_features=10, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = PynnClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=200, random_state=0).fit(X, Y)
    assert clf.network_.loss == "binary_cross_entropy" and clf.network_.n_outputs == 4
    assert list(clf.classes_) == [0, 1, 2, 3]
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P, expit(forward(clf, X)), atol=1e-6)
    predicted = clf.predict(X)
    assert predicted.shape == Y.shape and predicted.dtype == Y.dtype
    assert np.array_equal(predicted, (P > 0.5).astype(Y.dtype))
    per_label = np.mean(predicted == Y, axis=0)
    majority = np.maximum(Y.mean(axis=0), 1 - Y.mean(axis=0))
    assert np.all(per_label > majority + 0.05) and np.mean(per_label) >= 0.85
    assert clf.score(X, Y) == pytest.approx(np.mean(np.all(predicted == Y, axis=1)))  # subset accuracy


def test_partial_fit_improves_the_loss():
    X, y = scaled_iris()
    clf = PynnClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, batch_size=30, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    first = log_loss(y, clf.predict_proba(X))
    for _ in range(30):
        clf.partial_fit(X, y)
    assert log_loss(y, clf.predict_proba(X)) < 0.5 * first
    # n_iter_ counts this call's epochs (as scikit-learn); the history goes on
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 31 and clf.t_ == 31 * len(X)
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y)
    clf.set_params(learning_rate_init=0.002).partial_fit(X, y)  # each call uses the current learning rate
    assert clf.network_.optimizer.lr == 0.002 and clf.network_.optimizer.step == 32 * 5  # Adam state kept
    with pytest.raises(ValueError, match="has classes not in `self.classes_`"):
        clf.partial_fit(X, y + 1)

    Xr = np.linspace(-2, 2, 200)[:, None]
    yr = Xr[:, 0] ** 2
    reg = PynnRegressor(hidden_layer_sizes=(16,), activation="tanh", learning_rate_init=0.01, batch_size=20,
                        random_state=0)
    errors = []
    for _ in range(40):
        reg.partial_fit(Xr, yr)
        errors.append(np.mean((reg.predict(Xr) - yr) ** 2))
    assert errors[-1] < 0.25 * errors[0]


def _sgd_step_by_hand(W, b, X, grad_z, lr, alpha):
    """One plain SGD step of scikit-learn's MLP on (W, b), given its dLoss/dz
    per sample: the mean over the batch, plus alpha * W / n on the weights only."""
    n = len(X)
    return W - lr * (X.T @ grad_z + alpha * W) / n, b - lr * grad_z.sum(axis=0) / n


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass", "multilabel"])
def test_one_epoch_is_the_gradient_step_of_scikit_learns_loss(task):
    """With no hidden layer, a full batch and plain SGD, one epoch is one step
    down the gradient of scikit-learn's MLP loss: dLoss/dz = output - target
    per sample (softmax + cross-entropy, sigmoid + cross-entropy summed over
    the labels, identity + half the squared error summed over the targets),
    averaged over the batch, plus alpha * W / n on the weights, not the biases."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 5))
    n = len(X)
    if task == "regression":
        y = rng.normal(size=(n, 3))
        est = PynnRegressor(hidden_layer_sizes=())
    elif task == "binary":
        y = np.where(X[:, 0] > 0, "yes", "no")
        est = PynnClassifier(hidden_layer_sizes=())
    elif task == "multiclass":
        y = rng.randint(0, 4, size=n) * 10
        est = PynnClassifier(hidden_layer_sizes=())
    else:
        y = (rng.uniform(size=(n, 3)) > 0.5).astype(int)
        est = PynnClassifier(hidden_layer_sizes=())
    lr, alpha = 0.1, 0.5
    est.set_params(solver="sgd", momentum=0.0, learning_rate_init=lr, alpha=alpha, batch_size=n,
                   shuffle=False, random_state=0)
    est.partial_fit(X, y, **({} if task in ("regression", "multilabel") else {"classes": np.unique(y)}))
    W, b = est.coefs_[0], est.intercepts_[0]
    Z = X @ W + b
    if task == "regression":
        grad_z = Z - y
    elif task == "binary":
        grad_z = expit(Z) - (y == est.classes_[1]).astype(float)[:, None]
    elif task == "multiclass":
        grad_z = softmax(Z, axis=1) - (y[:, None] == est.classes_[None, :]).astype(float)
    else:
        grad_z = expit(Z) - y
    W_expected, b_expected = _sgd_step_by_hand(W, b, X, grad_z, lr, alpha)
    est.partial_fit(X, y)
    np.testing.assert_allclose(est.coefs_[0], W_expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(est.intercepts_[0], b_expected, rtol=1e-12, atol=1e-14)
    # the loss of that epoch, before the step, is scikit-learn's: its loss of the
    # predictions plus alpha / 2 * ||W||^2 / n
    if task == "regression":
        data_loss = 0.5 * np.mean((Z - y) ** 2)
    elif task == "binary":
        data_loss = log_loss(y, expit(Z[:, 0]), labels=est.classes_)
    elif task == "multiclass":
        data_loss = log_loss(y, softmax(Z, axis=1), labels=est.classes_)
    else:
        P = expit(Z)
        data_loss = -np.mean(np.sum(y * np.log(P) + (1 - y) * np.log(1 - P), axis=1))
    assert est.loss_curve_[-1] == pytest.approx(data_loss + 0.5 * alpha * np.sum(W ** 2) / n, rel=1e-12)


# ---- regression ---------------------------------------------------------------------

def test_regression_r2_on_a_simple_function():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(400, 1))
    f = lambda x: np.sin(2 * x) + 0.5 * x  # noqa: E731
    reg = PynnRegressor(hidden_layer_sizes=(32, 32), activation="tanh", learning_rate_init=0.01, max_iter=400,
                        batch_size=32, random_state=0).fit(X, f(X[:, 0]))
    X_test = np.linspace(-3, 3, 101)[:, None]
    predicted = reg.predict(X_test)
    assert predicted.shape == (101,) and predicted.dtype == np.float64
    assert r2(f(X_test[:, 0]), predicted) >= 0.98
    assert reg.score(X_test, f(X_test[:, 0])) == pytest.approx(r2(f(X_test[:, 0]), predicted))
    np.testing.assert_allclose(predicted, forward(reg, X_test)[:, 0], atol=1e-5)


def test_multi_output_regression():
    rng = np.random.RandomState(1)
    X = rng.uniform(-2, 2, size=(500, 2))
    Y = np.column_stack([np.sin(X[:, 0]), X[:, 0] * X[:, 1], X[:, 1] ** 2])
    reg = PynnRegressor(hidden_layer_sizes=(32, 32), activation="tanh", learning_rate_init=0.01, max_iter=300,
                        batch_size=50, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 3
    X_test = rng.uniform(-2, 2, size=(200, 2))
    Y_test = np.column_stack([np.sin(X_test[:, 0]), X_test[:, 0] * X_test[:, 1], X_test[:, 1] ** 2])
    predicted = reg.predict(X_test)
    assert predicted.shape == (200, 3)
    assert np.all(r2(Y_test, predicted) >= 0.95)
    assert reg.score(X_test, Y_test) == pytest.approx(np.mean(r2(Y_test, predicted)))
    # a single target given as a column is predicted as a vector, as scikit-learn does
    one = PynnRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, Y[:, :1])
    assert one.predict(X_test).shape == (200,)


# ---- random_state, pickling, parameters, stopping -----------------------------------

def test_same_random_state_same_predictions():
    X, y = scaled_iris()
    params = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=7)
    a = PynnClassifier(**params).fit(X, y)
    b = PynnClassifier(**params).fit(X, y)
    c = PynnClassifier(**dict(params, random_state=8)).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    np.testing.assert_array_equal(clone(a).fit(X, y).predict_proba(X), a.predict_proba(X))
    same = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(same.predict_proba(X), a.predict_proba(X))
    # a RandomState instance is consumed, as in scikit-learn: same seed, same model
    r1 = PynnClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=np.random.RandomState(3)).fit(X, y)
    r2_ = PynnClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=np.random.RandomState(3)).fit(X, y)
    np.testing.assert_array_equal(r1.predict_proba(X), r2_.predict_proba(X))


def test_same_random_state_same_model_on_both_backends():
    X, y = scaled_iris()
    params = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=7, dtype="float64")
    here = PynnClassifier(**params).fit(X, y)
    previous = pynn.backend()
    try:
        pynn.set_backend("numpy" if previous == "c" else "c")
        there = PynnClassifier(**params).fit(X, y)
    finally:
        pynn.set_backend(previous)
    np.testing.assert_allclose(here.predict_proba(X), there.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_parameters_map_onto_pynn():
    X, y = scaled_iris()
    fit = lambda **kw: PynnClassifier(hidden_layer_sizes=(5, 4), max_iter=1, random_state=0, **kw).fit(X, y)  # noqa
    net = fit(activation="logistic", solver="sgd", momentum=0.5, alpha=0.01, learning_rate_init=0.2).network_
    assert [l.activation for l in net.layers] == ["sigmoid", "sigmoid", "softmax"]
    assert [(l.n_in, l.n_out) for l in net.layers] == [(4, 5), (5, 4), (4, 3)]
    opt = net.optimizer
    # scikit-learn's alpha / batch size as the weight decay of the last step (its biases' update is remade
    # without it); the loss scale of softmax + cross-entropy is 1, so lr is learning_rate_init
    assert isinstance(opt, pynn.SGD) and (opt.lr, opt.momentum, opt.nesterov) == (0.2, 0.5, True)
    assert opt.weight_decay == pytest.approx(0.01 / 150)
    net = fit(activation="identity", solver="adam", beta_1=0.8, beta_2=0.99, epsilon=1e-6).network_
    assert net.layers[0].activation == "linear"
    assert isinstance(net.optimizer, pynn.Adam) and net.optimizer.betas == (0.8, 0.99)
    assert net.optimizer.eps == pytest.approx(1e-6 / np.sqrt(1 - 0.99))  # epsilon where scikit-learn adds it
    assert net.optimizer.weight_decay == pytest.approx(1e-4 / 150) and net.dtype == np.float64  # X's dtype
    assert type(fit(solver="adamw", alpha=0.1).network_.optimizer) is pynn.AdamW
    assert type(fit(solver="rmsprop").network_.optimizer) is pynn.RMSprop
    assert fit(dtype="float32").network_.dtype == np.float32
    assert fit().network_.optimizer.step == 1  # "auto": min(200, n), one batch of 150 in the epoch
    assert fit(batch_size=32).network_.optimizer.step == 5  # 150 rows in batches of 32
    assert [repr(l) for l in fit(dropout=0.25).network_.layers] == [
        "Dense(4, 5, activation='relu')", "Dropout(p=0.25)", "Dense(5, 4, activation='relu')", "Dropout(p=0.25)",
        "Dense(4, 3, activation='softmax')"]
    # invalid values are accepted by __init__/set_params and refused by fit, by name
    for name, value in [("activation", "softmax"), ("solver", "newton"), ("hidden_layer_sizes", (0,)),
                        ("batch_size", 0), ("alpha", -1.0), ("max_iter", 0), ("dtype", "float16"),
                        ("validation_fraction", 1.0), ("learning_rate_init", 0.0), ("dropout", 1.0),
                        ("dropout", -0.1), ("learning_rate", "optimal"), ("power_t", -0.5),
                        ("n_iter_no_change", 0), ("n_iter_no_change", 2.5), ("max_fun", 0)]:
        est = PynnClassifier().set_params(**{name: value})
        with pytest.raises(ValueError, match=name):
            est.fit(X, y)


def test_stopping_rules_and_convergence_warning():
    X, y = scaled_iris()
    # no epoch can improve the loss by tol=1e9: stops after n_iter_no_change + 2 epochs, as scikit-learn
    clf = PynnClassifier(hidden_layer_sizes=(4,), tol=1e9, n_iter_no_change=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == 5 and clf.best_loss_ == min(clf.loss_curve_)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        PynnClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = PynnClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01, early_stopping=True,
                         validation_fraction=0.2, random_state=0).fit(X, y)
    assert clf.n_iter_ == len(clf.validation_scores_) < clf.max_iter
    assert clf.best_validation_score_ == max(clf.validation_scores_) >= 0.9
    assert clf.best_loss_ is None


def test_warm_start_continues_training():
    """As scikit-learn: a warm-started fit continues from the current weights
    with a fresh optimizer, n_iter_ counts its own epochs, t_ and loss_curve_ go on."""
    X, y = scaled_iris()
    clf = PynnClassifier(hidden_layer_sizes=(8,), max_iter=5, warm_start=True, random_state=0).fit(X, y)
    first = clf.network_.get_weights()
    steps = clf.network_.optimizer.step
    clf.fit(X, y)
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 10 and clf.t_ == 10 * len(X)
    assert clf.network_.optimizer.step == steps  # a fresh optimizer: Adam's step count started again
    assert not np.array_equal(first[0], clf.coefs_[0])
    # the same as another estimator's warm start from the first fit's weights
    other = PynnClassifier(hidden_layer_sizes=(8,), max_iter=5, warm_start=True, random_state=1).fit(X, y)
    other.set_params(random_state=0).network_.set_weights(first)
    other.fit(X, y)
    np.testing.assert_array_equal(clf.coefs_[0], other.coefs_[0])


def test_training_continues_after_early_stopping():
    """best_loss_ is None after an early-stopping fit; partial_fit (which refuses early
    stopping, as scikit-learn's) and a warm-started fit without early stopping then start
    counting from the next epoch."""
    X, y = scaled_iris()
    clf = PynnClassifier(hidden_layer_sizes=(8,), max_iter=5, early_stopping=True, random_state=0).fit(X, y)
    assert clf.best_loss_ is None
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        clf.partial_fit(X, y)
    clf.set_params(early_stopping=False).partial_fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 6 and clf.best_loss_ == clf.loss_curve_[-1]
    clf = PynnClassifier(hidden_layer_sizes=(8,), max_iter=5, early_stopping=True, warm_start=True,
                         random_state=0).fit(X, y)
    clf.set_params(early_stopping=False).fit(X, y)
    assert clf.n_iter_ == 5 and clf.best_loss_ == min(clf.loss_curve_[5:])


def test_verbose_prints_the_loss(capsys):
    X, y = scaled_iris()
    clf = PynnClassifier(hidden_layer_sizes=(4,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = %.8f" % clf.loss_curve_[0] in out
    assert "Iteration 2, loss = %.8f" % clf.loss_curve_[1] in out


def test_feature_names_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = scaled_iris()
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    clf = PynnClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(frame, y)
    assert list(clf.feature_names_in_) == ["sl", "sw", "pl", "pw"] and clf.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):  # scikit-learn's warning for unnamed columns
        unnamed = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict_proba(frame), unnamed)
