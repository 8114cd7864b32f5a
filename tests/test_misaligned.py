"""Arrays whose elements sit at misaligned addresses (np.frombuffer(..., offset=1)) are copied to
aligned memory at the boundary before any kernel reads them (issue 11): the C core would read a
misaligned float or int64, undefined behaviour that UBSan reports (.ci/robustness runs this file
under it).  Each call gives exactly what the aligned copy of the same data gives."""
import numpy as np
import pytest

import pynn


def misaligned(values, dtype, offset=1):
    """A C-contiguous array of ``values`` whose data starts ``offset`` bytes into a buffer."""
    values = np.asarray(values, dtype=dtype)
    buf = bytearray(values.nbytes + offset)
    buf[offset:] = values.tobytes()
    arr = np.frombuffer(buf, dtype=dtype, offset=offset).reshape(values.shape)
    assert arr.flags.c_contiguous and not arr.flags.aligned
    return arr


def _net(dtype, loss="cross_entropy"):
    out = "softmax" if loss == "cross_entropy" else "linear"
    return pynn.Network([pynn.Dense(3, 8, "relu"), pynn.Dense(8, 4, out)], loss=loss,
                        optimizer=pynn.Adam(lr=0.01), dtype=dtype, seed=1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_misaligned_inputs_and_labels(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(dtype)
    labels = rng.integers(0, 4, size=40)
    Xm, Lm = misaligned(X, dtype), misaligned(labels, np.int64, offset=3)
    a, b = _net(dtype), _net(dtype)
    Xk, _, Lk = a._plan.batch(Xm, Lm)  # what the kernels get: aligned copies
    assert Xk.flags.aligned and Lk.flags.aligned and Xk.flags.c_contiguous and Lk.flags.c_contiguous
    np.testing.assert_array_equal(a.predict(Xm), b.predict(X))
    assert a.evaluate(Xm, Lm) == b.evaluate(X, labels)
    for ga, gb in zip(a.gradients(Xm, Lm), b.gradients(X, labels)):
        np.testing.assert_array_equal(ga, gb)
    assert a.train_step(Xm, Lm) == b.train_step(X, labels)
    a.fit(Xm, Lm, epochs=2, batch_size=8, verbose=0)
    b.fit(X, labels, epochs=2, batch_size=8, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_misaligned_regression_targets(dtype):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(16, 3)).astype(dtype)
    Y = rng.normal(size=(16, 4)).astype(dtype)
    a, b = _net(dtype, "mse"), _net(dtype, "mse")
    Xk, Yk, _ = a._plan.batch(misaligned(X, dtype), misaligned(Y, dtype, offset=2))
    assert Xk.flags.aligned and Yk.flags.aligned
    assert a.train_step(misaligned(X, dtype), misaligned(Y, dtype, offset=2)) == b.train_step(X, Y)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
