"""explain_step: the table of one training step, checked against a hand computation of
Mazur's 2-2-2 network, against net.gradients for every loss and activation, and against the
step the network actually takes."""
import copy
import math
import re

import numpy as np
import pytest

import pynn
from pynn.explain import Explanation, NeuronRow, WeightRow

from test_hand_worked import B1, B2, I1, I2, LR, PUBLISHED_E_TOTAL, PUBLISHED_UPDATED, T1, T2, W, _tol


def mazur(dtype="float64", optimizer=None):
    net = pynn.Network([pynn.Dense(2, 2, "sigmoid"), pynn.Dense(2, 2, "sigmoid")], loss="mse",
                       optimizer=optimizer or pynn.SGD(lr=LR), dtype=dtype)
    w = W
    net.set_weights([[[w["w1"], w["w3"]], [w["w2"], w["w4"]]], [B1, B1],
                     [[w["w5"], w["w7"]], [w["w6"], w["w8"]]], [B2, B2]])
    return net


# Mazur's names -> pynn's rows
NAMES = {"w1": "W1[0,0]", "w2": "W1[1,0]", "w3": "W1[0,1]", "w4": "W1[1,1]",
         "w5": "W2[0,0]", "w6": "W2[1,0]", "w7": "W2[0,1]", "w8": "W2[1,1]"}


def sig(z):
    return 1 / (1 + math.exp(-z))


def test_mazur_by_hand():
    """Every row against the chain rule written out in scalars (Mazur's walk-through)."""
    e = mazur().explain_step([[I1, I2]], [[T1, T2]])
    assert isinstance(e, Explanation)
    w = W
    net_h1 = w["w1"] * I1 + w["w2"] * I2 + B1
    net_h2 = w["w3"] * I1 + w["w4"] * I2 + B1
    h1, h2 = sig(net_h1), sig(net_h2)
    net_o1 = w["w5"] * h1 + w["w6"] * h2 + B2
    net_o2 = w["w7"] * h1 + w["w8"] * h2 + B2
    o1, o2 = sig(net_o1), sig(net_o2)
    # forward rows
    for (layer, unit), (net, out) in {(1, 0): (net_h1, h1), (1, 1): (net_h2, h2),
                                      (2, 0): (net_o1, o1), (2, 1): (net_o2, o2)}.items():
        row = e.neuron(layer, unit)
        assert isinstance(row, NeuronRow)
        assert row.net == pytest.approx(net, rel=1e-14) and row.out == pytest.approx(out, rel=1e-14)
    assert e.neuron(1, 0).net == pytest.approx(0.3775, rel=1e-14)  # Mazur: net_h1 = 0.3775
    assert e.neuron(1, 0).out == pytest.approx(0.593269992, abs=5e-10)
    # the loss: mean of squares over 2 outputs = his E_total
    assert abs(e.loss - float(PUBLISHED_E_TOTAL)) <= _tol(PUBLISHED_E_TOTAL)
    # output neurons: dE/dout = out - target (2/n with n = 2), dout/dnet = out (1 - out)
    o1_row = e.neuron(2, 0)
    assert o1_row.dE_dout == pytest.approx(o1 - T1, rel=1e-14)        # 0.74136507
    assert o1_row.dE_dout == pytest.approx(0.74136507, abs=5e-9)
    assert o1_row.dout_dnet == pytest.approx(o1 * (1 - o1), rel=1e-14)  # 0.186815602
    assert o1_row.dout_dnet == pytest.approx(0.186815602, abs=5e-10)
    d1 = (o1 - T1) * o1 * (1 - o1)
    d2 = (o2 - T2) * o2 * (1 - o2)
    assert o1_row.delta == pytest.approx(d1, rel=1e-14)
    assert o1_row.paths == ()
    # hidden neuron h1: dE/dout_h1 is the sum over its two paths, d1 * w5 + d2 * w7 (0.036350306)
    h1_row = e.neuron(1, 0)
    assert [(p.unit, p.weight) for p in h1_row.paths] == [(0, w["w5"]), (1, w["w7"])]
    assert [p.delta for p in h1_row.paths] == pytest.approx([d1, d2], rel=1e-14)
    assert h1_row.dE_dout == pytest.approx(d1 * w["w5"] + d2 * w["w7"], rel=1e-14)
    assert h1_row.dE_dout == pytest.approx(sum(p.product for p in h1_row.paths), rel=1e-15)
    assert h1_row.dE_dout == pytest.approx(0.036350306, abs=5e-10)
    assert h1_row.dout_dnet == pytest.approx(h1 * (1 - h1), rel=1e-14)  # 0.241300709
    # weights: the three factors and their product
    w5 = e.weight("W2[0,0]")
    assert isinstance(w5, WeightRow)
    assert (w5.layer, w5.source, w5.unit, w5.old) == (2, 0, 0, w["w5"])
    assert w5.dE_dout == pytest.approx(o1 - T1, rel=1e-14)
    assert w5.dout_dnet == pytest.approx(o1 * (1 - o1), rel=1e-14)
    assert w5.dnet_dw == pytest.approx(h1, rel=1e-14)
    assert w5.grad == pytest.approx(0.082167041, abs=5e-10)          # Mazur: dE/dw5 = 0.082167041
    assert w5.grad == pytest.approx(w5.dE_dout * w5.dout_dnet * w5.dnet_dw, rel=1e-14)
    w1 = e.weight("W1[0,0]")
    assert w1.dnet_dw == I1
    assert w1.grad == pytest.approx(0.000438568, abs=5e-10)          # Mazur: dE/dw1 = 0.000438568
    assert e.weight("b1[1]").dnet_dw == 1.0 and e.weight("b1[1]").source is None
    # the update, w <- w - 0.5 dE/dw, gives the published numbers
    for mazur_name, pub in PUBLISHED_UPDATED.items():
        row = e.weight(NAMES[mazur_name])
        assert row.lr == LR
        assert row.new == row.old - LR * row.grad
        assert abs(row.new - float(pub)) <= _tol(pub), mazur_name
        assert row.update == pytest.approx(-LR * row.grad, rel=1e-12)


def test_it_performs_the_step():
    net, twin = mazur(), mazur()
    e = net.explain_step([[I1, I2]], [[T1, T2]])
    twin.train_step([[I1, I2]], [[T1, T2]])
    for a, b in zip(net.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert net.optimizer.step == 1
    new = [np.array([[r.new for r in e.weights if r.layer == l and r.source == i] for i in range(2)])
           for l in (1, 2)]
    np.testing.assert_allclose(new[0], net.get_weights()[0], rtol=1e-14)
    np.testing.assert_allclose(new[1], net.get_weights()[2], rtol=1e-14)


def test_float32_network_is_explained_in_float64():
    e = mazur("float32").explain_step([[I1, I2]], [[T1, T2]])
    assert abs(e.weight("W2[0,0]").new - 0.35891648) < 1e-6
    assert abs(e.loss - 0.298371109) < 1e-6


def test_text_table():
    text = str(mazur().explain_step([[I1, I2]], [[T1, T2]]))
    for expected in ("2-2-2 network", "0.3775", "0.59326999", "0.75136507", "0.29837111",
                     "0.13849856·0.4 − 0.038098237·0.5",  # h1's paths: δ_o1·w5 + δ_o2·w7
                     "0.15·0.05 + 0.2·0.1 + 0.35",  # net_h1 = w1·i1 + w2·i2 + b1
                     "2·(0.75136507 − 0.01)/2",  # dE/dout_o1
                     "w ← w − lr·∂E/∂w, lr = 0.5", "0.082167041", "0.35891648", "0.14978072",
                     "−0.21707153",  # dE/dout_o2 = o2 - t2 < 0, with a Unicode minus
                     "w ← w − lr·∂E/∂w, lr = 0.5"):
        assert expected in text, expected
    assert text.count("\n") > 20


PAIRINGS = [("mse", "linear", None), ("mae", "tanh", None), ("huber", "gelu", None),
            ("binary_cross_entropy", "sigmoid", None), ("cross_entropy", "softmax", "labels"),
            ("cross_entropy", "softmax", "probs"), ("mse", "relu", None), ("mse", "leaky_relu", None)]


@pytest.mark.parametrize("loss,out_act,kind", PAIRINGS)
@pytest.mark.parametrize("n", [1, 3])
def test_gradients_match_the_network(loss, out_act, kind, n):
    """The table's ∂E/∂w equal net.gradients for every loss, activation and batch size."""
    rng = np.random.default_rng(7)
    hidden = ["tanh", "relu", "sigmoid", "gelu", "leaky_relu", "linear"]
    layers = [pynn.Dense(3, 4, hidden[n % 6]), pynn.Dense(4, 3, hidden[(n + 1) % 6]), pynn.Dense(3, 2, out_act)]
    net = pynn.Network(layers, loss=loss, optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=n)
    X = rng.normal(size=(n, 3))
    if kind == "labels":
        y = rng.integers(0, 2, size=n)
    elif kind == "probs" or loss == "binary_cross_entropy":
        y = rng.uniform(size=(n, 2))
        y = y / y.sum(axis=1, keepdims=True) if kind == "probs" else (y > 0.5).astype(float)
    else:
        y = rng.normal(size=(n, 2))
    expected = net.gradients(X, y)
    before = net.get_weights()
    loss_before = net.evaluate(X, y)["loss"]
    e = net.explain_step(X, y)
    assert e.loss == pytest.approx(loss_before, rel=1e-12)
    for got, want in zip(e.gradients(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    for row in e.weights:  # each gradient is the sum of its per-sample chain-rule products
        assert len(row.terms) == n
        assert row.grad == pytest.approx(sum(t.product for t in row.terms), rel=1e-12, abs=1e-15)
        for t in row.terms:
            if t.dE_dout is not None:
                assert t.delta == pytest.approx(t.dE_dout * t.dout_dnet, rel=1e-14, abs=1e-300)
    for row in e.neurons:  # hidden: dE/dout is the sum over the downstream paths
        if row.paths:
            assert row.dE_dout == pytest.approx(sum(p.product for p in row.paths), rel=1e-12, abs=1e-15)
    after = net.get_weights()  # the SGD step was taken, as the table says
    for (l, W0), W1 in zip(enumerate(before), after):
        np.testing.assert_allclose(W1, W0 - 0.1 * expected[l], rtol=1e-12, atol=1e-15)
    if n > 1:
        with pytest.raises(ValueError, match="terms"):
            e.weights[0].dE_dout


def test_fused_output_shows_delta_only():
    net = pynn.Network([pynn.Dense(2, 2, "softmax")], loss="cross_entropy", optimizer=pynn.SGD(lr=1.0),
                       dtype="float64")
    net.set_weights([np.zeros((2, 2)), np.zeros(2)])
    e = net.explain_step([[1.0, 2.0]], [1])
    row = e.neuron(1, 0)
    assert row.dE_dout is None and row.dout_dnet is None
    assert row.out == 0.5 and row.delta == 0.5  # p - y = 0.5 - 0
    assert e.neuron(1, 1).delta == -0.5
    assert e.weight("W1[1,0]").grad == 1.0  # 0.5 * x_1
    assert e.loss == pytest.approx(math.log(2), rel=1e-15)
    assert "—" in e.to_text()


@pytest.mark.parametrize("optimizer", [lambda: pynn.Adam(lr=0.01), lambda: pynn.SGD(lr=0.5, momentum=0.9),
                                       lambda: pynn.SGD(lr=0.5, weight_decay=0.1)])
def test_other_optimizers_show_the_actual_new_value(optimizer):
    net = mazur(optimizer=optimizer())
    twin = copy.deepcopy(net)
    e = net.explain_step([[I1, I2]], [[T1, T2]])
    twin.train_step([[I1, I2]], [[T1, T2]])
    assert not e.plain_sgd
    W2 = twin.get_weights()[2]
    assert e.weight("W2[0,1]").new == W2[0, 1]
    assert e.weight("W2[0,1]").grad == pytest.approx(-0.02260254, abs=5e-9)  # still the gradient
    assert "the new value it produced" in e.to_text()
    if isinstance(net.optimizer, pynn.Adam):  # Adam's first step moves each weight by about lr
        assert e.weight("W2[0,1]").update == pytest.approx(0.01, rel=1e-6)


def test_bad_input_is_refused_before_anything_changes():
    net = mazur()
    with pytest.raises(ValueError, match="X"):
        net.explain_step([[1.0, 2.0, 3.0]], [[0, 1]])
    assert net.optimizer.step == 0 and net.get_weights()[0][0, 0] == W["w1"]


# ---- what the table says: the loss line, the numbering, the signs, the width, the selections --------

def _formatted(x):
    """How the table must print x: 8 significant digits, U+2212 for minus (written here, not imported)."""
    text = "%.8g" % x
    return "\u2212" + text[1:] if text.startswith("-") else text


def _pairing_step(loss, out_act, kind, n=2):
    rng = np.random.default_rng(11)
    net = pynn.Network([pynn.Dense(3, 3, "tanh"), pynn.Dense(3, 2, out_act)], loss=loss,
                       optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=1)
    X = rng.normal(size=(n, 3))
    if kind == "labels":
        y = rng.integers(0, 2, size=n)
    elif kind == "probs":
        y = rng.uniform(size=(n, 2))
        y = y / y.sum(axis=1, keepdims=True)
    elif loss == "binary_cross_entropy":
        y = (rng.uniform(size=(n, 2)) > 0.5).astype(float)
    else:
        y = rng.normal(size=(n, 2))
    expected = net.evaluate(X, y)["loss"]
    return net.explain_step(X, y), expected


@pytest.mark.parametrize("loss,out_act,kind", PAIRINGS)
def test_loss_line_states_E(loss, out_act, kind):
    """The loss value is printed as "E = value" on its own line, never after "p = out" (where it
    read as a probability above 1), and the formula names its divisor with N (samples) and K."""
    e, expected = _pairing_step(loss, out_act, kind)
    lines = e.to_text().splitlines()
    assert "  E = %s" % _formatted(expected) in lines
    loss_line = next(line for line in lines if line.startswith("Loss (%s): E = " % loss))
    assert _formatted(expected) not in loss_line
    assert ("mean over the N = 2 samples" if loss == "cross_entropy" else "mean over the N·K = 4 values") \
        in " ".join(e.to_text().split())
    assert not re.search(r"p = out\S* = \d", e.to_text())
    # one convention: N samples, K outputs; never a lone n
    assert not re.search(r"(?<![\w∂])n(?!\w)", e.to_text())
    assert "N = 2 samples, K = 2 outputs each" in " ".join(e.to_text().split())


def test_signs_are_unicode_minus_and_never_minus_zero():
    net = pynn.Network([pynn.Dense(2, 2, "relu"), pynn.Dense(2, 1)], loss="mse", optimizer=pynn.SGD(lr=0.5),
                       dtype="float64")
    # a relu unit at net < 0 has ∂out/∂net = 0 and a negative ∂E/∂out: numpy's product is -0.0
    net.set_weights([[[-1.0, 1.0], [0.5, 0.25]], [0.0, -0.5], [[-2.0], [3.0]], [0.0]])
    e = net.explain_step([[1.0, -2.0]], [[4.0]])
    assert any(math.copysign(1.0, t.product) < 0 and t.product == 0 for w in e.weights for t in w.terms) or \
        any(math.copysign(1.0, n.delta) < 0 and n.delta == 0 for n in e.neurons)  # a -0.0 is there to print
    body = "\n".join(e.to_text().splitlines()[1:])  # the first line names the 2-2-1 network
    assert not re.search(r"-\d", body), "an ASCII minus before a number"
    assert not re.search(r"−0(?![.\d])", body), "a minus zero"
    assert "−2" in body and "(−2)" in body  # the input x_1 = -2, bracketed as a factor


def test_numbering_is_stated_and_matches_the_code():
    """Layer l of the table (W{l}) is the l-th Dense layer, net.layers[i] with i as stated in the
    header (Dropout layers counted); units from 0, W{l}[i,j] = net.layers[...].W[i, j]."""
    net = pynn.Network([pynn.Dense(3, 2, "tanh"), pynn.Dropout(0.5), pynn.Dense(2, 2, "sigmoid")], loss="mse",
                       optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=3)
    before = [np.array(layer.W) for layer in (net.layers[0], net.layers[2])]
    e = net.explain_step([[0.5, -1.0, 2.0]], [[0.0, 1.0]])
    text = e.to_text()
    assert "Layer 0 is the inputs, layer l (from 1) the l-th Dense layer" in " ".join(text.split())
    assert "W1 = net.layers[0].W, W2 = net.layers[2].W" in " ".join(text.split())
    assert "units and samples count from 0" in " ".join(text.split())
    assert e.positions == (0, 2)
    for l, weights in enumerate(before, 1):
        for i in range(weights.shape[0]):
            for j in range(weights.shape[1]):
                assert e.weight("W%d[%d,%d]" % (l, i, j)).old == weights[i, j]
    assert e.neuron(2, 1).layer == 2 and e.sizes[2] == 2


def _xor_step():
    net = pynn.Network([pynn.Dense(2, 3, "tanh"), pynn.Dense(3, 1, "sigmoid")], loss="binary_cross_entropy",
                       optimizer=pynn.SGD(lr=0.1), dtype="float64", seed=0)
    X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    return net.explain_step(X, [[0], [1], [1], [0]])


def test_a_2_3_1_network_on_4_samples_stays_narrow():
    e = _xor_step()
    for text in (e.to_text(), str(e), e.to_text(sample=2), e.to_text(layer=1), e.to_text(updates_only=True)):
        assert max(len(line) for line in text.splitlines()) <= 100
    assert max(len(line) for line in e.to_text(width=72).splitlines()) <= 72


def test_choose_what_to_show():
    e = _xor_step()
    whole = e.to_text()
    # one sample: its rows only, but the whole batch's loss and gradients
    one = e.to_text(sample=2)
    assert "(sample 2)" in one and "(sample 0)" not in one and len(one.splitlines()) < len(whole.splitlines()) / 2
    grad = _formatted(e.weight("W1[0,0]").grad)
    assert grad in one and _formatted(e.loss) in one
    assert _formatted(e.neuron(1, 0, sample=2).out) in one
    assert _formatted(e.neuron(1, 0, sample=1).out) not in one
    # one layer, one neuron: the rows into unit 0 of layer 2
    names = set(re.findall(r"\b[Wb]\d\[[\d,]+\]", e.to_text(layer=2, neuron=0)))
    assert names == {"W2[0,0]", "W2[1,0]", "W2[2,0]", "b2[0]"}
    assert set(re.findall(r"\b[Wb]\d\[[\d,]+\]", e.to_text(layer=1))) == {
        "W1[%d,%d]" % (i, j) for i in range(2) for j in range(3)} | {"b1[0]", "b1[1]", "b1[2]"}
    # the update table only: each parameter once, with old, gradient and new value
    updates = e.to_text(updates_only=True)
    assert "Forward pass" not in updates and "Backward pass" not in updates
    for row in e.weights:
        line, = [line for line in updates.splitlines() if line.split()[:1] == [row.name]]
        assert line.split()[1:] == [_formatted(row.old), _formatted(row.grad), _formatted(row.new)]
    for bad, error in [(dict(neuron=0), ValueError), (dict(layer=0), ValueError), (dict(layer=3), ValueError),
                       (dict(layer=1, neuron=3), ValueError), (dict(sample=4), ValueError),
                       (dict(layer="1"), TypeError), (dict(names="mazur"), ValueError)]:
        with pytest.raises(error):
            e.to_text(**bad)


def test_mazur_names():
    e = mazur().explain_step([[I1, I2]], [[T1, T2]])
    for short, full in NAMES.items():
        assert e.weight(short) is e.weight(full)
        assert e.alias(full) == short
    assert e.alias("b1[0]") is None
    text = e.to_text(names="mazur")
    assert "W2[0,0] w5" in text and "W1[1,1] w4" in text
    assert "does not update" in " ".join(text.split())
    assert abs(e.weight("w5").new - float(PUBLISHED_UPDATED["w5"])) <= _tol(PUBLISHED_UPDATED["w5"])
    with pytest.raises(KeyError):
        _xor_step().weight("w5")  # only a 2-2-2 network has Mazur's names
