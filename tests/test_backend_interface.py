"""The backend interface (pynn.backends.Backend) tested without a Network: a Plan made by hand,
each backend's functions called on it directly, the numbers checked against a forward and
backward pass written out here in float64 numpy (a tanh hidden layer, then a linear output with
mse, or a softmax output with cross-entropy).  The autouse fixture runs each test on both
backends, so both implementations meet the same independent reference."""
import numpy as np
import pytest

from pynn import backends, optimizers
from pynn._plan import Plan


def _plan(dtype, out="linear", loss="mse", slots=("momentum_buffer",), seed=0):
    rng = np.random.default_rng(seed)
    plan = Plan.new([3, 5, 2], ["tanh", out], loss, np.dtype(dtype), [0.0, 0.0], rng, slots)
    plan.params[...] = rng.normal(size=plan.n_params)
    return plan


def _weights(plan):
    (W1, b1), (W2, b2) = plan.param_views
    return [a.astype(np.float64) for a in (W1, b1, W2, b2)]


def _data(n=6, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 2))


def _mse_gradients(plan, X, Y):
    """dLoss/dparams of mean((tanh(X W1 + b1) W2 + b2 - Y)^2), by the chain rule, in float64."""
    W1, b1, W2, b2 = _weights(plan)
    A1 = np.tanh(X @ W1 + b1)
    out = A1 @ W2 + b2
    dZ2 = 2 * (out - Y) / out.size
    dZ1 = (dZ2 @ W2.T) * (1 - A1 ** 2)
    return np.concatenate([(X.T @ dZ1).ravel(), dZ1.sum(0), (A1.T @ dZ2).ravel(), dZ2.sum(0)]), out


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 1e-5)])
def test_predict_and_logits(dtype, rtol):
    impl = backends.implementation()
    plan = _plan(dtype, out="softmax", loss="cross_entropy", slots=())
    X, _ = _data()
    W1, b1, W2, b2 = _weights(plan)
    Xd = X.astype(dtype)
    z = np.tanh(Xd.astype(np.float64) @ W1 + b1) @ W2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(impl.predict(plan, Xd), p, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(impl.predict(plan, Xd, logits=True), z, rtol=rtol, atol=rtol)
    assert impl.predict(plan, Xd).dtype == np.dtype(dtype)


def test_evaluate_and_gradients_match_the_chain_rule():
    impl = backends.implementation()
    plan = _plan("float64")
    X, Y = _data()
    grads, out = _mse_gradients(plan, X, Y)
    loss, correct = impl.evaluate(plan, X, Y, None)
    assert loss == pytest.approx(np.mean((out - Y) ** 2), rel=1e-12)
    loss_g, _ = impl.gradients(plan, X, Y, None, None, 1)
    assert loss_g == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(plan.grads, grads, rtol=1e-10, atol=1e-14)


def test_train_rows_applies_the_optimizer_batch_by_batch():
    """Two batches of 3 rows with SGD(momentum=0.9): buf = g1, w -= lr*buf; then buf = 0.9 buf + g2."""
    impl = backends.implementation()
    plan = _plan("float64")
    X, Y = _data()
    opt = optimizers.SGD(lr=0.1, momentum=0.9)
    expect = plan.params.copy()
    buf = np.zeros_like(expect)
    losses = []
    for lo in (0, 3):
        twin = _plan("float64")
        twin.params[...] = expect
        g, out = _mse_gradients(twin, X[lo:lo + 3], Y[lo:lo + 3])
        losses.append(np.mean((out - Y[lo:lo + 3]) ** 2) * 3)
        buf = 0.9 * buf + g
        expect = expect - 0.1 * buf
    loss_sum, _ = impl.train_rows(plan, opt, X, Y, None, None, 3)
    assert opt.step == 2
    assert loss_sum == pytest.approx(sum(losses), rel=1e-12)
    np.testing.assert_allclose(plan.params, expect, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(plan.state, buf, rtol=1e-10, atol=1e-14)


def test_check_inputs_refuses_what_training_would():
    impl = backends.implementation()
    plan = _plan("float64")
    X, Y = _data()
    impl.check_inputs(plan, X, Y, None)  # good data: no error
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        impl.check_inputs(plan, bad, Y, None)
    Y_bad = Y.copy()
    Y_bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="y contains NaN"):
        impl.check_inputs(plan, X, Y_bad, None)
    classifier = _plan("float64", out="softmax", loss="cross_entropy", slots=())
    with pytest.raises(ValueError, match=r"class labels in y must be in \[0, 2\)"):
        impl.check_inputs(classifier, X, None, np.array([0, 1, 2, 0, 1, 0], dtype=np.int64))


def test_a_replaced_plan_shares_the_weights_but_not_the_codes():
    """Plan.replace: a new activation on the same buffers (what layer.activation = ... does)."""
    impl = backends.implementation()
    plan = _plan("float64")
    X, _ = _data()
    relu = plan.replace(activations_=["relu", "linear"])
    assert relu.params is plan.params and relu.grads is plan.grads
    W1, b1, W2, b2 = _weights(plan)
    np.testing.assert_allclose(impl.predict(relu, X), np.maximum(X @ W1 + b1, 0) @ W2 + b2, rtol=1e-12)
    np.testing.assert_allclose(impl.predict(plan, X), np.tanh(X @ W1 + b1) @ W2 + b2, rtol=1e-12)
