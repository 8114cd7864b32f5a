"""Property tests (issue 5): hypothesis draws shapes, dtypes, memory orders, strides,
read-only flags, NaN/Inf placements and hyperparameters for the public API.  Each call either
raises the documented ValueError/TypeError or returns the same answer as (a) the same call on a
C-contiguous array of the network's dtype and (b) the other backend, as a C-contiguous array of
the network's dtype.

Deterministic in CI: the "pynn" hypothesis profile (tests/conftest.py) is derandomized.
``EXAMPLES`` counts the examples run in this session (printed by test_zz_report).
"""
import copy

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import pynn  # noqa: E402

EXAMPLES = {"n": 0}

ACTS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "gelu"]
LOSSES = ["mse", "mae", "huber", "binary_cross_entropy", "cross_entropy"]
X_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]


def _other(backend):
    others = [b for b in pynn.available_backends() if b != backend]
    return others[0] if others else None


def _close(a, b, dtype):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    if np.dtype(dtype) == np.float32:
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4 * scale)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11 * scale)


def _on(backend, fn):
    previous = pynn.backend()
    pynn.set_backend(backend)
    try:
        return fn()
    finally:
        pynn.set_backend(previous)


@st.composite
def networks(draw, loss=None):
    loss = loss or draw(st.sampled_from(LOSSES))
    n_layers = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 6)) for _ in range(n_layers + 1)]
    if loss == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    acts = [draw(st.sampled_from(ACTS)) for _ in range(n_layers)]
    acts[-1] = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}.get(loss, acts[-1])
    dtype = draw(st.sampled_from(["float32", "float64"]))
    opt = draw(optimizers())
    layers = []
    for a, b, act in zip(sizes, sizes[1:], acts):
        if draw(st.integers(0, 3)) == 0:  # dropout on this layer's input
            layers.append(pynn.Dropout(draw(st.sampled_from([0.0, 0.25, 0.5, 0.9]))))
        layers.append(pynn.Dense(a, b, act))
    return pynn.Network(layers, loss=loss, optimizer=opt, dtype=dtype, seed=draw(st.integers(0, 2 ** 32 - 1)))


@st.composite
def optimizers(draw):
    kind = draw(st.sampled_from(["sgd", "adam", "adamw", "rmsprop"]))
    lr = draw(st.floats(1e-4, 0.5))
    wd = draw(st.sampled_from([0.0, 1e-3, 0.1]))
    if kind == "sgd":
        momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
        return pynn.SGD(lr, momentum=momentum, nesterov=momentum > 0 and draw(st.booleans()), weight_decay=wd)
    if kind == "rmsprop":
        return pynn.RMSprop(lr, alpha=draw(st.floats(0.5, 0.999)), momentum=draw(st.sampled_from([0.0, 0.9])),
                            weight_decay=wd)
    cls = pynn.Adam if kind == "adam" else pynn.AdamW
    return cls(lr, betas=(draw(st.floats(0.0, 0.99)), draw(st.floats(0.5, 0.9999))), eps=draw(st.floats(1e-10, 1e-3)),
               weight_decay=wd)


@st.composite
def arrays(draw, n_rows, n_cols, kind="x", allow_nonfinite=True):
    """An (n_rows, n_cols) array of values in [-4, 4] ("x"), [0, 1] ("prob") or {0, 1}
    ("binary"): any dtype, C or Fortran order, strided, maybe read-only, maybe with
    NaN/inf.  Returns (array, has_nonfinite)."""
    if kind == "binary":
        dtype = draw(st.sampled_from(X_DTYPES))
    elif kind == "prob":
        dtype = draw(st.sampled_from([np.float16, np.float32, np.float64, np.bool_]))
    else:
        dtype = draw(st.sampled_from(X_DTYPES))
    values = np.array(draw(st.lists(st.floats(-4, 4), min_size=n_rows * n_cols, max_size=n_rows * n_cols)),
                      dtype=np.float64).reshape(n_rows, n_cols)
    if kind == "prob":
        values = np.abs(values) / 4
    if kind == "binary" or dtype == np.bool_:
        values = values > 0
    elif np.dtype(dtype).kind == "u":
        values = np.abs(values)
    if np.dtype(dtype).kind in "iu":
        values = np.round(values)
    step_r, step_c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    order = draw(st.sampled_from("CF"))
    big = np.zeros((n_rows * step_r, n_cols * step_c), dtype=dtype, order=order)
    arr = big[::step_r, ::step_c]
    arr[...] = values
    nonfinite = False
    if allow_nonfinite and np.dtype(dtype).kind == "f" and draw(st.integers(0, 4)) == 0:
        i, j = draw(st.integers(0, n_rows - 1)), draw(st.integers(0, n_cols - 1))
        arr[i, j] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        nonfinite = True
    if draw(st.booleans()):
        arr.flags.writeable = False
    return arr, nonfinite


def _contiguous(net, arr):
    return np.ascontiguousarray(arr, dtype=net.dtype)


@given(data=st.data())
def test_predict_any_array_form(backend, data):
    EXAMPLES["n"] += 1
    net = data.draw(networks())
    n = data.draw(st.integers(1, 7))
    X, nonfinite = data.draw(arrays(n, net.n_inputs))
    X_before = X.copy()
    if nonfinite:
        with pytest.raises(ValueError, match="X contains NaN or infinity"):
            net.predict(X)
        return
    out = net.predict(X)
    assert out.dtype == net.dtype and out.flags.c_contiguous and out.shape == (n, net.n_outputs)
    np.testing.assert_array_equal(out, net.predict(_contiguous(net, X)))
    np.testing.assert_array_equal(X, X_before)  # input untouched
    other = _other(backend)
    if other:
        _close(out, _on(other, lambda: net.predict(X)), net.dtype)


@st.composite
def targets(draw, net, n):
    """(y, has_nonfinite, bad) for the network's loss; bad: out-of-range values."""
    k = net.n_outputs
    if net.loss == "cross_entropy":
        if draw(st.booleans()):  # class labels
            dtype = draw(st.sampled_from([np.int8, np.int32, np.int64, np.uint8, np.float64]))
            labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
            bad = draw(st.integers(0, 5)) == 0
            if bad:
                labels[draw(st.integers(0, n - 1))] = draw(st.sampled_from([k, k + 3, 100] + (
                    [-1] if np.dtype(dtype).kind != "u" else [])))
            y = labels.astype(dtype)
            if draw(st.booleans()):
                y = np.asfortranarray(y)[::-1][::-1]
            return y, False, bad
        y, nonfinite = draw(arrays(n, k, "prob"))
        return y, nonfinite, False
    if net.loss == "binary_cross_entropy":
        y, nonfinite = draw(arrays(n, k, "prob" if draw(st.booleans()) else "binary"))
    else:
        y, nonfinite = draw(arrays(n, k))
    if k == 1 and draw(st.booleans()):
        y = y[:, 0]
    return y, nonfinite, False


def _state(net):
    return [w.copy() for w in net.get_weights()] + [net._plan.state.copy(), net.optimizer.step]


@given(data=st.data())
def test_evaluate_gradients_train_step(backend, data):
    EXAMPLES["n"] += 1
    net = data.draw(networks())
    n = data.draw(st.integers(1, 6))
    X, x_bad = data.draw(arrays(n, net.n_inputs))
    y, y_bad, label_bad = data.draw(targets(net, n))
    call = data.draw(st.sampled_from(["evaluate", "gradients", "train_step"]))
    twin = copy.deepcopy(net)
    before = _state(net)
    if x_bad or y_bad or label_bad:
        with pytest.raises(ValueError):
            getattr(net, call)(X, y)
        for a, b in zip(_state(net), before):  # a refused call changes nothing
            np.testing.assert_array_equal(a, b)
        return
    result = getattr(net, call)(X, y)
    ref = getattr(copy.deepcopy(twin), call)(_contiguous(twin, X), np.ascontiguousarray(y))
    other = _other(backend)
    alt = _on(other, lambda: getattr(twin, call)(X, y)) if other else None
    if call == "evaluate":
        assert result == ref
        if alt is not None:
            assert result.keys() == alt.keys()
            _close([result[k] for k in sorted(result)], [alt[k] for k in sorted(alt)], net.dtype)
    elif call == "gradients":
        for g, h, w in zip(result, ref, net.get_weights()):
            assert g.dtype == net.dtype and g.flags.c_contiguous and g.shape == w.shape
            np.testing.assert_array_equal(g, h)
        if alt is not None:
            _close(np.concatenate([g.ravel() for g in result]), np.concatenate([g.ravel() for g in alt]), net.dtype)
    else:
        assert isinstance(result, float) and np.isfinite(result)
        assert net.optimizer.step == 1
        if alt is not None:
            _close(result, alt, net.dtype)
            _close(net._plan.params, twin._plan.params, net.dtype)


@given(data=st.data())
def test_fit_agrees_across_backends(backend, data):
    EXAMPLES["n"] += 1
    net = data.draw(networks())
    n = data.draw(st.integers(1, 12))
    X, _ = data.draw(arrays(n, net.n_inputs, allow_nonfinite=False))
    y, _, _ = data.draw(targets(net, n).filter(lambda t: not t[1] and not t[2]))
    batch_size = data.draw(st.one_of(st.integers(-2, 16), st.just(True), st.just(2.5)))
    epochs = data.draw(st.integers(0, 3))
    shuffle = data.draw(st.booleans())
    twin = copy.deepcopy(net)
    fit = dict(epochs=epochs, batch_size=batch_size, shuffle=shuffle, verbose=0)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        with pytest.raises(TypeError, match="batch_size"):
            net.fit(X, y, **fit)
        return
    if batch_size < 1:
        with pytest.raises(ValueError, match="batch_size"):
            net.fit(X, y, **fit)
        return
    history = net.fit(X, y, **fit)
    assert len(history.history.get("loss", [])) == epochs
    other = _other(backend)
    if other:
        alt = _on(other, lambda: twin.fit(X, y, **fit))
        for key in history.history:
            _close(history.history[key], alt.history[key], net.dtype)
        _close(net._plan.params, twin._plan.params, net.dtype)
        assert net.optimizer.step == twin.optimizer.step == epochs * -(-n // batch_size)


BAD_NUMBERS = [-1.0, float("nan"), float("inf"), True, "0.1", None, [0.1]]


@given(kind=st.sampled_from(["sgd", "adam", "adamw", "rmsprop"]),
       name=st.sampled_from(["lr", "weight_decay", "eps", "momentum", "alpha"]),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(BAD_NUMBERS),
                       st.integers(-3, 3)))
def test_optimizer_hyperparameters(backend, kind, name, value):
    """Any value: a TypeError/ValueError, or an optimizer that trains the same on both backends."""
    EXAMPLES["n"] += 1
    cls = pynn.optimizers.OPTIMIZERS[kind]
    if name in ("eps",) and kind == "sgd" or name == "alpha" and kind != "rmsprop" or \
            name == "momentum" and kind in ("adam", "adamw"):
        name = "lr"
    try:
        opt = cls(**{name: value})
        opt_twin = cls(**{name: value})
    except (TypeError, ValueError) as exc:
        assert name in str(exc)
        return
    assert np.isfinite(getattr(opt, name)) and getattr(opt, name) >= 0
    X = np.linspace(-1, 1, 12).reshape(4, 3)
    y = np.array([[0.5], [-0.5], [1.0], [0.0]])
    nets = [pynn.Network([pynn.Dense(3, 2, "tanh"), pynn.Dense(2, 1)], optimizer=o, dtype="float64", seed=1)
            for o in (opt, opt_twin)]
    other = _other(backend)
    for _ in range(3):
        try:
            with np.errstate(all="ignore"):  # numpy backend: a huge lr overflows on the way
                nets[0].train_step(X, y)
        except pynn.DivergenceError:  # e.g. a huge lr: reported, never a crash
            return
        if other:
            _on(other, lambda: nets[1].train_step(X, y))
    if other:
        _close(nets[0]._plan.params, nets[1]._plan.params, "float64")


@given(n_in=st.one_of(st.integers(-2, 4), st.sampled_from([True, 2.0, "3", None, 10 ** 20])),
       n_out=st.one_of(st.integers(-2, 4), st.sampled_from([False, 1.5, "2"])),
       activation=st.sampled_from(ACTS + ["softmax", "swish", "", None, 3]))
def test_dense_arguments(backend, n_in, n_out, activation):
    EXAMPLES["n"] += 1
    try:
        layer = pynn.Dense(n_in, n_out, activation)
    except (TypeError, ValueError):
        return
    assert type(n_in) is int and n_in >= 1 and type(n_out) is int and n_out >= 1
    assert activation in ACTS + ["softmax"]
    assert layer.n_in == n_in and layer.n_out == n_out


@given(data=st.data())
def test_set_weights_any_form(backend, data):
    EXAMPLES["n"] += 1
    net = data.draw(networks(loss="mse"))
    shapes = [w.shape for w in net.get_weights()]
    weights, bad = [], False
    for shape in shapes:
        if len(shape) == 2:
            w, nonfinite = data.draw(arrays(*shape))
        else:
            w, nonfinite = data.draw(arrays(1, shape[0]))
            w = w[0]
        if data.draw(st.integers(0, 9)) == 0:  # wrong shape
            w = np.zeros(shape[:-1] + (shape[-1] + 1,))
            bad = True
        bad = bad or nonfinite
        weights.append(w if data.draw(st.booleans()) else w.tolist())
    if data.draw(st.integers(0, 9)) == 0:
        weights = weights[:-1]
        bad = True
    before = net.get_weights()
    if bad:
        with pytest.raises(ValueError, match="weights"):
            net.set_weights(weights)
        for a, b in zip(net.get_weights(), before):  # nothing half-set
            np.testing.assert_array_equal(a, b)
        return
    net.set_weights(weights)
    for got, w in zip(net.get_weights(), weights):
        assert got.dtype == net.dtype
        np.testing.assert_array_equal(got, np.asarray(w).astype(net.dtype))


def test_zz_report(backend, capsys):
    """Prints how many hypothesis examples this session ran (pytest -s shows it)."""
    with capsys.disabled():
        print("\n[hypothesis] %d examples run so far in this session" % EXAMPLES["n"])
