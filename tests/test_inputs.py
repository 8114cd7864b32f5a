"""Input handling: every accepted array form gives the contiguous answer; bad input is rejected.

Part 1: lists, ints, float16, float64 into a float32 net (and float32 into a float64 net),
strided, Fortran-order and read-only arrays must give the same predict / train_step / gradients
as a C-contiguous array of the network's dtype holding the same values.

Part 2: every kind of bad argument raises ValueError/TypeError whose message names the argument.
"""
import re

import numpy as np
import pytest

import pynn

N_IN, N_OUT = 4, 3


def _net(dtype="float32", loss="mse", out="linear", n_out=N_OUT):
    return pynn.Network(
        [pynn.Dense(N_IN, 5, activation="tanh"), pynn.Dense(5, n_out, activation=out)],
        loss=loss, optimizer=pynn.SGD(lr=0.1), dtype=dtype, seed=5,
    )


def _answers(net, X, y):
    """(predict, gradients, train_step loss, weights after the step); net is restored after."""
    w0 = net.get_weights()
    pred = net.predict(X)
    grads = net.gradients(X, y)
    loss = net.train_step(X, y)
    after = net.get_weights()
    net.set_weights(w0)
    return pred, grads, loss, after


def _assert_same(a, b, dtype):
    pa, ga, la, wa = a
    pb, gb, lb, wb = b
    np_dtype = np.dtype(dtype)
    assert pa.dtype == np_dtype and pb.dtype == np_dtype
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1e-12, 1e-14)
    np.testing.assert_allclose(pa, pb, rtol=rtol, atol=atol)
    for x, z in zip(ga, gb):
        np.testing.assert_allclose(x, z, rtol=rtol, atol=atol)
    assert la == pytest.approx(lb, rel=rtol)
    for x, z in zip(wa, wb):
        assert x.dtype == np_dtype
        np.testing.assert_allclose(x, z, rtol=rtol, atol=atol)


def _data(dtype=np.float32):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, N_IN)).astype(dtype)
    Y = rng.normal(size=(10, N_OUT)).astype(dtype)
    return X, Y


@pytest.mark.parametrize("form", ["list", "float64", "float16", "strided", "fortran",
                                  "readonly", "noncontig_column"])
def test_x_forms_float32_net(form):
    """Each form of X (with the same values) matches the contiguous float32 answer."""
    net = _net("float32")
    X, Y = _data()
    if form == "float16":
        X = X.astype(np.float16).astype(np.float32)  # values representable in float16
    ref = _answers(net, np.ascontiguousarray(X, dtype=np.float32), Y)
    if form == "list":
        Xf = X.tolist()
    elif form == "float64":
        Xf = X.astype(np.float64)
    elif form == "float16":
        Xf = X.astype(np.float16)
    elif form == "strided":
        big = np.zeros((20, N_IN), dtype=np.float32)
        big[::2] = X
        Xf = big[::2]
        assert not Xf.flags.c_contiguous
    elif form == "fortran":
        Xf = np.asfortranarray(X)
        assert not Xf.flags.c_contiguous
    elif form == "readonly":
        Xf = X.copy()
        Xf.setflags(write=False)
    else:  # columns picked from a wider array: non-contiguous in the inner dimension
        big = np.zeros((10, 2 * N_IN), dtype=np.float32)
        big[:, ::2] = X
        Xf = big[:, ::2]
    _assert_same(_answers(net, Xf, Y), ref, "float32")


def test_int_x():
    """Integer X (array and nested list) equals the same values as float32."""
    net = _net("float32")
    rng = np.random.default_rng(1)
    Xi = rng.integers(-3, 4, size=(10, N_IN))
    _, Y = _data()
    ref = _answers(net, Xi.astype(np.float32), Y)
    _assert_same(_answers(net, Xi, Y), ref, "float32")
    _assert_same(_answers(net, Xi.tolist(), Y), ref, "float32")
    _assert_same(_answers(net, Xi.astype(np.int32), Y), ref, "float32")


@pytest.mark.parametrize("form", ["list", "float64", "strided", "fortran", "readonly"])
def test_y_forms(form):
    """y given as list, float64, strided, Fortran-order or read-only gives the contiguous answer."""
    net = _net("float32")
    X, Y = _data()
    ref = _answers(net, X, Y)
    if form == "list":
        Yf = Y.tolist()
    elif form == "float64":
        Yf = Y.astype(np.float64)
    elif form == "strided":
        big = np.zeros((20, N_OUT), dtype=np.float32)
        big[::2] = Y
        Yf = big[::2]
    elif form == "fortran":
        Yf = np.asfortranarray(Y)
    else:
        Yf = Y.copy()
        Yf.setflags(write=False)
    _assert_same(_answers(net, X, Yf), ref, "float32")


@pytest.mark.parametrize("form", ["list", "int32", "uint8", "float_integral", "strided"])
def test_class_label_forms(form):
    """cross_entropy labels as list / other int dtypes / integral floats / strided all agree."""
    net = _net("float32", loss="cross_entropy", out="softmax")
    X, _ = _data()
    labels = np.random.default_rng(2).integers(0, N_OUT, size=10)
    ref = _answers(net, X, labels.astype(np.int64))
    if form == "list":
        lf = labels.tolist()
    elif form == "int32":
        lf = labels.astype(np.int32)
    elif form == "uint8":
        lf = labels.astype(np.uint8)
    elif form == "float_integral":
        lf = labels.astype(np.float64)
    else:
        big = np.zeros(20, dtype=np.int64)
        big[::2] = labels
        lf = big[::2]
    _assert_same(_answers(net, X, lf), ref, "float32")


def test_float32_into_float64_net():
    """A float64 net fed float32 data computes in float64 on the (exactly converted) values."""
    net = _net("float64")
    X, Y = _data(np.float32)
    ref = _answers(net, X.astype(np.float64), Y.astype(np.float64))
    _assert_same(_answers(net, X, Y), ref, "float64")
    _assert_same(_answers(net, np.asfortranarray(X), Y.tolist()), ref, "float64")


def _batch_forms():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, N_IN)).astype(np.float32)
    Y = rng.normal(size=(6, N_OUT)).astype(np.float32)
    labels = rng.integers(0, N_OUT, size=6)
    byteswapped = X.astype(X.dtype.newbyteorder())
    return [("mse", X, Y), ("mse", X.astype(np.float64), Y), ("mse", np.asfortranarray(X), Y),
            ("mse", byteswapped, Y), ("mse", X, Y.astype(np.float64)), ("mse", X, np.asfortranarray(Y)),
            ("mse", X[:, ::-1], Y), ("mse", X[::2], Y[::2]), ("cross_entropy", X, labels),
            ("cross_entropy", X, labels.astype(np.int32)), ("cross_entropy", X, labels.astype(np.float32)),
            ("cross_entropy", X, np.eye(N_OUT, dtype=np.float32)[labels]), ("cross_entropy", X, labels[::-1]),
            ("mse", X, labels), ("mse", X, Y[:5]), ("mse", X[:, :2], Y), ("cross_entropy", X, Y[:, :2])]


@pytest.mark.parametrize("case", range(len(_batch_forms())))
def test_plan_batch_one_call_path_equals_the_converters(case):
    """Plan.batch decides the per-step case (arrays already what the kernels
    read) in one place; it must return exactly what as_matrix and
    prepare_targets return (the same objects when no copy is needed), or
    raise their error."""
    from pynn import losses
    from pynn._validation import as_matrix
    loss, X, y = _batch_forms()[case]
    out = "softmax" if loss == "cross_entropy" else "linear"
    plan = _net(loss=loss, out=out)._plan
    try:
        expected_x = as_matrix(X, "X", plan.n_in, plan.dtype)
        expected_y = losses.prepare_targets(loss, y, expected_x.shape[0], plan.n_out, plan.dtype)
    except (ValueError, TypeError) as e:
        with pytest.raises(type(e), match=re.escape(str(e))):
            plan.batch(X, y)
        return
    got = plan.batch(X, y)
    for a, b in zip(got, (expected_x,) + expected_y):
        if b is None:
            assert a is None
            continue
        assert a.dtype == b.dtype and a.flags.c_contiguous and a.flags.aligned
        np.testing.assert_array_equal(a, b)
    if X is expected_x:  # no copy needed by the converters: none made here either
        assert got[0] is X


def test_inputs_not_modified():
    """predict / gradients / train_step / fit never write into the caller's arrays."""
    net = _net("float32")
    X, Y = _data()
    X0, Y0 = X.copy(), Y.copy()
    net.predict(X)
    net.gradients(X, Y)
    net.train_step(X, Y)
    net.fit(X, Y, epochs=2, batch_size=3, shuffle=True, verbose=0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


# ---------------------------------------------------------------- bad input

ERR = (ValueError, TypeError)


def _bad_call(kind, net, X, y):
    if kind == "predict":
        return net.predict(X)
    if kind == "gradients":
        return net.gradients(X, y)
    if kind == "train_step":
        return net.train_step(X, y)
    if kind == "evaluate":
        return net.evaluate(X, y)
    return net.fit(X, y, epochs=1, batch_size=4, verbose=0)


CALLS = ["predict", "gradients", "train_step", "evaluate", "fit"]
CALLS_Y = ["gradients", "train_step", "evaluate", "fit"]


def _bad_x(case):
    X, _ = _data()
    if case == "wrong_features":
        return X[:, :3]
    if case == "3d":
        return X[:, :, None]
    if case == "1d":
        return X[0]
    if case == "nan":
        X = X.copy(); X[3, 1] = np.nan; return X
    if case == "inf":
        X = X.copy(); X[0, 0] = np.inf; return X
    if case == "neg_inf":
        X = X.copy(); X[9, 3] = -np.inf; return X
    if case == "string":
        return X.astype(str)
    if case == "complex":
        return X.astype(np.complex128)
    if case == "object":
        return X.astype(object)
    if case == "ragged_list":
        return [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0]]
    if case == "empty_features":
        return np.zeros((10, 0))
    raise AssertionError(case)


X_CASES = ["wrong_features", "3d", "nan", "inf", "neg_inf", "string", "complex", "object",
           "ragged_list", "empty_features"]


@pytest.mark.parametrize("case", X_CASES)
@pytest.mark.parametrize("call", CALLS)
def test_bad_x(call, case):
    """Malformed X raises ValueError/TypeError naming "X" in every entry point."""
    net = _net()
    _, Y = _data()
    w0 = net.get_weights()
    with pytest.raises(ERR, match=r"\bX\b"):
        _bad_call(call, net, _bad_x(case), Y)
    for a, b in zip(net.get_weights(), w0):  # rejected input leaves the net untouched
        np.testing.assert_array_equal(a, b)


def _bad_y_regression(case):
    _, Y = _data()
    if case == "wrong_rows":
        return Y[:9]
    if case == "wrong_outputs":
        return Y[:, :2]
    if case == "1d_multi_output":
        return Y[:, 0]
    if case == "3d":
        return Y[:, :, None]
    if case == "nan":
        Y = Y.copy(); Y[2, 2] = np.nan; return Y
    if case == "inf":
        Y = Y.copy(); Y[0, 1] = np.inf; return Y
    if case == "string":
        return Y.astype(str)
    if case == "complex":
        return Y.astype(np.complex64)
    if case == "object":
        return Y.astype(object)
    raise AssertionError(case)


Y_CASES = ["wrong_rows", "wrong_outputs", "1d_multi_output", "3d", "nan", "inf", "string",
           "complex", "object"]


@pytest.mark.parametrize("case", Y_CASES)
@pytest.mark.parametrize("call", CALLS_Y)
def test_bad_y_regression(call, case):
    """Malformed regression targets raise ValueError/TypeError naming "y"."""
    net = _net()
    X, _ = _data()
    w0 = net.get_weights()
    with pytest.raises(ERR, match=r"\by\b"):
        _bad_call(call, net, X, _bad_y_regression(case))
    for a, b in zip(net.get_weights(), w0):
        np.testing.assert_array_equal(a, b)


LABEL_CASES = {
    "too_large": np.array([0, 1, 2, 3, 0, 1, 2, 0, 1, 2]),
    "negative": np.array([0, 1, 2, -1, 0, 1, 2, 0, 1, 2]),
    "non_integer": np.array([0, 1, 2, 0.5, 0, 1, 2, 0, 1, 2]),
    "nan": np.array([0, 1, 2, np.nan, 0, 1, 2, 0, 1, 2]),
    "wrong_length": np.array([0, 1, 2, 0, 1, 2, 0, 1, 2]),
    "prob_rows_wrong_k": np.full((10, 4), 0.25),
    "prob_rows_nan": np.where(np.arange(30).reshape(10, 3) == 4, np.nan, 1 / 3),
    "2d_single_column_out_of_range": np.full((10, 1), 7),
    "string": np.array(["0", "1", "2", "0", "1", "2", "0", "1", "2", "0"]),
    "huge": np.array([0, 1, 2, 2**40, 0, 1, 2, 0, 1, 2]),
}


@pytest.mark.parametrize("case", sorted(LABEL_CASES))
@pytest.mark.parametrize("call", CALLS_Y)
def test_bad_class_labels(call, case):
    """Out-of-range, non-integer, NaN or mis-shaped cross_entropy targets raise naming "y"."""
    net = _net(loss="cross_entropy", out="softmax")
    X, _ = _data()
    with pytest.raises(ERR, match=r"\by\b"):
        _bad_call(call, net, X, LABEL_CASES[case])


@pytest.mark.parametrize("bad", [np.zeros(9), np.zeros((10, 2)), np.zeros((10, 1, 1)),
                                 np.full(10, np.nan)])
def test_bad_bce_targets(bad):
    """BCE targets of the wrong shape or with NaN raise naming "y"."""
    net = _net(loss="binary_cross_entropy", out="sigmoid", n_out=1)
    X, _ = _data()
    with pytest.raises(ERR, match=r"\by\b"):
        net.train_step(X, bad)


# --------------------------------------------------------- bad construction arguments

def test_unknown_activation():
    """An unknown activation name raises ValueError naming "activation"."""
    with pytest.raises(ValueError, match="activation"):
        pynn.Network([pynn.Dense(2, 2, activation="swishy")])


def test_unknown_loss():
    """An unknown loss name raises ValueError naming "loss"."""
    with pytest.raises(ValueError, match="loss"):
        pynn.Network([pynn.Dense(2, 2)], loss="hinge_squared")


def test_unknown_optimizer_name():
    """An unknown optimizer name raises ValueError naming "optimizer"."""
    with pytest.raises(ValueError, match="optimizer"):
        pynn.Network([pynn.Dense(2, 2)], optimizer="adagradish")


def test_optimizer_wrong_type():
    """An optimizer that is neither a name nor an optimizer instance is rejected."""
    with pytest.raises(ERR, match="optimizer"):
        pynn.Network([pynn.Dense(2, 2)], optimizer=3.5)


@pytest.mark.parametrize("dtype", ["float16", "int32", "double-ish", "complex128"])
def test_unknown_dtype(dtype):
    """dtype other than float32/float64 raises naming "dtype"."""
    with pytest.raises(ERR, match="dtype"):
        pynn.Network([pynn.Dense(2, 2)], dtype=dtype)


def test_unknown_init():
    """An unknown init name raises naming "init"."""
    with pytest.raises(ERR, match="init"):
        pynn.Network([pynn.Dense(2, 2, init="not_an_init")])


def test_unknown_backend():
    """set_backend with an unknown name raises ValueError and keeps the current backend."""
    before = pynn.backend()
    with pytest.raises(ValueError):
        pynn.set_backend("cuda")
    assert pynn.backend() == before


@pytest.mark.parametrize("n_in,n_out", [(0, 3), (3, 0), (-1, 3), (2.5, 3)])
def test_bad_layer_sizes(n_in, n_out):
    """Non-positive or non-integer layer sizes raise naming n_in / n_out."""
    with pytest.raises(ERR, match="n_in|n_out"):
        pynn.Network([pynn.Dense(n_in, n_out)])


@pytest.mark.parametrize("make", [
    lambda: pynn.SGD(lr=-0.1),
    lambda: pynn.Adam(lr=-1e-3),
    lambda: pynn.AdamW(lr=-1e-3),
    lambda: pynn.RMSprop(lr=-1e-2),
])
def test_negative_lr(make):
    """A negative learning rate raises ValueError naming "lr"."""
    with pytest.raises(ValueError, match="lr"):
        make()


def test_nan_lr():
    """A NaN learning rate would silently destroy the weights: it is rejected naming "lr"."""
    with pytest.raises(ValueError, match="lr"):
        pynn.SGD(lr=float("nan"))


@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.999), (0.9, 1.5)])
@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
def test_bad_betas(cls, betas):
    """betas outside [0, 1) raise ValueError naming "betas"."""
    with pytest.raises(ValueError, match="betas"):
        getattr(pynn, cls)(lr=1e-3, betas=betas)


def test_negative_momentum_and_weight_decay():
    """Negative momentum / weight_decay raise naming the argument; nesterov needs momentum."""
    with pytest.raises(ValueError, match="momentum"):
        pynn.SGD(lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="weight_decay"):
        pynn.SGD(lr=0.1, weight_decay=-1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        pynn.Adam(lr=0.1, weight_decay=-1.0)
    with pytest.raises(ValueError, match="nesterov|momentum"):
        pynn.SGD(lr=0.1, nesterov=True)  # as torch: nesterov requires momentum > 0


def test_softmax_not_last():
    """softmax on a hidden layer raises ValueError mentioning softmax."""
    with pytest.raises(ValueError, match="softmax"):
        pynn.Network([pynn.Dense(2, 3, activation="softmax"), pynn.Dense(3, 2)])


def test_mismatched_layer_sizes():
    """Consecutive layers whose n_out / n_in disagree raise ValueError."""
    with pytest.raises(ValueError, match=r"n_in|n_out|size|shape|layer"):
        pynn.Network([pynn.Dense(2, 3), pynn.Dense(4, 2)])


@pytest.mark.parametrize("layers,loss", [
    (lambda: [pynn.Dense(2, 3, activation="linear")], "cross_entropy"),
    (lambda: [pynn.Dense(2, 3, activation="sigmoid")], "cross_entropy"),
    (lambda: [pynn.Dense(2, 1, activation="linear")], "binary_cross_entropy"),
    (lambda: [pynn.Dense(2, 2, activation="softmax")], "binary_cross_entropy"),
    (lambda: [pynn.Dense(2, 3, activation="softmax")], "mse"),
    (lambda: [pynn.Dense(2, 3, activation="softmax")], "mae"),
    (lambda: [pynn.Dense(2, 3, activation="softmax")], "huber"),
])
def test_bad_loss_activation_pairing(layers, loss):
    """Classifier losses need their output activation; softmax needs cross_entropy."""
    with pytest.raises(ValueError, match=r"loss|softmax|sigmoid"):
        pynn.Network(layers(), loss=loss)


def test_empty_layer_list():
    """A network with no layers is rejected."""
    with pytest.raises(ERR, match="layers"):
        pynn.Network([])


@pytest.mark.parametrize("case", ["wrong_shape", "too_few", "too_many", "transposed"])
def test_set_weights_mismatch(case):
    """set_weights with wrong shapes/count raises ValueError; the net keeps its weights."""
    net = _net()
    w = net.get_weights()
    if case == "wrong_shape":
        bad = [w[0], w[1][:-1], w[2], w[3]]
    elif case == "too_few":
        bad = w[:3]
    elif case == "too_many":
        bad = w + [np.zeros(3)]
    else:
        bad = [w[0].T, w[1], w[2], w[3]]
    with pytest.raises(ValueError):
        net.set_weights(bad)
    for a, b in zip(net.get_weights(), w):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kw", [dict(batch_size=0), dict(batch_size=-4), dict(epochs=-1)])
def test_bad_fit_arguments(kw):
    """fit with a non-positive batch_size or negative epochs raises naming the argument."""
    net = _net()
    X, Y = _data()
    name = next(iter(kw))
    with pytest.raises(ValueError, match=name):
        net.fit(X, Y, verbose=0, **kw)


def test_bad_validation_data():
    """validation_data with the wrong shape raises ValueError/TypeError."""
    net = _net()
    X, Y = _data()
    with pytest.raises(ERR):
        net.fit(X, Y, epochs=1, verbose=0, validation_data=(X[:, :2], Y))
