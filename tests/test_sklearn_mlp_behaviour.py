"""PynnClassifier / PynnRegressor behave as scikit-learn's MLPClassifier /
MLPRegressor: scikit-learn's own MLP tests (sklearn/neural_network/tests/
test_mlp.py), adapted to run on both estimators and compare them, plus
sparse X and sample_weight (with metadata routing)."""
import re
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

import scipy.sparse as sp  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, load_iris, make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, UnsetMetadataPassedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_validate  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from pynn.sklearn import PynnClassifier, PynnRegressor  # noqa: E402

X_iris, y_iris = load_iris(return_X_y=True)
_X_digits, _y_digits = load_digits(n_class=2, return_X_y=True)
X_binary, y_binary = MinMaxScaler().fit_transform(_X_digits[:200]), _y_digits[:200]

PAIRS = [(MLPClassifier, PynnClassifier), (MLPRegressor, PynnRegressor)]


def both(pair, **params):
    """scikit-learn's estimator and pynn's, with the same parameters."""
    return [cls(**params) for cls in pair]


def quiet_fit(est, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


# ---- parameters --------------------------------------------------------------------

@pytest.mark.parametrize("pair", PAIRS)
def test_every_scikit_learn_parameter_with_its_default(pair):
    theirs, ours = both(pair)
    their_params, our_params = theirs.get_params(), ours.get_params()
    assert set(their_params) <= set(our_params)
    assert set(our_params) - set(their_params) == {"dropout", "dtype"}  # pynn's additions
    assert {k: our_params[k] for k in their_params} == their_params
    # an MLP's parameters make a working pynn estimator
    mlp = pair[0](hidden_layer_sizes=(8,), solver="sgd", learning_rate="invscaling", power_t=0.25,
                  learning_rate_init=0.1, max_iter=20, n_iter_no_change=np.inf, random_state=0)
    est = quiet_fit(pair[1](**mlp.get_params()), X_iris, y_iris)
    assert est.n_iter_ == 20


def test_lbfgs_trains_like_scikit_learns():
    """solver='lbfgs' trains (tests/test_sklearn_lbfgs.py checks its numbers); partial_fit is for
    the stochastic solvers only, as in scikit-learn."""
    ref = quiet_fit(MLPClassifier(solver="lbfgs", max_iter=50, random_state=0), X_iris, y_iris)
    ours = quiet_fit(PynnClassifier(solver="lbfgs", max_iter=50, random_state=0), X_iris, y_iris)
    assert 1 <= ours.n_iter_ <= 50 and ours.score(X_iris, y_iris) > ref.score(X_iris, y_iris) - 0.05
    with pytest.raises(AttributeError, match="stochastic"):
        PynnRegressor(solver="lbfgs").partial_fit(X_iris, y_iris)


def test_regressor_loss_is_squared_error_only():
    assert PynnRegressor().loss == MLPRegressor().loss == "squared_error"
    with pytest.raises(ValueError, match="loss must be 'squared_error'.*poisson"):
        PynnRegressor(loss="poisson").fit(X_iris, y_iris)


# ---- iterations and stopping ---------------------------------------------------------

@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_n_iter_counts_the_last_call(pair, solver):
    """scikit-learn's test_mlp_warm_start_no_convergence and test_warm_start_full_iteration,
    plus partial_fit: n_iter_ is the number of epochs of the last fit / partial_fit."""
    for est in both(pair, solver=solver, hidden_layer_sizes=(4,), warm_start=True, max_iter=10,
                    n_iter_no_change=np.inf, random_state=0):
        with pytest.warns(ConvergenceWarning):
            est.fit(X_iris, y_iris)
        assert est.n_iter_ == 10
        est.set_params(max_iter=20)
        with pytest.warns(ConvergenceWarning):
            est.fit(X_iris, y_iris)
        assert est.n_iter_ == 20 and est.t_ == 30 * len(X_iris) and len(est.loss_curve_) == 30
        est.partial_fit(X_iris, y_iris)
        assert est.n_iter_ == 1 and est.t_ == 31 * len(X_iris)


def test_n_iter_no_change_inf_runs_max_iter():
    """scikit-learn's test_n_iter_no_change_inf (with smaller sizes)."""
    for est in both((MLPClassifier, PynnClassifier), hidden_layer_sizes=(10,), tol=1e9, max_iter=200,
                    solver="sgd", n_iter_no_change=np.inf, random_state=0):
        quiet_fit(est, X_binary[:100], y_binary[:100])
        assert est.n_iter_ == 200
        assert est._no_improvement_count == est.n_iter_ - 1


@pytest.mark.parametrize("n_iter_no_change", [2, 5, 10])
def test_n_iter_no_change(n_iter_no_change):
    """scikit-learn's test_n_iter_no_change: training stops after n_iter_no_change + 1
    epochs without an improvement of the loss by tol."""
    for est in both((MLPClassifier, PynnClassifier), tol=0.01, max_iter=3000, solver="sgd",
                    n_iter_no_change=n_iter_no_change, random_state=0):
        est.fit(X_binary[:100], y_binary[:100])
        assert est._no_improvement_count == n_iter_no_change + 1
        assert est.n_iter_ < 3000


def test_invscaling_rate_after_warm_starts():
    """scikit-learn's test_learning_rate_warmstart: the invscaling rate is
    learning_rate_init / (t_ + 1) ** power_t, t_ counted over warm starts."""
    X, y = [[3, 2], [1, 6], [5, 6], [-2, -4]], [1, 1, 1, 0]
    for schedule in ["invscaling", "constant"]:
        theirs, ours = both((MLPClassifier, PynnClassifier), solver="sgd", hidden_layer_sizes=4,
                            learning_rate=schedule, max_iter=1, power_t=0.25, warm_start=True, random_state=0)
        for est in (theirs, ours):
            quiet_fit(est, X, y)
            quiet_fit(est, X, y)
        expected = 0.001 / 9 ** 0.25 if schedule == "invscaling" else 0.001
        assert theirs._optimizer.learning_rate == pytest.approx(expected)
        assert ours.network_.optimizer.lr == pytest.approx(expected)  # binary: pynn's lr is scikit-learn's


def test_adaptive_rate_divides_until_tiny():
    """scikit-learn's test_adaptive_learning_rate."""
    X, y = [[3, 2], [1, 6]], [1, 0]
    theirs, ours = both((MLPClassifier, PynnClassifier), tol=0.5, max_iter=3000, solver="sgd",
                        learning_rate="adaptive", random_state=0)
    for est in (theirs, ours):
        est.fit(X, y)
        assert est.n_iter_ < 3000
    assert 1e-6 > theirs._optimizer.learning_rate
    assert 1e-6 > ours.network_.optimizer.lr


@pytest.mark.parametrize("pair", PAIRS)
def test_validation_scores_go_on_over_warm_starts(pair):
    """scikit-learn's test_mlp_warm_start_with_early_stopping: one score per epoch, over all fits."""
    for est in both(pair, max_iter=10, random_state=0, warm_start=True, early_stopping=True):
        quiet_fit(est, X_iris, y_iris)
        first = len(est.validation_scores_)
        quiet_fit(est.set_params(max_iter=20), X_iris, y_iris)
        assert len(est.validation_scores_) > first
        assert len(est.validation_scores_) == len(est.loss_curve_)


# ---- errors, as scikit-learn raises them ----------------------------------------------

def _message(call):
    with pytest.raises(ValueError) as info:
        call()
    return str(info.value)


def test_warm_start_with_other_classes_raises():
    """scikit-learn's test_warm_start: a warm start needs the same classes (the same message)."""
    y_3classes = np.array([0] * 40 + [1] * 40 + [2] * 70)
    for y_i in (np.array([0] * 75 + [1] * 75), np.array([0] * 50 + [1] * 50 + [3] * 50),
                np.array([0] * 37 + [1] * 37 + [2] * 38 + [3] * 38), np.arange(150) % 5):
        messages = []
        for est in both((MLPClassifier, PynnClassifier), hidden_layer_sizes=2, warm_start=True, max_iter=5,
                        random_state=42):
            quiet_fit(est, X_iris, y_iris)
            quiet_fit(est, X_iris, y_3classes)  # the same classes: fine
            messages.append(_message(lambda: est.fit(X_iris, y_i)))
        assert messages[0] == messages[1]
        assert messages[1] == ("warm_start can only be used where `y` has the same classes as in the previous "
                               "call to fit. Previously got [0 1 2], `y` has %s" % np.unique(y_i))


def test_partial_fit_with_a_new_class_raises():
    messages = []
    for est in both((MLPClassifier, PynnClassifier), random_state=0):
        est.partial_fit(X_iris[:100], y_iris[:100], classes=[0, 1])
        messages.append(_message(lambda: est.partial_fit(X_iris, y_iris)))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("pair", PAIRS)
def test_partial_fit_refuses_early_stopping(pair):
    """scikit-learn's test_mlp_partial_fit_after_fit."""
    messages = []
    for est in both(pair, early_stopping=True, max_iter=20, random_state=0):
        quiet_fit(est, X_iris, y_iris)
        messages.append(_message(lambda: est.partial_fit(X_iris, y_iris)))
    assert messages[0] == messages[1] == "partial_fit does not support early_stopping=True"


def test_diverging_regressor_with_early_stopping_records_nan():
    """scikit-learn's test_mlp_diverging_loss: no error, the last validation score is NaN,
    and the weights of the best score are kept."""
    for est in both((MLPRegressor, PynnRegressor), hidden_layer_sizes=100, activation="identity", solver="sgd",
                    alpha=0.0001, learning_rate="constant", learning_rate_init=1, shuffle=True, max_iter=20,
                    early_stopping=True, n_iter_no_change=10, random_state=0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_iris, y_iris)
        assert str(est.validation_scores_[-1]) == str(np.nan)
        assert isinstance(est.validation_scores_[-1], float)
        assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)
        assert np.isfinite(est.predict(X_iris)).all()


def test_divergence_without_early_stopping_raises_scikit_learns_error():
    """scikit-learn's test_nonfinite_params."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    for est in both((MLPRegressor, PynnRegressor)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match=re.escape("Solver produced non-finite parameter weights. The "
                                                           "input data may contain large values and need to be "
                                                           "preprocessed.")):
                est.fit(X, y)


# ---- dtypes and single classes -------------------------------------------------------

@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parameters_and_outputs_follow_the_input_dtype(pair, dtype):
    """scikit-learn's test_mlp_param_dtypes: float32 X trains float32 weights; the
    outputs have the dtype scikit-learn's have, for float32 and float64 X."""
    X, y = _X_digits[:300].astype(dtype), _y_digits[:300]
    theirs, ours = both(pair, alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=1, max_iter=20, tol=1e-1)
    for est in (theirs, ours):
        quiet_fit(est, X, y)
        assert all(w.dtype == dtype for w in est.coefs_ + est.intercepts_)
    assert ours.network_.dtype == dtype
    for X_pred in (X[:5].astype(np.float32), X[:5].astype(np.float64)):
        methods = ["predict"] + (["predict_proba"] if pair[0] is MLPClassifier else [])
        for method in methods:
            assert getattr(ours, method)(X_pred).dtype == getattr(theirs, method)(X_pred).dtype
    # pynn's dtype= fixes the network's precision whatever X is
    fixed = quiet_fit(pair[1](hidden_layer_sizes=(3,), max_iter=2, dtype="float64"), X, y)
    assert fixed.network_.dtype == np.float64 and fixed.coefs_[0].dtype == np.float64


def test_a_single_class_is_accepted_like_scikit_learn():
    rng = np.random.RandomState(0)
    X = rng.rand(20, 3)
    y = np.full(20, "only")
    theirs, ours = both((MLPClassifier, PynnClassifier), hidden_layer_sizes=(3,), max_iter=50, random_state=0)
    for est in (theirs, ours):
        quiet_fit(est, X, y)
        assert list(est.classes_) == ["only"] and est.n_outputs_ == 1 and est.out_activation_ == "logistic"
        assert list(est.predict(X[:4])) == ["only"] * 4
        P = est.predict_proba(X[:4])
        assert P.shape == (4, 2)  # scikit-learn's two columns: [1 - p, p], p trained towards 0
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
        assert (P[:, 0] > 0.5).all()
        assert est.score(X, y) == 1.0
    again = PynnClassifier(hidden_layer_sizes=(3,), random_state=0).partial_fit(X, y, classes=["only"])
    assert list(again.predict(X[:2])) == ["only", "only"]


# ---- sparse X --------------------------------------------------------------------------

def _tfidf_like(n_rows=2500, n_cols=3000, seed=0):
    """A CSR matrix of 2500 x 3000 (60 MB dense in float64) with ~10 non-zeros per row."""
    rng = np.random.RandomState(seed)
    X = sp.random(n_rows, n_cols, density=0.004, format="csr", random_state=rng, dtype=np.float64)
    informative = rng.normal(size=n_cols)
    return X, X @ informative


@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_sparse_X_trains_and_predicts_as_dense_one_batch_at_a_time(task, monkeypatch):
    X, score = _tfidf_like()
    if task == "classifier":
        y = np.digitize(score, np.quantile(score, [0.33, 0.66]))
        make = lambda: PynnClassifier(hidden_layer_sizes=(16,), batch_size=100, max_iter=3,  # noqa: E731
                                      learning_rate_init=0.01, random_state=0)
    else:
        y = score
        make = lambda: PynnRegressor(hidden_layer_sizes=(16,), batch_size=100, max_iter=3,  # noqa: E731
                                     learning_rate_init=0.01, random_state=0)
    dense = X.toarray()
    reference = quiet_fit(make(), dense, y)

    densified = []
    original = sp.csr_matrix.toarray

    def recording_toarray(self, *args, **kwargs):
        densified.append(self.shape)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", recording_toarray)
    for container in (sp.csr_matrix, sp.csc_matrix):
        est = quiet_fit(make(), container(X), y)
        for a, b in zip(reference.coefs_ + reference.intercepts_, est.coefs_ + est.intercepts_):
            np.testing.assert_array_equal(a, b)
        assert max(rows for rows, _ in densified) <= 100  # never more than a batch in training
        densified.clear()
        np.testing.assert_allclose(est.predict(container(X)), reference.predict(dense), rtol=1e-12)
        if task == "classifier":
            np.testing.assert_allclose(est.predict_proba(container(X)), reference.predict_proba(dense), rtol=1e-12)
        assert est.score(container(X), y) == pytest.approx(reference.score(dense, y), rel=1e-12)
        assert densified and max(rows for rows, _ in densified) < X.shape[0]  # predictions: in row chunks
        densified.clear()
    partial = make().partial_fit(X, y, **({"classes": [0, 1, 2]} if task == "classifier" else {}))
    assert max(rows for rows, _ in densified) <= 100
    first = make().partial_fit(dense, y, **({"classes": [0, 1, 2]} if task == "classifier" else {}))
    np.testing.assert_array_equal(partial.coefs_[0], first.coefs_[0])


def test_sparse_X_with_early_stopping():
    X, score = _tfidf_like(n_rows=600, n_cols=500)
    y = (score > np.median(score)).astype(int)
    sparse = quiet_fit(PynnClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=5, random_state=0),
                       X, y)
    dense = quiet_fit(PynnClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=5, random_state=0),
                      X.toarray(), y)
    assert sparse.validation_scores_ == dense.validation_scores_
    np.testing.assert_array_equal(sparse.coefs_[0], dense.coefs_[0])


# ---- sample_weight -------------------------------------------------------------------

@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_integer_weights_repeat_rows(pair, solver):
    """Full batches: weight k is the row repeated k times, weight 0 the row removed
    (scikit-learn's check_sample_weight_equivalence, which its MLPRegressor passes with sgd)."""
    rng = np.random.RandomState(0)
    X, y = X_iris[::3], y_iris[::3]
    weights = rng.randint(0, 4, size=len(X))
    results = []
    for cls in pair:
        params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=30, random_state=0, tol=1e-2,
                      learning_rate_init=0.01)
        weighted = quiet_fit(cls(**params), X, y, sample_weight=weights)
        repeated = quiet_fit(cls(**params), X.repeat(weights, axis=0), y.repeat(weights))
        np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9, atol=1e-9)
        results.append(weighted)
    # and the weights do something
    plain = quiet_fit(pair[1](hidden_layer_sizes=(5,), solver=solver, max_iter=30, random_state=0, tol=1e-2,
                              learning_rate_init=0.01), X, y)
    assert not np.allclose(plain.coefs_[0], results[1].coefs_[0])


def test_a_batch_of_zero_weights_makes_no_update():
    """scikit-learn's MLP divides by the batch's total weight (numpy raises
    ZeroDivisionError); pynn skips such a batch: the same as leaving its rows out."""
    order = np.random.RandomState(0).permutation(len(y_iris))
    X, y = X_iris[order], y_iris[order]
    weights = np.ones(len(X))
    weights[:50] = 0.0  # the first batch
    with pytest.raises(ZeroDivisionError):
        MLPClassifier(batch_size=50, shuffle=False, max_iter=3).fit(X, y, sample_weight=weights)
    params = dict(hidden_layer_sizes=(5,), batch_size=50, shuffle=False, max_iter=3, random_state=0)
    weighted = quiet_fit(PynnClassifier(**params), X, y, sample_weight=weights)
    cut = quiet_fit(PynnClassifier(**params), X[50:], y[50:])
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, cut.coefs_ + cut.intercepts_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("pair", PAIRS)
def test_sample_weight_of_ones_with_early_stopping(pair):
    """scikit-learn's test_mlp_sample_weight_with_early_stopping."""
    X, y = make_regression(n_samples=100, n_features=2, n_informative=2, random_state=42)
    if pair[0] is MLPClassifier:
        y = (y > 0).astype(int)
    params = dict(hidden_layer_sizes=10, solver="adam", early_stopping=True, tol=1e-2, learning_rate_init=0.01,
                  batch_size=10, random_state=42)
    for cls in pair:
        weighted = quiet_fit(cls(**params), X, y, sample_weight=np.ones(len(y)))
        unweighted = quiet_fit(cls(**params), X, y)
        np.testing.assert_allclose(weighted.predict(X), unweighted.predict(X))


def test_sample_weight_errors_like_scikit_learn():
    for est in both((MLPClassifier, PynnClassifier), max_iter=2):
        with pytest.raises(ValueError, match="at least one non-zero"):
            est.fit(X_iris, y_iris, sample_weight=np.zeros(len(y_iris)))
        with pytest.raises(ValueError, match="sample_weight.shape"):
            est.fit(X_iris, y_iris, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="Negative values"):  # scikit-learn's MLP does not check this
        PynnClassifier(max_iter=2).fit(X_iris, y_iris, sample_weight=-np.ones(len(y_iris)))


@pytest.mark.parametrize("pair", PAIRS)
def test_sample_weight_with_metadata_routing(pair):
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    if pair[0] is MLPRegressor:
        y = X @ np.arange(5.0)
    weights = np.random.RandomState(0).uniform(0.1, 3, size=len(y))
    grid = {"alpha": [1e-4, 1e-1]}
    with sklearn.config_context(enable_metadata_routing=True):
        for cls in pair:  # unrequested weights are an error, for both
            with pytest.raises(UnsetMetadataPassedError):
                GridSearchCV(cls(max_iter=5), grid, cv=2).fit(X, y, sample_weight=weights)
        est = pair[1](hidden_layer_sizes=(8,), max_iter=20, learning_rate_init=0.01, random_state=0)
        est = est.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search = GridSearchCV(est, grid, cv=2).fit(X, y, sample_weight=weights)
            by_hand = clone(est).set_params(**search.best_params_).fit(X, y, sample_weight=weights)
            unweighted = clone(est).set_params(**search.best_params_).fit(X, y)
            scores = cross_validate(est, X, y, params={"sample_weight": weights}, cv=2)["test_score"]
        np.testing.assert_array_equal(search.best_estimator_.predict(X), by_hand.predict(X))
        assert not np.allclose(by_hand.coefs_[0], unweighted.coefs_[0])
        assert np.isfinite(scores).all()
