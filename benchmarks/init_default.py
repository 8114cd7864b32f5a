"""Which default weight initialisation for relu networks? Evidence on scikit-learn's bundled data.

``python benchmarks/init_default.py [--seeds 5] [--epochs 200]``

pynn's default for the relu family is he_normal; scikit-learn's MLP, PyTorch's nn.Linear and
Keras' Dense start from Glorot/Xavier-like uniform weights.  This trains the same 2-hidden-layer
relu MLP (64, 64), Adam(lr=1e-3), batch 32, inputs standardised on the training rows, on five of
scikit-learn's data sets (digits, breast_cancer, wine: classification; diabetes, friedman1:
regression, targets standardised) and pynn's own three spirals (the demo's data), with each
initialisation and several seeds, and prints the
mean and standard deviation of the test accuracy or R² for each.  Needs scikit-learn (for the
data sets only).
"""
import argparse
import sys

import numpy as np

import pynn

INITS = ["he_normal", "he_uniform", "xavier_uniform"]


def datasets():
    from sklearn import datasets as d

    yield "digits", d.load_digits(return_X_y=True), "classification"
    yield "breast_cancer", d.load_breast_cancer(return_X_y=True), "classification"
    yield "wine", d.load_wine(return_X_y=True), "classification"
    yield "diabetes", d.load_diabetes(return_X_y=True), "regression"
    yield "friedman1", d.make_friedman1(n_samples=1000, noise=1.0, random_state=0), "regression"
    yield "spirals", pynn.datasets.spirals(n_per_class=300, n_classes=3, noise=0.2, seed=0), "classification"


def score(X, y, task, init, seed, epochs):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    cut = int(0.75 * len(X))
    train, test = order[:cut], order[cut:]
    mean, std = X[train].mean(0), X[train].std(0) + 1e-12
    X = (X - mean) / std
    if task == "classification":
        n_out, out, loss, target = int(y.max()) + 1, "softmax", "cross_entropy", y.astype(np.int64)
    else:
        n_out, out, loss = 1, "linear", "mse"
        target = ((y - y[train].mean()) / y[train].std()).reshape(-1, 1)
    layers = [pynn.Dense(X.shape[1], 64, "relu", init=init), pynn.Dense(64, 64, "relu", init=init),
              pynn.Dense(64, n_out, out, init="xavier_uniform")]
    net = pynn.Network(layers, loss=loss, optimizer=pynn.Adam(lr=1e-3), dtype="float64", seed=seed)
    net.fit(X[train], target[train], epochs=epochs, batch_size=32, verbose=0)
    scores = net.evaluate(X[test], target[test])
    return scores["accuracy"] if task == "classification" else scores["r2"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args(argv)
    try:
        data = list(datasets())
    except ImportError:
        print("init_default: needs scikit-learn for its data sets (pip install scikit-learn)")
        return 1
    print("%-14s %-8s  %s" % ("data set", "metric", "  ".join("%-18s" % i for i in INITS)))
    for name, (X, y), task in data:
        cells = []
        for init in INITS:
            values = [score(X.astype(np.float64), y, task, init, seed, args.epochs) for seed in range(args.seeds)]
            cells.append("%.4f +- %.4f" % (np.mean(values), np.std(values)))
        print("%-14s %-8s  %s" % (name, "accuracy" if task == "classification" else "R2",
                                  "  ".join("%-18s" % c for c in cells)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
