"""Hyper-parameter search on a Dask cluster: GridSearchCV over pynn's
scikit-learn estimator under joblib's "dask" backend, on a real
LocalCluster of two worker processes, gives the same cv_results_ as n_jobs=1
in this process.  PYNN_REQUIRE_DASK=1 (CI) makes missing dask.distributed or
scikit-learn a failure instead of a skip."""
import os

import numpy as np
import pytest


def _require(module):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        if os.environ.get("PYNN_REQUIRE_DASK") == "1":
            pytest.fail("PYNN_REQUIRE_DASK=1 but %s is not installed" % module)
        pytest.skip("needs %s" % module)


@pytest.fixture
def cluster_client(monkeypatch, backend):
    distributed = _require("dask.distributed")
    monkeypatch.setenv("PYNN_BACKEND", backend)  # the workers start with this process's environment
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=40)
    client = distributed.Client(cluster, timeout=60)
    try:
        yield client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")  # max_iter is kept small on purpose
def test_grid_search_on_a_dask_cluster_equals_the_local_search(cluster_client, backend):
    _require("sklearn")
    joblib = _require("joblib")
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import StandardScaler

    from pynn.sklearn import PynnClassifier

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    grid = {"hidden_layer_sizes": [(8,), (16,)], "alpha": [1e-4, 1e-2]}
    base = PynnClassifier(max_iter=30, learning_rate_init=0.01, random_state=0)

    local = GridSearchCV(base, grid, cv=3, n_jobs=1).fit(X, y)
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(base, grid, cv=3).fit(X, y)

    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "split2_test_score", "rank_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    assert remote.best_params_ == local.best_params_

    # the searches ran on the workers, each with one pynn thread (Dask sets OMP_NUM_THREADS=1) and this backend
    def worker_settings():
        import pynn
        return pynn.get_num_threads(), pynn.backend()

    assert set(cluster_client.run(worker_settings).values()) == {(1, backend)}
