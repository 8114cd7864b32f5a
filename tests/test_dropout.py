"""Dropout: the masks against an independent splitmix64, read back exactly
from each backend's gradients; the gradient through the masks against finite
differences and a hand computation; the two backends against each other; and
dropout's absence from predict, evaluate and the exported models."""
import math
import os
from fractions import Fraction

import numpy as np
import pytest

import pynn
from pynn import dropout

# ---- an independent splitmix64, written from its published definition ----


def splitmix64_stream(state, n):
    """The first n outputs of Vigna's splitmix64 generator from `state`."""
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) % 2 ** 64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2 ** 64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2 ** 64
        out.append(z ^ (z >> 31))
    return out


def reference_mask(seed, step, layer, n, p):
    """The documented rule, with exact arithmetic: element e is kept when its
    number's top 53 bits are >= ceil(p * 2^53)."""
    first = lambda state: splitmix64_stream(state, 1)[0]  # noqa: E731
    base = first(first(first(seed) ^ step) ^ layer)
    threshold = math.ceil(Fraction(p) * 2 ** 53)
    return np.array([(u >> 11) >= threshold for u in splitmix64_stream(base, n)])


def test_reference_splitmix64_gives_the_published_numbers(backend):
    # Rosetta Code, "Pseudo-random numbers/Splitmix64", seed 1234567
    assert splitmix64_stream(1234567, 5) == [6457827717110365317, 3203168211198807973, 9817491932198370423,
                                             4593380528125082431, 16408922859458223821]
    assert splitmix64_stream(0, 1) == [0xE220A8397B1DCDAF]


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1 / 3, 2 ** -53, 1 - 2 ** -53])
def test_pynn_dropout_mask_is_the_documented_rule(backend, p):
    for seed, step, layer in [(0, 1, 0), (12345, 7, 2), (2 ** 63 - 1, 2 ** 40, 1)]:
        np.testing.assert_array_equal(dropout.keep_mask(seed, step, layer, 300, p),
                                      reference_mask(seed, step, layer, 300, p))


def mask_readout(net, layer_input, rows, step):
    """Which inputs of the Dense layer after the Dropout were kept, read from
    the backend's gradient.  net is Dropout(p) -> Dense(n, 1, linear), or
    Dense(n, n, linear) -> Dropout(p) -> Dense(n, 1, linear) with the first
    layer the identity: with the last W = 0, b = 0 and targets -1, every row's
    dE/dz is 2/B, and row r's input is 2^r, so B/(2·scale) · dW[i] =
    Σ_r kept[r, i]·2^r, the mask's column i in binary."""
    n = net.n_inputs
    X = np.tile(2.0 ** np.arange(rows)[:, None], (1, n))
    net.optimizer.step = step - 1  # gradients() uses the masks of update optimizer.step + 1
    dW = net.gradients(X, -np.ones((rows, 1)))[-2][:, 0]
    p = net.layers[layer_input].p
    bits = np.rint(dW * rows / (2.0 / (1.0 - p))).astype(np.int64)
    return ((bits[None, :] >> np.arange(rows)[:, None]) & 1).astype(bool)  # (rows, n)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_each_backend_applies_exactly_the_documented_masks(backend, p):
    rows, n = 24, 40
    first = pynn.Network([pynn.Dropout(p), pynn.Dense(n, 1)], dtype="float64", seed=0)
    first.set_weights([np.zeros((n, 1)), [0.0]])
    hidden = pynn.Network([pynn.Dense(n, n), pynn.Dropout(p), pynn.Dense(n, 1)], dtype="float64", seed=1)
    hidden.set_weights([np.eye(n), np.zeros(n), np.zeros((n, 1)), [0.0]])
    for net, index, layer in [(first, 0, 0), (hidden, 1, 1)]:
        for step in (1, 2, 1000):
            got = mask_readout(net, index, rows, step)
            want = reference_mask(net._plan.dropout_seed, step, layer, rows * n, p).reshape(rows, n)
            np.testing.assert_array_equal(got, want)


def test_masks_change_with_the_step_and_the_seed_and_drop_about_p(backend):
    rows, n, p = 32, 50, 0.3
    nets = [pynn.Network([pynn.Dropout(p), pynn.Dense(n, 1)], dtype="float64", seed=s) for s in (5, 5, 6)]
    for net in nets:
        net.set_weights([np.zeros((n, 1)), [0.0]])
    a, b, c = (mask_readout(net, 0, rows, step=3) for net in nets)
    np.testing.assert_array_equal(a, b)  # same seed, same masks
    assert (a != c).mean() > 0.2  # another seed, other masks
    later = mask_readout(nets[0], 0, rows, step=4)
    assert (a != later).mean() > 0.2
    kept = np.concatenate([mask_readout(nets[0], 0, rows, step=s).ravel() for s in range(1, 11)])
    sigma = math.sqrt(p * (1 - p) / kept.size)
    assert abs((1 - kept.mean()) - p) < 5 * sigma


# ---- the gradient through the masks ----------------------------------------

GRAD_CASES = [
    ("tanh", "linear", "mse", lambda X: np.sin(X[:, :2])),
    ("sigmoid", "softmax", "cross_entropy", lambda X: (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)),
    ("gelu", "sigmoid", "binary_cross_entropy", lambda X: (X[:, :2] > 0).astype(float)),
]


@pytest.mark.parametrize("hidden, out, loss, target", GRAD_CASES, ids=[c[2] for c in GRAD_CASES])
def test_gradients_with_dropout_match_finite_differences(backend, hidden, out, loss, target):
    X = np.random.default_rng(0).normal(size=(6, 4))
    k = 3 if out == "softmax" else 2
    net = pynn.Network([pynn.Dropout(0.25), pynn.Dense(4, 7, hidden), pynn.Dropout(0.5), pynn.Dense(7, 5, hidden),
                        pynn.Dropout(0.4), pynn.Dense(5, k, out)], loss=loss, dtype="float64", seed=3)
    net.optimizer.step = 41
    assert pynn.gradcheck(net, X, target(X))


def test_hand_worked_dropout_gradient(backend):
    """One linear neuron after dropout, worked with the readout of the mask:
    out = Σ_i m_i·x_i·w_i + b with m_i = kept_i / (1 − p); E = (out − y)²;
    ∂E/∂w_i = 2(out − y)·m_i·x_i and ∂E/∂x reaches no weight of a dropped input."""
    p, b, y = 0.5, 0.25, 1.5
    x, w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.array([0.5, -1.0, 0.25, 2.0, -0.5, 1.0])
    net = pynn.Network([pynn.Dropout(p), pynn.Dense(6, 1)], loss="mse", optimizer=pynn.SGD(lr=0.1),
                       dtype="float64", seed=11)
    net.set_weights([w[:, None], [b]])
    kept = reference_mask(net._plan.dropout_seed, 1, 0, 6, p)
    assert 0 < kept.sum() < 6  # this seed drops some inputs and keeps others
    m = kept / (1 - p)
    out = float(np.sum(m * x * w) + b)
    dW, db = net.gradients([x], [[y]])
    np.testing.assert_allclose(dW[:, 0], 2 * (out - y) * m * x, rtol=1e-15)
    np.testing.assert_allclose(db, [2 * (out - y)], rtol=1e-15)
    assert np.all(dW[~kept] == 0)
    assert net.train_step([x], [[y]]) == pytest.approx((out - y) ** 2, rel=1e-15)  # the same masks
    np.testing.assert_allclose(net.get_weights()[0][:, 0], w - 0.1 * 2 * (out - y) * m * x, rtol=1e-15)


def test_training_with_dropout_matches_pytorch_given_the_same_masks(backend):
    """Three Adam steps of a network with input and hidden dropout, against
    torch with the masks applied as explicit multiplications (torch draws its
    own masks; the rule that pynn's follow is checked above)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    net = pynn.Network([pynn.Dropout(0.2), pynn.Dense(5, 6, "tanh"), pynn.Dropout(0.5), pynn.Dense(6, 3, "softmax")],
                       loss="cross_entropy", optimizer=pynn.Adam(lr=0.01), dtype="float64", seed=0)
    params = [torch.tensor(w, requires_grad=True) for w in net.get_weights()]
    opt = torch.optim.Adam(params, lr=0.01)
    for step in range(1, 4):
        m0, m1 = (torch.tensor(reference_mask(net._plan.dropout_seed, step, layer, 8 * n, p).reshape(8, n) / (1 - p))
                  for layer, n, p in [(0, 5, 0.2), (1, 6, 0.5)])
        W1, b1, W2, b2 = params
        logits = torch.tanh((torch.tensor(X) * m0) @ W1 + b1) * m1 @ W2 + b2
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
        opt.zero_grad()
        loss.backward()
        assert net.train_step(X, labels) == pytest.approx(loss.item(), rel=1e-12)
        opt.step()
        for mine, theirs in zip(net.get_weights(), params):
            np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_gradients_are_those_train_step_applies(backend):
    X = np.random.default_rng(1).normal(size=(16, 5))
    y = np.random.default_rng(2).normal(size=(16, 3))
    net = pynn.Network([pynn.Dense(5, 16, "relu"), pynn.Dropout(0.5), pynn.Dense(16, 3)],
                       optimizer=pynn.SGD(lr=0.05), dtype="float64", seed=0)
    for _ in range(3):
        before = net.get_weights()
        grads = net.gradients(X, y)
        net.train_step(X, y)
        for w0, g, w1 in zip(before, grads, net.get_weights()):
            np.testing.assert_allclose(w1, w0 - 0.05 * g, rtol=0, atol=1e-15)
    assert net.optimizer.step == 3


def test_explain_step_with_dropout_agrees_with_the_backend(backend):
    net = pynn.Network([pynn.Dropout(0.5), pynn.Dense(3, 4, "sigmoid"), pynn.Dropout(0.5), pynn.Dense(4, 2, "sigmoid")],
                       loss="mse", optimizer=pynn.SGD(lr=0.5), dtype="float64", seed=2)
    X, y = [[0.05, 0.1, -0.2], [0.3, -0.1, 0.4]], [[0.01, 0.99], [0.5, 0.2]]
    expected = net.gradients(X, y)
    step = net.explain_step(X, y)
    for a, b in zip(step.gradients(), expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    masks = {row.mask for row in step.neurons if row.layer == 1}
    assert masks <= {0.0, 2.0} and len(masks) == 2  # some hidden neurons dropped, some kept
    assert set(np.unique(step.input_mask)) <= {0.0, 2.0}
    hidden = [row for row in step.neurons if row.layer == 1]
    for row in hidden:  # ∂E/∂out = m · Σ paths
        assert row.dE_dout == pytest.approx(row.mask * sum(p.product for p in row.paths), abs=1e-15)
    assert "dropout m" in step.to_text()


# ---- training: both backends, reproducibility, files ------------------------


def train(backend_name, dtype, steps=60):
    pynn.set_backend(backend_name)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 6))
    y = rng.integers(0, 3, size=64)
    net = pynn.Network([pynn.Dropout(0.1), pynn.Dense(6, 12, "relu"), pynn.Dropout(0.3), pynn.Dense(12, 8, "tanh"),
                        pynn.Dropout(0.5), pynn.Dense(8, 3, "softmax")],
                       loss="cross_entropy", optimizer=pynn.Adam(lr=0.01), dtype=dtype, seed=4)
    losses = [net.train_step(X[(i * 16) % 64:(i * 16) % 64 + 16], y[(i * 16) % 64:(i * 16) % 64 + 16])
              for i in range(steps)]
    return net.get_weights(), np.array(losses)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_backends_train_the_same_with_dropout(backend, dtype, rtol):
    other = "numpy" if backend == "c" else "c"
    if other not in pynn.available_backends():
        pytest.skip("needs both backends")
    w1, l1 = train(backend, dtype)
    w2, l2 = train(other, dtype)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=0, atol=rtol * max(np.max(np.abs(a)), 1e-3))
    np.testing.assert_allclose(l1, l2, rtol=rtol * 10)
    assert l1[-4:].mean() < l1[:4].mean()  # it learned


def test_predict_and_evaluate_use_no_dropout(backend):
    X = np.random.default_rng(0).normal(size=(20, 4))
    y = np.random.default_rng(1).integers(0, 2, size=20)
    with_dropout = pynn.Network([pynn.Dropout(0.5), pynn.Dense(4, 8, "relu"), pynn.Dropout(0.5),
                                 pynn.Dense(8, 2, "softmax")], loss="cross_entropy", dtype="float64", seed=0)
    plain = pynn.Network([pynn.Dense(4, 8, "relu"), pynn.Dense(8, 2, "softmax")], loss="cross_entropy",
                         dtype="float64", seed=9)
    plain.set_weights(with_dropout.get_weights())
    np.testing.assert_array_equal(with_dropout.predict(X), plain.predict(X))
    assert with_dropout.evaluate(X, y) == plain.evaluate(X, y)
    # while training the loss is that of the dropped-out network, not the plain one
    assert with_dropout.gradients(X, y)[0].tolist() != plain.gradients(X, y)[0].tolist()


def test_dropout_zero_changes_nothing(backend):
    X = np.random.default_rng(0).normal(size=(8, 3))
    y = np.random.default_rng(1).normal(size=(8, 2))
    a = pynn.Network([pynn.Dense(3, 5, "tanh"), pynn.Dropout(0.0), pynn.Dense(5, 2)], dtype="float64", seed=0)
    b = pynn.Network([pynn.Dense(3, 5, "tanh"), pynn.Dense(5, 2)], dtype="float64", seed=0)
    for _ in range(5):
        assert a.train_step(X, y) == b.train_step(X, y)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_fit_with_dropout_is_reproducible_and_resumes_from_a_file(backend, tmp_path):
    X, y = pynn.datasets.spirals(n_per_class=40, seed=0)

    def make():
        return pynn.Network([pynn.Dense(2, 32, "relu"), pynn.Dropout(0.2), pynn.Dense(32, 3, "softmax")],
                            loss="cross_entropy", optimizer="adam", seed=3)

    first, second = make(), make()
    h1 = first.fit(X, y, epochs=4, batch_size=16, verbose=0)
    h2 = second.fit(X, y, epochs=4, batch_size=16, verbose=0)
    assert h1.history == h2.history
    path = str(tmp_path / "m.safetensors")
    first.save(path)
    loaded = pynn.load(path)
    assert repr(loaded) == repr(first) and loaded._plan.dropout_seed == first._plan.dropout_seed
    for net in (first, loaded):
        net.fit(X, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(first.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_thread_count_does_not_change_dropout_training(backend):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(96, 200)), rng.normal(size=(96, 4))
    results = []
    for threads in (1, 2):
        pynn.set_num_threads(threads)
        net = pynn.Network([pynn.Dropout(0.2), pynn.Dense(200, 256, "relu"), pynn.Dropout(0.5),
                            pynn.Dense(256, 4)], seed=0)
        for _ in range(3):
            net.train_step(X, y)
        results.append(net.get_weights())
    pynn.set_num_threads(int(os.environ.get("PYNN_NUM_THREADS", 0)) or os.cpu_count() or 1)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_onnx_export_leaves_dropout_out(backend, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    net = pynn.Network([pynn.Dense(3, 6, "tanh"), pynn.Dropout(0.5), pynn.Dense(6, 2, "softmax")],
                       loss="cross_entropy", seed=0)
    path = str(tmp_path / "m.onnx")
    pynn.export_onnx(net, path)
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    (got,) = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"X": X})
    np.testing.assert_allclose(got, net.predict(X), rtol=1e-5, atol=1e-6)


# ---- the layer and its errors ----------------------------------------------


def test_summary_and_parameters(backend):
    net = pynn.Network([pynn.Dense(4, 8, "relu"), pynn.Dropout(0.25), pynn.Dense(8, 2)])
    assert net.n_params == 4 * 8 + 8 + 8 * 2 + 2
    assert [w.shape for w in net.get_weights()] == [(4, 8), (8,), (8, 2), (2,)]
    lines = str(net).splitlines()
    assert lines[2].split() == ["1", "Dropout(p=0.25)", "0"]
    assert "Dropout(p=0.25)" in repr(net)


@pytest.mark.parametrize("p, error", [(1.0, ValueError), (-0.1, ValueError), (float("nan"), ValueError),
                                      ("0.5", TypeError), (True, TypeError)])
def test_bad_rate(backend, p, error):
    with pytest.raises(error, match="p must"):
        pynn.Dropout(p)


@pytest.mark.parametrize("layers, message", [
    (lambda: [pynn.Dense(2, 3), pynn.Dropout(0.5)], "last layer must be Dense"),
    (lambda: [pynn.Dropout(0.5), pynn.Dropout(0.2), pynn.Dense(2, 3)], "both Dropout"),
    (lambda: [pynn.Dropout(0.5)], "at least one Dense"),
    (lambda: [pynn.Dense(2, 3), pynn.Dropout(0.5), pynn.Dense(4, 1)], r"layers\[2\] has n_in=4 but layers\[0\]"),
])
def test_bad_placement(backend, layers, message):
    with pytest.raises(ValueError, match=message):
        pynn.Network(layers())
