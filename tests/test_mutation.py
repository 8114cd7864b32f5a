"""What a user may change on a built network, attribute by attribute.

Every change to a built Network, its layers or its optimizer is either honoured -- it takes
effect on the very next call, on both backends, and is what save()/pynn.load() write and read
back -- or refused with an error that leaves everything as it was.  Each test first runs the
network (predict, train_step, on both backends) so that anything a backend caches exists before
the change, then checks the numbers after it against an independent computation:

- a freshly built reference network that has the new setting from the start, given the same
  weights with set_weights (and a fresh, stateless optimizer where the optimizer's state would
  otherwise differ), compared in float64 with rtol 1e-12;
- a hand formula in numpy float64: the mean absolute error, a dense forward pass, the SGD,
  momentum and Adam updates from the gradients net.gradients() reports just before each step;
- for a refused change: the value is unchanged and the next steps equal those of a reference
  network that never saw the bad value.
"""
import contextlib
import math

import numpy as np
import pytest

import pynn

RTOL = 1e-12


# ---- helpers -----------------------------------------------------------------------------------


def _data(n=10, n_in=4, n_out=3, seed=0, labels=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    if labels:
        return X, rng.integers(0, n_out, size=n)
    return X, rng.normal(size=(n, n_out))


@contextlib.contextmanager
def _other_backend(backend):
    """Run the body on the other backend (if it is available), then come back to ``backend``."""
    other = "numpy" if backend == "c" else "c"
    if other not in pynn.available_backends():
        yield
        return
    pynn.set_backend(other)
    try:
        yield
    finally:
        pynn.set_backend(backend)


def _exercise(net, X, y, backend, steps=1):
    """predict and train on both backends, ending on ``backend``: whatever a backend caches exists."""
    with _other_backend(backend):
        net.predict(X)
        net.evaluate(X, y)
        net.train_step(X, y)
    net.predict(X)
    net.evaluate(X, y)
    for _ in range(steps):
        net.train_step(X, y)


def _assert_weights_close(a, b, rtol=RTOL):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=1e-14)


def _assert_weights_equal(a, b):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)


def _summary_line(net, index):
    for line in str(net).splitlines():
        if line.split() and line.split()[0] == str(index):
            return line
    raise AssertionError("no line for layer %d in:\n%s" % (index, net))


def _classifier(hidden="relu", optimizer=None, dtype="float64", seed=0):
    return pynn.Network([pynn.Dense(4, 6, hidden), pynn.Dense(6, 5, hidden), pynn.Dense(5, 3, "softmax")],
                        loss="cross_entropy", optimizer=optimizer or pynn.SGD(lr=0.1), dtype=dtype, seed=seed)


def _regressor(loss="mse", optimizer=None, dtype="float64", seed=0):
    return pynn.Network([pynn.Dense(4, 6, "tanh"), pynn.Dense(6, 3)], loss=loss,
                        optimizer=optimizer or pynn.SGD(lr=0.1), dtype=dtype, seed=seed)


def _numpy_forward(weights, activations, X):
    """A dense forward pass in numpy float64 (tanh, relu, linear, softmax)."""
    a = np.asarray(X, dtype=np.float64)
    for (W, b), act in zip(zip(weights[::2], weights[1::2]), activations):
        z = a @ np.asarray(W, dtype=np.float64) + np.asarray(b, dtype=np.float64)
        if act == "tanh":
            a = np.tanh(z)
        elif act == "relu":
            a = np.maximum(z, 0.0)
        elif act == "linear":
            a = z
        elif act == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            raise AssertionError(act)
    return a


# ---- the network's own attributes ----------------------------------------------------------------


def test_dtype_and_seed_are_read_only(backend):
    net = _regressor(dtype="float32", seed=3)
    X, y = _data(labels=False)
    _exercise(net, X, y, backend)
    before = net.predict(X)
    with pytest.raises(AttributeError):
        net.dtype = "float64"
    with pytest.raises(AttributeError):
        net.dtype = np.dtype(np.float64)
    with pytest.raises(AttributeError):
        net.seed = 4
    assert net.dtype == np.float32
    assert net.seed == 3
    out = net.predict(X)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, before)


def test_layers_is_a_tuple_listing_every_layer_in_order(backend):
    first, drop, last = pynn.Dense(4, 6, "tanh"), pynn.Dropout(0.25), pynn.Dense(6, 3)
    net = pynn.Network([first, drop, last], dtype="float64", seed=0)
    assert isinstance(net.layers, tuple)
    assert len(net.layers) == 3
    assert net.layers[0] is first and net.layers[1] is drop and net.layers[2] is last
    with pytest.raises(TypeError):
        net.layers[0] = pynn.Dense(4, 6, "tanh")
    with pytest.raises(TypeError):
        del net.layers[1]
    assert net.layers[0] is first and net.layers[1] is drop and net.layers[2] is last
    X, y = _data(labels=False)
    _exercise(net, X, y, backend)  # still a working network


def test_dense_sizes_are_read_only(backend):
    loose = pynn.Dense(3, 2)
    attached = pynn.Dense(4, 6, "tanh")
    net = pynn.Network([attached, pynn.Dense(6, 3)], dtype="float64", seed=0)
    for layer, (n_in, n_out) in ((loose, (3, 2)), (attached, (4, 6))):
        with pytest.raises(AttributeError):
            layer.n_in = 5
        with pytest.raises(AttributeError):
            layer.n_out = 5
        assert (layer.n_in, layer.n_out) == (n_in, n_out)
    assert net.n_inputs == 4 and net.n_params == 4 * 6 + 6 + 6 * 3 + 3
    X, y = _data(labels=False)
    _exercise(net, X, y, backend)


# ---- activations -------------------------------------------------------------------------------


def test_activation_change_is_honoured(backend, tmp_path):
    X, y = _data()
    net = _classifier("relu")
    _exercise(net, X, y, backend, steps=2)
    net.layers[1].activation = "tanh"
    assert net.layers[1].activation == "tanh"

    ref = pynn.Network([pynn.Dense(4, 6, "relu"), pynn.Dense(6, 5, "tanh"), pynn.Dense(5, 3, "softmax")],
                       loss="cross_entropy", optimizer=pynn.SGD(lr=0.1), dtype="float64")
    ref.set_weights(net.get_weights())
    expected = ref.predict(X)
    # and the reference is what the formula says: relu, tanh, softmax
    np.testing.assert_allclose(expected, _numpy_forward(net.get_weights(), ["relu", "tanh", "softmax"], X),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(net.predict(X), expected, rtol=RTOL)
    assert "tanh" in _summary_line(net, 1)

    for _ in range(2):  # plain SGD keeps no state: the reference's steps are the same steps
        loss, ref_loss = net.train_step(X, y), ref.train_step(X, y)
        assert loss == pytest.approx(ref_loss, rel=RTOL)
        _assert_weights_close(net.get_weights(), ref.get_weights())

    path = tmp_path / "tanh.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    assert loaded.layers[1].activation == "tanh"
    np.testing.assert_allclose(loaded.predict(X), ref.predict(X), rtol=RTOL)
    with _other_backend(backend):  # the other backend sees it too
        np.testing.assert_allclose(net.predict(X), ref.predict(X), rtol=1e-10, atol=1e-12)


def test_activation_change_on_the_output_layer_is_honoured(backend):
    X, y = _data(labels=False)
    net = _regressor()
    _exercise(net, X, y, backend)
    net.layers[1].activation = "tanh"  # linear -> tanh: mse still pairs with it
    expected = _numpy_forward(net.get_weights(), ["tanh", "tanh"], X)
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-10, atol=1e-12)
    ref = pynn.Network([pynn.Dense(4, 6, "tanh"), pynn.Dense(6, 3, "tanh")], loss="mse",
                       optimizer=pynn.SGD(lr=0.1), dtype="float64")
    ref.set_weights(net.get_weights())
    np.testing.assert_allclose(net.evaluate(X, y)["loss"], ref.evaluate(X, y)["loss"], rtol=RTOL)
    net.train_step(X, y)
    ref.train_step(X, y)
    _assert_weights_close(net.get_weights(), ref.get_weights())


@pytest.mark.parametrize("index, value", [
    (0, "bogus"),          # unknown name
    (1, "Tanh"),           # names are exact
    (0, 3),                # not a name
    (1, "softmax"),        # softmax on a hidden layer
    (2, "sigmoid"),        # the last layer of a cross_entropy network must stay softmax
    (2, "linear"),
])
def test_invalid_activation_is_refused(backend, index, value):
    X, y = _data()
    net = _classifier("relu")
    _exercise(net, X, y, backend)
    old = net.layers[index].activation
    before, weights = net.predict(X), net.get_weights()
    with pytest.raises(ValueError):
        net.layers[index].activation = value
    assert net.layers[index].activation == old
    np.testing.assert_array_equal(net.predict(X), before)
    ref = _classifier("relu")
    ref.set_weights(weights)
    net.train_step(X, y)
    ref.train_step(X, y)
    _assert_weights_close(net.get_weights(), ref.get_weights())
    assert old in _summary_line(net, index)


def test_invalid_activation_on_a_loose_dense_is_refused(backend):
    layer = pynn.Dense(3, 2, "tanh")
    with pytest.raises(ValueError):
        layer.activation = "bogus"
    assert layer.activation == "tanh"
    net = pynn.Network([layer], dtype="float64", seed=0)
    W, b = net.get_weights()
    X = _data(n_in=3)[0]
    np.testing.assert_allclose(net.predict(X), np.tanh(X @ W + b), rtol=1e-10, atol=1e-12)


# ---- the loss ----------------------------------------------------------------------------------


def test_loss_change_is_honoured(backend, tmp_path):
    X, y = _data(labels=False)
    net = _regressor("mse")
    _exercise(net, X, y, backend)
    net.loss = "mae"
    assert net.loss == "mae"
    out = net.predict(X)
    np.testing.assert_allclose(net.evaluate(X, y)["loss"], np.mean(np.abs(out - y)), rtol=RTOL)

    ref = _regressor("mae")
    ref.set_weights(net.get_weights())
    net.train_step(X, y)
    ref.train_step(X, y)
    _assert_weights_close(net.get_weights(), ref.get_weights())
    with _other_backend(backend):
        out = net.predict(X)
        np.testing.assert_allclose(net.evaluate(X, y)["loss"], np.mean(np.abs(out - y)), rtol=1e-10)

    path = tmp_path / "mae.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    assert loaded.loss == "mae"
    np.testing.assert_allclose(loaded.evaluate(X, y)["loss"], np.mean(np.abs(loaded.predict(X) - y)), rtol=RTOL)


@pytest.mark.parametrize("value", ["cross_entropy", "binary_cross_entropy", "bogus", None])
def test_loss_that_does_not_pair_is_refused(backend, value):
    X, y = _data(labels=False)
    net = _regressor("mse")
    _exercise(net, X, y, backend)
    with pytest.raises(ValueError):
        net.loss = value
    assert net.loss == "mse"
    np.testing.assert_allclose(net.evaluate(X, y)["loss"], np.mean((net.predict(X) - y) ** 2), rtol=RTOL)


# ---- dropout rate ------------------------------------------------------------------------------


def _dropout_net(p, seed=0):
    return pynn.Network([pynn.Dense(4, 8, "tanh"), pynn.Dropout(p), pynn.Dense(8, 3, "softmax")],
                        loss="cross_entropy", optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=seed)


def _no_dropout_ref(weights):
    ref = pynn.Network([pynn.Dense(4, 8, "tanh"), pynn.Dense(8, 3, "softmax")],
                       loss="cross_entropy", optimizer=pynn.SGD(lr=0.1), dtype="float64")
    ref.set_weights(weights)
    return ref


def test_dropout_rate_set_to_zero_is_honoured(backend, tmp_path):
    X, y = _data()
    net = _dropout_net(0.5)
    _exercise(net, X, y, backend, steps=3)
    drop = net.layers[1]
    drop.p = 0.0
    assert drop.p == 0.0
    for _ in range(2):
        ref = _no_dropout_ref(net.get_weights())
        net.train_step(X, y)
        ref.train_step(X, y)
        _assert_weights_equal(net.get_weights(), ref.get_weights())
    ref = _no_dropout_ref(net.get_weights())
    _assert_weights_equal(net.gradients(X, y), ref.gradients(X, y))
    line = _summary_line(net, 1)
    assert "Dropout" in line and "p=0" in line and "p=0.5" not in line

    path = tmp_path / "p0.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    assert isinstance(loaded.layers[1], pynn.Dropout)
    assert loaded.layers[1].p == 0.0
    ref = _no_dropout_ref(net.get_weights())
    loaded.train_step(X, y)
    ref.train_step(X, y)
    _assert_weights_equal(loaded.get_weights(), ref.get_weights())


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5, float("nan")])
def test_invalid_dropout_rate_is_refused(backend, value):
    X, y = _data()
    net = _dropout_net(0.5)
    twin = _dropout_net(0.5)  # same seed: same weights and masks
    _exercise(net, X, y, backend)
    _exercise(twin, X, y, backend)
    with pytest.raises(ValueError):
        net.layers[1].p = value
    assert net.layers[1].p == 0.5
    net.train_step(X, y)
    twin.train_step(X, y)
    _assert_weights_equal(net.get_weights(), twin.get_weights())


def test_dropout_rate_raised_from_zero_is_honoured(backend):
    X, y = _data()
    net = _dropout_net(0.0)
    _exercise(net, X, y, backend)
    ref = _no_dropout_ref(net.get_weights())
    net.layers[1].p = 0.5
    assert net.layers[1].p == 0.5
    np.testing.assert_array_equal(net.predict(X), ref.predict(X))  # predict uses no dropout
    assert pynn.gradcheck(net, X, y)
    ours = net.gradients(X, y)
    with _other_backend(backend):  # both backends drop the same values
        _assert_weights_close(net.gradients(X, y), ours, rtol=1e-10)
    net.train_step(X, y)
    ref.train_step(X, y)
    # dropout now zeroes some of the second layer's inputs: its update differs from the reference's
    assert not np.array_equal(net.get_weights()[2], ref.get_weights()[2])
    assert pynn.gradcheck(net, X, y)


# ---- weights and biases ------------------------------------------------------------------------


def test_assigning_W_and_b_copies_into_the_network(backend, tmp_path):
    X, y = _data(labels=False)
    net = _regressor()
    _exercise(net, X, y, backend)
    layer = net.layers[0]
    rng = np.random.default_rng(5)
    W = rng.normal(size=(4, 6))
    b = rng.normal(size=6).tolist()  # lists are accepted
    layer.W = W
    layer.b = b
    weights = net.get_weights()
    np.testing.assert_array_equal(weights[0], W)
    np.testing.assert_array_equal(weights[1], np.array(b))
    W_given = W.copy()
    W[0, 0] = 99.0  # a copy was taken
    np.testing.assert_array_equal(net.get_weights()[0], W_given)
    expected = _numpy_forward(weights, ["tanh", "linear"], X)
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-10, atol=1e-12)
    with _other_backend(backend):
        np.testing.assert_allclose(net.predict(X), expected, rtol=1e-10, atol=1e-12)

    net.layers[1].W = [[float(v) for v in row] for row in rng.normal(size=(6, 3))]
    weights = net.get_weights()
    np.testing.assert_allclose(net.predict(X), _numpy_forward(weights, ["tanh", "linear"], X), rtol=1e-10, atol=1e-12)

    # still attached: training moves layer.W and layer.b with the network
    g = net.gradients(X, y)
    net.train_step(X, y)
    after = net.get_weights()
    np.testing.assert_allclose(after[0], weights[0] - 0.1 * g[0], rtol=RTOL, atol=1e-14)
    assert not np.array_equal(after[0], W_given)
    np.testing.assert_array_equal(layer.W, after[0])
    np.testing.assert_array_equal(layer.b, after[1])
    np.testing.assert_array_equal(net.layers[1].W, after[2])

    path = tmp_path / "w.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    _assert_weights_equal(loaded.get_weights(), after)
    np.testing.assert_allclose(loaded.predict(X), _numpy_forward(after, ["tanh", "linear"], X), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, value", [
    ("W", np.zeros((6, 4))),                 # transposed
    ("W", np.zeros((4, 5))),
    ("W", np.zeros(24)),
    ("b", np.zeros(5)),
    ("b", np.zeros((1, 6))),
    ("W", np.full((4, 6), np.nan)),
    ("W", np.where(np.eye(4, 6) > 0, np.inf, 0.0)),
    ("b", [0.0, 0.0, float("nan"), 0.0, 0.0, 0.0]),
    ("b", [0.0, 0.0, 0.0, 0.0, 0.0, -float("inf")]),
])
def test_assigning_bad_W_or_b_is_refused(backend, name, value):
    X, y = _data(labels=False)
    net = _regressor()
    _exercise(net, X, y, backend)
    before, out = net.get_weights(), net.predict(X)
    layer = net.layers[0]
    with pytest.raises(ValueError):
        setattr(layer, name, value)
    _assert_weights_equal(net.get_weights(), before)
    np.testing.assert_array_equal(layer.W, before[0])
    np.testing.assert_array_equal(layer.b, before[1])
    np.testing.assert_array_equal(net.predict(X), out)


def test_assigning_W_or_b_of_a_loose_dense_is_refused(backend):
    layer = pynn.Dense(2, 3)
    with pytest.raises(AttributeError):
        layer.W = np.zeros((2, 3))
    with pytest.raises(AttributeError):
        layer.b = np.zeros(3)
    assert layer.W is None and layer.b is None
    net = pynn.Network([layer], dtype="float64", seed=0)  # and it can still be used
    assert layer.W.shape == (2, 3)


@pytest.mark.parametrize("name", ["init", "bias_init"])
def test_initialisers_are_fixed_once_in_a_network(backend, name):
    layer = pynn.Dense(4, 6, "tanh", bias_init="ones")
    net = pynn.Network([layer, pynn.Dense(6, 3)], dtype="float64", seed=0)
    old = getattr(layer, name)
    with pytest.raises(AttributeError):
        setattr(layer, name, "zeros")
    assert getattr(layer, name) is old
    np.testing.assert_array_equal(net.get_weights()[1], np.ones(6))


# ---- the optimizer -----------------------------------------------------------------------------


@pytest.mark.parametrize("new, fresh", [
    (lambda: pynn.Adam(lr=0.01), lambda: pynn.Adam(lr=0.01)),
    (lambda: "adam", lambda: pynn.Adam()),
    (lambda: pynn.RMSprop(lr=0.01, momentum=0.5), lambda: pynn.RMSprop(lr=0.01, momentum=0.5)),
    (lambda: pynn.SGD(lr=0.05), lambda: pynn.SGD(lr=0.05)),
])
def test_replacing_the_optimizer_is_honoured(backend, new, fresh):
    X, y = _data()
    old = pynn.SGD(lr=0.1, momentum=0.9)  # keeps a momentum buffer: a state of another size
    net = _classifier("tanh", optimizer=old)
    _exercise(net, X, y, backend, steps=3)
    net.optimizer = new()
    assert type(net.optimizer) is type(fresh())
    assert net.optimizer.get_config() == fresh().get_config()
    ref = _classifier("tanh", optimizer=fresh())
    ref.set_weights(net.get_weights())
    for _ in range(3):
        net.train_step(X, y)
        ref.train_step(X, y)
        _assert_weights_close(net.get_weights(), ref.get_weights())
    assert net.optimizer.step == ref.optimizer.step == 3
    # the old optimizer is free again
    other = _classifier("tanh", optimizer=old)
    other.train_step(X, y)
    assert other.optimizer is old


def test_optimizer_of_another_network_is_refused(backend):
    X, y = _data()
    net = _classifier("tanh", optimizer=pynn.SGD(lr=0.1))
    _exercise(net, X, y, backend)
    taken = pynn.Adam(lr=0.01)
    owner = _classifier("tanh", optimizer=taken, seed=1)
    kept = net.optimizer
    with pytest.raises(ValueError):
        net.optimizer = taken
    with pytest.raises(ValueError):
        net.optimizer = "bogus"
    assert net.optimizer is kept and owner.optimizer is taken
    ref = _classifier("tanh", optimizer=pynn.SGD(lr=0.1))
    ref.set_weights(net.get_weights())
    net.train_step(X, y)
    ref.train_step(X, y)
    _assert_weights_close(net.get_weights(), ref.get_weights())


def test_save_and_load_after_replacing_the_optimizer(backend, tmp_path):
    X, y = _data()
    net = _classifier("tanh", optimizer=pynn.SGD(lr=0.1, momentum=0.9))
    _exercise(net, X, y, backend, steps=2)
    net.optimizer = pynn.Adam(lr=0.01)
    net.train_step(X, y)
    net.train_step(X, y)
    path = tmp_path / "adam.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    assert type(loaded.optimizer) is pynn.Adam
    assert loaded.optimizer.lr == 0.01
    assert loaded.optimizer.step == net.optimizer.step == 2
    _assert_weights_equal(loaded.get_weights(), net.get_weights())
    for _ in range(2):
        net.train_step(X, y)
        loaded.train_step(X, y)
        _assert_weights_close(loaded.get_weights(), net.get_weights())


# ---- optimizer hyperparameters -----------------------------------------------------------------


def _hand_sgd_steps(net, X, y, lr, momentum, buf, steps):
    """``steps`` train_steps of net, each checked against SGD by hand in float64 from the
    gradients net.gradients() reports just before it; returns the momentum buffer."""
    for _ in range(steps):
        w = net.get_weights()
        g = net.gradients(X, y)
        net.train_step(X, y)
        if momentum:
            buf = [momentum * bb + gg for bb, gg in zip(buf, g)]
            step = buf
        else:
            step = g
        _assert_weights_close(net.get_weights(), [ww - lr * s for ww, s in zip(w, step)])
    return buf


def test_sgd_momentum_switched_off_mid_training(backend, tmp_path):
    X, y = _data()
    opt = pynn.SGD(lr=0.1, momentum=0.9)
    net = _classifier("tanh", optimizer=opt)
    _exercise(net, X, y, backend, steps=3)
    opt.momentum = 0.0
    assert opt.momentum == 0.0
    _hand_sgd_steps(net, X, y, 0.1, 0.0, None, 3)
    path = tmp_path / "m0.safetensors"
    net.save(path)
    assert pynn.load(path).optimizer.momentum == 0.0


def test_sgd_momentum_switched_on_mid_training(backend, tmp_path):
    X, y = _data()
    opt = pynn.SGD(lr=0.1)
    net = _classifier("tanh", optimizer=opt)
    _exercise(net, X, y, backend, steps=2)
    opt.momentum = 0.9
    assert opt.momentum == 0.9
    zeros = [np.zeros_like(w) for w in net.get_weights()]
    # first step: buf = 0.9 * 0 + g, so w - lr * g; then buf = 0.9 * buf + g
    buf = _hand_sgd_steps(net, X, y, 0.1, 0.9, zeros, 3)
    path = tmp_path / "m09.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    assert loaded.optimizer.momentum == 0.9
    # the buffer was saved: the loaded network's next step follows it
    _hand_sgd_steps(loaded, X, y, 0.1, 0.9, buf, 1)


def test_sgd_lr_change_mid_training(backend):
    X, y = _data()
    opt = pynn.SGD(lr=0.1)
    net = _classifier("tanh", optimizer=opt)
    _exercise(net, X, y, backend, steps=2)
    opt.lr = 0.03
    _hand_sgd_steps(net, X, y, 0.03, 0.0, None, 2)
    opt.lr = 0.2
    _hand_sgd_steps(net, X, y, 0.2, 0.0, None, 1)


def test_adam_betas_changed_before_the_first_step(backend):
    X, y = _data()
    opt = pynn.Adam(lr=0.01)
    net = _classifier("tanh", optimizer=opt)
    net.predict(X)  # built and run, but not yet trained
    net.evaluate(X, y)
    opt.betas = (0.5, 0.9)
    assert tuple(opt.betas) == (0.5, 0.9)
    ref = _classifier("tanh", optimizer=pynn.Adam(lr=0.01, betas=(0.5, 0.9)))
    ref.set_weights(net.get_weights())
    for _ in range(3):
        net.train_step(X, y)
        ref.train_step(X, y)
        _assert_weights_close(net.get_weights(), ref.get_weights())


def _hand_adam(net, X, y, lr, betas, eps, m, v, t):
    """One train_step of net checked against Adam by hand in float64 (update number t)."""
    beta1, beta2 = betas
    w = net.get_weights()
    g = net.gradients(X, y)
    net.train_step(X, y)
    m = [beta1 * mm + (1 - beta1) * gg for mm, gg in zip(m, g)]
    v = [beta2 * vv + (1 - beta2) * gg * gg for vv, gg in zip(v, g)]
    expected = [ww - lr / (1 - beta1 ** t) * mm / (np.sqrt(vv) / math.sqrt(1 - beta2 ** t) + eps)
                for ww, mm, vv in zip(w, m, v)]
    _assert_weights_close(net.get_weights(), expected, rtol=1e-10)
    return m, v


def test_adam_hyperparameters_changed_mid_training(backend, tmp_path):
    X, y = _data()
    opt = pynn.Adam(lr=0.01)
    net = _classifier("tanh", optimizer=opt)
    net.predict(X)
    m = [np.zeros_like(w) for w in net.get_weights()]
    v = [np.zeros_like(w) for w in net.get_weights()]
    t = 0
    for _ in range(2):
        t += 1
        m, v = _hand_adam(net, X, y, 0.01, (0.9, 0.999), 1e-8, m, v, t)
    opt.betas = (0.5, 0.9)
    for _ in range(2):
        t += 1
        m, v = _hand_adam(net, X, y, 0.01, (0.5, 0.9), 1e-8, m, v, t)
    opt.eps = 1e-3
    opt.lr = 0.02
    t += 1
    m, v = _hand_adam(net, X, y, 0.02, (0.5, 0.9), 1e-3, m, v, t)
    assert net.optimizer.step == t
    path = tmp_path / "adam.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    assert tuple(loaded.optimizer.betas) == (0.5, 0.9)
    assert loaded.optimizer.eps == 1e-3 and loaded.optimizer.lr == 0.02
    t += 1
    _hand_adam(loaded, X, y, 0.02, (0.5, 0.9), 1e-3, m, v, t)


@pytest.mark.parametrize("make, name, bad", [
    (lambda: pynn.SGD(lr=0.1, momentum=0.9), "momentum", -1),
    (lambda: pynn.SGD(lr=0.1, momentum=0.9), "momentum", float("nan")),
    (lambda: pynn.SGD(lr=0.1, momentum=0.9, nesterov=True), "momentum", 0),
    (lambda: pynn.SGD(lr=0.1, momentum=0.9), "lr", -0.1),
    (lambda: pynn.SGD(lr=0.1, momentum=0.9), "lr", "fast"),
    (lambda: pynn.SGD(lr=0.1, momentum=0.9), "weight_decay", -1.0),
    (lambda: pynn.Adam(lr=0.01), "betas", (1.5, 0.9)),
    (lambda: pynn.Adam(lr=0.01), "betas", (0.9, 1.0)),
    (lambda: pynn.Adam(lr=0.01), "betas", (0.9,)),
    (lambda: pynn.Adam(lr=0.01), "betas", 0.9),
    (lambda: pynn.Adam(lr=0.01), "eps", float("nan")),
    (lambda: pynn.Adam(lr=0.01), "eps", -1e-8),
    (lambda: pynn.AdamW(lr=0.01), "weight_decay", float("inf")),
    (lambda: pynn.RMSprop(lr=0.01), "alpha", 1.5),
    (lambda: pynn.RMSprop(lr=0.01), "momentum", -0.5),
])
def test_bad_hyperparameter_is_refused(backend, make, name, bad):
    X, y = _data()
    opt = make()
    net = _classifier("tanh", optimizer=opt)
    ref = _classifier("tanh", optimizer=make())
    _exercise(net, X, y, backend)
    _exercise(ref, X, y, backend)
    old = getattr(opt, name)
    config = opt.get_config()
    with pytest.raises((ValueError, TypeError)):
        setattr(opt, name, bad)
    assert getattr(opt, name) == old
    assert opt.get_config() == config
    for _ in range(2):
        net.train_step(X, y)
        ref.train_step(X, y)
    _assert_weights_close(net.get_weights(), ref.get_weights())


def test_step_is_an_int_counting_updates(backend, tmp_path):
    X, y = _data(n=20)
    net = _classifier("tanh", optimizer=pynn.Adam(lr=0.01))
    assert type(net.optimizer.step) is int and net.optimizer.step == 0
    net.train_step(X, y)
    net.train_step(X, y)
    assert type(net.optimizer.step) is int and net.optimizer.step == 2
    net.fit(X, y, epochs=2, batch_size=8, verbose=0)  # 3 batches per epoch
    assert type(net.optimizer.step) is int and net.optimizer.step == 8
    with _other_backend(backend):
        net.train_step(X, y)
    assert type(net.optimizer.step) is int and net.optimizer.step == 9
    path = tmp_path / "step.safetensors"
    net.save(path)
    loaded = pynn.load(path)
    assert type(loaded.optimizer.step) is int and loaded.optimizer.step == 9
