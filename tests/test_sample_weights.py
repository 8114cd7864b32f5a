"""Sample and class weights (issue 14), and apply_gradients.

The batch loss with weights is the weighted mean sum(w_i l_i) / sum(w_i) of the rows' losses
(../shared/API.md), so an integer weight k must equal the row repeated k times: checked for every
loss, for the loss, the gradients (1e-12 in float64), the accuracy and a training step, against
the unweighted network on the repeated rows.  Class weights with softmax + cross-entropy are
PyTorch's CrossEntropyLoss(weight=...): checked against it.  Weights computed in C with the loss
agree with the numpy backend's (each test runs on both, against the same independent reference).
"""
import numpy as np
import pytest

import pynn

CASES = {  # loss -> (output activation, kind of targets)
    "mse": ("linear", "regression"), "mae": ("tanh", "regression"), "huber": ("linear", "regression"),
    "binary_cross_entropy": ("sigmoid", "binary"), "cross_entropy": ("softmax", "labels"),
    "cross_entropy_probabilities": ("softmax", "probabilities"),
}


def _net(loss, dtype="float64", optimizer=None, seed=0):
    out = CASES[loss][0]
    return pynn.Network([pynn.Dense(4, 6, "tanh"), pynn.Dense(6, 3, out)], loss=loss.split("_prob")[0],
                        optimizer=optimizer or pynn.Adam(lr=0.01), dtype=dtype, seed=seed)


def _data(loss, n=9, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    kind = CASES[loss][1]
    if kind == "regression":
        y = rng.normal(size=(n, 3)) * 2
    elif kind == "binary":
        y = (rng.uniform(size=(n, 3)) > 0.5).astype(float)
    elif kind == "labels":
        y = rng.integers(0, 3, size=n)
    else:
        p = rng.uniform(size=(n, 3))
        y = p / p.sum(axis=1, keepdims=True)
    return X, y


WEIGHTS = np.array([1, 3, 0, 2, 1, 5, 1, 0, 2])


@pytest.mark.parametrize("loss", sorted(CASES))
def test_integer_weights_equal_repeated_rows(loss):
    X, y = _data(loss)
    Xr, yr = np.repeat(X, WEIGHTS, axis=0), np.repeat(y, WEIGHTS, axis=0)
    a, b = _net(loss), _net(loss)
    for ga, gb in zip(a.gradients(X, y, sample_weight=WEIGHTS), b.gradients(Xr, yr)):
        np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-15)
    ea, eb = a.evaluate(X, y, sample_weight=WEIGHTS), b.evaluate(Xr, yr)
    assert ea.keys() == eb.keys()
    for key in ea:
        assert ea[key] == pytest.approx(eb[key], rel=1e-12)
    assert a.train_step(X, y, sample_weight=WEIGHTS) == pytest.approx(b.train_step(Xr, yr), rel=1e-12)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_float32_weights_agree_with_float64(loss):
    X, y = _data(loss)
    w = np.linspace(0.1, 2.0, len(X))
    g32 = _net(loss, "float32").gradients(X, y, sample_weight=w)
    g64 = _net(loss, "float64").gradients(X, y, sample_weight=w)
    for a, b in zip(g32, g64):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_class_weights_are_pytorchs_cross_entropy_weight():
    torch = pytest.importorskip("torch")
    X, labels = _data("cross_entropy", n=12, seed=3)
    net = pynn.Network([pynn.Dense(4, 3, "softmax")], loss="cross_entropy", dtype="float64", seed=1)
    W, b = net.get_weights()
    class_w = np.array([0.5, 2.0, 3.0])
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(class_w))(torch.tensor(X) @ Wt + bt,
                                                                     torch.tensor(labels))
    loss.backward()
    assert net.evaluate(X, labels, sample_weight=class_w[labels])["loss"] == pytest.approx(loss.item(), rel=1e-12)
    dW, db = net.gradients(X, labels, sample_weight=class_w[labels])
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-12, atol=1e-15)


def _one_batch_fit(net, X, y, **weights):
    return net.fit(X, y, epochs=1, batch_size=len(X), shuffle=False, verbose=0, **weights)


def test_class_weight_in_fit_is_a_weight_per_row():
    X, labels = _data("cross_entropy", n=12, seed=4)
    a, b, c = (_net("cross_entropy") for _ in range(3))
    history = _one_batch_fit(a, X, labels, class_weight={0: 0.5, 2: 4.0})
    loss = b.train_step(X, labels, sample_weight=np.array([0.5, 1.0, 4.0])[labels])
    assert history.history["loss"][0] == pytest.approx(loss, rel=1e-12)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    # "balanced": n_rows / (n_classes * count), scikit-learn's formula, times any sample_weight
    counts = np.bincount(labels, minlength=3)
    balanced = len(labels) / (3 * counts)
    _one_batch_fit(c, X, labels, class_weight="balanced", sample_weight=np.full(12, 2.0))
    d = _net("cross_entropy")
    d.train_step(X, labels, sample_weight=2.0 * balanced[labels])
    for wa, wb in zip(c.get_weights(), d.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12)


def test_balanced_matches_scikit_learn():
    utils = pytest.importorskip("sklearn.utils")
    X, labels = _data("cross_entropy", n=30, seed=5)
    expected = utils.compute_class_weight("balanced", classes=np.arange(3), y=labels)
    a, b = _net("cross_entropy"), _net("cross_entropy")
    _one_batch_fit(a, X, labels, class_weight="balanced")
    b.train_step(X, labels, sample_weight=expected[labels])
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12)


def test_binary_class_weight_on_01_targets():
    net = pynn.Network([pynn.Dense(4, 1, "sigmoid")], loss="binary_cross_entropy", dtype="float64", seed=0)
    twin = pynn.Network([pynn.Dense(4, 1, "sigmoid")], loss="binary_cross_entropy", dtype="float64", seed=0)
    X = np.random.default_rng(0).normal(size=(8, 4))
    y = np.array([0, 1, 1, 0, 1, 1, 1, 0])
    _one_batch_fit(net, X, y, class_weight={1: 3.0})
    twin.train_step(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    for wa, wb in zip(net.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12)


def test_weighted_history_and_validation():
    X, y = _data("mse", n=12)
    w = np.arange(1.0, 13.0)
    net, twin = _net("mse"), _net("mse")
    history = net.fit(X[:8], y[:8], epochs=1, batch_size=8, shuffle=False, verbose=0, sample_weight=w[:8],
                      validation_data=(X[8:], y[8:], w[8:]))
    assert history.history["loss"][0] == pytest.approx(twin.train_step(X[:8], y[:8], sample_weight=w[:8]),
                                                       rel=1e-12)
    assert history.history["val_loss"][0] == pytest.approx(net.evaluate(X[8:], y[8:], w[8:])["loss"], rel=1e-12)
    per_row = np.abs(net.predict(X[8:]) - y[8:]).mean(axis=1)
    assert history.history["val_mae"][0] == pytest.approx(np.average(per_row, weights=w[8:]), rel=1e-12)
    # validation_split takes the weights of the rows it holds out
    a, b = _net("mse"), _net("mse")
    h = a.fit(X, y, epochs=1, batch_size=12, shuffle=False, verbose=0, sample_weight=w, validation_split=0.25)
    b.fit(X[:9], y[:9], epochs=1, batch_size=12, shuffle=False, verbose=0, sample_weight=w[:9])
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert h.history["val_loss"][0] == pytest.approx(b.evaluate(X[9:], y[9:], w[9:])["loss"], rel=1e-12)


def test_minibatch_fit_with_weights_equals_train_steps():
    X, y = _data("huber", n=10)
    w = np.linspace(0.5, 3.0, 10)
    net, twin = _net("huber"), _net("huber")
    history = net.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0, sample_weight=w)
    losses, weights = [], []
    for lo in range(0, 10, 4):
        losses.append(twin.train_step(X[lo:lo + 4], y[lo:lo + 4], sample_weight=w[lo:lo + 4]))
        weights.append(w[lo:lo + 4].sum())
    assert history.history["loss"][0] == pytest.approx(np.average(losses, weights=weights), rel=1e-12)
    for wa, wb in zip(net.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12)


@pytest.mark.parametrize("bad, match", [
    (np.array([1.0, -1.0, 1.0]), "finite numbers >= 0"),
    (np.array([1.0, np.nan, 1.0]), "finite numbers >= 0"),
    (np.array([1.0, np.inf, 1.0]), "finite numbers >= 0"),
    (np.zeros(3), "all zero"),
    (np.ones(4), r"shape \(3,\)"),
    (np.ones((3, 1)), r"shape \(3,\)"),
    (["a", "b", "c"], "real numbers"),
])
def test_bad_sample_weight_is_refused(bad, match):
    X, y = _data("mse", n=3)
    net = _net("mse")
    before = net.get_weights()
    for call in (lambda: net.fit(X, y, sample_weight=bad, verbose=0),
                 lambda: net.train_step(X, y, sample_weight=bad),
                 lambda: net.gradients(X, y, sample_weight=bad),
                 lambda: net.evaluate(X, y, sample_weight=bad)):
        with pytest.raises((ValueError, TypeError), match=match) as info:
            call()
        assert "sample_weight" in str(info.value)
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert net.optimizer.step == 0


def test_bad_class_weight_is_refused():
    X, labels = _data("cross_entropy", n=6)
    net = _net("cross_entropy")
    for bad in ({5: 1.0}, {0: -1.0}, {0: float("nan")}, "even", [1, 2, 3]):
        with pytest.raises((ValueError, TypeError), match="class_weight"):
            net.fit(X, labels, class_weight=bad, verbose=0)
    regression = _net("mse")
    with pytest.raises(ValueError, match="class labels"):
        regression.fit(*_data("mse"), class_weight="balanced", verbose=0)
    assert net.optimizer.step == 0


def test_a_batch_of_zero_weights_has_zero_loss_and_gradient():
    X, y = _data("mse", n=4)
    net = _net("mse")
    grads = net.gradients(X, y, sample_weight=[0, 0, 0, 1])  # not all zero: accepted
    twin = _net("mse")
    for a, b in zip(grads, twin.gradients(X[3:], y[3:])):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


# ---- apply_gradients --------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", [lambda: pynn.SGD(lr=0.1, momentum=0.9), lambda: pynn.Adam(lr=0.01),
                                       lambda: pynn.RMSprop(lr=0.01)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradients_then_apply_gradients_is_a_train_step(optimizer, dtype):
    X, y = _data("cross_entropy")
    a, b = _net("cross_entropy", dtype, optimizer()), _net("cross_entropy", dtype, optimizer())
    for _ in range(3):
        a.apply_gradients(a.gradients(X, y))
        b.train_step(X, y)
    assert a.optimizer.step == b.optimizer.step == 3
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_apply_gradients_by_hand():
    net = pynn.Network([pynn.Dense(2, 1)], loss="mse", optimizer=pynn.SGD(lr=0.5, momentum=0.5), dtype="float64")
    net.set_weights([[[1.0], [2.0]], [3.0]])
    net.apply_gradients([[[1.0], [0.0]], [2.0]])           # buf = g: w - 0.5 g
    net.apply_gradients([[[1.0], [0.0]], [2.0]])           # buf = 0.5 buf + g = 1.5 g
    np.testing.assert_allclose(np.concatenate([w.ravel() for w in net.get_weights()]),
                               [1 - 0.5 - 0.75, 2.0, 3 - 1.0 - 1.5])


@pytest.mark.parametrize("bad, match", [
    ([np.zeros((2, 1))], "list of 2 arrays"),
    ([np.zeros((1, 2)), np.zeros(1)], r"grads\[0\] must have shape \(2, 1\)"),
    ([np.array([[np.nan], [0.0]]), np.zeros(1)], r"grads\[0\] contains NaN"),
])
def test_apply_gradients_refuses_bad_gradients(bad, match):
    net = pynn.Network([pynn.Dense(2, 1)], optimizer=pynn.Adam(), seed=0)
    before = net.get_weights()
    with pytest.raises(ValueError, match=match):
        net.apply_gradients(bad)
    assert net.optimizer.step == 0
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
