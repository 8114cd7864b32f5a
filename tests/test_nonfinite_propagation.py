"""NaN and infinity travel through every activation, derivative and loss the same way on both
backends, and as PyTorch's do (issue 11).

The network functions refuse non-finite inputs, but a finite input can still make a NaN inside:
a product that overflows (inf - inf) on huge weights.  The C core once turned that NaN into 0 in
relu (``v > 0 ? v : 0``) and trained on silently while the numpy backend raised DivergenceError.

- The C single kernels (pynn_activation_forward/backward, pynn_loss) against the numpy
  backend's functions on arrays holding NaN, +-inf, +-0 and ordinary values: NaN and +-inf in
  exactly the same places, finite values equal to rounding (libm's and numpy's exp and tanh
  may differ in the last bit).
- The same arrays through PyTorch (when installed): the same NaN positions and values.
- A network whose hidden product overflows to inf - inf: train_step raises DivergenceError on
  both backends, and predict returns NaN.
"""
import numpy as np
import pytest

import pynn
from pynn import activations, losses

SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, -1.5, 2.0, -1e3, 1e3, 0.3]
ELEMENTWISE = [a for a in activations.NAMES if a != "softmax"]


def core():
    if "c" not in pynn.available_backends():
        pytest.skip("the C core is not built")
    from pynn._core import ffi, lib
    return ffi, lib


def _c_types(dtype):
    return ("float[]", "_f32") if dtype == np.float32 else ("double[]", "_f64")


def assert_same(actual, desired):
    """NaN and +-inf in the same places; finite values equal to a few ulps."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(desired))
    np.testing.assert_array_equal(np.isposinf(actual), np.isposinf(desired))
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(desired))
    finite = np.isfinite(desired)
    rtol = 1e-6 if desired.dtype == np.float32 else 1e-14
    np.testing.assert_allclose(actual[finite], desired[finite], rtol=rtol, atol=1e-300)


def _grid(dtype):
    """z and da covering every pair of special values: (len^2,) each."""
    z, da = np.meshgrid(np.array(SPECIAL, dtype), np.array(SPECIAL, dtype))
    return z.ravel().copy(), da.ravel().copy()


def c_forward(name, z):
    ffi, lib = core()
    ctype, suffix = _c_types(z.dtype)
    a = np.empty_like(z)
    status = getattr(lib, "pynn_activation_forward" + suffix)(activations.CODES[name], 1, z.size,
                                                              ffi.from_buffer(ctype, z), ffi.from_buffer(ctype, a))
    assert status == 0
    return a


def c_backward(name, z, a, da):
    ffi, lib = core()
    ctype, suffix = _c_types(z.dtype)
    dz = np.empty_like(z)
    status = getattr(lib, "pynn_activation_backward" + suffix)(
        activations.CODES[name], 1, z.size, ffi.from_buffer(ctype, z), ffi.from_buffer(ctype, a),
        ffi.from_buffer(ctype, da), ffi.from_buffer(ctype, dz))
    assert status == 0
    return dz


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_forward_and_derivative_agree_on_special_values(name, dtype):
    z, da = _grid(dtype)
    with np.errstate(all="ignore"):
        a_numpy = activations.forward(name, z.reshape(1, -1)).ravel()
        a_c = c_forward(name, z)
        assert_same(a_c, a_numpy)
        dz_numpy = activations.backward(name, z.reshape(1, -1), a_numpy.reshape(1, -1), da.reshape(1, -1).copy())
        assert_same(c_backward(name, z, a_numpy, da), dz_numpy.ravel())
    assert np.isnan(a_c[np.isnan(z)]).all()  # NaN in, NaN out: never hidden


def test_softmax_row_with_nan_is_nan_on_both():
    z = np.array([[1.0, np.nan, 2.0], [np.inf, 1.0, 0.0], [1.0, 2.0, 3.0]])
    with np.errstate(all="ignore"):
        numpy_a = activations.forward("softmax", z)
        assert_same(c_forward("softmax", z.ravel()[:3]).reshape(1, 3), numpy_a[:1])
    assert np.isnan(numpy_a[:2]).all() and np.isfinite(numpy_a[2]).all()


TORCH_ACTIVATIONS = {
    "linear": lambda t, z: z, "sigmoid": lambda t, z: t.sigmoid(z), "tanh": lambda t, z: t.tanh(z),
    "relu": lambda t, z: t.relu(z), "leaky_relu": lambda t, z: t.nn.functional.leaky_relu(z, 0.01),
    "gelu": lambda t, z: t.nn.functional.gelu(z),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activations_propagate_nan_as_pytorch(name):
    torch = pytest.importorskip("torch")
    z, da = _grid(np.float64)
    zt = torch.tensor(z, requires_grad=True)
    out = TORCH_ACTIVATIONS[name](torch, zt)
    out.backward(torch.tensor(da))
    with np.errstate(all="ignore"):
        a = activations.forward(name, z.reshape(1, -1)).ravel()
        dz = activations.backward(name, z.reshape(1, -1), a.reshape(1, -1), da.reshape(1, -1).copy()).ravel()
    want_a, want_dz = out.detach().numpy(), zt.grad.numpy()
    np.testing.assert_array_equal(np.isnan(a), np.isnan(want_a))
    np.testing.assert_array_equal(np.isnan(dz), np.isnan(want_dz))
    finite = np.isfinite(want_a)
    np.testing.assert_allclose(a[finite], want_a[finite], rtol=1e-12, atol=1e-300)
    finite = np.isfinite(want_dz)
    np.testing.assert_allclose(dz[finite], want_dz[finite], rtol=1e-12, atol=1e-300)


LOSS_CASES = [("mse", "linear"), ("mae", "linear"), ("huber", "linear"), ("binary_cross_entropy", "sigmoid"),
              ("cross_entropy", "softmax")]


def c_loss(loss, out, Y, labels):
    ffi, lib = core()
    ctype, suffix = _c_types(out.dtype)
    dout = np.empty_like(out)
    value = ffi.new("double[2]")
    status = getattr(lib, "pynn_loss" + suffix)(
        losses.CODES[loss], out.shape[0], out.shape[1], ffi.from_buffer(ctype, out),
        ffi.NULL if Y is None else ffi.from_buffer(ctype, Y),
        ffi.NULL if labels is None else ffi.from_buffer("int64_t[]", labels), ffi.NULL, ffi.from_buffer(ctype, dout),
        value, value + 1)
    assert status == 0
    return value[0], dout, value[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss, _act", LOSS_CASES)
def test_losses_agree_on_special_outputs(loss, _act, dtype):
    """Each row of out holds one special value; the loss and gradient agree element by element."""
    rows = len(SPECIAL)
    out = np.full((rows, 3), 0.25, dtype)
    out[:, 1] = SPECIAL
    rng = np.random.default_rng(0)
    labels = None
    Y = rng.uniform(size=(rows, 3)).astype(dtype)
    if loss == "cross_entropy":
        labels, Y = rng.integers(0, 3, size=rows).astype(np.int64), None
    for r in range(rows):  # one row at a time: a NaN in one row makes the whole mean NaN
        y_r = None if Y is None else Y[r:r + 1]
        l_r = None if labels is None else labels[r:r + 1]
        with np.errstate(all="ignore"):
            value, grad, correct = losses.numpy_loss(loss, out[r:r + 1], y_r, l_r)
        c_value, c_grad, c_correct = c_loss(loss, out[r:r + 1], y_r, l_r)
        assert_same(np.float64(c_value), np.float64(value))
        assert_same(c_grad, grad)
        assert c_correct == correct


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_regression_loss_gradients_at_nan_as_pytorch(loss):
    torch = pytest.importorskip("torch")
    out = np.array([[np.nan, 3.0, -5.0, np.inf, 0.5]])
    Y = np.zeros_like(out)
    ot = torch.tensor(out, requires_grad=True)
    fn = {"mse": torch.nn.MSELoss(), "mae": torch.nn.L1Loss(), "huber": torch.nn.HuberLoss(delta=1.0)}[loss]
    fn(ot, torch.tensor(Y)).backward()
    with np.errstate(all="ignore"):
        _, grad, _ = losses.numpy_loss(loss, out, Y, None)
    want = ot.grad.numpy()
    np.testing.assert_array_equal(np.isnan(grad), np.isnan(want))
    np.testing.assert_array_equal(grad[~np.isnan(want)], want[~np.isnan(want)])


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "tanh", "gelu"])
def test_overflowing_product_is_reported_not_hidden(hidden):
    """x = (3e38, 3e38) in float32 and a first column of weights (10, -10): the terms of the
    product are +inf and -inf, so that hidden unit is NaN.  It must reach the loss."""
    net = pynn.Network([pynn.Dense(2, 3, hidden), pynn.Dense(3, 1)], loss="mse", dtype="float32")
    W1 = np.array([[10.0, 1.0, 0.5], [-10.0, -1.0, 0.5]])
    W2 = np.array([[1.0], [1.0], [1e-38]])
    net.set_weights([W1, np.zeros(3), W2, np.zeros(1)])
    X = np.array([[3e38, 3e38]], dtype=np.float32)
    before = net.get_weights()
    with np.errstate(all="ignore"):
        assert np.isnan(net.predict(X)).all()
        with pytest.raises(pynn.DivergenceError):
            net.train_step(X, [[1.0]])
    for a, b in zip(net.get_weights(), before):  # no update was made
        np.testing.assert_array_equal(a, b)
