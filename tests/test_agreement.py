"""The C and numpy backends train identically: 100 steps on each, from the
same seed, give the same weights (float64 to 1e-10 relative, float32 to 1e-4)
for every activation, loss and optimizer.

The test runs the backend under test first and the other one second, so it
compares the pair from both sides."""
import numpy as np
import pytest

import pynn

OPTIMIZERS = {
    "sgd": lambda: pynn.SGD(lr=0.05),
    "sgd_nesterov_wd": lambda: pynn.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda: pynn.Adam(lr=0.01, weight_decay=1e-3),
    "adamw": lambda: pynn.AdamW(lr=0.01),
    "rmsprop": lambda: pynn.RMSprop(lr=0.005, momentum=0.5, weight_decay=1e-3),
}

# (hidden activation, output activation, loss, targets)
CASES = [
    ("tanh", "linear", "mse", "regression"),
    ("sigmoid", "tanh", "mae", "regression"),
    ("relu", "linear", "huber", "regression"),
    ("leaky_relu", "relu", "mse", "regression"),
    ("gelu", "gelu", "mse", "regression"),
    ("linear", "sigmoid", "mse", "regression01"),
    ("relu", "sigmoid", "binary_cross_entropy", "binary"),
    ("gelu", "softmax", "cross_entropy", "labels"),
    ("tanh", "softmax", "cross_entropy", "probabilities"),
]


def make_data(kind, n=64, n_in=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    if kind == "regression":
        y = np.tanh(X @ rng.normal(size=(n_in, k))) + 0.1 * rng.normal(size=(n, k))
    elif kind == "regression01":
        y = rng.uniform(size=(n, k))
    elif kind == "binary":
        y = (X[:, :k] > 0).astype(float)
    elif kind == "labels":
        y = rng.integers(0, k, size=n)
    else:
        p = rng.uniform(size=(n, k))
        y = p / p.sum(axis=1, keepdims=True)
    return X, y


def train(backend_name, case, optimizer, dtype, steps=100):
    hidden, out, loss, kind = case
    X, y = make_data(kind)
    pynn.set_backend(backend_name)
    net = pynn.Network([pynn.Dense(5, 8, hidden), pynn.Dense(8, 6, hidden), pynn.Dense(6, 3, out)],
                       loss=loss, optimizer=OPTIMIZERS[optimizer](), dtype=dtype, seed=7)
    losses = []
    for step in range(steps):
        rows = slice((step * 16) % 64, (step * 16) % 64 + 16)
        losses.append(net.train_step(X[rows], y[rows]))
    return net.get_weights(), np.array(losses), net.predict(X)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(c[:3]))
def test_backends_agree_over_100_steps(backend, case, optimizer, dtype, rtol):
    other = "numpy" if backend == "c" else "c"
    if other not in pynn.available_backends():
        pytest.skip("needs both backends")
    w1, l1, p1 = train(backend, case, optimizer, dtype)
    w2, l2, p2 = train(other, case, optimizer, dtype)
    for a, b in zip(w1, w2):
        assert a.dtype == b.dtype == np.dtype(dtype)
        scale = max(np.max(np.abs(a)), 1e-3)
        np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale)
    np.testing.assert_allclose(l1, l2, rtol=rtol * 10, atol=rtol * 1e-3)
    np.testing.assert_allclose(p1, p2, rtol=0, atol=rtol * max(1.0, np.max(np.abs(p1))))
    # training did something: the weights moved from where they started
    pynn.set_backend(backend)
    start = train(backend, case, optimizer, dtype, steps=0)[0]
    assert max(np.max(np.abs(a - s)) for a, s in zip(w1, start)) > 1e-4
