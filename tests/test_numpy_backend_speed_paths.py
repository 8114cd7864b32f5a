"""The numpy backend's fast formulations give the numbers of the plain ones.

Each fast path (issue 13: a bit-mask in place of a masked store, a table
lookup in place of a masked multiply, exp(min(z, 0)) in place of a masked
division, a dot product as the finiteness test, the flat-index cross-entropy)
is checked here against the straightforward numpy formula it replaces, bit
for bit, on ordinary values and on the awkward ones (NaN, infinities, signed
zeros, subnormals), at sizes below and above the switch between the small-
and large-array paths; and a network wide enough to take the large paths
trains the same on both backends.
"""
import numpy as np
import pytest

import pynn
from pynn import activations, losses
from pynn._validation import all_finite

DTYPES = [np.float32, np.float64]
BITS = {np.float32: np.uint32, np.float64: np.uint64}


def same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    return np.array_equal(a.view(BITS[a.dtype.type]), b.view(BITS[b.dtype.type]))


def awkward(dtype, shape, seed):
    """Random values (both signs, some large) with the special ones planted."""
    rng = np.random.default_rng(seed)
    a = (rng.normal(size=shape) * 4).astype(dtype)
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, np.finfo(dtype).tiny / 4,
                         -np.finfo(dtype).tiny / 4, 1e30 if dtype == np.float64 else 1e20, -100.0], dtype=dtype)
    flat = a.reshape(-1)
    flat[rng.choice(flat.size, size=min(flat.size, 3 * specials.size), replace=False)] = np.resize(specials, min(
        flat.size, 3 * specials.size))
    return a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 5), (64, 128)])  # below and above activations._SMALL elements
def test_relu_backward_is_the_masked_store(dtype, shape):
    z, da = awkward(dtype, shape, 1), awkward(dtype, shape, 2)
    expected = da.copy()
    np.copyto(expected, dtype(0), where=z <= 0)  # PyTorch's threshold_backward, as a masked store
    with np.errstate(all="ignore"):
        got = activations.backward("relu", z, np.maximum(z, 0), da.copy())
    assert same_bits(got, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 5), (64, 128)])
def test_leaky_relu_backward_is_the_masked_multiply(dtype, shape):
    z, da = awkward(dtype, shape, 3), awkward(dtype, shape, 4)
    expected = da.copy()
    with np.errstate(all="ignore"):
        np.multiply(expected, dtype(activations.LEAKY_SLOPE), out=expected, where=~(z > 0))
        got = activations.backward("leaky_relu", z, activations.forward("leaky_relu", z), da.copy())
    assert same_bits(got, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 2), (64, 128)])
def test_sigmoid_is_the_two_branch_formula(dtype, shape):
    z = awkward(dtype, shape, 5)
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(z))
        expected = np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(dtype)  # csrc/activations.inc's branches
        got = activations.sigmoid(z.copy())
    assert got.dtype == dtype
    nan = np.isnan(z)
    assert np.isnan(got[nan]).all()
    assert same_bits(got[~nan], expected[~nan])
    assert got[z == np.inf].tolist() == [1.0] * int((z == np.inf).sum())
    assert got[z == -np.inf].tolist() == [0.0] * int((z == -np.inf).sum())


@pytest.mark.parametrize("rows", [4, 10000])  # under and over the size where all_finite stops counting
@pytest.mark.parametrize("dtype", DTYPES)
def test_all_finite_sees_through_overflow(dtype, rows):
    big = np.full((rows, 3), np.finfo(dtype).max / 2, dtype=dtype)  # finite, but its sum of squares overflows
    assert all_finite(big)
    for bad in (np.nan, np.inf, -np.inf):
        b = big.copy()
        b[2, 1] = bad
        assert not all_finite(b)
        small = np.zeros((2, 2), dtype=dtype)
        small[1, 0] = bad
        assert not all_finite(small)
    assert all_finite(np.zeros((0, 3), dtype=dtype))


def reference_cross_entropy(out, labels, Y, w):
    """The formulas the numpy backend used before issue 13 (max over the
    rows, fancy indexing), written out: (loss, grad, correct)."""
    n = out.shape[0]
    m = out.max(axis=1, keepdims=True)
    e = np.exp(out - m)
    s = e.sum(axis=1, keepdims=True)
    lse = np.log(s, dtype=np.float64) + m
    predicted = out.argmax(axis=1)
    if labels is not None:
        per_row = lse[:, 0] - out[np.arange(n), labels]
        hits = predicted == labels
    else:
        per_row = (Y.astype(np.float64) * (lse - out)).sum(axis=1)
        hits = predicted == Y.argmax(axis=1)
    wf = None if w is None else w.astype(np.float64)
    denom = float(n if wf is None else wf.sum())
    scale = out.dtype.type(1.0 / denom) if wf is None else ((1.0 * wf) / denom).astype(out.dtype)[:, None]
    p = e / s
    if labels is not None:
        p[np.arange(n), labels] -= 1
        grad = p * scale
    else:
        grad = (p * Y.sum(axis=1, keepdims=True, dtype=out.dtype) - Y) * scale
    total = per_row.sum() if wf is None else (wf * per_row).sum()
    correct = float(np.count_nonzero(hits) if wf is None else (wf * hits).sum())
    return float(total) / denom, grad, correct


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("targets", ["labels", "probabilities"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_the_plain_formulas(dtype, targets, weighted):
    rng = np.random.default_rng(7)
    n, k = 40, 5
    out = (rng.normal(size=(n, k)) * 3).astype(dtype)
    out[3] = out[3, 0]  # a row of ties: argmax picks the first
    out[4, 2] = 80  # a dominant logit
    out[5, :2] = [-0.0, 0.0]
    out[5, 2:] = -1.0  # the row's maximum is a zero of either sign
    labels = rng.integers(0, k, size=n) if targets == "labels" else None
    Y = None if labels is not None else rng.dirichlet(np.ones(k), size=n).astype(dtype)
    w = rng.uniform(0, 2, size=n).astype(dtype) if weighted else None
    loss, grad, correct = losses.numpy_loss("cross_entropy", out.copy(), Y, labels, w)
    ref_loss, ref_grad, ref_correct = reference_cross_entropy(out.copy(), labels, Y, w)
    assert loss == ref_loss and correct == ref_correct
    assert same_bits(grad, ref_grad)


def test_cross_entropy_of_a_nan_logit_is_nan():
    out = np.array([[0.0, np.nan, 1.0], [1.0, 2.0, 3.0]])
    with np.errstate(invalid="ignore"):
        loss, grad, _ = losses.numpy_loss("cross_entropy", out, None, np.array([0, 2]))
    assert np.isnan(loss) and np.isnan(grad[0]).all() and np.isfinite(grad[1]).all()


def net_for(loss, dtype="float64"):
    last = "softmax" if loss == "cross_entropy" else "linear"
    return pynn.Network([pynn.Dense(3, 4, "relu"), pynn.Dense(4, 3, last)], loss=loss, dtype=dtype, seed=0)


@pytest.mark.parametrize("label", [-1, 3, 2 ** 40])
def test_labels_out_of_range_are_refused_before_any_update(label):
    net = net_for("cross_entropy")
    before = [w.copy() for w in net.get_weights()]
    y = np.array([0, 1, label, 2], dtype=np.int64)
    with pytest.raises(ValueError, match=r"class labels in y must be in \[0, 3\)"):
        net.train_step(np.ones((4, 3)), y)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("where", ["X", "y"])
def test_nonfinite_inputs_are_refused(bad, where):
    net = net_for("mse")
    X, y = np.ones((4, 3)), np.zeros((4, 3))
    (X if where == "X" else y)[1, 2] = bad
    with pytest.raises(ValueError, match="%s contains NaN or infinity" % where):
        net.train_step(X, y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_finite_inputs_are_accepted(dtype):
    # their sum of squares overflows: the finiteness test must then look element by element
    net = net_for("mse", dtype)
    net.set_weights([np.zeros_like(w) for w in net.get_weights()])
    X = np.full((2, 3), np.finfo(dtype).max / 4, dtype=dtype)
    y = np.zeros((2, 3), dtype=dtype)
    assert net.train_step(X, y) == 0.0  # zero weights: the output is 0 whatever X is


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "sigmoid"])
def test_a_wide_network_trains_the_same_on_both_backends(backend, hidden):
    # layers of 64 rows x 96 units: above the small-array switch of the relu mask
    if "c" not in pynn.available_backends():
        pytest.skip("needs both backends")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 20))
    y = rng.integers(0, 4, size=64)
    results = []
    for name in (backend, "numpy" if backend == "c" else "c"):
        pynn.set_backend(name)
        net = pynn.Network([pynn.Dense(20, 96, hidden), pynn.Dense(96, 96, hidden), pynn.Dense(96, 4, "softmax")],
                           loss="cross_entropy", optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=3)
        steps = [net.train_step(X, y) for _ in range(5)]
        results.append((steps, net.get_weights()))
    pynn.set_backend(backend)
    (l1, w1), (l2, w2) = results
    np.testing.assert_allclose(l1, l2, rtol=1e-10)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10 * max(np.max(np.abs(a)), 1e-3))
    assert l1[-1] < l1[0]  # it learned something
