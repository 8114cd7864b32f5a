"""Where L-BFGS wins: small data sets trained full-batch, against Adam.

``python benchmarks/lbfgs_small.py [--seeds 3]``

For each of scikit-learn's small data sets (iris, wine, breast_cancer, and friedman1 with 400
rows), a (32,) relu MLP with alpha=1e-4, inputs standardised, 75/25 split: PynnClassifier /
PynnRegressor with solver="lbfgs" (max_iter=200) and solver="adam" (max_iter=200 epochs), and
scikit-learn's MLP with the same two solvers.  Prints the mean test score (accuracy or R²) and
fit time over the seeds.  Needs scikit-learn.  Times are this machine's, from one run.
"""
import argparse
import sys
import time
import warnings

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        from sklearn import datasets
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import train_test_split
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        print("lbfgs_small: needs scikit-learn (pip install scikit-learn)")
        return 1
    from pynn.sklearn import PynnClassifier, PynnRegressor

    data = [("iris", datasets.load_iris(return_X_y=True), True),
            ("wine", datasets.load_wine(return_X_y=True), True),
            ("breast_cancer", datasets.load_breast_cancer(return_X_y=True), True),
            ("friedman1", datasets.make_friedman1(n_samples=400, noise=0.5, random_state=0), False)]
    print("%-14s %-22s %-22s %-22s %-22s" % ("data set", "pynn lbfgs", "pynn adam", "sklearn lbfgs", "sklearn adam"))
    for name, (X, y), classify in data:
        cells = []
        for maker in (PynnClassifier, MLPClassifier) if classify else (PynnRegressor, MLPRegressor):
            for solver in ("lbfgs", "adam"):
                scores, seconds = [], []
                for seed in range(args.seeds):
                    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed)
                    scaler = StandardScaler().fit(X_tr)
                    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
                    if not classify:
                        mean, std = y_tr.mean(), y_tr.std()
                        y_tr, y_te = (y_tr - mean) / std, (y_te - mean) / std
                    model = maker(hidden_layer_sizes=(32,), solver=solver, alpha=1e-4, max_iter=200, random_state=seed)
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        model.fit(X_tr, y_tr)
                    seconds.append(time.perf_counter() - start)
                    scores.append(model.score(X_te, y_te))
                cells.append((np.mean(scores), 1000 * np.mean(seconds)))
        order = [cells[0], cells[1], cells[2], cells[3]]
        print("%-14s %s" % (name, " ".join("%.3f in %7.1f ms    " % cell for cell in order)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
