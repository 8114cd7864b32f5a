"""The 2-2-2 sigmoid network of Matt Mazur's "A Step by Step Backpropagation Example".

Inputs (0.05, 0.10), targets (0.01, 0.99), weights w1..w8 = .15 .20 .25 .30 .40 .45 .50 .55,
biases .35 (hidden) and .60 (output), lr 0.5.  pynn's ``mse`` (mean over the 2 outputs of
(t - o)^2) equals his E_total = sum 1/2 (t - o)^2, so one SGD step must reproduce his published
numbers.  Every number is also recomputed here with plain ``math`` (an independent chain rule).

Mapping to pynn's layout W[i, j] = weight from input i to unit j:
    h1 = w1*i1 + w2*i2 + b1   ->  W1[0, 0] = w1, W1[1, 0] = w2
    h2 = w3*i1 + w4*i2 + b1   ->  W1[0, 1] = w3, W1[1, 1] = w4
    o1 = w5*h1 + w6*h2 + b2   ->  W2[0, 0] = w5, W2[1, 0] = w6
    o2 = w7*h1 + w8*h2 + b2   ->  W2[0, 1] = w7, W2[1, 1] = w8
"""
import math
import os

import numpy as np
import pytest

import pynn

I1, I2 = 0.05, 0.10
T1, T2 = 0.01, 0.99
W = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55)
B1, B2 = 0.35, 0.60
LR = 0.5

# Published values (strings so the tolerance is half a unit of the last printed digit).
PUBLISHED_OUT = ("0.75136507", "0.772928465")
PUBLISHED_E_TOTAL = "0.298371109"
PUBLISHED_UPDATED = {
    "w1": "0.149780716", "w2": "0.19956143", "w3": "0.24975114", "w4": "0.29950229",
    "w5": "0.35891648", "w6": "0.408666186", "w7": "0.511301270", "w8": "0.561370121",
}


def _tol(s):
    """Half a unit in the last printed decimal of a published number (plus float slack)."""
    return 0.5 * 10.0 ** -len(s.split(".")[1]) + 1e-12


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def _reference():
    """Forward pass, error and one SGD step of the 2-2-2 net, chain rule by hand in math."""
    w = W
    h1 = _sig(w["w1"] * I1 + w["w2"] * I2 + B1)
    h2 = _sig(w["w3"] * I1 + w["w4"] * I2 + B1)
    o1 = _sig(w["w5"] * h1 + w["w6"] * h2 + B2)
    o2 = _sig(w["w7"] * h1 + w["w8"] * h2 + B2)
    e_total = 0.5 * (T1 - o1) ** 2 + 0.5 * (T2 - o2) ** 2
    d1 = (o1 - T1) * o1 * (1 - o1)  # dE/d(net_o1)
    d2 = (o2 - T2) * o2 * (1 - o2)
    e1 = (d1 * w["w5"] + d2 * w["w7"]) * h1 * (1 - h1)  # dE/d(net_h1), old w5, w7
    e2 = (d1 * w["w6"] + d2 * w["w8"]) * h2 * (1 - h2)
    grads = dict(
        w1=e1 * I1, w2=e1 * I2, w3=e2 * I1, w4=e2 * I2,
        w5=d1 * h1, w6=d1 * h2, w7=d2 * h1, w8=d2 * h2,
    )
    bgrads = dict(b1=(e1, e2), b2=(d1, d2))
    updated = {k: w[k] - LR * g for k, g in grads.items()}
    return dict(out=(o1, o2), e_total=e_total, grads=grads, bgrads=bgrads, updated=updated)


def _to_layout(d):
    """Mazur's named scalars -> (W1, W2) in pynn's (n_in, n_out) layout."""
    W1 = np.array([[d["w1"], d["w3"]], [d["w2"], d["w4"]]])
    W2 = np.array([[d["w5"], d["w7"]], [d["w6"], d["w8"]]])
    return W1, W2


def _make_net(dtype):
    net = pynn.Network(
        [pynn.Dense(2, 2, activation="sigmoid"), pynn.Dense(2, 2, activation="sigmoid")],
        loss="mse", optimizer=pynn.SGD(lr=LR), dtype=dtype,
    )
    W1, W2 = _to_layout(W)
    net.set_weights([W1, np.array([B1, B1]), W2, np.array([B2, B2])])
    return net


EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples",
                       "hand_worked_2_2_2.py")

X = np.array([[I1, I2]])
Y = np.array([[T1, T2]])


def test_reference_reproduces_published_numbers():
    """The plain-math chain rule in this file agrees with the published post (sanity of the oracle)."""
    ref = _reference()
    for got, pub in zip(ref["out"], PUBLISHED_OUT):
        assert abs(got - float(pub)) <= _tol(pub)
    assert abs(ref["e_total"] - float(PUBLISHED_E_TOTAL)) <= _tol(PUBLISHED_E_TOTAL)
    for k, pub in PUBLISHED_UPDATED.items():
        assert abs(ref["updated"][k] - float(pub)) <= _tol(pub), k


def test_forward_and_error_float64():
    """predict gives out_o1, out_o2 and the mse loss equals E_total (published digits)."""
    net = _make_net("float64")
    out = net.predict(X)
    assert out.shape == (1, 2)
    for got, pub in zip(out[0], PUBLISHED_OUT):
        assert abs(got - float(pub)) <= _tol(pub)
    loss = net.evaluate(X, Y)["loss"]
    assert abs(loss - float(PUBLISHED_E_TOTAL)) <= _tol(PUBLISHED_E_TOTAL)
    ref = _reference()
    np.testing.assert_allclose(out[0], ref["out"], rtol=1e-13, atol=0)
    assert loss == pytest.approx(ref["e_total"], rel=1e-13)


def test_gradients_float64():
    """net.gradients equals the hand chain rule for every weight and bias."""
    net = _make_net("float64")
    ref = _reference()
    gW1, gb1, gW2, gb2 = net.gradients(X, Y)
    eW1, eW2 = _to_layout(ref["grads"])
    np.testing.assert_allclose(gW1, eW1, rtol=1e-11, atol=1e-16)
    np.testing.assert_allclose(gW2, eW2, rtol=1e-11, atol=1e-16)
    np.testing.assert_allclose(gb1, ref["bgrads"]["b1"], rtol=1e-11, atol=1e-16)
    np.testing.assert_allclose(gb2, ref["bgrads"]["b2"], rtol=1e-11, atol=1e-16)


def test_one_sgd_step_float64():
    """train_step returns E_total (before the update) and yields the published w1+..w8+."""
    net = _make_net("float64")
    loss = net.train_step(X, Y)
    assert isinstance(loss, float)
    assert abs(loss - float(PUBLISHED_E_TOTAL)) <= _tol(PUBLISHED_E_TOTAL)
    W1, b1, W2, b2 = net.get_weights()
    got = dict(w1=W1[0, 0], w2=W1[1, 0], w3=W1[0, 1], w4=W1[1, 1],
               w5=W2[0, 0], w6=W2[1, 0], w7=W2[0, 1], w8=W2[1, 1])
    for k, pub in PUBLISHED_UPDATED.items():
        assert abs(got[k] - float(pub)) <= _tol(pub), (k, got[k], pub)
    ref = _reference()
    eW1, eW2 = _to_layout(ref["updated"])
    np.testing.assert_allclose(W1, eW1, rtol=1e-13)
    np.testing.assert_allclose(W2, eW2, rtol=1e-13)
    # biases move by -lr * their gradient too
    np.testing.assert_allclose(b1, B1 - LR * np.array(ref["bgrads"]["b1"]), rtol=1e-13)
    np.testing.assert_allclose(b2, B2 - LR * np.array(ref["bgrads"]["b2"]), rtol=1e-13)


def test_float32_within_1e6():
    """In float32 the forward values, loss, gradients and the updated weights are within 1e-6."""
    net = _make_net("float32")
    ref = _reference()
    out = net.predict(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], ref["out"], rtol=0, atol=1e-6)
    gW1, gb1, gW2, gb2 = net.gradients(X, Y)
    eW1, eW2 = _to_layout(ref["grads"])
    np.testing.assert_allclose(gW1, eW1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(gW2, eW2, rtol=0, atol=1e-6)
    loss = net.train_step(X, Y)
    assert abs(loss - ref["e_total"]) <= 1e-6
    W1, b1, W2, b2 = net.get_weights()
    assert W1.dtype == np.float32
    eW1, eW2 = _to_layout(ref["updated"])
    np.testing.assert_allclose(W1, eW1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(W2, eW2, rtol=0, atol=1e-6)


def test_mse_is_the_posts_half_sum_only_with_two_outputs():
    """pynn's mse is the mean over the K outputs; the post's E_total is 1/2 the sum. They agree here
    because K = 2, and not for K = 3: the example and the README say so."""
    ref = _reference()
    o = ref["out"]
    squares = [(T1 - o[0]) ** 2, (T2 - o[1]) ** 2]
    assert sum(squares) / 2 == pytest.approx(ref["e_total"], rel=1e-15)  # mean over 2 = 1/2 sum
    three = pynn.Network([pynn.Dense(2, 3, "sigmoid")], loss="mse", dtype="float64")
    three.set_weights([[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], [0.0, 0.0, 0.0]])
    out = three.predict(X)[0]
    y3 = [0.01, 0.99, 0.5]
    sq = [(t - v) ** 2 for t, v in zip(y3, out)]
    loss = three.evaluate(X, [y3])["loss"]
    assert loss == pytest.approx(sum(sq) / 3, rel=1e-13) and loss != pytest.approx(0.5 * sum(sq), rel=1e-3)
    text = open(EXAMPLE, encoding="utf-8").read()
    assert "only because this network has\n  two outputs" in text
    assert "pynn also updates the biases" in text


def test_the_posts_names_and_the_bias_updates():
    """explain_step answers to w1..w8 with the hand computation's gradients and updates, and moves the
    biases the post leaves alone (b1 = 0.35, b2 = 0.60) by -lr times their gradient."""
    ref = _reference()
    step = _make_net("float64").explain_step(X, Y)
    for name, grad in ref["grads"].items():
        assert step.weight(name).grad == pytest.approx(grad, rel=1e-12), name
        assert step.weight(name).new == pytest.approx(ref["updated"][name], rel=1e-13), name
    for j in range(2):
        assert step.weight("b1[%d]" % j).new == pytest.approx(B1 - LR * ref["bgrads"]["b1"][j], rel=1e-13)
        assert step.weight("b2[%d]" % j).new == pytest.approx(B2 - LR * ref["bgrads"]["b2"][j], rel=1e-13)
    assert step.weight("b1[0]").new != B1 and step.weight("b2[1]").new != B2
