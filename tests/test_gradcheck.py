"""Backpropagation agrees with finite differences (pynn.gradcheck, float64)
for every activation paired with every loss it can be trained with."""
import numpy as np
import pytest

import pynn

ELEMENTWISE = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"]
PAIRINGS = (
    [(out, loss) for out in ELEMENTWISE for loss in ("mse", "mae", "huber")]
    + [("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy")]
)


def data(loss, n=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    if loss == "cross_entropy":
        return X, rng.integers(0, k, size=n)
    if loss == "binary_cross_entropy":
        return X, rng.integers(0, 2, size=(n, k)).astype(float)
    return X, 2 * rng.normal(size=(n, k))  # spread out: |p - y| well away from mae/huber kinks


@pytest.mark.parametrize("hidden", ELEMENTWISE)
@pytest.mark.parametrize("out, loss", PAIRINGS)
def test_gradcheck_every_pairing(backend, hidden, out, loss):
    X, y = data(loss)
    net = pynn.Network([pynn.Dense(4, 5, hidden), pynn.Dense(5, 3, out)], loss=loss, dtype="float64", seed=3)
    # weights scaled so sigmoid/tanh are neither saturated nor linear
    net.set_weights([w * 1.5 for w in net.get_weights()])
    assert pynn.gradcheck(net, X, y)


@pytest.mark.parametrize("targets", ["probabilities", "one_hot"])
def test_gradcheck_cross_entropy_with_probability_rows(backend, targets):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 4))
    if targets == "one_hot":
        y = np.eye(3)[rng.integers(0, 3, size=5)]
    else:
        y = rng.uniform(size=(5, 3))
        y /= y.sum(axis=1, keepdims=True)
    net = pynn.Network([pynn.Dense(4, 6, "tanh"), pynn.Dense(6, 3, "softmax")], loss="cross_entropy", seed=2)
    assert pynn.gradcheck(net, X, y)


def test_gradcheck_single_output_bce_with_flat_targets(backend):
    X = np.random.default_rng(2).normal(size=(8, 4))
    y = (X[:, 0] > 0).astype(int)
    net = pynn.Network([pynn.Dense(4, 3, "gelu"), pynn.Dense(3, 1, "sigmoid")],
                       loss="binary_cross_entropy", seed=4)
    assert pynn.gradcheck(net, X, y)


def test_gradcheck_deep_network(backend):
    X, y = data("cross_entropy", n=7)
    acts = ["tanh", "gelu", "leaky_relu", "sigmoid"]
    sizes = [4, 6, 5, 4, 5]
    layers = [pynn.Dense(a, b, act) for (a, b), act in zip(zip(sizes, sizes[1:]), acts)]
    net = pynn.Network(layers + [pynn.Dense(5, 3, "softmax")], loss="cross_entropy", seed=5)
    assert pynn.gradcheck(net, X, y)


def test_gradcheck_reports_a_mismatch(backend):
    """The check can fail: with no tolerance, a coarse eps exposes the
    curvature of tanh, and the error names a parameter."""
    X, y = data("mse")
    net = pynn.Network([pynn.Dense(4, 5, "tanh"), pynn.Dense(5, 3)], loss="mse", seed=6)
    with pytest.raises(pynn.GradcheckError, match=r"layers\[\d\]\.[Wb]\["):
        pynn.gradcheck(net, X, y, eps=0.5, atol=0, rtol=0)
    assert pynn.gradcheck(net, X, y, eps=0.5, atol=0, rtol=0, raise_exception=False) is False
