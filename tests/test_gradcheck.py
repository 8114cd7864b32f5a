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
    result = pynn.gradcheck(net, X, y, eps=0.5, atol=0, rtol=0, raise_exception=False)
    assert not result and result == False  # noqa: E712 (the old bool result compared equal)
    assert sum(result.failures.values()) > 0


def _finite_difference_errors(net, X, y, eps=1e-6):
    """Per tensor of net.get_weights(): the largest relative error of net.gradients against central
    differences of net.evaluate, computed here with set_weights (independently of gradcheck)."""
    net = net._copy(dtype="float64")
    weights = [w.astype(np.float64) for w in net.get_weights()]
    grads = net.gradients(X, y)
    out = []
    for t, w in enumerate(weights):
        worst = 0.0
        for idx in np.ndindex(w.shape):
            plus = [v.copy() for v in weights]
            minus = [v.copy() for v in weights]
            plus[t][idx] += eps
            minus[t][idx] -= eps
            net.set_weights(plus)
            e_plus = net.evaluate(X, y)["loss"]
            net.set_weights(minus)
            e_minus = net.evaluate(X, y)["loss"]
            numeric, analytic = (e_plus - e_minus) / (2 * eps), grads[t][idx]
            scale = max(abs(numeric), abs(analytic))
            worst = max(worst, abs(numeric - analytic) / scale if scale else 0.0)
        out.append(worst)
    net.set_weights(weights)
    return out


def test_gradcheck_reports_the_largest_relative_error_per_tensor(backend, capsys):
    X, y = data("mse", n=4)
    net = pynn.Network([pynn.Dense(4, 3, "tanh"), pynn.Dropout(0.0), pynn.Dense(3, 3)], loss="mse", seed=8,
                       dtype="float64")
    result = pynn.gradcheck(net, X, y)
    assert result and result == True  # noqa: E712 (backward compatible with the old True)
    assert list(result.errors) == ["layers[0].W", "layers[0].b", "layers[2].W", "layers[2].b"]
    assert result.failures == dict.fromkeys(result.errors, 0) and result.n_params == 4 * 3 + 3 + 3 * 3 + 3
    expected = _finite_difference_errors(net, X, y)
    for got, want in zip(result.errors.values(), expected):
        assert 0 < got < 1e-5 and got == pytest.approx(want, rel=0.5, abs=1e-9)
    assert result.max_error == max(result.errors.values())
    # coarse differences: the errors grow with eps (tanh's curvature), as the independent ones do
    coarse = pynn.gradcheck(net, X, y, eps=0.3, raise_exception=False)
    for got, want in zip(coarse.errors.values(), _finite_difference_errors(net, X, y, eps=0.3)):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-12)
    assert coarse.max_error > 100 * result.max_error
    # printed on request, and str() gives the same table
    capsys.readouterr()
    pynn.gradcheck(net, X, y, verbose=True)
    printed = capsys.readouterr().out
    assert printed.startswith("gradcheck: passed (27 parameters")
    for name, value in result.errors.items():
        line, = [line for line in printed.splitlines() if line.split()[:1] == [name]]
        assert float(line.split()[1]) == pytest.approx(value, rel=1e-2)
    assert str(result) == printed.rstrip("\n")
    assert pynn.gradcheck(net, X, y, verbose=False) and capsys.readouterr().out == ""
