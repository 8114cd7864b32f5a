"""The Network object: weights access, seeding, initialisers, fit/History/callbacks, shapes.

Numbers are checked against independent facts: the initialiser formulas (std / bounds written
here), symmetry of identically-initialised hidden units, train_step equivalence for fit with a
single full batch, and identical results on both backends for the same seed.
"""
import math

import numpy as np
import pytest

import pynn


def _net(seed=0, dtype="float64", optimizer=None, hidden="tanh", loss="mse", out="linear",
         n_out=2):
    return pynn.Network(
        [pynn.Dense(3, 6, activation=hidden), pynn.Dense(6, n_out, activation=out)],
        loss=loss, optimizer=optimizer or pynn.SGD(lr=0.05), dtype=dtype, seed=seed,
    )


def _data(n=24, n_out=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    Y = np.stack([np.sin(X[:, 0]) + X[:, 1] * X[:, 2], np.cos(X[:, 1])], axis=1)[:, :n_out]
    return X, Y


# ---------------------------------------------------------------- weights access

def test_get_weights_order_shapes_and_copies():
    """get_weights is [W1, b1, W2, b2] with (n_in, n_out)/(n_out,) shapes, and returns copies."""
    net = _net()
    w = net.get_weights()
    assert [a.shape for a in w] == [(3, 6), (6,), (6, 2), (2,)]
    assert all(a.dtype == np.float64 for a in w)
    w[0][...] = 123.0
    w[1][...] = 7.0
    w2 = net.get_weights()
    assert not np.any(w2[0] == 123.0)
    assert not np.any(w2[1] == 7.0)


def test_set_weights_round_trip():
    """set_weights then get_weights returns the same values, and predict uses them."""
    net = _net()
    rng = np.random.default_rng(1)
    new = [rng.normal(size=a.shape) for a in net.get_weights()]
    net.set_weights(new)
    for a, b in zip(net.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    new[0][...] = 0.0  # set_weights copied; changing the caller's array does nothing
    assert not np.all(net.get_weights()[0] == 0.0)
    X, _ = _data()
    W1, b1, W2, b2 = net.get_weights()
    expected = np.tanh(X @ W1 + b1) @ W2 + b2
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-12, atol=1e-14)


def test_set_weights_shape_mismatch():
    """set_weights raises ValueError on a wrong shape and on a wrong number of arrays."""
    net = _net()
    w = net.get_weights()
    with pytest.raises(ValueError):
        net.set_weights([w[0][:2], w[1], w[2], w[3]])
    with pytest.raises(ValueError):
        net.set_weights(w[:2])


def test_layer_views_write_through():
    """net.layers[i].W / .b are views: writing them changes predictions and get_weights."""
    net = _net()
    assert len(net.layers) == 2
    L0, L1 = net.layers
    assert L0.W.shape == (3, 6) and L0.b.shape == (6,) and L1.W.shape == (6, 2)
    assert L0.activation == "tanh" and L1.activation == "linear"
    rng = np.random.default_rng(2)
    W = rng.normal(size=(3, 6))
    L0.W[...] = W
    L1.b[...] = [0.5, -0.25]
    got = net.get_weights()
    np.testing.assert_array_equal(got[0], W)
    np.testing.assert_array_equal(got[3], [0.5, -0.25])
    X, _ = _data()
    expected = np.tanh(X @ W + got[1]) @ got[2] + np.array([0.5, -0.25])
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-12, atol=1e-14)


def test_layer_views_follow_training():
    """After train_step the layer views show the updated parameters (they are not stale copies)."""
    net = _net()
    X, Y = _data()
    net.train_step(X, Y)
    w = net.get_weights()
    np.testing.assert_array_equal(net.layers[0].W, w[0])
    np.testing.assert_array_equal(net.layers[1].b, w[3])


def test_dense_outside_network_has_no_weights():
    """A Dense that is not yet part of a Network has W None."""
    assert pynn.Dense(3, 4).W is None


# ---------------------------------------------------------------- seeds and backends

def _other_backend(current):
    others = [b for b in pynn.available_backends() if b != current]
    if not others:
        pytest.skip("only one backend available")
    return others[0]


def _seeded_run(dtype):
    X, Y = _data(n=30)
    net = _net(seed=42, dtype=dtype, optimizer=pynn.Adam(lr=0.01))
    w_init = net.get_weights()
    hist = net.fit(X, Y, epochs=3, batch_size=7, shuffle=True, verbose=0)
    return w_init, hist.history["loss"], net.get_weights(), net.predict(X)


def test_same_seed_same_weights_and_training():
    """Same seed -> identical initial weights and identical shuffled fit, on this backend."""
    a = _seeded_run("float64")
    b = _seeded_run("float64")
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    assert a[1] == b[1]
    for x, y in zip(a[2], b[2]):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_same_seed_across_backends(backend, dtype, rtol):
    """Same seed on the other backend: same initial weights and same training (shuffle on)."""
    a = _seeded_run(dtype)
    pynn.set_backend(_other_backend(backend))
    b = _seeded_run(dtype)
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)  # init must not depend on the backend at all
    np.testing.assert_allclose(a[1], b[1], rtol=rtol)
    for x, y in zip(a[2], b[2]):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(a[3], b[3], rtol=rtol, atol=rtol * 1e-2)


def test_shuffle_changes_batches():
    """shuffle=True with a fixed seed trains differently from shuffle=False (it really shuffles)."""
    X, Y = _data(n=30)
    runs = []
    for shuffle in (True, False):
        net = _net(seed=42, optimizer=pynn.SGD(lr=0.05))
        net.fit(X, Y, epochs=2, batch_size=7, shuffle=shuffle, verbose=0)
        runs.append(net.get_weights())
    assert any(not np.allclose(a, b, rtol=1e-9) for a, b in zip(*runs))


def test_different_seed_different_weights():
    """Different seeds give different initial weights."""
    a, b = _net(seed=1).get_weights(), _net(seed=2).get_weights()
    assert not np.allclose(a[0], b[0])
    assert not np.allclose(a[2], b[2])


# ---------------------------------------------------------------- initialisers

FAN_IN, FAN_OUT = 1000, 500


def _init(name, **kw):
    return np.asarray(getattr(pynn.init, name)((FAN_IN, FAN_OUT), np.random.default_rng(0), **kw))


@pytest.mark.parametrize("name,std", [
    ("he_normal", math.sqrt(2 / FAN_IN)),
    ("xavier_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("lecun_normal", math.sqrt(1 / FAN_IN)),
    ("normal", 0.05),
])
def test_normal_initialisers_std(name, std):
    """Normal initialisers: mean ~0 and std within 2% of the formula (untruncated: tails exist)."""
    W = _init(name)
    assert W.shape == (FAN_IN, FAN_OUT)
    assert abs(W.mean()) < 0.01 * std
    assert W.std() == pytest.approx(std, rel=0.02)
    assert np.abs(W).max() > 3.5 * std  # 500k draws of an untruncated normal reach 4+ sigma


@pytest.mark.parametrize("name,bound", [
    ("xavier_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("he_uniform", math.sqrt(6 / FAN_IN)),
    ("uniform", 0.05),
])
def test_uniform_initialisers_bounds(name, bound):
    """Uniform initialisers lie in [-bound, bound], fill it, and have std bound/sqrt(3)."""
    W = _init(name)
    assert np.abs(W).max() <= bound
    assert W.max() > 0.99 * bound and W.min() < -0.99 * bound
    assert W.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_init_keyword_arguments():
    """uniform/normal/constant honour their keyword arguments; zeros/ones are constant."""
    U = _init("uniform", low=2.0, high=3.0)
    assert U.min() >= 2.0 and U.max() <= 3.0 and U.mean() == pytest.approx(2.5, abs=0.01)
    Nn = _init("normal", mean=1.0, std=0.5)
    assert Nn.mean() == pytest.approx(1.0, abs=0.01) and Nn.std() == pytest.approx(0.5, rel=0.02)
    assert np.all(_init("constant", value=0.7) == 0.7)
    assert np.all(_init("constant") == 0.0)
    assert np.all(_init("zeros") == 0.0) and np.all(_init("ones") == 1.0)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "gelu", "tanh", "sigmoid", "linear"])
def test_default_init_is_xavier_uniform(act):
    """Every layer defaults to xavier_uniform (bound sqrt(6/(fan_in+fan_out))), as Keras and
    scikit-learn's MLP; benchmarks/init_default.py has the evidence for relu layers."""
    net = pynn.Network([pynn.Dense(FAN_IN, FAN_OUT, activation=act)], seed=0)
    W, b = net.get_weights()
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.abs(W).max() <= bound * (1 + 1e-6)
    assert np.abs(W).max() > 0.99 * bound
    assert np.all(b == 0)


def test_init_by_name_and_callable():
    """Dense(init=<name>) and Dense(init=callable) and bias_init are used for the parameters."""
    net = pynn.Network([
        pynn.Dense(4, 3, init="ones", bias_init="ones"),
        pynn.Dense(3, 2, init=lambda shape, rng: np.full(shape, 0.25)),
    ], seed=0)
    W1, b1, W2, b2 = net.get_weights()
    assert np.all(W1 == 1.0) and np.all(b1 == 1.0)
    assert np.all(W2 == 0.25) and W2.shape == (3, 2) and np.all(b2 == 0.0)


# ---------------------------------------------------------------- symmetry

def _symmetry_net(init):
    return pynn.Network(
        [pynn.Dense(3, 5, activation="tanh", init=init), pynn.Dense(5, 2, init=init)],
        loss="mse", optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=0,
    )


@pytest.mark.parametrize("init", ["constant", "zeros"])
def test_constant_init_keeps_hidden_units_identical(init):
    """With identical initial weights all hidden units get identical updates forever."""
    const = (lambda shape, rng: np.full(shape, 0.3)) if init == "constant" else "zeros"
    net = _symmetry_net(const)
    X, Y = _data()
    for _ in range(10):
        net.train_step(X, Y)
    W1, b1, W2, _ = net.get_weights()
    for j in range(1, 5):
        np.testing.assert_allclose(W1[:, j], W1[:, 0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(W2[j], W2[0], rtol=1e-12, atol=1e-15)
    assert np.allclose(b1, b1[0])
    if init == "constant":
        assert not np.allclose(W1, 0.3)  # training did move the weights


def test_random_init_breaks_symmetry():
    """With random init the hidden units differ after training."""
    net = _symmetry_net(None)
    X, Y = _data()
    for _ in range(10):
        net.train_step(X, Y)
    W1 = net.get_weights()[0]
    assert not np.allclose(W1[:, 1], W1[:, 0])


# ---------------------------------------------------------------- train_step / evaluate

def test_train_step_returns_loss_before_update():
    """train_step returns a Python float equal to evaluate's loss before the step."""
    net = _net()
    X, Y = _data()
    before = net.evaluate(X, Y)["loss"]
    W1, b1, W2, b2 = net.get_weights()
    manual = float(np.mean((np.tanh(X @ W1 + b1) @ W2 + b2 - Y) ** 2))
    got = net.train_step(X, Y)
    assert type(got) is float
    assert got == pytest.approx(before, rel=1e-12)
    assert got == pytest.approx(manual, rel=1e-12)
    assert net.evaluate(X, Y)["loss"] < before


def test_evaluate_accuracy_softmax():
    """softmax + cross_entropy accuracy = fraction of rows whose argmax equals the label."""
    net = _net(out="softmax", loss="cross_entropy", n_out=3, seed=3)
    X, _ = _data(n=40)
    W1, b1, W2, b2 = net.get_weights()
    pred_cls = np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)
    labels = pred_cls.copy()
    labels[:10] = (labels[:10] + 1) % 3  # exactly 10 of 40 wrong
    res = net.evaluate(X, labels)
    assert set(res) >= {"loss", "accuracy"}
    assert res["accuracy"] == pytest.approx(0.75)
    res1h = net.evaluate(X, np.eye(3)[labels])
    assert res1h["accuracy"] == pytest.approx(0.75)


def test_evaluate_accuracy_sigmoid():
    """sigmoid + BCE accuracy thresholds each output at 0.5 and averages over all elements."""
    net = _net(out="sigmoid", loss="binary_cross_entropy", n_out=2, seed=4)
    X, _ = _data(n=20)
    W1, b1, W2, b2 = net.get_weights()
    pred = (np.tanh(X @ W1 + b1) @ W2 + b2 > 0).astype(float)  # p > 0.5 <=> logit > 0
    y = pred.copy()
    y[:5, 0] = 1 - y[:5, 0]  # 5 of 40 elements wrong
    assert net.evaluate(X, y)["accuracy"] == pytest.approx(35 / 40)


def test_evaluate_regression_has_no_accuracy():
    """A regression net's evaluate returns the loss (and no accuracy)."""
    net = _net()
    X, Y = _data()
    res = net.evaluate(X, Y)
    assert "accuracy" not in res
    assert isinstance(res["loss"], float)


# ---------------------------------------------------------------- fit

def test_fit_single_batch_equals_train_steps():
    """fit with batch_size >= N and shuffle=False is exactly one train_step per epoch."""
    X, Y = _data()
    a = _net(seed=5)
    b = _net(seed=5)
    hist = a.fit(X, Y, epochs=4, batch_size=len(X), shuffle=False, verbose=0)
    losses = [b.train_step(X, Y) for _ in range(4)]
    np.testing.assert_allclose(hist.history["loss"], losses, rtol=1e-12)
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)


def test_fit_minibatches_in_order():
    """fit with shuffle=False walks the batches in order, last batch short (N=10, batch 4)."""
    X, Y = _data(n=10)
    a = _net(seed=6)
    b = _net(seed=6)
    a.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for s in (slice(0, 4), slice(4, 8), slice(8, 10)):
        b.train_step(X[s], Y[s])
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)


def test_fit_learns_xor():
    """A 2-8-1 tanh/sigmoid net with BCE learns XOR to 100% accuracy (seed fixed)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0], dtype=float)
    net = pynn.Network(
        [pynn.Dense(2, 8, activation="tanh"), pynn.Dense(8, 1, activation="sigmoid")],
        loss="binary_cross_entropy", optimizer=pynn.Adam(lr=0.05), seed=0,
    )
    hist = net.fit(X, y, epochs=300, batch_size=4, verbose=0)
    loss = hist.history["loss"]
    assert loss[-1] < 0.1 < loss[0]
    res = net.evaluate(X, y)
    assert res["accuracy"] > 0.99
    np.testing.assert_array_equal(net.predict(X)[:, 0] > 0.5, y == 1)


def test_history_and_validation():
    """History has one entry per epoch; val_loss equals evaluate on validation_data."""
    X, Y = _data(n=30)
    Xv, Yv = _data(n=12, seed=9)
    net = _net(seed=7)
    hist = net.fit(X, Y, epochs=5, batch_size=8, validation_data=(Xv, Yv), verbose=0)
    assert hist.epoch == list(range(5))
    assert len(hist.history["loss"]) == 5
    assert len(hist.history["val_loss"]) == 5
    assert hist.history["val_loss"][-1] == pytest.approx(net.evaluate(Xv, Yv)["loss"], rel=1e-10)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    hist2 = _net(seed=7).fit(X, Y, epochs=2, verbose=0)
    assert "val_loss" not in hist2.history


def test_history_classifier_accuracy():
    """A classifier's History carries accuracy and val_accuracy; val values match evaluate."""
    X, _ = _data(n=30)
    labels = (X[:, 0] > 0).astype(int)
    net = _net(out="softmax", loss="cross_entropy", n_out=2, seed=8)
    hist = net.fit(X, labels, epochs=3, batch_size=10, validation_data=(X, labels), verbose=0)
    for k in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert len(hist.history[k]) == 3, k
    res = net.evaluate(X, labels)
    assert hist.history["val_accuracy"][-1] == pytest.approx(res["accuracy"])
    assert hist.history["val_loss"][-1] == pytest.approx(res["loss"], rel=1e-10)


class Recorder(pynn.Callback):
    def __init__(self, stop_after=None):
        super().__init__()
        self.events, self.stop_after, self.seen_model = [], stop_after, []

    def on_train_begin(self, logs=None):
        self.seen_model.append(self.model)
        self.events.append(("train_begin",))

    def on_train_end(self, logs=None):
        self.events.append(("train_end",))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch_end", epoch, (logs or {}).get("loss")))
        if self.stop_after is not None and epoch >= self.stop_after:
            self.model.stop_training = True

    def on_batch_end(self, batch, logs=None):
        self.events.append(("batch_end", batch))


def test_callbacks_order():
    """Callbacks fire train_begin, (epoch_begin, batch_end x n, epoch_end) x epochs, train_end."""
    X, Y = _data(n=10)
    net = _net(seed=1)
    rec = Recorder()
    hist = net.fit(X, Y, epochs=2, batch_size=4, shuffle=False, callbacks=[rec], verbose=0)
    assert rec.seen_model == [net]
    names = [e[:2] for e in rec.events]
    expected = [("train_begin",)]
    for ep in range(2):
        expected += [("epoch_begin", ep), ("batch_end", 0), ("batch_end", 1), ("batch_end", 2),
                     ("epoch_end", ep)]
    expected += [("train_end",)]
    assert names == expected
    epoch_losses = [e[2] for e in rec.events if e[0] == "epoch_end"]
    assert epoch_losses == pytest.approx(hist.history["loss"])


def test_stop_training():
    """Setting model.stop_training in on_epoch_end stops fit after that epoch."""
    X, Y = _data(n=10)
    net = _net(seed=1)
    rec = Recorder(stop_after=1)
    hist = net.fit(X, Y, epochs=10, batch_size=5, callbacks=[rec], verbose=0)
    assert len(hist.history["loss"]) == 2
    assert [e[1] for e in rec.events if e[0] == "epoch_end"] == [0, 1]
    assert rec.events[-1] == ("train_end",)
    # a later fit is not blocked by the previous stop request
    hist2 = net.fit(X, Y, epochs=3, batch_size=5, verbose=0)
    assert len(hist2.history["loss"]) == 3


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize("n", [1, 7, 64])
def test_predict_shapes(n):
    """predict returns (N, n_out) in the network's dtype for any batch size."""
    for dtype in ("float32", "float64"):
        net = _net(dtype=dtype, n_out=2)
        X, _ = _data(n=n)
        P = net.predict(X)
        assert P.shape == (n, 2)
        assert P.dtype == np.dtype(dtype)
    net = _net(out="softmax", loss="cross_entropy", n_out=4)
    assert net.predict(_data(n=n)[0]).shape == (n, 4)
    net = _net(out="sigmoid", loss="binary_cross_entropy", n_out=1)
    assert net.predict(_data(n=n)[0]).shape == (n, 1)


def test_gradients_shapes_and_no_update():
    """gradients has get_weights' shapes and does not change the weights."""
    net = _net()
    X, Y = _data()
    w0 = net.get_weights()
    g = net.gradients(X, Y)
    assert [a.shape for a in g] == [a.shape for a in w0]
    for a, b in zip(net.get_weights(), w0):
        np.testing.assert_array_equal(a, b)


def test_gradients_finite_difference():
    """gradients match central finite differences of evaluate's loss (float64, no torch)."""
    net = _net(hidden="gelu", seed=2)
    X, Y = _data(n=8)
    g = net.gradients(X, Y)
    w = net.get_weights()
    eps = 1e-6
    for k in range(len(w)):
        for idx in [(0,) * w[k].ndim, tuple(s - 1 for s in w[k].shape)]:
            wp = [a.copy() for a in w]
            wm = [a.copy() for a in w]
            wp[k][idx] += eps
            wm[k][idx] -= eps
            net.set_weights(wp)
            lp = net.evaluate(X, Y)["loss"]
            net.set_weights(wm)
            lm = net.evaluate(X, Y)["loss"]
            assert g[k][idx] == pytest.approx((lp - lm) / (2 * eps), rel=1e-5, abs=1e-8)
    net.set_weights(w)
    result = pynn.gradcheck(net, X, Y)
    assert result and result.passed
